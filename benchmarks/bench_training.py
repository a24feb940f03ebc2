"""Training pipeline (issue 4, ADR-071): wall time per phase, inference speed, sizes, quantization, EWC.

Run: ``.venv/bin/python benchmarks/bench_training.py`` (``--repeats N``, ``--quick``).
Trains on ``../shared/data/ruview-recordings/pretrain-1775182186.csi.jsonl`` (5,783 lines, 5,309
CSI frames) ``--repeats`` times and reports the median of every phase (target: total under 30 s
on a 2-core machine; ADR-071's own target is under 5 min on an M4 Pro), then benchmarks the
written model folder (numpy and onnxruntime, target under 1 ms per frame), and measures
forgetting: the base model is adapted with a LoRA adapter to a *new* (simulated) room, with and
without EWC, and the base task's held-out loss on the real recording is compared.
With ``--backbone-eval`` it also asks whether the shipped backbone's embedding helps: on four
simulated rooms *not* used to build it (ground truth per second), a logistic regression predicts
presence and motion from the 8 hand features, the embedding, or both, leaving one room out;
the figure is the balanced accuracy. (A proxy: the ADR-151 specialists themselves use the
calibration's baseline-relative features and are not wired to the embedding.)
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruview_core.sim import SimConfig, Simulation  # noqa: E402
from ruview_core.training.benchmark import benchmark_model  # noqa: E402
from ruview_core.training.contrastive import evaluate_contrastive  # noqa: E402
from ruview_core.training.dataset import from_packets  # noqa: E402
from ruview_core.training.ewc import NODE_LAMBDA  # noqa: E402
from ruview_core.training.lora import train_lora  # noqa: E402
from ruview_core.training.pipeline import TrainingConfig, base_task_loss, train  # noqa: E402
from ruview_core.training.triplets import mine_triplets  # noqa: E402
from ruview_core.training.weak_labels import weak_labels  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "ruview-recordings" / "pretrain-1775182186.csi.jsonl"


def simulated_room(seed: int, duration: float = 120.0):
    """Two nodes in a new room: empty, walk, sit, walk, lie down (transitions for hard negatives)."""
    schedule = [(20.0, "walk"), (45.0, "sit"), (70.0, "walk"), (90.0, "lie_down")]
    sim = Simulation(SimConfig("empty", seed=seed, duration=duration, nodes=2), schedule)
    return from_packets(sim.frames(), session=0)


def forgetting(result, seed: int, epochs: int) -> dict:
    """Base-task loss on the real recording's held-out split after adapting to a simulated room."""
    room = simulated_room(seed)
    rng = np.random.default_rng(seed)
    triplets = mine_triplets(room.times, room.node_ids, room.sessions, room.motion_energy, rng)
    labels = weak_labels(room)
    features = room.features.astype(np.float64)
    base = result.model
    base_data = result.data.features.astype(np.float64)

    def base_loss(weights):
        return base_task_loss(
            weights, base.heads, base_data, result.labels, result.val_triplets, result.val_rows, 32
        )

    def room_loss(weights):
        return evaluate_contrastive(weights, features, triplets)["loss"]

    before = base_loss(base.params)
    out = {"base_loss_before": before, "room_loss_before": room_loss(base.params)}
    base_task = next(t for t in result.ewc_tasks if t.name == "base")
    for label, tasks in (
        ("without_ewc", []),
        ("with_ewc", [base_task.__class__(base_task.name, base_task.anchor, base_task.fisher, NODE_LAMBDA)]),
    ):
        adapter = train_lora(
            base.params,
            base.heads,
            features,
            labels,
            triplets,
            99,
            np.random.default_rng(seed),
            tasks=tasks,
            epochs=epochs,
            base_lr=3e-3,
        )
        merged = adapter.merged(base.params)
        out[f"base_loss_{label}"] = base_loss(merged)
        out[f"room_loss_{label}"] = room_loss(merged)
        out[f"weight_shift_{label}"] = float(
            np.sqrt(sum(np.sum((merged[k] - base.params[k]) ** 2) for k in ("w1", "w2")))
        )
    rise_free = out["base_loss_without_ewc"] - before
    rise_ewc = out["base_loss_with_ewc"] - before
    out["forgetting_reduction"] = 1.0 - rise_ewc / rise_free if rise_free > 0 else None
    return out


EVAL_ROOMS = (
    (
        21,
        (
            (0.0, "empty"),
            (20.0, "walk"),
            (40.0, "sit"),
            (60.0, "small_move"),
            (80.0, "empty"),
            (100.0, "lie_down"),
        ),
    ),
    (
        22,
        (
            (0.0, "sit"),
            (20.0, "empty"),
            (40.0, "walk"),
            (60.0, "stand_still"),
            (80.0, "walk"),
            (100.0, "empty"),
        ),
    ),
    (
        23,
        (
            (0.0, "walk"),
            (20.0, "empty"),
            (40.0, "breathe_normal"),
            (60.0, "walk"),
            (80.0, "sit"),
            (100.0, "empty"),
        ),
    ),
    (
        24,
        (
            (0.0, "empty"),
            (20.0, "lie_down"),
            (40.0, "walk"),
            (60.0, "empty"),
            (80.0, "small_move"),
            (100.0, "sit"),
        ),
    ),
)


