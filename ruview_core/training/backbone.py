"""The shipped base encoder ("backbone") the specialist bank can consume, and how it is built.

Package data in ``data/backbone/``: ``model.onnx`` (features ``[N, 8]`` -> ``embedding``
``[N, 128]``), ``model.safetensors`` (the same encoder, for numpy and per-room LoRA),
``config.json`` and ``manifest.jsonl`` (sha256 of each). :func:`load_backbone` verifies them and
runs the graph with onnxruntime; ``rev`` (the first 12 hex digits of the ONNX file's sha256) is
what a specialist bank records as ``backbone_rev`` so that a bank trained on one backbone is
never silently used with another.

Rebuild with ``python -m ruview_core.training.backbone`` (the real recording plus simulated rooms).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from ..storage import atomic_write_bytes, atomic_write_json
from .dataset import TrainingSet, concatenate, from_packets, load_recordings
from .encoder import encode
from .export import MODEL_KEYS, ArtifactError, read_verified, sha256_bytes, write_manifest
from .features import FEATURE_NAMES
from .lora import LoraAdapter, LoraConfig, train_lora
from .onnx_graph import build_onnx, onnx_session
from .triplets import mine_triplets
from .weak_labels import weak_labels

BACKBONE_DIR = Path(__file__).resolve().parent / "data" / "backbone"
BACKBONE_FORMAT = "ruview-backbone"
# Simulated rooms of the shipped backbone: (room seed, schedule of (start s, scenario)).
SIMULATED_ROOMS: tuple[tuple[int, tuple[tuple[float, str], ...]], ...] = (
    (11, ((0.0, "empty"), (20.0, "walk"), (45.0, "sit"), (70.0, "walk"), (90.0, "lie_down"))),
    (12, ((0.0, "sit"), (30.0, "small_move"), (50.0, "walk"), (75.0, "empty"), (95.0, "stand_still"))),
    (13, ((0.0, "lie_down"), (40.0, "sleep_posture"), (70.0, "walk"), (90.0, "empty"))),
    (14, ((0.0, "empty"), (25.0, "breathe_normal"), (60.0, "walk"), (85.0, "breathe_slow"))),
)


@dataclass
class Backbone:
    """A verified base encoder: :meth:`embed` runs the ONNX graph (or numpy with a room's adapter)."""

    rev: str
    params: dict[str, np.ndarray]
    config: dict[str, Any]
    session: Any

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.config["feature_names"])

    def embed(self, features: np.ndarray, adapter: LoraAdapter | None = None) -> np.ndarray:
        """``[N, 128]`` embeddings of ``[N, 8]`` features (:mod:`.features`), float32."""
        x = np.atleast_2d(np.asarray(features, dtype=np.float32))
        if adapter is not None:
            return encode(adapter.merged(self.params), x).astype(np.float32)
        return self.session.run(None, {"features": x})[0]

    def adapt(self, data: TrainingSet, room_id: int = 0, *, epochs: int = 5, seed: int = 0) -> LoraAdapter:
        """A per-room LoRA adapter (ADR-071 settings) learnt on a room's own recording."""
        rng = np.random.default_rng(seed)
        triplets = mine_triplets(data.times, data.node_ids, data.sessions, data.motion_energy, rng)
        heads = {
            "presence.w": np.zeros((self.config["embed_dim"], 1)),
            "presence.b": np.zeros(1),
            "activity.w": np.zeros((self.config["embed_dim"], 3)),
            "activity.b": np.zeros(3),
            "vitals.w": np.zeros((self.config["embed_dim"], 2)),
            "vitals.b": np.zeros(2),
        }
        params = {k: v.astype(np.float64) for k, v in self.params.items()}
        return train_lora(
            params,
            heads,
            data.features.astype(np.float64),
            weak_labels(data),
            triplets,
            room_id,
            rng,
            config=LoraConfig(),
            epochs=epochs,
        )


