"""Task heads on the frozen embedding: presence (sigmoid), activity (softmax over 3), vitals (2 linear).

Trained with Adam on a cosine schedule and stopped early on a validation split of whole
``block_s``-second blocks (neighbouring frames are near copies: a random row split would
validate on the training data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .encoder import EMBED_DIM
from .losses import binary_cross_entropy, quality_weighted_mse, softmax_cross_entropy
from .optim import Adam, EarlyStopping, cosine_lr
from .weak_labels import ACTIVITY_NAMES, UNKNOWN, WeakLabels

HEAD_KEYS = ("presence.w", "presence.b", "activity.w", "activity.b", "vitals.w", "vitals.b")
PRESENCE_THRESHOLD = 0.5


def init_heads(rng: np.random.Generator, embed_dim: int = EMBED_DIM) -> dict[str, np.ndarray]:
    scale = np.sqrt(1.0 / embed_dim)
    return {
        "presence.w": rng.normal(0, scale, (embed_dim, 1)),
        "presence.b": np.zeros(1),
        "activity.w": rng.normal(0, scale, (embed_dim, len(ACTIVITY_NAMES))),
        "activity.b": np.zeros(len(ACTIVITY_NAMES)),
        "vitals.w": rng.normal(0, scale, (embed_dim, 2)),
        "vitals.b": np.zeros(2),
    }


def heads_forward(heads: Mapping[str, np.ndarray], z: np.ndarray) -> dict[str, np.ndarray]:
    """Raw outputs: ``presence_logit`` ``[N]``, ``activity_logits`` ``[N, 3]``, ``vitals`` ``[N, 2]``."""
    return {
        "presence_logit": (z @ heads["presence.w"] + heads["presence.b"])[:, 0],
        "activity_logits": z @ heads["activity.w"] + heads["activity.b"],
        "vitals": z @ heads["vitals.w"] + heads["vitals.b"],
    }


def heads_loss(heads: Mapping[str, np.ndarray], z: np.ndarray, labels: WeakLabels):
    """Sum of the three losses on the rows' known labels: (loss, parts, head grads, dLoss/dz)."""
    out = heads_forward(heads, z)
    presence_known = ~np.isnan(labels.presence)
    p_loss, d_p = binary_cross_entropy(
        out["presence_logit"], np.nan_to_num(labels.presence), presence_known.astype(float)
    )
    a_loss, d_a = softmax_cross_entropy(
        out["activity_logits"], labels.activity, (labels.activity != UNKNOWN).astype(float)
    )
    v_loss, d_v = quality_weighted_mse(out["vitals"], labels.vitals, labels.quality)
    grads = {
        "presence.w": z.T @ d_p[:, None],
        "presence.b": np.array([d_p.sum()]),
        "activity.w": z.T @ d_a,
        "activity.b": d_a.sum(axis=0),
        "vitals.w": z.T @ d_v,
        "vitals.b": d_v.sum(axis=0),
    }
    dz = d_p[:, None] @ heads["presence.w"].T + d_a @ heads["activity.w"].T + d_v @ heads["vitals.w"].T
    return p_loss + a_loss + v_loss, {"presence": p_loss, "activity": a_loss, "vitals": v_loss}, grads, dz


def take_labels(labels: WeakLabels, rows: np.ndarray) -> WeakLabels:
    return WeakLabels(labels.presence[rows], labels.activity[rows], labels.vitals[rows], labels.quality[rows])


def block_split(
    times: np.ndarray,
    sessions: np.ndarray,
    rng: np.random.Generator,
    fraction: float = 0.2,
    block_s: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices, whole blocks of ``block_s`` seconds per session."""
    block = np.floor((times - times.min()) / block_s).astype(np.int64) + sessions * 10**9
    unique = np.unique(block)
    n_val = max(1, int(round(fraction * unique.size))) if unique.size > 1 else 0
    held = rng.choice(unique, size=n_val, replace=False) if n_val else np.zeros(0, np.int64)
    val = np.isin(block, held)
    return np.flatnonzero(~val), np.flatnonzero(val)


def evaluate_heads(
    heads: Mapping[str, np.ndarray], z: np.ndarray, labels: WeakLabels
) -> dict[str, float | None]:
    """Presence and activity accuracy on known labels, vitals MAE in bpm on rows with quality > 0."""
    from .features import BREATHING_SCALE_BPM, HEART_SCALE_BPM

    out = heads_forward(heads, z)
    metrics: dict[str, float | None] = {}
    known = ~np.isnan(labels.presence)
    metrics["presence_accuracy"] = (
        float(np.mean((out["presence_logit"][known] > 0) == (labels.presence[known] > 0.5)))
        if known.any()
        else None
    )
    known = labels.activity != UNKNOWN
    metrics["activity_accuracy"] = (
        float(np.mean(np.argmax(out["activity_logits"][known], axis=1) == labels.activity[known]))
        if known.any()
        else None
    )
    for i, (name, scale) in enumerate((("breathing", BREATHING_SCALE_BPM), ("heart", HEART_SCALE_BPM))):
        known = labels.quality[:, i] > 0
        metrics[f"{name}_mae_bpm"] = (
            float(np.mean(np.abs(out["vitals"][known, i] - labels.vitals[known, i])) * scale)
            if known.any()
            else None
        )
    return metrics


@dataclass
class HeadsResult:
    heads: dict[str, np.ndarray]
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    metrics: dict[str, float | None] = field(default_factory=dict)


def train_heads(
    z: np.ndarray,
    labels: WeakLabels,
    train_rows: np.ndarray,
    val_rows: np.ndarray,
    rng: np.random.Generator,
    *,
    epochs: int = 50,
    batch_size: int = 32,
    lr: float = 1e-2,
    patience: int = 5,
) -> HeadsResult:
    """Fit the heads on ``z[train_rows]``; keep the weights of the best validation epoch."""
    heads = init_heads(rng, z.shape[1])
    optimizer = Adam(heads, HEAD_KEYS, lr)
    stopper = EarlyStopping(patience)
    result = HeadsResult({k: v.copy() for k, v in heads.items()})
    steps_per_epoch = max(1, -(-train_rows.size // batch_size))
    total = epochs * steps_per_epoch
    val_rows = val_rows if val_rows.size else train_rows
    val_labels = take_labels(labels, val_rows)
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(train_rows)
        losses = []
        for start in range(0, order.size, batch_size):
            rows = order[start : start + batch_size]
            loss, _, grads, _ = heads_loss(heads, z[rows], take_labels(labels, rows))
            optimizer.step(heads, grads, cosine_lr(step, total, lr))
            losses.append(loss)
            step += 1
        val = heads_loss(heads, z[val_rows], val_labels)[0]
        result.train_loss.append(float(np.mean(losses)))
        result.val_loss.append(float(val))
        if stopper.update(val, epoch):
            result.heads, result.best_epoch = {k: v.copy() for k, v in heads.items()}, epoch
        if stopper.should_stop:
            result.stopped_early = True
            break
    result.metrics = evaluate_heads(result.heads, z[val_rows], val_labels)
    return result
