"""Motion: is something moving in the room right now (the motion-sensor reading).

``features.motion`` is the turbulence statistic over the empty room's quiet level (about 1 when
still, :mod:`ruview_core.node.motion`). The threshold is the one ``ruview analyze`` uses with a
baseline (``BASELINE_FACTOR`` x the quiet level), raised above what this room's still anchors
produced (a breathing, swaying person) and, when ``small_move`` was enrolled, halfway in log units
towards its typical level if that is higher.
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from ..node.motion import BASELINE_FACTOR
from .base import Reading, Specialist, decision, stacked, unknown, windows_of

KIND = "motion"
VERSION = 2  # 2: the turbulence statistic (version 1 thresholds were in motion_index units)
MIN_MARGIN = np.log(1.06)
SHARPNESS = 6.0


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist:
    params = {}
    for node_id, node in baseline.nodes.items():
        still = [r for r in windows_of(records, None, node_id) if r.anchor != "small_move"]
        still_max = max(np.percentile(stacked(still, 2), 95) if still else -np.inf, 0.0)
        threshold = max(np.log(BASELINE_FACTOR), still_max + MIN_MARGIN)
        moving = windows_of(records, ("small_move",), node_id)
        if moving:
            typical = float(np.median(stacked(moving, 2)))
            threshold = max(threshold, min((still_max + typical) / 2, still_max + 3 * MIN_MARGIN))
        params[f"n{node_id}.threshold"] = np.array([threshold])
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params)


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    threshold = specialist.node_param(features.node_id, "threshold")
    if threshold is None:
        return unknown("node not calibrated")
    return decision(float(np.log(max(features.motion, 1e-6)) - threshold[0]), SHARPNESS, "moving", "still")
