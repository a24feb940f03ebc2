"""Which movement an episode's profile shows: a small softmax regression, and the fall rule.

The model is a multinomial logistic regression on standardised :mod:`.profile` values, class
balanced (falls outnumber everything else in the corpus), fitted by plain gradient descent with
an L2 penalty: a few hundred numbers, stored as JSON, no pickle. Its probabilities are the
confidence.

A fall is never called on the model alone when the stillness afterwards is known: the rule is
"a sudden, high-energy episode, then lying still", so a fall the model sees is confirmed only
when the node judged at least ``FALL_STILL_SHARE`` of the following seconds still; otherwise it
is reported as ``other`` with the reason. Where the stillness is unknown (a clip cut to the
movement) the model's word stands, and says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..storage import atomic_write_bytes
from .profile import FEATURE_NAMES

ACTIVITIES = ("sit_down", "stand_up", "lie_down", "get_up", "fall", "walk", "jump", "other")
FALL_STILL_SHARE = 0.6
MIN_CONFIDENCE = 0.4  # below this the episode is "other": no class stands out
FORMAT = "ruview-activity-model"
VERSION = 1


@dataclass(frozen=True)
class ActivityDecision:
    activity: str
    confidence: float
    reason: str


@dataclass(frozen=True)
class ActivityModel:
    """Softmax regression over :data:`FEATURE_NAMES`: ``weights`` ``[features + 1, classes]``."""

    classes: tuple[str, ...]
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray, labels: list[str], *, l2: float = 1.0, iterations: int = 600,
            rate: float = 0.5, features: tuple[str, ...] = FEATURE_NAMES) -> ActivityModel:
        values = _finite(np.asarray(values, dtype=np.float64))
        classes = tuple(sorted(set(labels)))
        unknown = set(classes) - set(ACTIVITIES)
        if unknown:
            raise ValueError(f"unknown activities {sorted(unknown)}")
        if len(classes) < 2 or values.shape[0] != len(labels):
            raise ValueError("need one row per label and at least two activities")
        mean, scale = values.mean(axis=0), values.std(axis=0)
        scale = np.where(scale > 1e-9, scale, 1.0)
        x = np.hstack([(values - mean) / scale, np.ones((values.shape[0], 1))])
        target = np.array([[label == c for c in classes] for label in labels], dtype=np.float64)
        balance = 1.0 / target.sum(axis=0)[target.argmax(axis=1)]
        balance *= balance.size / balance.sum()
        weights = np.zeros((x.shape[1], len(classes)))
        penalty = np.ones((x.shape[1], 1))
        penalty[-1] = 0.0  # the intercept is not shrunk
        for _ in range(iterations):
            gradient = x.T @ ((_softmax(x @ weights) - target) * balance[:, None]) + l2 * penalty * weights
            weights -= rate * gradient / x.shape[0]
        return cls(classes, tuple(features), mean, scale, weights)

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        x = (_finite(np.atleast_2d(np.asarray(values, dtype=np.float64))) - self.mean) / self.scale
        return _softmax(np.hstack([x, np.ones((x.shape[0], 1))]) @ self.weights)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, "classes": list(self.classes),
                           "features": list(self.features), "mean": self.mean.tolist(),
                           "scale": self.scale.tolist(), "weights": self.weights.tolist()})

    @classmethod
    def from_json(cls, text: str) -> ActivityModel:
        data = json.loads(text)
        if data.get("format") != FORMAT or data.get("version") != VERSION:
            raise ValueError("not a ruview activity model of this version")
        if tuple(data["features"]) != FEATURE_NAMES:
            raise ValueError("activity model made for other profile features")
        model = cls(tuple(data["classes"]), tuple(data["features"]), np.asarray(data["mean"], dtype=np.float64),
                    np.asarray(data["scale"], dtype=np.float64), np.asarray(data["weights"], dtype=np.float64))
        n = len(FEATURE_NAMES)
        if (model.mean.shape != (n,) or model.scale.shape != (n,) or model.weights.shape != (n + 1, len(model.classes))
                or not set(model.classes) <= set(ACTIVITIES) or not np.isfinite(model.weights).all()):
            raise ValueError("activity model arrays have the wrong shape or values")
        return model

    def save(self, path: Path) -> None:
        atomic_write_bytes(path, self.to_json().encode())

    @classmethod
    def load(cls, path: Path) -> ActivityModel:
        return cls.from_json(Path(path).read_text())


def decide(model: ActivityModel, values: np.ndarray, still_after: float | None) -> ActivityDecision:
    """The episode's activity from ``model`` and the fall rule (see the module docstring)."""
    p = model.probabilities(values)[0]
    best = int(np.argmax(p))
    activity, confidence = model.classes[best], float(p[best])
    if confidence < MIN_CONFIDENCE:
        return ActivityDecision("other", confidence, f"no activity stands out (best {activity} {confidence:.2f})")
    if activity == "fall":
        if still_after is None or not math.isfinite(still_after):
            return ActivityDecision("fall", confidence, "fall-like movement; stillness afterwards not observed")
        if still_after < FALL_STILL_SHARE:
            return ActivityDecision("other", confidence, f"fall-like movement but moving afterwards ({still_after:.0%} still)")
        return ActivityDecision("fall", confidence, f"fall-like movement, then still ({still_after:.0%})")
    return ActivityDecision(activity, confidence, "profile")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _finite(values: np.ndarray) -> np.ndarray:
    """Unknown profile values (NaN: e.g. the stillness after a clip) read as the neutral 0."""
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