def _truth_room(seed, schedule):
    sim = Simulation(SimConfig(schedule[0][1], seed=seed, duration=120.0, nodes=2), list(schedule[1:]))
    data = from_packets(sim.frames())
    truth = sim.truth()
    second = np.clip(np.floor(data.times - data.times.min()).astype(int), 0, len(truth) - 1)
    return data, {
        "presence": np.array([truth[s]["presence"] for s in second], float),
        "motion": np.array([bool(truth[s]["motion"]) for s in second], float),
    }


def _logistic(x, y, iterations=800, lr=0.5, l2=1e-3):
    mean, spread = x.mean(0), x.std(0) + 1e-6
    xs = (x - mean) / spread
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(iterations):
        g = 1 / (1 + np.exp(-(xs @ w + b))) - y
        w -= lr * (xs.T @ g / y.size + l2 * w)
        b -= lr * g.mean()
    return lambda z: 1 / (1 + np.exp(-(((z - mean) / spread) @ w + b)))


def backbone_eval() -> dict:
    from ruview_core.training.backbone import load_backbone

    backbone = load_backbone()
    rooms = [_truth_room(seed, schedule) for seed, schedule in EVAL_ROOMS]
    inputs = {
        "hand": lambda d: d.features.astype(np.float64),
        "embedding": lambda d: backbone.embed(d.features).astype(np.float64),
        "hand+embedding": lambda d: np.hstack([d.features, backbone.embed(d.features)]).astype(np.float64),
    }
    out: dict = {"backbone_rev": backbone.rev}
    for target in ("presence", "motion"):
        for name, make in inputs.items():
            scores = []
            for held in range(len(rooms)):
                train_ids = [i for i in range(len(rooms)) if i != held]
                model = _logistic(
                    np.vstack([make(rooms[i][0]) for i in train_ids]),
                    np.concatenate([rooms[i][1][target] for i in train_ids]),
                )
                y = rooms[held][1][target]
                guess = model(make(rooms[held][0])) > 0.5
                scores.append(float(np.mean([np.mean(guess[y == c] == c) for c in (0, 1) if np.any(y == c)])))
            out[f"{target}_{name}"] = {"balanced_accuracy_mean": float(np.mean(scores)), "per_room": scores}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer latency samples")
    parser.add_argument(
        "--backbone-eval", action="store_true", help="does the shipped embedding help? (about 20 s)"
    )
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    timings, result = [], None
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model"
        for i in range(repeats):
            result = train([DATA], out, TrainingConfig(seed=0))
            timings.append(result.metrics["timings_s"])
            print(f"run {i + 1}/{repeats}: total {timings[-1]['total']:.2f} s", file=sys.stderr)
        phases = {k: round(statistics.median(t[k] for t in timings), 3) for k in timings[0]}
        bench = benchmark_model(out, result.data, repeats=300 if args.quick else 2000)
        metrics = result.metrics
        ewc = {f"seed_{s}": forgetting(result, s, epochs=10) for s in (1, 2)}
    quant = {
        k: {
            "rmse": v["rmse"],
            "worst_tensor": v["worst_tensor"],
            "target": v["target"],
            "meets_target": v["meets_target"],
            "methods": sorted(set(v["method"].values())),
            "max_relative_rmse": max(v["relative_rmse"].values()),
            "embedding_rmse": v["embedding_rmse"],
        }
        for k, v in metrics["quantization"].items()
    }
    for name, q in quant.items():
        print(
            f"{name}: worst RMSE {q['rmse']:.4f} ({q['worst_tensor']}), target {q['target']}, "
            f"embedding RMSE {q['embedding_rmse']:.4f}",
            file=sys.stderr,
        )
    for name, e in ewc.items():
        print(
            f"EWC {name}: base loss {e['base_loss_before']:.3f} -> {e['base_loss_without_ewc']:.3f} without, "
            f"{e['base_loss_with_ewc']:.3f} with EWC",
            file=sys.stderr,
        )
    print(
        json.dumps(
            {
                "frames": metrics["frames"],
                "repeats": repeats,
                "timings_s_median": phases,
                "timings_s_all_totals": [t["total"] for t in timings],
                "latency_ms_per_frame": bench["latency_ms_per_frame"],
                "frames_per_s_batched": bench["frames_per_s_batched"],
                "onnx_max_abs_diff": bench["onnx_max_abs_diff"],
                "model_bytes": {
                    **metrics["model_bytes"],
                    "safetensors_file": bench["model_bytes"]["safetensors"],
                    "onnx_file": bench["model_bytes"]["onnx"],
                },
                "quantization": quant,
                "quantized_agreement": bench["quantized"],
                "contrastive_validation": {
                    "before": metrics["contrastive"]["validation_before"],
                    "after": metrics["contrastive"]["validation_after"],
                },
                "heads_validation": metrics["heads"]["validation"],
                "ewc_forgetting": ewc,
                **({"backbone_eval": backbone_eval()} if args.backbone_eval else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
