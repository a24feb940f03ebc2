"""Adam, the cosine learning-rate schedule and early stopping."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np


class Adam:
    """Adam (Kingma & Ba) over a dict of arrays, updated in place.

    Only the keys given at construction are trained; gradients for other keys are ignored.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        keys: Iterable[str],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.keys = tuple(keys)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.m = {k: np.zeros_like(params[k]) for k in self.keys}
        self.v = {k: np.zeros_like(params[k]) for k in self.keys}
        self.t = 0

    def step(
        self, params: dict[str, np.ndarray], grads: Mapping[str, np.ndarray], lr: float | None = None
    ) -> None:
        self.t += 1
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        correction = math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for k in self.keys:
            g = grads[k]
            self.m[k] = b1 * self.m[k] + (1 - b1) * g
            self.v[k] = b2 * self.v[k] + (1 - b2) * g * g
            params[k] = params[k] - lr * correction * self.m[k] / (np.sqrt(self.v[k]) + self.eps)


def cosine_lr(step: int, total_steps: int, base_lr: float, floor: float = 0.0) -> float:
    """Learning rate decaying from ``base_lr`` to ``floor`` along half a cosine over ``total_steps``."""
    progress = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return floor + 0.5 * (base_lr - floor) * (1.0 + math.cos(math.pi * progress))


class EarlyStopping:
    """Stop after ``patience`` epochs without a validation loss better than the best by ``min_delta``."""

    def __init__(self, patience: int = 5, min_delta: float = 1e-4) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best = math.inf
        self.best_epoch = -1
        self.bad_epochs = 0

    def update(self, loss: float, epoch: int) -> bool:
        """Record an epoch's loss; True when it is the best so far (keep these weights)."""
        if loss < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad_epochs = loss, epoch, 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience
