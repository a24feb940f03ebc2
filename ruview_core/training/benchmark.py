"""How fast and how faithful a model folder is: numpy vs onnxruntime, fp32 vs quantized."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import TrainingSet, load_recordings
from .export import load_model, read_verified
from .onnx_graph import onnx_session
from .quantize import rmse


def _median_ms(call: Callable[[], Any], repeats: int) -> float:
    for _ in range(min(20, repeats)):
        call()  # warm-up: caches, lazy initialisation
    samples = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        call()
        samples[i] = time.perf_counter() - start
    return float(np.median(samples) * 1e3)


def _best_rate(call: Callable[[], Any], frames: int, repeats: int = 5) -> float:
    call()
    best = min(_timed(call) for _ in range(repeats))
    return frames / best if best > 0 else float("inf")


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def benchmark_model(
    model_dir: str | Path,
    data: TrainingSet | Sequence[str | Path],
    *,
    samples: int | None = None,
    repeats: int = 1000,
) -> dict[str, Any]:
    """Latency per frame (median of ``repeats`` single-frame calls), batched throughput (best of 5
    passes over all frames), ONNX-vs-numpy agreement and the quantized models' embedding error."""
    model = load_model(model_dir)
    files = read_verified(model_dir)
    if not isinstance(data, TrainingSet):
        data = load_recordings(list(data))
    x = data.features.astype(np.float32)
    if samples is not None:
        x = x[:samples]
    session = onnx_session(files["model.onnx"])
    names = [o.name for o in session.get_outputs()]
    onnx_out = dict(zip(names, session.run(None, {"features": x})))
    numpy_out = model.predict(x)
    diff = max(float(np.max(np.abs(onnx_out[k] - numpy_out[k]))) for k in names)
    one = x[:1]
    result: dict[str, Any] = {
        "frames": int(x.shape[0]),
        "latency_ms_per_frame": {
            "numpy": _median_ms(lambda: model.predict(one), repeats),
            "onnxruntime": _median_ms(lambda: session.run(None, {"features": one}), repeats),
        },
        "frames_per_s_batched": {
            "numpy": _best_rate(lambda: model.predict(x), x.shape[0]),
            "onnxruntime": _best_rate(lambda: session.run(None, {"features": x}), x.shape[0]),
        },
        "model_bytes": {"safetensors": len(files["model.safetensors"]), "onnx": len(files["model.onnx"])},
        "quantized": {},
    }
    reference = numpy_out["embedding"]
    for bits in (8, 4, 2):
        name = f"quantized/model-q{bits}.bin"
        if name not in files:
            continue
        restored = load_model(model_dir, bits=bits).predict(x)
        result["model_bytes"][f"q{bits}"] = len(files[name])
        result["quantized"][f"q{bits}"] = {
            "embedding_rmse": rmse(restored["embedding"], reference),
            "presence_agreement": float(
                np.mean((restored["presence"] > 0.5) == (numpy_out["presence"] > 0.5))
            ),
            "activity_agreement": float(
                np.mean(np.argmax(restored["activity"], 1) == np.argmax(numpy_out["activity"], 1))
            ),
        }
    result["onnx_max_abs_diff"] = diff
    return result
