"""Phase 1: contrastive pretraining of the encoder on mined triplets (ADR-071: 20 epochs, batch 32)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .encoder import ENCODER_KEYS, encoder_backward, encoder_forward
from .losses import contrastive_loss
from .optim import Adam, cosine_lr
from .triplets import Triplets


def batch_gradients(
    params: Mapping[str, np.ndarray],
    features: np.ndarray,
    batch: Triplets,
    lora: Mapping[str, np.ndarray] | None = None,
    lora_scale: float = 0.0,
    dropout: float = 0.0,
    rng: np.random.Generator | None = None,
):
    """Contrastive loss of one batch, its (triplet, InfoNCE) parts and the gradients.

    Anchors, positives and negatives go through the encoder as one stacked batch.
    """
    b = len(batch)
    x = features[np.concatenate([batch.anchor, batch.positive, batch.negative])]
    z, cache = encoder_forward(params, x, lora, lora_scale, dropout, rng)
    loss, parts, (da, dp, dn) = contrastive_loss(z[:b], z[b : 2 * b], z[2 * b :])
    grads = encoder_backward(params, cache, np.concatenate([da, dp, dn]), lora)
    return loss, parts, grads


def evaluate_contrastive(
    params: Mapping[str, np.ndarray],
    features: np.ndarray,
    triplets: Triplets,
    batch_size: int = 32,
    lora=None,
    lora_scale: float = 0.0,
) -> dict[str, float]:
    """Mean loss over fixed batches, and how often the positive is nearer than the negative."""
    losses, nearer = [], []
    for start in range(0, len(triplets) - batch_size + 1, batch_size):
        batch = triplets.take(np.arange(start, start + batch_size))
        x = features[np.concatenate([batch.anchor, batch.positive, batch.negative])]
        z = encoder_forward(params, x, lora, lora_scale)[0]
        a, p, n = z[:batch_size], z[batch_size : 2 * batch_size], z[2 * batch_size :]
        losses.append(contrastive_loss(a, p, n)[0])
        nearer.append(np.mean(np.sum((a - p) ** 2, axis=1) < np.sum((a - n) ** 2, axis=1)))
    if not losses:
        return {"loss": float("nan"), "triplet_accuracy": float("nan")}
    return {"loss": float(np.mean(losses)), "triplet_accuracy": float(np.mean(nearer))}


@dataclass
class ContrastiveResult:
    loss: list[float] = field(default_factory=list)
    triplet_loss: list[float] = field(default_factory=list)
    info_nce: list[float] = field(default_factory=list)


def train_contrastive(
    params: dict[str, np.ndarray],
    features: np.ndarray,
    triplets: Triplets,
    rng: np.random.Generator,
    *,
    epochs: int = 20,
    batch_size: int = 32,
    lr: float = 1e-3,
    progress: Callable[[float], None] | None = None,
) -> ContrastiveResult:
    """Train ``params`` in place; the last partial batch of each epoch is dropped (InfoNCE
    needs a full batch of in-batch negatives)."""
    optimizer = Adam(params, ENCODER_KEYS, lr)
    result = ContrastiveResult()
    steps_per_epoch = max(1, len(triplets) // batch_size)
    total = epochs * steps_per_epoch
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(triplets))
        sums = np.zeros(3)
        for k in range(steps_per_epoch):
            batch = triplets.take(order[k * batch_size : (k + 1) * batch_size])
            loss, parts, grads = batch_gradients(params, features, batch)
            optimizer.step(params, grads, cosine_lr(step, total, lr))
            sums += (loss, *parts)
            step += 1
        result.loss.append(float(sums[0] / steps_per_epoch))
        result.triplet_loss.append(float(sums[1] / steps_per_epoch))
        result.info_nce.append(float(sums[2] / steps_per_epoch))
        if progress:
            progress((epoch + 1) / epochs)
    return result
