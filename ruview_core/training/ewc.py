"""Elastic weight consolidation: a diagonal-Fisher pull towards weights a task needs.

After a task is learnt, the Fisher information of each weight (here the empirical diagonal:
the mean of squared mini-batch gradients of the task's loss) says how much the task's loss
depends on it; later training pays ``lambda/2 * sum F (w - w*)^2`` for moving it. ADR-071:
lambda 2000 for the base task, 3000 per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

BASE_LAMBDA = 2000.0
NODE_LAMBDA = 3000.0


@dataclass(frozen=True)
class EwcTask:
    name: str
    anchor: dict[str, np.ndarray]  # the weights the task was learnt with
    fisher: dict[str, np.ndarray]
    strength: float

    def summary(self) -> dict[str, float]:
        values = np.concatenate([f.ravel() for f in self.fisher.values()])
        return {
            "lambda": self.strength,
            "fisher_mean": float(values.mean()),
            "fisher_max": float(values.max()),
        }


def fisher_diagonal(
    gradient_batches: Iterable[Mapping[str, np.ndarray]], keys: Iterable[str]
) -> dict[str, np.ndarray]:
    """Mean of squared gradients over mini-batches, for the given weight names."""
    keys = tuple(keys)
    total: dict[str, np.ndarray] = {}
    count = 0
    for grads in gradient_batches:
        for k in keys:
            total[k] = total.get(k, 0.0) + grads[k] ** 2
        count += 1
    if not count:
        raise ValueError("no gradients to estimate the Fisher information from")
    return {k: v / count for k, v in total.items()}


def register_task(
    name: str,
    params: Mapping[str, np.ndarray],
    gradient_batches: Iterable[Mapping[str, np.ndarray]],
    keys: Iterable[str],
    strength: float,
) -> EwcTask:
    keys = tuple(keys)
    return EwcTask(
        name,
        {k: np.array(params[k], copy=True) for k in keys},
        fisher_diagonal(gradient_batches, keys),
        strength,
    )


def ewc_penalty(
    params: Mapping[str, np.ndarray], tasks: Iterable[EwcTask]
) -> tuple[float, dict[str, np.ndarray]]:
    """Total penalty of all registered tasks and its gradient w.r.t. each penalised weight."""
    value = 0.0
    grads: dict[str, np.ndarray] = {}
    for task in tasks:
        for k, fisher in task.fisher.items():
            delta = params[k] - task.anchor[k]
            value += 0.5 * task.strength * float(np.sum(fisher * delta**2))
            grads[k] = grads.get(k, 0.0) + task.strength * fisher * delta
    return value, grads
