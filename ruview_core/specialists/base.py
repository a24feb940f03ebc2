"""What every specialist is and emits (ADR-151 §2.4-2.5).

A :class:`Specialist` is a small, independently versioned model: a few arrays (``params``,
per node where the room's geometry matters) plus JSON-able ``config``, stamped with what it was
trained from. It emits a :class:`Reading` ``{value, confidence, label}``; an unknown value is
``None`` with confidence 0, never a confident number from a model that cannot tell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BACKBONE_REV = "none"  # the frozen encoder (ADR-150) is not there yet; its embedding slot stays empty


@dataclass(frozen=True)
class Reading:
    value: Any
    confidence: float
    label: str

    def to_dict(self) -> dict:
        value = self.value
        if isinstance(value, float | np.floating):
            value = round(float(value), 2)
        return {"value": value, "confidence": round(float(self.confidence), 3), "label": self.label}


def unknown(label: str = "unknown") -> Reading:
    return Reading(None, 0.0, label)


@dataclass(frozen=True)
class Specialist:
    kind: str
    version: int
    trained_at: float
    anchor_set_hash: str
    baseline_id: str
    backbone_rev: str = BACKBONE_REV
    params: dict[str, np.ndarray] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def node_param(self, node_id: int, name: str) -> np.ndarray | None:
        return self.params.get(f"n{node_id}.{name}")

    @property
    def nodes(self) -> list[int]:
        return sorted({int(key[1:].split(".")[0]) for key in self.params if key.startswith("n")})


# Where enrollment gave nothing to test a specialist across sessions with: half trust.
UNVALIDATED_RELIABILITY = 0.5


def node_reliability(specialist: Specialist, node_id: int) -> float:
    """How far ``node_id``'s reading carried over between enrollment sessions, 0..1 (0: say unknown).

    Banks from before the check have no value: they count as unvalidated.
    """
    stored = specialist.node_param(node_id, "reliability")
    return UNVALIDATED_RELIABILITY if stored is None else float(stored[0])


def node_values(params: dict[str, np.ndarray], name: str) -> dict[str, float]:
    """``{node id: value}`` of a one-value-per-node parameter, rounded for a bank's JSON description."""
    suffix = f".{name}"
    return {key[1:-len(suffix)]: round(float(value[0]), 3) for key, value in params.items() if key.endswith(suffix)}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def decision(score: float, sharpness: float, yes: str, no: str) -> Reading:
    """A boolean reading from a score that is positive for yes: confidence is how sure, 0.5-1."""
    p = sigmoid(sharpness * score)
    return Reading(p >= 0.5, max(p, 1.0 - p), yes if p >= 0.5 else no)


def windows_of(records, anchors: tuple[str, ...] | None = None, node: int | None = None):
    """Records of the given anchors (all when None) on ``node`` (all when None)."""
    return [r for r in records if (anchors is None or r.anchor in anchors) and (node is None or r.node_id == node)
            and r.n_windows]


def stacked(records, column: int) -> np.ndarray:
    return np.concatenate([r.summary[:, column] for r in records]) if records else np.zeros(0)
