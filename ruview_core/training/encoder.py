"""The CSI encoder of ADR-071: 8 -> 64 (ReLU) -> 128, L2-normalised, with exact gradients.

Parameters are a plain dict of arrays (what SafeTensors stores): the trainable ``w1`` ``[8, 64]``,
``b1``, ``w2`` ``[64, 128]``, ``b2`` and the fixed input standardisation ``input_mean`` /
``input_scale`` measured on the training data. A LoRA adapter (:mod:`.lora`) adds
``scale * dropout(input) @ A @ B`` to either layer; the same backward pass returns its gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .features import FEATURE_DIM

HIDDEN_DIM = 64
EMBED_DIM = 128
ENCODER_KEYS = ("w1", "b1", "w2", "b2")
LAYERS = {"w1": "b1", "w2": "b2"}
NORM_EPS = 1e-12
MIN_INPUT_SCALE = 1e-2


def input_standardisation(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and spread (floored: a constant feature must not blow up)."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.maximum(features.std(axis=0), MIN_INPUT_SCALE)


def init_encoder(
    rng: np.random.Generator,
    input_mean: np.ndarray | None = None,
    input_scale: np.ndarray | None = None,
    *,
    input_dim: int = FEATURE_DIM,
    hidden_dim: int = HIDDEN_DIM,
    embed_dim: int = EMBED_DIM,
) -> dict[str, np.ndarray]:
    """He-initialised weights for the ReLU layer, Glorot for the output layer, zero biases."""
    return {
        "input_mean": np.zeros(input_dim) if input_mean is None else np.asarray(input_mean, np.float64),
        "input_scale": np.ones(input_dim) if input_scale is None else np.asarray(input_scale, np.float64),
        "w1": rng.normal(0.0, np.sqrt(2.0 / input_dim), (input_dim, hidden_dim)),
        "b1": np.zeros(hidden_dim),
        "w2": rng.normal(0.0, np.sqrt(2.0 / (hidden_dim + embed_dim)), (hidden_dim, embed_dim)),
        "b2": np.zeros(embed_dim),
    }


@dataclass
class EncoderCache:
    """What the backward pass needs from the forward pass."""

    layer_inputs: dict[str, np.ndarray]  # input of each linear layer
    lora_inputs: dict[str, np.ndarray]  # the dropped-out input each LoRA path saw
    lora_masks: dict[str, np.ndarray]
    pre_activation: np.ndarray
    unnormalised: np.ndarray
    norm: np.ndarray
    embedding: np.ndarray
    lora_scale: float


def _linear(params, lora, scale, name, x, cache_inputs, cache_masks, dropout, rng):
    out = x @ params[name] + params[LAYERS[name]]
    if lora is not None and f"{name}.lora_a" in lora:
        mask = None
        u = x
        if dropout > 0 and rng is not None:
            mask = (rng.random(x.shape) >= dropout) / (1.0 - dropout)
            u = x * mask
        cache_inputs[name], cache_masks[name] = u, mask
        out = out + scale * (u @ lora[f"{name}.lora_a"]) @ lora[f"{name}.lora_b"]
    return out


def encoder_forward(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    lora: Mapping[str, np.ndarray] | None = None,
    lora_scale: float = 0.0,
    dropout: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, EncoderCache]:
    """Embeddings ``[N, 128]`` of ``[N, 8]`` features and the cache for :func:`encoder_backward`.

    ``dropout`` applies to the LoRA paths only (and only with an ``rng``: training).
    """
    xn = (np.asarray(x, dtype=params["w1"].dtype) - params["input_mean"]) / params["input_scale"]
    lora_inputs: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    pre = _linear(params, lora, lora_scale, "w1", xn, lora_inputs, masks, dropout, rng)
    hidden = np.maximum(pre, 0.0)
    y = _linear(params, lora, lora_scale, "w2", hidden, lora_inputs, masks, dropout, rng)
    norm = np.sqrt(np.sum(y * y, axis=1, keepdims=True) + NORM_EPS)
    z = y / norm
    return z, EncoderCache({"w1": xn, "w2": hidden}, lora_inputs, masks, pre, y, norm, z, lora_scale)


def encode(
    params: Mapping[str, np.ndarray],
    x: np.ndarray,
    lora: Mapping[str, np.ndarray] | None = None,
    lora_scale: float = 0.0,
) -> np.ndarray:
    """Inference: the L2-normalised embeddings of ``[N, 8]`` features."""
    return encoder_forward(params, x, lora, lora_scale)[0]


def encoder_backward(
    params: Mapping[str, np.ndarray],
    cache: EncoderCache,
    d_embedding: np.ndarray,
    lora: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Gradients of a loss w.r.t. the weights (and LoRA factors), given dLoss/dEmbedding.

    Keys are those of ``params`` (``w1`` ... ``b2``) and, with ``lora``, its keys; ``"input"``
    is dLoss/dFeatures.
    """
    z, norm = cache.embedding, cache.norm
    # d(y/|y|)/dy projects out the radial direction: normalisation ignores length changes.
    dy = (d_embedding - z * np.sum(d_embedding * z, axis=1, keepdims=True)) / norm
    grads: dict[str, np.ndarray] = {}
    upstream = dy
    for name in ("w2", "w1"):
        x_in = cache.layer_inputs[name]
        grads[name] = x_in.T @ upstream
        grads[LAYERS[name]] = upstream.sum(axis=0)
        d_input = upstream @ params[name].T
        if lora is not None and f"{name}.lora_a" in lora:
            a, b = lora[f"{name}.lora_a"], lora[f"{name}.lora_b"]
            s, u = cache.lora_scale, cache.lora_inputs[name]
            through_b = upstream @ b.T
            grads[f"{name}.lora_b"] = s * (u @ a).T @ upstream
            grads[f"{name}.lora_a"] = s * u.T @ through_b
            d_lora_input = s * through_b @ a.T
            mask = cache.lora_masks[name]
            d_input = d_input + (d_lora_input if mask is None else d_lora_input * mask)
        if name == "w2":
            upstream = d_input * (cache.pre_activation > 0)
        else:
            grads["input"] = d_input / params["input_scale"]
    return grads
