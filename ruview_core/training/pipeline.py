"""One entry point, :func:`train`: recordings in, the ADR-071 model folder out, phase by phase.

Phases (timed): ``load`` (features of every frame), ``triplets`` (weak labels, split, mining),
``contrastive`` (encoder), ``heads``, ``ewc`` (base task's Fisher), ``lora`` (one adapter per
node, EWC-protected; each node then registered as an EWC task), ``quantize`` (2/4/8 bit) and
``export``. ADR-071 lists EWC after LoRA; here the base task is registered *before* the
adapters are trained, because EWC can only protect the base task from an adaptation it knows of.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..storage import atomic_write_json
from .contrastive import evaluate_contrastive, train_contrastive
from .dataset import TrainingSet, load_recordings
from .encoder import (
    ENCODER_KEYS,
    encode,
    encoder_backward,
    encoder_forward,
    init_encoder,
    input_standardisation,
)
from .ewc import BASE_LAMBDA, NODE_LAMBDA, EwcTask, register_task
from .export import model_tensors, quantize_model, write_artifacts, write_manifest
from .features import FEATURE_NAMES
from .heads import block_split, evaluate_heads, heads_loss, take_labels, train_heads
from .lora import LoraConfig, train_lora
from .losses import contrastive_loss
from .model import TrainedModel
from .quantize import RMSE_TARGETS, rmse
from .triplets import Triplets, mine_triplets
from .weak_labels import ACTIVITY_NAMES, LabelSource, WeakLabels, weak_labels

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class TrainingConfig:
    seed: int = 0
    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    hard_negative_ratio: float = 0.7
    validation_fraction: float = 0.2
    head_epochs: int = 60
    head_lr: float = 1e-2
    patience: int = 5
    lora: LoraConfig = field(default_factory=LoraConfig)
    lora_epochs: int = 5
    base_lambda: float = BASE_LAMBDA
    node_lambda: float = NODE_LAMBDA
    fisher_batches: int = 64
    measure_forgetting: bool = True
    quant_bits: tuple[int, ...] = (8, 4, 2)


@dataclass
class TrainingResult:
    """The model, its metrics, the EWC tasks, and the data split (for later adaptation and checks)."""

    model: TrainedModel
    metrics: dict[str, Any]
    ewc_tasks: list[EwcTask]
    data: TrainingSet
    labels: WeakLabels
    train_triplets: Triplets
    val_triplets: Triplets
    val_rows: np.ndarray
    output_dir: Path | None = None
    files: list[str] = field(default_factory=list)


class _Timer:
    def __init__(self, progress: Progress | None) -> None:
        self.timings: dict[str, float] = {}
        self.progress = progress
        self._start = time.perf_counter()

    def run(self, phase: str, work: Callable[[Callable[[float], None]], Any]) -> Any:
        start = time.perf_counter()
        report = (lambda f: self.progress(phase, f)) if self.progress else (lambda f: None)
        report(0.0)
        value = work(report)
        report(1.0)
        self.timings[phase] = time.perf_counter() - start
        return value

    def total(self) -> dict[str, float]:
        return {
            **{k: round(v, 4) for k, v in self.timings.items()},
            "total": round(time.perf_counter() - self._start, 4),
        }


def _split_triplets(triplets: Triplets, is_val: np.ndarray) -> tuple[Triplets, Triplets]:
    train = ~is_val[triplets.anchor] & ~is_val[triplets.positive] & ~is_val[triplets.negative]
    val = is_val[triplets.anchor] & is_val[triplets.positive]
    return triplets.take(np.flatnonzero(train)), triplets.take(np.flatnonzero(val))


def task_gradients(
    weights: Mapping[str, np.ndarray],
    heads,
    features: np.ndarray,
    labels: WeakLabels,
    triplets: Triplets,
    batch_size: int,
    n_batches: int,
    rng: np.random.Generator,
):
    """Mini-batch gradients of the full task loss (contrastive + heads on the anchors): for Fisher."""
    for _ in range(n_batches):
        batch = triplets.take(rng.choice(len(triplets), size=min(batch_size, len(triplets)), replace=False))
        b = len(batch)
        x = features[np.concatenate([batch.anchor, batch.positive, batch.negative])]
        z, cache = encoder_forward(weights, x)
        _, _, (da, dp, dn) = contrastive_loss(z[:b], z[b : 2 * b], z[2 * b :])
        dz_heads = heads_loss(heads, z[:b], take_labels(labels, batch.anchor))[3]
        yield encoder_backward(weights, cache, np.concatenate([da + dz_heads, dp, dn]))


def base_task_loss(
    weights,
    heads,
    features: np.ndarray,
    labels: WeakLabels,
    val_triplets: Triplets,
    val_rows: np.ndarray,
    batch_size: int,
) -> float:
    """What forgetting is measured on: contrastive loss of held-out triplets + heads loss of held-out rows."""
    contrastive = evaluate_contrastive(weights, features, val_triplets, batch_size)["loss"]
    head = heads_loss(heads, encode(weights, features[val_rows]), take_labels(labels, val_rows))[0]
    return float(contrastive + head)


def train(
    data: TrainingSet | Sequence[str | Path],
    output_dir: str | Path | None = None,
    config: TrainingConfig = TrainingConfig(),
    *,
    label_sources: Sequence[LabelSource] | None = None,
    progress: Progress | None = None,
    extra_metrics: Mapping[str, Any] | None = None,
) -> TrainingResult:
    """Run every phase on ``data`` (a training set, or recording paths) and, with ``output_dir``,
    write the model folder. Equal inputs and ``config.seed`` give bit-identical weights."""
    timer = _Timer(progress)
    rng = np.random.default_rng(config.seed)
    sources = [str(p) for p in data] if not isinstance(data, TrainingSet) else []
    if not isinstance(data, TrainingSet):
        data = timer.run("load", lambda report: load_recordings(list(data)))
    features = data.features.astype(np.float64)

    def prepare(report):
        labels = weak_labels(data, label_sources)
        train_rows, val_rows = block_split(data.times, data.sessions, rng, config.validation_fraction)
        is_val = np.zeros(len(data), bool)
        is_val[val_rows] = True
        triplets = mine_triplets(
            data.times,
            data.node_ids,
            data.sessions,
            data.motion_energy,
            rng,
            hard_negative_ratio=config.hard_negative_ratio,
        )
        return labels, train_rows, val_rows, is_val, triplets, *_split_triplets(triplets, is_val)

    labels, train_rows, val_rows, is_val, triplets, train_triplets, val_triplets = timer.run(
        "triplets", prepare
    )

    mean, scale = input_standardisation(features[train_rows])
    params = init_encoder(rng, mean, scale)
    before = evaluate_contrastive(params, features, val_triplets, config.batch_size)
    history = timer.run(
        "contrastive",
        lambda report: train_contrastive(
            params,
            features,
            train_triplets,
            rng,
            epochs=config.epochs,
            batch_size=config.batch_size,
            lr=config.lr,
            progress=report,
        ),
    )
    after = evaluate_contrastive(params, features, val_triplets, config.batch_size)

    z = encode(params, features)
    heads_result = timer.run(
        "heads",
        lambda report: train_heads(
            z,
            labels,
            train_rows,
            val_rows,
            rng,
            epochs=config.head_epochs,
            batch_size=config.batch_size,
            lr=config.head_lr,
            patience=config.patience,
        ),
    )
    heads = heads_result.heads

    base_task = timer.run(
        "ewc",
        lambda report: register_task(
            "base",
            params,
            task_gradients(
                params, heads, features, labels, train_triplets, config.batch_size, config.fisher_batches, rng
            ),
            ENCODER_KEYS,
            config.base_lambda,
        ),
    )
    tasks: list[EwcTask] = [base_task]

    def adapt(report):
        adapters, report_rows = {}, {}
        nodes = data.nodes
        base_loss = base_task_loss(params, heads, features, labels, val_triplets, val_rows, config.batch_size)
        for i, node in enumerate(nodes):
            mine = train_triplets.take(np.flatnonzero(data.node_ids[train_triplets.anchor] == node))
            kwargs = dict(
                config=config.lora, base_lr=config.lr, epochs=config.lora_epochs, batch_size=config.batch_size
            )
            adapter = train_lora(
                params, heads, features, labels, mine, node, rng, tasks=[base_task], **kwargs
            )
            adapters[node] = adapter
            node_val = np.flatnonzero(is_val & (data.node_ids == node))
            row = {
                "triplets": len(mine),
                "parameters": adapter.n_parameters,
                "loss": adapter.history,
                "base_task_loss_before": base_loss,
                "base_task_loss_with_ewc": base_task_loss(
                    adapter.merged(params), heads, features, labels, val_triplets, val_rows, config.batch_size
                ),
                "node_metrics": evaluate_heads(
                    heads, encode(adapter.merged(params), features[node_val]), take_labels(labels, node_val)
                )
                if node_val.size
                else {},
            }
            if config.measure_forgetting:
                free = train_lora(
                    params,
                    heads,
                    features,
                    labels,
                    mine,
                    node,
                    np.random.default_rng(config.seed + node),
                    tasks=(),
                    **kwargs,
                )
                row["base_task_loss_without_ewc"] = base_task_loss(
                    free.merged(params), heads, features, labels, val_triplets, val_rows, config.batch_size
                )
            tasks.append(
                register_task(
                    f"node-{node}",
                    adapter.merged(params),
                    task_gradients(
                        adapter.merged(params),
                        heads,
                        features,
                        labels,
                        mine,
                        config.batch_size,
                        max(4, config.fisher_batches // 4),
                        rng,
                    ),
                    ENCODER_KEYS,
                    config.node_lambda,
                )
            )
            report_rows[f"node-{node}"] = row
            report((i + 1) / len(nodes))
        return adapters, report_rows

    adapters, lora_report = timer.run("lora", adapt)
    model = TrainedModel(
        params,
        heads,
        adapters,
        {
            "feature_names": list(FEATURE_NAMES),
            "activity_names": list(ACTIVITY_NAMES),
            "vitals_scale_bpm": [30.0, 120.0],
            "lora": asdict(config.lora),
            "training": {k: v for k, v in asdict(config).items() if k != "lora"},
            "sources": sources,
        },
    )
    exported = model.as_float32()

    def quantize_all(report):
        tensors = model_tensors(exported)
        blobs, quality = {}, {}
        reference = exported.embed(features[val_rows])
        for i, bits in enumerate(config.quant_bits):
            blobs[bits], quality[f"q{bits}"] = quantize_model(tensors, bits)
            from .export import load_quantized

            restored = load_quantized(blobs[bits])
            z_q = encode(restored, features[val_rows])
            quality[f"q{bits}"].update(
                {
                    "target": RMSE_TARGETS[bits],
                    "meets_target": quality[f"q{bits}"]["rmse"] < RMSE_TARGETS[bits],
                    "embedding_rmse": rmse(z_q, reference),
                    "embedding_cosine_min": float(np.min(np.sum(z_q * reference, axis=1)))
                    if len(val_rows)
                    else None,
                }
            )
            report((i + 1) / len(config.quant_bits))
        return blobs, quality

    blobs, quantization = timer.run("quantize", quantize_all)

    metrics: dict[str, Any] = {
        "frames": len(data),
        "nodes": list(data.nodes),
        "sessions": int(np.unique(data.sessions).size),
        "rows": {"train": int(train_rows.size), "validation": int(val_rows.size)},
        "labels": labels.summary(),
        "triplets": {
            "mined": len(triplets),
            "train": len(train_triplets),
            "validation": len(val_triplets),
            **triplets.counts(),
        },
        "contrastive": {
            "loss": history.loss,
            "triplet_loss": history.triplet_loss,
            "info_nce": history.info_nce,
            "validation_before": before,
            "validation_after": after,
        },
        "heads": {
            "train_loss": heads_result.train_loss,
            "val_loss": heads_result.val_loss,
            "best_epoch": heads_result.best_epoch,
            "stopped_early": heads_result.stopped_early,
            "validation": heads_result.metrics,
        },
        "lora": lora_report,
        "ewc": {task.name: task.summary() for task in tasks},
        "quantization": quantization,
        "model_bytes": {
            "fp32": int(sum(v.nbytes for v in model_tensors(exported).values())),
            **{f"q{b}": len(blob) for b, blob in blobs.items()},
        },
        "config": {k: v for k, v in asdict(config).items()},
        **(extra_metrics or {}),
    }
    result = TrainingResult(model, metrics, tasks, data, labels, train_triplets, val_triplets, val_rows)
    if output_dir is not None:
        out = Path(output_dir)
        files = timer.run(
            "export", lambda report: write_artifacts(out, exported, quantized=blobs, ewc_tasks=tasks)
        )
        metrics["timings_s"] = timer.total()
        atomic_write_json(out / "training-metrics.json", metrics)
        files.append("training-metrics.json")
        write_manifest(out, files)
        result.output_dir, result.files = out, files + ["manifest.jsonl"]
    else:
        metrics["timings_s"] = timer.total()
    return result
