"""Breathing rate: which of the vitals features hears this room's breathing best, and how surely.

The estimator itself is :func:`ruview_core.vitals.estimate_breathing`; what the room teaches is
which feature (amplitude shape, slope-free complex CSI, or the estimator's default) found the
breathe_* anchors' rhythm inside their bands most confidently, on each node. The runtime then
computes that feature only.
"""

from __future__ import annotations

import numpy as np

from ..calibration.anchors import ANCHORS_BY_NAME
from ..calibration.baseline import RoomBaseline
from ..calibration.features import VITALS_FEATURES, WindowFeatures
from ..calibration.records import AnchorFeatures, anchor_set_hash
from .base import Reading, Specialist, unknown, windows_of

KIND = "breathing"
VERSION = 1
TEACHING = ("breathe_slow", "breathe_normal")
QUIET = ("sit", "stand_still", "lie_down", "sleep_posture")
MIN_CONFIDENCE = 0.3
COLUMN_BPM, COLUMN_CONFIDENCE = 0, 1


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist | None:
    return train_rate(records, baseline, trained_at, KIND, TEACHING, QUIET, COLUMN_BPM, COLUMN_CONFIDENCE)


def train_rate(records, baseline, trained_at, kind, teaching, quiet, column_bpm, column_confidence):
    """Per node, the feature scoring best on the teaching anchors (quiet ones when none)."""
    params = {}
    for node_id in baseline.nodes:
        used = windows_of(records, teaching, node_id) or windows_of(records, quiet, node_id)
        if not used:
            continue
        score = np.zeros(len(VITALS_FEATURES))
        for record in used:
            band = ANCHORS_BY_NAME[record.anchor].breathing_band_bpm if kind == KIND else None
            bpm, confidence = record.vitals[:, column_bpm], record.vitals[:, column_confidence]
            inside = np.ones_like(bpm, bool) if band is None else (bpm >= band[0]) & (bpm <= band[1])
            score += np.where(inside & np.isfinite(bpm), confidence, 0.0)
        params[f"n{node_id}.feature"] = np.array([int(np.argmax(score))], dtype=np.int64)
        params[f"n{node_id}.score"] = np.array([float(score.max() / len(used))])
    if not params:
        return None
    return Specialist(kind, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params,
                      config={"features": list(VITALS_FEATURES), "min_confidence": MIN_CONFIDENCE})


def feature_for(specialist: Specialist | None, node_id: int) -> str | None:
    """The vitals feature the runtime should compute for ``node_id`` (None: estimator default)."""
    if specialist is None:
        return None
    chosen = specialist.node_param(node_id, "feature")
    return None if chosen is None else VITALS_FEATURES[int(chosen[0])]


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    return rate_reading(specialist, features.breathing)


def rate_reading(specialist: Specialist, estimate) -> Reading:
    if estimate.bpm is None or estimate.confidence < specialist.config.get("min_confidence", MIN_CONFIDENCE):
        return unknown("no clear rhythm" if estimate.feature != "none" else "warming up")
    return Reading(float(estimate.bpm), float(estimate.confidence), "measured")