def load_backbone(folder: str | Path = BACKBONE_DIR) -> Backbone:
    """The shipped (or a given) backbone, after checking every file against its manifest."""
    files = read_verified(folder)
    if "model.onnx" not in files:
        raise ArtifactError("the backbone manifest does not list model.onnx")
    config = json.loads(files["config.json"])
    if config.get("format") != BACKBONE_FORMAT or tuple(config.get("feature_names", ())) != FEATURE_NAMES:
        raise ArtifactError("config.json is not a backbone for this feature layout")
    tensors = load_safetensors(files["model.safetensors"])
    shapes = {
        "input_mean": (8,),
        "input_scale": (8,),
        "w1": (8, config["hidden_dim"]),
        "b1": (config["hidden_dim"],),
        "w2": (config["hidden_dim"], config["embed_dim"]),
        "b2": (config["embed_dim"],),
    }
    for name, shape in shapes.items():
        if name not in tensors or tensors[name].shape != shape:
            raise ArtifactError(f"backbone tensor {name} missing or not of shape {shape}")
    rev = sha256_bytes(files["model.onnx"])[:12]
    if config.get("rev") not in (None, rev):
        raise ArtifactError("config.json names another backbone revision than model.onnx")
    return Backbone(rev, {k: tensors[k] for k in shapes}, config, onnx_session(files["model.onnx"]))


def simulated_rooms(
    duration: float = 120.0, rooms=SIMULATED_ROOMS, first_session: int = 1
) -> list[TrainingSet]:
    from ..sim import SimConfig, Simulation

    sets = []
    for i, (seed, schedule) in enumerate(rooms):
        sim = Simulation(SimConfig(schedule[0][1], seed=seed, duration=duration, nodes=2), list(schedule[1:]))
        sets.append(from_packets(sim.frames(), session=first_session + i))
    return sets


def build_backbone(
    recordings: Sequence[str | Path], output: str | Path = BACKBONE_DIR, *, seed: int = 0, epochs: int = 20
) -> dict[str, Any]:
    """Train the encoder on ``recordings`` plus :data:`SIMULATED_ROOMS` and write the backbone folder."""
    from .pipeline import TrainingConfig, train

    data = concatenate([load_recordings(recordings), *simulated_rooms()])
    result = train(
        data, None, TrainingConfig(seed=seed, epochs=epochs, measure_forgetting=False, lora_epochs=1)
    )
    params = {k: np.ascontiguousarray(result.model.params[k], np.float32) for k in MODEL_KEYS}
    onnx_bytes = build_onnx(params, None, name="ruview-backbone")
    out = Path(output)
    atomic_write_bytes(out / "model.onnx", onnx_bytes)
    atomic_write_bytes(
        out / "model.safetensors", save_safetensors(params, metadata={"format": BACKBONE_FORMAT})
    )
    metrics = result.metrics
    config = {
        "format": BACKBONE_FORMAT,
        "rev": sha256_bytes(onnx_bytes)[:12],
        "feature_names": list(FEATURE_NAMES),
        "input_dim": 8,
        "hidden_dim": int(params["w1"].shape[1]),
        "embed_dim": int(params["w2"].shape[1]),
        "trained_on": {
            "recordings": [Path(r).name for r in recordings],
            "simulated_rooms": [
                {"seed": s, "schedule": [list(x) for x in sched]} for s, sched in SIMULATED_ROOMS
            ],
        },
        "frames": metrics["frames"],
        "seed": seed,
        "epochs": epochs,
        "contrastive_validation": {
            "before": metrics["contrastive"]["validation_before"],
            "after": metrics["contrastive"]["validation_after"],
        },
    }
    atomic_write_json(out / "config.json", config)
    write_manifest(out, ["model.onnx", "model.safetensors", "config.json"])
    return config


if __name__ == "__main__":
    import sys

    default = (
        Path(__file__).resolve().parents[3]
        / "shared"
        / "data"
        / "ruview-recordings"
        / "pretrain-1775182186.csi.jsonl"
    )
    print(json.dumps(build_backbone(sys.argv[1:] or [default]), indent=2))
