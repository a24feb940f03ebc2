"""Weak labels for the task heads, behind a :class:`LabelSource` protocol.

Without cameras nothing is ground truth: labels come from signals that are usually right.
Two sources ship here: the CSI itself (motion states, vitals estimates with their
confidence) and the node's on-device vitals packets (presence score, breathing and heart
estimates). Later sources (PIR, door contacts, the room's anchors) implement the same
protocol and are merged by :func:`combine_labels`, first source first.

Targets: ``presence`` 0/1 (NaN unknown); ``activity`` 0 still, 1 moving, 2 empty (-1 unknown);
``vitals`` breathing/30 bpm and heart/120 bpm (NaN unknown) with a 0..1 ``quality`` each,
which weights the vitals loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .dataset import NODE_VITALS_NAMES, TrainingSet
from .features import BREATHING_SCALE_BPM, HEART_SCALE_BPM
from .triplets import motion_states

ACTIVITY_NAMES = ("still", "moving", "empty")
STILL, MOVING, EMPTY, UNKNOWN = 0, 1, 2, -1
# ADR-071: present when the node's presence score exceeds 0.3.
PRESENCE_THRESHOLD = 0.3
NODE_VITALS_QUALITY = 0.3  # the firmware reports a rate whatever it sees: trust it little
MIN_CSI_CONFIDENCE = 0.3


@dataclass(frozen=True)
class WeakLabels:
    presence: np.ndarray
    activity: np.ndarray
    vitals: np.ndarray
    quality: np.ndarray

    def __len__(self) -> int:
        return int(self.presence.size)

    def summary(self) -> dict[str, object]:
        known = ~np.isnan(self.presence)
        return {
            "rows": len(self),
            "presence_known": int(known.sum()),
            "presence_rate": float(np.mean(self.presence[known])) if known.any() else None,
            "activity": {name: int(np.sum(self.activity == i)) for i, name in enumerate(ACTIVITY_NAMES)},
            "vitals_known": [int(np.sum(self.quality[:, i] > 0)) for i in range(2)],
        }


@runtime_checkable
class LabelSource(Protocol):
    """Anything that can label the rows of a training set (unknown where it cannot tell)."""

    name: str

    def labels(self, data: TrainingSet) -> WeakLabels: ...


def unknown_labels(n: int) -> WeakLabels:
    return WeakLabels(
        np.full(n, np.nan), np.full(n, UNKNOWN, np.int64), np.full((n, 2), np.nan), np.zeros((n, 2))
    )


def _vitals_targets(breathing_bpm: np.ndarray, heart_bpm: np.ndarray) -> np.ndarray:
    return np.column_stack([breathing_bpm / BREATHING_SCALE_BPM, heart_bpm / HEART_SCALE_BPM])


@dataclass(frozen=True)
class NodeVitalsLabels:
    """Presence and vitals from the node's own vitals packets (0xC5110002)."""

    name: str = "node_vitals"
    presence_threshold: float = PRESENCE_THRESHOLD
    quality: float = NODE_VITALS_QUALITY

    def labels(self, data: TrainingSet) -> WeakLabels:
        out = unknown_labels(len(data))
        column = {name: data.node_vitals[:, i] for i, name in enumerate(NODE_VITALS_NAMES)}
        score = column["presence_score"]
        presence = np.where(np.isnan(score), np.nan, (score > self.presence_threshold).astype(float))
        activity = np.where(presence == 0, EMPTY, UNKNOWN)
        vitals = _vitals_targets(column["breathing_bpm"], column["heart_bpm"])
        vitals = np.where((vitals > 0) & np.isfinite(vitals), vitals, np.nan)
        quality = np.where(np.isnan(vitals), 0.0, self.quality) * (presence == 1)[:, None]
        return WeakLabels(presence, activity.astype(np.int64), vitals, quality) if len(data) else out


@dataclass(frozen=True)
class CsiLabels:
    """Activity from each node's motion states; vitals from the CSI estimates and their confidence.

    Presence is left unknown: a scale-free CSI presence test needs the empty room, which a
    training recording does not have (the calibration's baseline does: a later source).
    """

    name: str = "csi"
    min_confidence: float = MIN_CSI_CONFIDENCE

    def labels(self, data: TrainingSet) -> WeakLabels:
        activity = np.full(len(data), UNKNOWN, np.int64)
        for session in np.unique(data.sessions):
            for node in np.unique(data.node_ids):
                rows = np.flatnonzero((data.sessions == session) & (data.node_ids == node))
                if rows.size:
                    activity[rows] = motion_states(data.times[rows], data.motion_energy[rows])
        vitals = _vitals_targets(data.csi_vitals[:, 0], data.csi_vitals[:, 2])
        confidence = data.csi_vitals[:, [1, 3]]
        usable = np.isfinite(vitals) & (confidence >= self.min_confidence)
        return WeakLabels(
            np.full(len(data), np.nan),
            activity,
            np.where(usable, vitals, np.nan),
            np.where(usable, confidence, 0.0),
        )


def combine_labels(labelled: Sequence[WeakLabels]) -> WeakLabels:
    """Merge labels: the first known presence / activity wins; per vital, the highest quality wins.

    A row known to be empty is labelled ``EMPTY`` whatever a later source says about motion.
    """
    if not labelled:
        raise ValueError("no labels to combine")
    presence, activity = labelled[0].presence.copy(), labelled[0].activity.copy()
    vitals, quality = labelled[0].vitals.copy(), labelled[0].quality.copy()
    for other in labelled[1:]:
        presence = np.where(np.isnan(presence), other.presence, presence)
        activity = np.where(activity == UNKNOWN, other.activity, activity)
        better = other.quality > quality
        vitals, quality = np.where(better, other.vitals, vitals), np.where(better, other.quality, quality)
    activity = np.where(presence == 0, EMPTY, activity)
    return WeakLabels(presence, activity, vitals, quality)


def weak_labels(data: TrainingSet, sources: Sequence[LabelSource] | None = None) -> WeakLabels:
    """Labels of every row from ``sources`` (default: the node's vitals packets, then the CSI)."""
    sources = (NodeVitalsLabels(), CsiLabels()) if sources is None else sources
    return combine_labels([source.labels(data) for source in sources])
