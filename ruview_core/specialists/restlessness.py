"""Sleep restlessness: a score in [0, 1] between the calm sleep anchor and the fidgeting one.

Per node, the mean of log activity and log motion is placed on the line from the calm anchors
(``sleep_posture``, else any still anchor, else the empty room's floor) to ``small_move``.
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, unknown, windows_of

KIND = "restlessness"
VERSION = 1
CALM = ("sleep_posture",)
STILL = ("lie_down", "sit", "stand_still", "breathe_slow", "breathe_normal")
MIN_SPAN = 0.2


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
        params[f"n{node_id}.levels"] = np.array([calm_level, max(restless_level, calm_level + MIN_SPAN)])
    if not params:
        return None
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params)


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    levels = specialist.node_param(features.node_id, "levels")
    if levels is None:
        return unknown("node not calibrated")
    score = float(np.clip((_level(features.summary()) - levels[0]) / (levels[1] - levels[0]), 0.0, 1.0))
    label = "calm" if score < 0.33 else "restless" if score > 0.66 else "unsettled"
    return Reading(score, 0.5 + abs(score - 0.5), label)
