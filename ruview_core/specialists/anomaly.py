"""Anomaly: a signal no person in this room can produce, which vetoes every other reading.

Physically implausible evidence, per node: clipped or refused (non-finite) frames, a frame rate
that collapsed, and frame-to-frame change far beyond anything the enrollment saw (a jammer, a
loose antenna, a microwave oven next to the sensor). A walking person is *not* an anomaly: the
limits sit far above every anchor, so false alarms stay rare. The specialist also keeps the
largest profile residual seen in training, from which the runtime judges drift (STALE).
"""

from __future__ import annotations

import numpy as np

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, stacked, unknown, windows_of

KIND = "anomaly"
VERSION = 1
MAX_SATURATION = 0.2
MAX_DROPPED = 0.3
MIN_COVERAGE = 0.3
ACTIVITY_FACTOR = np.log(12.0)  # x the largest activity of any anchor
MIN_ACTIVITY_LIMIT = np.log(25.0)  # x the empty room's floor
VETO = 0.5
# Whitened squared distance (empty-room units) from the nearest enrolled state beyond which a
# still scene is not a person but a changed room; measured on the simulator: unseen people of the
# same room stay below ~230, a rearranged room lands at 800+ on the node that sees it.
MIN_DRIFT_DISTANCE = 300.0
DRIFT_SPREADS = 4.0


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist:
    params = {}
    for node_id, node in baseline.nodes.items():
        seen = windows_of(records, None, node_id)
        activity = max(0.0, *stacked(seen, 3), -np.inf)
        residual = max(np.log(max(node.residual_floor, 0.5)), *stacked(seen, 1), -np.inf)
        # Drift can only be told from a person once the room has shown what its people look like.
        knows_people = float(any(r.anchor != "empty" for r in seen))
        params[f"n{node_id}.limits"] = np.array([max(activity + ACTIVITY_FACTOR, MIN_ACTIVITY_LIMIT), residual,
                                                 knows_people])
        # Every state the room has shown (empty = no shift, and each anchor's mean shift), and how
        # far an anchor's own windows stray from it: a still scene far from all of them is drift.
        prototypes = [np.zeros(int(node.usable.sum()))] + [r.shifts.mean(axis=0) for r in seen]
        spread = max((float(np.mean((r.shifts - r.shifts.mean(axis=0)) ** 2, axis=1).max()) for r in seen), default=0.0)
        params[f"n{node_id}.prototypes"] = np.stack(prototypes)
        params[f"n{node_id}.drift_limit"] = np.array([max(MIN_DRIFT_DISTANCE, DRIFT_SPREADS * spread)])
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params)


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    limits = specialist.node_param(features.node_id, "limits")
    if limits is None:
        return unknown("node not calibrated")
    evidence = {
        "clipping": features.saturation / MAX_SATURATION,
        "corrupt frames": features.dropped / MAX_DROPPED,
        "frames missing": (1.0 - features.coverage) / (1.0 - MIN_COVERAGE),
        "implausible signal": float(np.exp(np.log(max(features.activity, 1e-6)) - limits[0])),
    }
    cause, worst = max(evidence.items(), key=lambda item: item[1])
    score = float(np.clip(worst / 2.0, 0.0, 1.0))  # evidence 1 = at the limit -> score 0.5 = veto
    if score >= VETO:
        return Reading(score, min(1.0, 0.5 + (score - VETO)), cause)
    return Reading(score, 1.0 - score, "normal")


def drift(specialist: Specialist | None, features: WindowFeatures) -> float | None:
    """How far the window's profile is from every state enrollment showed, over the allowed
    distance (above 1: drift); None when no occupied anchor was enrolled on the node (a person
    and a moved wardrobe then look alike, so drift is not judged)."""
    node_id = features.node_id
    limits = None if specialist is None else specialist.node_param(node_id, "limits")
    prototypes = None if specialist is None else specialist.node_param(node_id, "prototypes")
    if limits is None or not limits[2] or prototypes is None or prototypes.shape[1] != features.amplitude_shift.size:
        return None
    nearest = float(np.min(np.mean((prototypes - features.amplitude_shift) ** 2, axis=1)))
    return nearest / float(specialist.node_param(node_id, "drift_limit")[0])
