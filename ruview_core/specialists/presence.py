"""Presence: is anyone in the room, a still or sleeping person included.

Evidence, per node, in log units over a threshold: the profile deviation from the empty room
and its part outside the room's eigenmodes (a still body shifts the field even when nothing
fluctuates), motion, liveness (the slow variance a breathing, swaying body adds), and a
breathing rhythm. The empty room's own largest scores (baseline
floors, the ``empty`` anchor's windows) set the thresholds; occupied anchors widen the margin
when the person stands out clearly, never narrow it below ``MIN_MARGIN``.
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, decision, stacked, unknown, windows_of

KIND = "presence"
VERSION = 1
MIN_MARGIN = np.log(2.0)
MAX_MARGIN = np.log(3.0)
MOTION_MARGIN = np.log(1.35)
RHYTHM_CONFIDENCE = 0.35
# A body breathes and sways: the amplitude variance over a window rises above the empty room's
# (simulator: empty rooms <= 1.01, the node that sees a still person >= 1.9).
LIVENESS_FLOOR = 1.35
LIVENESS_MARGIN = np.log(1.2)
SHARPNESS = 3.0
OCCUPIED = ("stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal", "small_move", "sleep_posture")


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist:
    params: dict[str, np.ndarray] = {}
    for node_id, node in baseline.nodes.items():
        empty = windows_of(records, ("empty",), node_id)
        occupied = windows_of(records, OCCUPIED, node_id)
        thresholds = []
        for column, floor in ((0, node.deviation_floor), (1, node.residual_floor)):
            empty_max = max(np.log(max(floor, 1.0)), *stacked(empty, column), -np.inf)
            margin = MIN_MARGIN
            if occupied:
                low = float(np.percentile(stacked(occupied, column), 10))
                margin = float(np.clip((low - empty_max) / 2, MIN_MARGIN, MAX_MARGIN))
            thresholds.append(empty_max + margin)
        still = [r for r in windows_of(records, None, node_id) if r.anchor != "small_move"]
        motion = max(np.log(max(node.motion_floor, 1.0)), *stacked(still, 2), -np.inf) + MOTION_MARGIN
        # Liveness: the empty room's amplitude variance is 1 by construction, give or take.
        liveness = max(np.log(LIVENESS_FLOOR), *(stacked(empty, 5) + LIVENESS_MARGIN), -np.inf)
        params[f"n{node_id}.thresholds"] = np.array([*thresholds, motion, liveness])
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params)


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    thresholds = specialist.node_param(features.node_id, "thresholds")
    if thresholds is None:
        return unknown("node not calibrated")
    summary = features.summary()
    scores = [summary[0] - thresholds[0], summary[1] - thresholds[1], summary[2] - thresholds[2],
              summary[5] - thresholds[3]]
    if features.breathing.confidence >= RHYTHM_CONFIDENCE and features.breathing.bpm is not None:
        scores.append(features.breathing.confidence - RHYTHM_CONFIDENCE + 0.2)
    return decision(max(scores), SHARPNESS, "present", "absent")
