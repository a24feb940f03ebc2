"""``ruview train`` (ADR-071 pipeline on recordings) and ``ruview benchmark-model``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..training.benchmark import benchmark_model
from ..training.export import ArtifactError
from ..training.pipeline import TrainingConfig, train
from .common import emit, fail, note, progress_bar


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train", help="train the CSI encoder, heads and per-node adapters (ADR-071)")
    parser.add_argument(
        "--data", nargs="+", required=True, type=Path, metavar="FILE", help=".csi.jsonl recordings"
    )
    parser.add_argument("--output", required=True, type=Path, metavar="DIR", help="model folder to write")
    parser.add_argument("--epochs", type=int, default=20, help="contrastive epochs (default 20)")
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (default 0): equal seeds, equal weights"
    )
    parser.add_argument(
        "--benchmark", action="store_true", help="benchmark the written model on the same data"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON lines)")
    parser.set_defaults(run=run_train)

    bench = commands.add_parser(
        "benchmark-model", help="latency, throughput and ONNX/quantized fidelity of a model"
    )
    bench.add_argument("--model", required=True, type=Path, metavar="DIR")
    bench.add_argument("--data", nargs="+", required=True, type=Path, metavar="FILE")
    bench.add_argument("--samples", type=int, help="use only the first N frames")
    bench.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    bench.set_defaults(run=run_benchmark)


def _check_files(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        fail(f"no such recording: {', '.join(missing)}")


class _PhaseProgress:
    """One progress bar per phase on a terminal; a line per phase otherwise (stderr stays quiet in --json)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet, self.phase, self.bar = quiet, None, None

    def __call__(self, phase: str, fraction: float) -> None:
        if phase != self.phase:
            if self.bar:
                print(file=sys.stdout)
            self.phase = phase
            if not self.quiet:
                note(f"{phase} ...")
            self.bar = progress_bar(not self.quiet)
        if self.bar:
            self.bar(fraction)

    def close(self) -> None:
        if self.bar:
            print(file=sys.stdout)


def run_train(args: argparse.Namespace) -> int:
    _check_files(args.data)
    if args.epochs < 1:
        fail("--epochs must be at least 1")
    if args.seed < 0:
        fail("--seed must be non-negative")
    progress = _PhaseProgress(args.json)
    try:
        result = train(
            args.data, args.output, TrainingConfig(seed=args.seed, epochs=args.epochs), progress=progress
        )
    except ValueError as error:
        fail(str(error))
    finally:
        progress.close()
    metrics = result.metrics
    summary = {
        "output": str(args.output),
        "frames": metrics["frames"],
        "nodes": metrics["nodes"],
        "timings_s": metrics["timings_s"],
        "contrastive_loss": [metrics["contrastive"]["loss"][0], metrics["contrastive"]["loss"][-1]],
        "validation": metrics["heads"]["validation"],
        "quantization": {
            k: {"rmse": v["rmse"], "bytes": v["bytes"]} for k, v in metrics["quantization"].items()
        },
    }
    if args.json:
        emit(summary)
    else:
        print(
            f"trained on {summary['frames']} frames from nodes {summary['nodes']}"
            f" in {metrics['timings_s']['total']:.1f} s"
        )
        print(
            "phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in metrics["timings_s"].items() if k != "total")
        )
        print(
            f"contrastive loss {summary['contrastive_loss'][0]:.3f} -> {summary['contrastive_loss'][1]:.3f}"
        )
        print(
            "quantization RMSE: "
            + ", ".join(f"{k} {v['rmse']:.4f}" for k, v in summary["quantization"].items())
        )
        print(f"model written to {args.output}")
    if args.benchmark:
        report = benchmark_model(args.output, args.data)
        emit(report) if args.json else _print_benchmark(report)
    return 0


def _print_benchmark(report: dict) -> None:
    latency, rate = report["latency_ms_per_frame"], report["frames_per_s_batched"]
    print(f"latency per frame: numpy {latency['numpy']:.3f} ms, onnxruntime {latency['onnxruntime']:.3f} ms")
    print(f"batched: numpy {rate['numpy']:.0f} frames/s, onnxruntime {rate['onnxruntime']:.0f} frames/s")
    print(f"onnx vs numpy max abs diff {report['onnx_max_abs_diff']:.2e}")
    for name, q in report["quantized"].items():
        print(
            f"{name}: {report['model_bytes'][name]} bytes, embedding RMSE {q['embedding_rmse']:.4f}, "
            f"presence agreement {q['presence_agreement']:.3f}"
        )


def run_benchmark(args: argparse.Namespace) -> int:
    _check_files(args.data)
    try:
        report = benchmark_model(args.model, args.data, samples=args.samples)
    except ArtifactError as error:
        fail(f"{args.model}: {error}")
    except ValueError as error:
        fail(str(error))
    if args.json:
        emit(report)
    else:
        _print_benchmark(report)
    return 0
