"""Per-node LoRA adapters (ADR-071: rank 4, alpha 8, dropout 0.1, half the base learning rate).

An adapter adds ``(alpha / rank) * x @ A @ B`` to each adapted layer; ``B`` starts at zero so
a fresh adapter changes nothing. The base weights stay frozen; the adapter learns the node's
contrastive triplets and its weak labels (through the frozen heads), while EWC tasks pull the
*effective* weights ``W + scale * A @ B`` back towards what earlier tasks needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .encoder import LAYERS, encoder_backward, encoder_forward
from .ewc import EwcTask, ewc_penalty
from .heads import heads_loss, take_labels
from .losses import contrastive_loss
from .optim import Adam, cosine_lr
from .triplets import Triplets
from .weak_labels import WeakLabels


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 4
    alpha: float = 8.0
    dropout: float = 0.1
    lr_factor: float = 0.5
    layers: tuple[str, ...] = ("w1", "w2")

    @property
    def scale(self) -> float:
        return self.alpha / self.rank


@dataclass
class LoraAdapter:
    """One node's adapter: ``tensors`` holds ``<layer>.lora_a`` ``[in, rank]`` and ``<layer>.lora_b``."""

    node_id: int
    config: LoraConfig
    tensors: dict[str, np.ndarray]
    history: list[float] = field(default_factory=list)

    def merged(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The base parameters with this adapter folded into the weights (what inference uses)."""
        out = dict(params)
        for layer in self.config.layers:
            out[layer] = (
                params[layer]
                + self.config.scale * self.tensors[f"{layer}.lora_a"] @ self.tensors[f"{layer}.lora_b"]
            )
        return out

    @property
    def n_parameters(self) -> int:
        return int(sum(t.size for t in self.tensors.values()))


def init_lora(
    params: Mapping[str, np.ndarray], node_id: int, config: LoraConfig, rng: np.random.Generator
) -> LoraAdapter:
    tensors = {}
    for layer in config.layers:
        n_in, n_out = params[layer].shape
        tensors[f"{layer}.lora_a"] = rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, config.rank))
        tensors[f"{layer}.lora_b"] = np.zeros((config.rank, n_out))
    return LoraAdapter(node_id, config, tensors)


def _ewc_lora_gradients(
    params, adapter: LoraAdapter, tasks: Iterable[EwcTask]
) -> tuple[float, dict[str, np.ndarray]]:
    """EWC penalty of the effective weights, mapped onto the LoRA factors by the chain rule."""
    tasks = tuple(tasks)
    if not tasks:
        return 0.0, {}
    value, grads = ewc_penalty(adapter.merged(params), tasks)
    out: dict[str, np.ndarray] = {}
    s = adapter.config.scale
    for layer in adapter.config.layers:
        g = grads.get(layer)
        if g is None:
            continue
        a, b = adapter.tensors[f"{layer}.lora_a"], adapter.tensors[f"{layer}.lora_b"]
        out[f"{layer}.lora_a"] = s * g @ b.T
        out[f"{layer}.lora_b"] = s * a.T @ g
    return value, out


def lora_batch(
    params,
    heads,
    features: np.ndarray,
    labels: WeakLabels,
    batch: Triplets,
    adapter: LoraAdapter,
    tasks: Iterable[EwcTask] = (),
    rng: np.random.Generator | None = None,
):
    """Loss (contrastive + heads on the anchors + EWC) of one batch and the adapter's gradients."""
    b = len(batch)
    x = features[np.concatenate([batch.anchor, batch.positive, batch.negative])]
    cfg = adapter.config
    z, cache = encoder_forward(
        params, x, adapter.tensors, cfg.scale, cfg.dropout if rng is not None else 0.0, rng
    )
    loss, _, (da, dp, dn) = contrastive_loss(z[:b], z[b : 2 * b], z[2 * b :])
    head_loss, _, _, dz_heads = heads_loss(heads, z[:b], take_labels(labels, batch.anchor))
    grads = encoder_backward(params, cache, np.concatenate([da + dz_heads, dp, dn]), adapter.tensors)
    penalty, ewc_grads = _ewc_lora_gradients(params, adapter, tasks)
    for k, g in ewc_grads.items():
        grads[k] = grads[k] + g
    return loss + head_loss + penalty, grads


def train_lora(
    params: Mapping[str, np.ndarray],
    heads: Mapping[str, np.ndarray],
    features: np.ndarray,
    labels: WeakLabels,
    triplets: Triplets,
    node_id: int,
    rng: np.random.Generator,
    *,
    config: LoraConfig = LoraConfig(),
    base_lr: float = 1e-3,
    epochs: int = 5,
    batch_size: int = 32,
    tasks: Iterable[EwcTask] = (),
    progress: Callable[[float], None] | None = None,
) -> LoraAdapter:
    """Train one node's adapter on its triplets; the base ``params`` and ``heads`` stay frozen."""
    tasks = tuple(tasks)
    adapter = init_lora(params, node_id, config, rng)
    lora_keys = tuple(adapter.tensors)
    optimizer = Adam(adapter.tensors, lora_keys, base_lr * config.lr_factor)
    steps_per_epoch = max(1, len(triplets) // batch_size)
    total = epochs * steps_per_epoch
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(triplets))
        losses = []
        for k in range(steps_per_epoch):
            batch = triplets.take(order[k * batch_size : (k + 1) * batch_size])
            loss, grads = lora_batch(params, heads, features, labels, batch, adapter, tasks, rng)
            optimizer.step(adapter.tensors, grads, cosine_lr(step, total, base_lr * config.lr_factor))
            losses.append(loss)
            step += 1
        adapter.history.append(float(np.mean(losses)))
        if progress:
            progress((epoch + 1) / epochs)
    return adapter


__all__ = ["LAYERS", "LoraAdapter", "LoraConfig", "init_lora", "lora_batch", "train_lora"]
