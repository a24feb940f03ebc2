"""Sleep restlessness: a score in [0, 1] between the calm sleep anchor and the fidgeting one.

Per node, the mean of log activity and log motion is placed on the line from the calm anchors
(``sleep_posture``, else any still anchor, else the empty room's floor) to ``small_move``.

That line means something only where fidgeting stands out from keeping still, and how still a
person looks also depends on where they are (their echo's strength fades with a few centimetres).
Enrollment has up to six still sessions, each at its own spot: the fidgeting anchor must sit
above all of them, by a margin measured in how much they differ among themselves, or the node
reports unknown instead of calling a still person 100 % restless.
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import (
    UNVALIDATED_RELIABILITY,
    Reading,
    Specialist,
    node_reliability,
    node_values,
    unknown,
    windows_of,
)

KIND = "restlessness"
VERSION = 2
CALM = ("sleep_posture",)
STILL = ("lie_down", "sit", "stand_still", "breathe_slow", "breathe_normal")
MIN_SPAN = 0.2
MIN_SESSION_SPREAD = 0.05  # log units: still sessions closer than this are one level, not a spread
LOOKS_STILL = "fidgeting looks like keeping still in this room"


def _level(summary: np.ndarray) -> np.ndarray:
    return 0.5 * (summary[..., 2] + summary[..., 3])


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist | None:
    params = {}
    for node_id in baseline.nodes:
        restless = windows_of(records, ("small_move",), node_id)
        calm = windows_of(records, CALM, node_id) or windows_of(records, STILL, node_id)
        if not restless:
            continue
        calm_level = float(np.median(np.concatenate([_level(r.summary) for r in calm]))) if calm else 0.0
        restless_level = float(np.median(np.concatenate([_level(r.summary) for r in restless])))
        still_sessions = [float(np.median(_level(r.summary))) for r in windows_of(records, CALM + STILL, node_id)]
        params[f"n{node_id}.levels"] = np.array([calm_level, max(restless_level, calm_level + MIN_SPAN)])
        params[f"n{node_id}.reliability"] = np.array([separation_reliability(restless_level, still_sessions)])
    if not params:
        return None
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params,
                      config={"reliability": node_values(params, "reliability")})


def separation_reliability(restless_level: float, still_levels: list[float]) -> float:
    """0..1: how far the fidgeting session's level clears the highest still session's, in units of
    twice the still sessions' spread (0 when it does not clear it)."""
    if len(still_levels) < 2:
        return UNVALIDATED_RELIABILITY
    spread = max(float(np.std(still_levels, ddof=1)), MIN_SESSION_SPREAD)
    margin = restless_level - max(still_levels)
    return float(np.clip(margin / (2.0 * spread), 0.0, 1.0))


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    levels = specialist.node_param(features.node_id, "levels")
    if levels is None:
        return unknown("node not calibrated")
    reliability = node_reliability(specialist, features.node_id)
    if reliability <= 0.0:
        return unknown(LOOKS_STILL)
    score = float(np.clip((_level(features.summary()) - levels[0]) / (levels[1] - levels[0]), 0.0, 1.0))
    label = "calm" if score < 0.33 else "restless" if score > 0.66 else "unsettled"
    return Reading(score, (0.5 + abs(score - 0.5)) * reliability, label)
