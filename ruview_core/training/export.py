"""The model folder of ADR-071, written atomically, and a loader that trusts nothing.

::

    model.safetensors         encoder + heads, float32 (HuggingFace-compatible)
    config.json               architecture, feature names, hyper-parameters, tensor shapes
    training-metrics.json     loss curves, phase timings, quantization RMSE, EWC and LoRA figures
    model.onnx                encoder + heads for onnxruntime
    quantized/model-q{2,4,8}.bin   layout in :mod:`.quantize`
    lora/node-<id>.safetensors     per-node adapters (``<layer>.lora_a``/``.lora_b``)
    ewc.safetensors           Fisher diagonals and anchors of the registered EWC tasks
    manifest.jsonl            one line per file above: path, bytes, sha256, kind

:func:`load_model` checks every file against the manifest (size and sha256) and every tensor
against the shapes the config declares before using anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from ..storage import atomic_write_bytes, atomic_write_json
from .encoder import ENCODER_KEYS
from .ewc import EwcTask
from .heads import HEAD_KEYS
from .lora import LoraAdapter, LoraConfig
from .model import TrainedModel
from .onnx_graph import build_onnx
from .quantize import (
    decode_quantized,
    dequantize,
    encode_quantized,
    quantize_auto,
    raw_tensor,
    rmse,
)

FORMAT = "ruview-csi-encoder"
FORMAT_VERSION = 1
MANIFEST = "manifest.jsonl"
MODEL_KEYS = ("input_mean", "input_scale") + ENCODER_KEYS
EXACT_KEYS = ("input_mean", "input_scale")  # 16 numbers: kept float32 in quantized files


class ArtifactError(ValueError):
    """A model folder that is incomplete, altered or inconsistent."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _float32(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}


def model_tensors(model: TrainedModel) -> dict[str, np.ndarray]:
    tensors = {k: model.params[k] for k in MODEL_KEYS}
    tensors.update({k: model.heads[k] for k in HEAD_KEYS})
    return _float32(tensors)


def model_config(model: TrainedModel, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    tensors = model_tensors(model)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "input_dim": int(model.params["w1"].shape[0]),
        "hidden_dim": int(model.params["w1"].shape[1]),
        "embed_dim": int(model.params["w2"].shape[1]),
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        "lora_nodes": sorted(int(n) for n in model.adapters),
    }
    config.update(model.config)
    config.update(extra or {})
    return config


def quantize_model(tensors: Mapping[str, np.ndarray], bits: int) -> tuple[bytes, dict[str, Any]]:
    """A ``model-q{bits}.bin`` and its report: RMSE per tensor, the worst one, method per tensor."""
    packed, per_tensor, relative, methods = {}, {}, {}, {}
    for name, value in tensors.items():
        if name in EXACT_KEYS:
            packed[name] = raw_tensor(value)
            continue
        packed[name], methods[name] = quantize_auto(value, bits)
        per_tensor[name] = rmse(dequantize(packed[name]), value)
        relative[name] = per_tensor[name] / max(
            float(np.sqrt(np.mean(np.square(value, dtype=np.float64)))), 1e-12
        )
    blob = encode_quantized(packed)
    worst = max(per_tensor, key=per_tensor.get)
    return blob, {
        "rmse": per_tensor[worst],
        "worst_tensor": worst,
        "per_tensor": per_tensor,
        "relative_rmse": relative,
        "method": methods,
        "bytes": len(blob),
    }


def load_quantized(blob: bytes) -> dict[str, np.ndarray]:
    """Dequantized float32 tensors of a ``model-q*.bin``."""
    return {name: dequantize(q) for name, q in decode_quantized(blob).items()}


def write_artifacts(
    output_dir: str | Path,
    model: TrainedModel,
    *,
    quantized: Mapping[int, bytes] = {},
    ewc_tasks: Iterable[EwcTask] = (),
    config_extra: Mapping[str, Any] | None = None,
) -> list[str]:
    """Write every artifact except ``training-metrics.json`` and the manifest; returns their paths."""
    out = Path(output_dir)
    written: list[str] = []

    def put(relative: str, data: bytes) -> None:
        atomic_write_bytes(out / relative, data)
        written.append(relative)

    tensors = model_tensors(model)
    put(
        "model.safetensors",
        save_safetensors(tensors, metadata={"format": FORMAT, "version": str(FORMAT_VERSION)}),
    )
    atomic_write_json(out / "config.json", model_config(model, config_extra))
    written.append("config.json")
    put("model.onnx", build_onnx(tensors, tensors))
    for bits, blob in sorted(quantized.items()):
        put(f"quantized/model-q{bits}.bin", blob)
    for node, adapter in sorted(model.adapters.items()):
        cfg = adapter.config
        put(
            f"lora/node-{node}.safetensors",
            save_safetensors(
                _float32(adapter.tensors),
                metadata={
                    "node_id": str(node),
                    "rank": str(cfg.rank),
                    "alpha": repr(cfg.alpha),
                    "dropout": repr(cfg.dropout),
                    "layers": ",".join(cfg.layers),
                },
            ),
        )
    ewc = {}
    for task in ewc_tasks:
        for k in task.fisher:
            ewc[f"{task.name}.fisher.{k}"] = task.fisher[k]
            ewc[f"{task.name}.anchor.{k}"] = task.anchor[k]
    if ewc:
        put(
            "ewc.safetensors",
            save_safetensors(
                _float32(ewc), metadata={"lambdas": json.dumps({t.name: t.strength for t in ewc_tasks})}
            ),
        )
    return written


