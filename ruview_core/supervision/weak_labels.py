"""The camera-free rules as a :class:`ruview_core.training.LabelSource`, for ``training.train``.

Rows of a :class:`~ruview_core.training.TrainingSet` are frames of every node. Their CSI
evidence: the node's own presence score (its vitals packets) where it sent one, else the 8-dim
feature ``presence`` (both 0..1, ADR-071's 0.3 applies to both); the motion state of
:func:`ruview_core.training.triplets.motion_states` per node and session; a regime change
where that state flips (within ``regime_s``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..training.dataset import NODE_VITALS_NAMES, TrainingSet
from ..training.triplets import motion_states
from ..training.weak_labels import WeakLabels
from .events import LabelEvent
from .rules import CameraFreeLabels, CsiEvidence, RuleConfig, camera_free_labels

REGIME_S = 2.0


def csi_evidence(data: TrainingSet, regime_s: float = REGIME_S) -> CsiEvidence:
    """The CSI's own evidence for every row of ``data``."""
    n = len(data)
    score = data.node_vitals[:, NODE_VITALS_NAMES.index("presence_score")].astype(np.float64)
    score = np.where(np.isfinite(score), score, data.features[:, 0].astype(np.float64))
    moving = np.full(n, np.nan)
    regime = np.zeros(n, bool)
    for session in np.unique(data.sessions):
        for node in np.unique(data.node_ids):
            rows = np.flatnonzero((data.sessions == session) & (data.node_ids == node))
            if rows.size < 2:
                continue
            states = motion_states(data.times[rows], data.motion_energy[rows])
            moving[rows] = states
            flips = data.times[rows][np.flatnonzero(np.diff(states) != 0) + 1]
            if flips.size:
                regime[rows] = _nearest(data.times[rows], flips) <= regime_s
    return CsiEvidence(data.times.astype(np.float64), data.node_ids, score, moving, regime)


def _nearest(t: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """Distance from each time to the nearest of the sorted ``marks``."""
    if marks.size == 1:
        return np.abs(t - marks[0])
    at = np.clip(np.searchsorted(marks, t), 1, marks.size - 1)
    return np.minimum(np.abs(t - marks[at - 1]), np.abs(t - marks[at]))


def labels_for_rows(data: TrainingSet, events: Sequence[LabelEvent], config: RuleConfig = RuleConfig(),
                    session_offsets: dict[int, float] | None = None) -> CameraFreeLabels:
    """:class:`CameraFreeLabels` of every row; ``session_offsets[s]`` is added to session ``s``'s
    row times before they meet the events (recordings on another clock than the sensors)."""
    evidence = csi_evidence(data)
    if session_offsets:
        shift = np.array([session_offsets.get(int(s), 0.0) for s in data.sessions])
        evidence = CsiEvidence(evidence.times + shift, evidence.node_ids, evidence.presence_score,
                               evidence.moving, evidence.regime_change)
    order = np.argsort(evidence.times, kind="stable")
    sorted_evidence = CsiEvidence(*(getattr(evidence, f)[order] for f in
                                    ("times", "node_ids", "presence_score", "moving", "regime_change")))
    labelled = camera_free_labels(sorted_evidence.times, events, sorted_evidence, config=config)
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return CameraFreeLabels(*(getattr(labelled, f)[back] if isinstance(getattr(labelled, f), np.ndarray)
                              else getattr(labelled, f) for f in CameraFreeLabels.__dataclass_fields__))


@dataclass
class CameraFreeLabelSource:
    """ADR-071 Phase 1 rules over ``events`` (may be empty: CSI-only). Keeps the last labels it
    made in ``last`` (for the weak-label statistics)."""

    events: Sequence[LabelEvent] = ()
    config: RuleConfig = field(default_factory=RuleConfig)
    session_offsets: dict[int, float] | None = None
    name: str = "camera_free"
    last: CameraFreeLabels | None = None

    def labels(self, data: TrainingSet) -> WeakLabels:
        self.last = labels_for_rows(data, self.events, self.config, self.session_offsets)
        return self.last.to_weak_labels()
