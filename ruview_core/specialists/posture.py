"""Posture: standing, sitting or lying, by nearest prototype (ADR-151 §2.4).

A prototype is the mean amplitude-profile shift of a posture's anchors on one node. Before
matching, every subcarrier is divided by its pooled within-posture spread, so a subcarrier that
merely flickers does not outvote one that reliably tells sitting from lying (upstream matched
unscaled features). Confidence is the softmax margin of the scaled distances, shrunk when even
the nearest prototype is far outside its posture's own spread: a person in a spot the enrollment
never saw should not get a confident posture.
"""

from __future__ import annotations

import numpy as np

from ..calibration.anchors import ANCHORS_BY_NAME
from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, unknown, windows_of

KIND = "posture"
VERSION = 1
POSTURES = ("standing", "sitting", "lying")
MIN_SPREAD = 0.5  # in units of the empty room's spread: below that, the spread is an artefact of few windows
# Below this a posture is a guess (far from every enrolled posture, or between two): say unknown.
MIN_CONFIDENCE = 0.3


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist | None:
    params: dict[str, np.ndarray] = {}
    classes: set[str] = set()
    for node_id in baseline.nodes:
        by_class: dict[int, list[np.ndarray]] = {}
        for record in windows_of(records, None, node_id):
            posture = ANCHORS_BY_NAME[record.anchor].posture
            if posture is not None:
                by_class.setdefault(POSTURES.index(posture), []).append(record.shifts)
        if not by_class:
            continue
        labels = sorted(by_class)
        prototypes = np.stack([np.concatenate(by_class[c]).mean(axis=0) for c in labels])
        residuals = np.concatenate([np.concatenate(by_class[c]) - prototypes[i] for i, c in enumerate(labels)])
        spread = np.maximum(residuals.std(axis=0), MIN_SPREAD)
        params[f"n{node_id}.prototypes"] = prototypes / spread
        params[f"n{node_id}.spread"] = spread
        params[f"n{node_id}.labels"] = np.array(labels, dtype=np.int64)
        classes.update(POSTURES[c] for c in labels)
    if not params:
        return None
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params,
                      config={"postures": sorted(classes, key=POSTURES.index)})


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    prototypes = specialist.node_param(features.node_id, "prototypes")
    if prototypes is None or prototypes.shape[1] != features.amplitude_shift.size:
        return unknown("node not calibrated")
    labels = specialist.node_param(features.node_id, "labels")
    x = features.amplitude_shift / specialist.node_param(features.node_id, "spread")
    distance = np.mean((prototypes - x) ** 2, axis=1)
    best = int(np.argmin(distance))
    if labels.size == 1:
        return Reading(POSTURES[int(labels[0])], 0.5 / max(1.0, float(distance[0])), POSTURES[int(labels[0])])
    # Scaled distances are per-dimension variances: 1 is within a posture's own spread.
    logits = -0.5 * (distance - distance.min()) * prototypes.shape[1] ** 0.5
    p = np.exp(logits) / np.exp(logits).sum()
    posture = POSTURES[int(labels[best])]
    # In-distribution windows sit about 1 (per-dimension variance) from their prototype.
    familiarity = 1.0 / max(1.0, float(distance[best]))
    confidence = float(p[best]) * familiarity
    if confidence < MIN_CONFIDENCE:
        return unknown(f"unsure (closest: {posture})")
    return Reading(posture, confidence, posture)
