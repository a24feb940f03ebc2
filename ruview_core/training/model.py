"""A trained model in memory: encoder, heads and per-node adapters, with numpy inference."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .encoder import encode
from .heads import heads_forward
from .lora import LoraAdapter


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class TrainedModel:
    params: dict[str, np.ndarray]
    heads: dict[str, np.ndarray]
    adapters: dict[int, LoraAdapter] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    def weights(self, node_id: int | None = None) -> dict[str, np.ndarray]:
        """Encoder weights, with the node's adapter folded in when it has one."""
        adapter = self.adapters.get(node_id) if node_id is not None else None
        return adapter.merged(self.params) if adapter else self.params

    def embed(self, features: np.ndarray, node_id: int | None = None) -> np.ndarray:
        return encode(self.weights(node_id), np.atleast_2d(features))

    def predict(self, features: np.ndarray, node_id: int | None = None) -> dict[str, np.ndarray]:
        """``embedding``, ``presence`` probability ``[N, 1]``, ``activity`` probabilities ``[N, 3]``
        and ``vitals`` (normalised: x30 bpm, x120 bpm) ``[N, 2]``: the ONNX graph's outputs."""
        z = self.embed(features, node_id)
        out = heads_forward(self.heads, z)
        return {
            "embedding": z,
            "presence": _sigmoid(out["presence_logit"])[:, None],
            "activity": _softmax(out["activity_logits"]),
            "vitals": out["vitals"],
        }

    def as_float32(self) -> TrainedModel:
        """The same model with every array in float32 (what the exported files hold)."""

        def cast(d):
            return {k: np.asarray(v, np.float32) for k, v in d.items()}

        adapters = {
            n: LoraAdapter(a.node_id, a.config, cast(a.tensors), list(a.history))
            for n, a in self.adapters.items()
        }
        return TrainedModel(cast(self.params), cast(self.heads), adapters, dict(self.config))
