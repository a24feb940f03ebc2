"""Posture: standing, sitting or lying, by nearest prototype (ADR-151 §2.4).

A prototype is the mean amplitude-profile shift of a posture's anchors on one node. Before
matching, every subcarrier is divided by its pooled within-posture spread, so a subcarrier that
merely flickers does not outvote one that reliably tells sitting from lying (upstream matched
unscaled features). Confidence is the softmax margin of the scaled distances, shrunk when even
the nearest prototype is far outside its posture's own spread: a person in a spot the enrollment
never saw should not get a confident posture.

The profile shift is a fingerprint of where the body is as much as of how it is held: at 2.4 GHz
a shift of a few centimetres rotates the body's echo against the room's static paths and changes
the fingerprint (the simulator, re-seating a person by 1 cm, 3 cm and 8 cm, takes nearest-prototype
accuracy from 1.0 to 0.4-0.9, chance and chance). Enrollment captures a posture in several
sessions (sitting: sit, breathe_slow, breathe_normal; lying: lie_down, sleep_posture), each at its
own spot, so training measures what the runtime will meet: each such anchor is classified by
prototypes built without it. That cross-session accuracy, above chance, scales every confidence
once it is more than luck (:func:`cross_session_reliability`); a room where posture does not
carry over from one sitting to the next reports unknown rather than a confident guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..calibration.anchors import ANCHORS_BY_NAME
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

KIND = "posture"
VERSION = 2
POSTURES = ("standing", "sitting", "lying")
MIN_SPREAD = 0.5  # in units of the empty room's spread: below that, the spread is an artefact of few windows
# Below this a posture is a guess (far from every enrolled posture, or between two): say unknown.
MIN_CONFIDENCE = 0.3
NOT_CARRIED_OVER = "posture does not carry over between sessions in this room"
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Prototypes:
    """One node's posture prototypes, in units of the pooled within-posture spread."""

    scaled: np.ndarray  # [classes, S]
    spread: np.ndarray  # [S]
    labels: np.ndarray  # [classes] indices into POSTURES

    @classmethod
    def fit(cls, by_class: dict[int, list[np.ndarray]]) -> Prototypes:
        labels = sorted(by_class)
        means = np.stack([np.concatenate(by_class[c]).mean(axis=0) for c in labels])
        residuals = np.concatenate([np.concatenate(by_class[c]) - means[i] for i, c in enumerate(labels)])
        spread = np.maximum(residuals.std(axis=0), MIN_SPREAD)
        return cls(means / spread, spread, np.array(labels, dtype=np.int64))

    def distances(self, shifts: np.ndarray) -> np.ndarray:
        """Mean squared scaled distance of each ``[..., S]`` shift to each prototype, ``[..., classes]``."""
        x = np.asarray(shifts) / self.spread
        return np.mean((x[..., None, :] - self.scaled) ** 2, axis=-1)


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist | None:
    params: dict[str, np.ndarray] = {}
    classes: set[str] = set()
    for node_id in baseline.nodes:
        sessions = [(POSTURES.index(ANCHORS_BY_NAME[r.anchor].posture), r)
                    for r in windows_of(records, None, node_id) if ANCHORS_BY_NAME[r.anchor].posture is not None]
        if not sessions:
            continue
        prototypes = Prototypes.fit(_by_class(sessions))
        params[f"n{node_id}.prototypes"] = prototypes.scaled
        params[f"n{node_id}.spread"] = prototypes.spread
        params[f"n{node_id}.labels"] = prototypes.labels
        params[f"n{node_id}.reliability"] = np.array([cross_session_reliability(sessions, len(baseline.nodes))])
        classes.update(POSTURES[c] for c in prototypes.labels)
    if not params:
        return None
    # In the room's status too: why a room's posture stays unknown should not need a debugger.
    config = {"postures": sorted(classes, key=POSTURES.index), "reliability": node_values(params, "reliability")}
    return Specialist(KIND, VERSION, trained_at, anchor_set_hash(records), baseline.baseline_id, params=params,
                      config=config)


def _by_class(sessions: list[tuple[int, AnchorFeatures]]) -> dict[int, list[np.ndarray]]:
    by_class: dict[int, list[np.ndarray]] = {}
    for label, record in sessions:
        by_class.setdefault(label, []).append(record.shifts)
    return by_class


def cross_session_reliability(sessions: list[tuple[int, AnchorFeatures]], n_nodes: int = 1) -> float:
    """How far above chance each anchor is classified by prototypes built without it, 0..1.

    Only anchors whose posture was also enrolled in another session can be held out, and only
    among at least two postures; with none, :data:`UNVALIDATED_RELIABILITY`. A room has at most
    five such sessions and a window says little beyond its session's others, so the evidence is
    counted in sessions (one right when most of its windows are): unless that many right
    sessions would be unlikely by chance (one-sided binomial test at :data:`SIGNIFICANCE`, split
    over the room's nodes, since the room answers with its most confident node), it is 0.
    """
    hits = windows = right_sessions = held_out = 0
    n_classes = len({label for label, _ in sessions})
    for i, (label, record) in enumerate(sessions):
        rest = sessions[:i] + sessions[i + 1:]
        if n_classes < 2 or label not in {other for other, _ in rest}:
            continue
        prototypes = Prototypes.fit(_by_class(rest))
        right = int(np.sum(prototypes.labels[np.argmin(prototypes.distances(record.shifts), axis=-1)] == label))
        hits, windows = hits + right, windows + record.n_windows
        right_sessions += 2 * right >= record.n_windows
        held_out += 1
    if held_out == 0:
        return UNVALIDATED_RELIABILITY
    chance = 1.0 / n_classes
    if _at_least_by_chance(right_sessions, held_out, chance) > SIGNIFICANCE / max(n_nodes, 1):
        return 0.0
    return float(np.clip((hits / windows - chance) / (1.0 - chance), 0.0, 1.0))


def _at_least_by_chance(k: int, n: int, p: float) -> float:
    """P(at least ``k`` of ``n`` right) when each is right with probability ``p``."""
    return sum(math.comb(n, i) * p ** i * (1.0 - p) ** (n - i) for i in range(k, n + 1))


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    scaled = specialist.node_param(features.node_id, "prototypes")
    if scaled is None or scaled.shape[1] != features.amplitude_shift.size:
        return unknown("node not calibrated")
    reliability = node_reliability(specialist, features.node_id)
    if reliability <= 0.0:
        return unknown(NOT_CARRIED_OVER)
    prototypes = Prototypes(scaled, specialist.node_param(features.node_id, "spread"),
                            specialist.node_param(features.node_id, "labels"))
    distance = prototypes.distances(features.amplitude_shift)
    best = int(np.argmin(distance))
    posture = POSTURES[int(prototypes.labels[best])]
    # Scaled distances are per-dimension variances: in-distribution windows sit about 1 from their prototype.
    familiarity = 1.0 / max(1.0, float(distance[best]))
    if prototypes.labels.size == 1:
        confidence = 0.5 * familiarity * reliability
    else:
        logits = -0.5 * (distance - distance.min()) * scaled.shape[1] ** 0.5
        p = np.exp(logits) / np.exp(logits).sum()
        confidence = float(p[best]) * familiarity * reliability
    if confidence < MIN_CONFIDENCE:
        return unknown(f"unsure (closest: {posture})")
    return Reading(posture, confidence, posture)
