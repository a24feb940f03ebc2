"""Motion: is something moving in the room right now (the motion-sensor reading).

``motion_index`` is scale-free (about 1 when still); the threshold sits above everything the
still anchors and the empty room produced and, when ``small_move`` was enrolled, halfway in log
units towards its typical level if that is higher.
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, decision, stacked, unknown, windows_of

KIND = "motion"
VERSION = 1
# In the tuning rooms (simulator seeds 0-2) the still anchors' 95th percentile sits within ~5 % of
# the empty room's largest window, while walking at the default SNR sits only ~10-20 % above it: a
# wide margin hid most walking (held-out rooms 20-27: motion F1 at 17 dB 0.21 -> 0.44).
MIN_MARGIN = np.log(1.06)
SHARPNESS = 6.0


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist:
    params = {}
    for node_id, node in baseline.nodes.items():
        still = [r for r in windows_of(records, None, node_id) if r.anchor != "small_move"]
        still_max = max(np.log(max(node.motion_floor, 1.0)), *np.percentile(stacked(still, 2), [95]) if still else [-np.inf])
        threshold = still_max + MIN_MARGIN
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