def _kind(path: str) -> str:
    if path.startswith("quantized/"):
        return "quantized"
    if path.startswith("lora/"):
        return "lora"
    return {
        "model.safetensors": "weights",
        "config.json": "config",
        "model.onnx": "onnx",
        "training-metrics.json": "metrics",
        "ewc.safetensors": "ewc",
    }.get(path, "other")


def write_manifest(output_dir: str | Path, paths: Iterable[str]) -> list[dict[str, Any]]:
    """``manifest.jsonl``: one JSON object per artifact with its size and sha256."""
    out = Path(output_dir)
    entries = []
    for relative in sorted(set(paths)):
        data = (out / relative).read_bytes()
        entries.append(
            {"path": relative, "kind": _kind(relative), "bytes": len(data), "sha256": sha256_bytes(data)}
        )
    atomic_write_bytes(
        out / MANIFEST, "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode()
    )
    return entries


def read_verified(model_dir: str | Path) -> dict[str, bytes]:
    """Every artifact the manifest names, after checking its size and sha256 (ArtifactError if not)."""
    root = Path(model_dir)
    try:
        lines = (root / MANIFEST).read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ArtifactError(f"{root}: no readable {MANIFEST} ({error.strerror})") from None
    files: dict[str, bytes] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            relative, digest, size = entry["path"], entry["sha256"], entry["bytes"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ArtifactError(f"{MANIFEST} line {number} is not a manifest entry") from None
        pure = PurePosixPath(relative)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise ArtifactError(f"{MANIFEST} names a path outside the model folder: {relative!r}")
        try:
            data = (root / pure).read_bytes()
        except OSError:
            raise ArtifactError(f"{relative} is listed in the manifest but missing") from None
        if len(data) != size or sha256_bytes(data) != digest:
            raise ArtifactError(f"{relative} does not match its sha256 in the manifest (altered or corrupt)")
        files[relative] = data
    for required in ("model.safetensors", "config.json"):
        if required not in files:
            raise ArtifactError(f"the manifest does not list {required}")
    return files


def _check_shapes(
    tensors: Mapping[str, np.ndarray], expected: Mapping[str, Iterable[int]], what: str
) -> None:
    for name, shape in expected.items():
        if name not in tensors:
            raise ArtifactError(f"{what} has no tensor {name!r}")
        if tuple(tensors[name].shape) != tuple(shape):
            raise ArtifactError(
                f"{what}: {name} has shape {tuple(tensors[name].shape)}, expected {tuple(shape)}"
            )


def expected_shapes(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Tensor shapes the architecture in ``config`` implies (the config's own list must agree)."""
    i, h, e = int(config["input_dim"]), int(config["hidden_dim"]), int(config["embed_dim"])
    from .weak_labels import ACTIVITY_NAMES

    return {
        "input_mean": (i,),
        "input_scale": (i,),
        "w1": (i, h),
        "b1": (h,),
        "w2": (h, e),
        "b2": (e,),
        "presence.w": (e, 1),
        "presence.b": (1,),
        "activity.w": (e, len(ACTIVITY_NAMES)),
        "activity.b": (len(ACTIVITY_NAMES),),
        "vitals.w": (e, 2),
        "vitals.b": (2,),
    }


def _read_listed(files: dict[str, bytes], name: str, read: Callable[[bytes], Any]) -> Any:
    """``read`` of a file the manifest lists; a missing or unreadable one is an ArtifactError naming it."""
    if name not in files:
        raise ArtifactError(f"the manifest does not list {name}")
    try:
        return read(files[name])
    except Exception as error:  # safetensors and the quantized reader raise their own error types
        raise ArtifactError(f"{name} is unreadable: {error}") from None


def load_model(model_dir: str | Path, bits: int | None = None) -> TrainedModel:
    """The verified model of a folder; with ``bits`` its weights come from ``model-q{bits}.bin``."""
    files = read_verified(model_dir)
    try:
        config = json.loads(files["config.json"])
        shapes = expected_shapes(config)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ArtifactError("config.json is not a model configuration") from None
    if config.get("format") != FORMAT:
        raise ArtifactError(f"config.json is not a {FORMAT} model")
    if {k: tuple(v) for k, v in config.get("tensors", {}).items()} != shapes:
        raise ArtifactError("config.json declares tensor shapes that do not fit its architecture")
    tensors = _read_listed(files, "model.safetensors", load_safetensors)
    _check_shapes(tensors, shapes, "model.safetensors")
    if bits is not None:
        name = f"quantized/model-q{bits}.bin"
        tensors = _read_listed(files, name, load_quantized)
        _check_shapes(tensors, shapes, name)
    params = {k: tensors[k].astype(np.float32) for k in MODEL_KEYS}
    heads = {k: tensors[k].astype(np.float32) for k in HEAD_KEYS}
    adapters = {}
    for node in config.get("lora_nodes", []):
        name = f"lora/node-{node}.safetensors"
        lora = _read_listed(files, name, load_safetensors)
        cfg = config.get("lora", {})
        lora_config = LoraConfig(
            int(cfg.get("rank", 4)),
            float(cfg.get("alpha", 8.0)),
            float(cfg.get("dropout", 0.1)),
            float(cfg.get("lr_factor", 0.5)),
            tuple(cfg.get("layers", ("w1", "w2"))),
        )
        r = lora_config.rank
        _check_shapes(
            lora,
            {
                f"{layer}.lora_{part}": (
                    (params[layer].shape[0], r) if part == "a" else (r, params[layer].shape[1])
                )
                for layer in lora_config.layers
                for part in "ab"
            },
            name,
        )
        adapters[int(node)] = LoraAdapter(
            int(node), lora_config, {k: v.astype(np.float32) for k, v in lora.items()}
        )
    return TrainedModel(params, heads, adapters, config)
