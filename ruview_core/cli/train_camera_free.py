"""``ruview train-camera-free``: the ADR-071 pipeline supervised by a home's sensors, no camera.

Label events come from ``--ha-labels`` (a ``labels.jsonl`` the add-on stored from the
integration, or any file in that format) and, with ``--seed-url``, from a Cognitum Seed's
sensor stream read for ``--seed-seconds`` (for a recording being made now). A Seed that cannot
be reached means CSI-only training, as ADR-071 says, and the manifest record says so.

Writes the ADR-071 model folder via :func:`ruview_core.training.train`, then the refined heads
(sensor-verified contrastive pairs, three rounds of self-refinement), ``pose-decoder.json``,
``camera-free-supervision.json`` (the record of how it was supervised) and the weak-label
statistics in ``training-metrics.json``; the manifest lists every file.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import numpy as np

from ..storage import atomic_write_json
from ..supervision.events import LabelEvent, read_events, summarize
from ..supervision.refine import contrastive_finetune, self_refine, sensor_verified_triplets
from ..supervision.rules import degradation_mode
from ..supervision.weak_labels import CameraFreeLabelSource
from ..supervision.zones import write_pose_decoder
from ..training.export import model_tensors, quantize_model, write_artifacts, write_manifest
from ..training.model import TrainedModel
from ..training.pipeline import TrainingConfig, train
from .common import emit, fail, note


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("train-camera-free",
                                 help="train from recordings with PIR / door / temperature sensors as weak labels")
    parser.add_argument("--data", nargs="+", required=True, type=Path, metavar="FILE", help=".csi.jsonl recordings")
    seed = parser.add_mutually_exclusive_group()
    seed.add_argument("--seed-url", metavar="URL", help="Cognitum Seed, e.g. https://169.254.42.1:8443")
    seed.add_argument("--no-seed", action="store_true", help="no Seed (the default)")
    parser.add_argument("--seed-token", metavar="TOKEN", help="the Seed's bearer token")
    parser.add_argument("--seed-ca", metavar="FILE", help="the Seed's certificate or CA (verifies its TLS)")
    parser.add_argument("--seed-insecure", action="store_true",
                        help="accept the Seed's self-signed certificate without verification (opt-in)")
    parser.add_argument("--seed-seconds", type=float, default=0.0, help="read the Seed's stream this long (default 0)")
    parser.add_argument("--ha-labels", type=Path, metavar="FILE", help="label events (JSONL) from Home Assistant")
    parser.add_argument("--output", required=True, type=Path, metavar="DIR")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON lines)")
    parser.set_defaults(run=run)


async def _seed_events(args: argparse.Namespace) -> tuple[list[LabelEvent], dict]:
    import aiohttp

    from ..supervision.seed import ReadingEvents, SeedClient, SeedConfig, SeedError

    config = SeedConfig(args.seed_url, args.seed_token, args.seed_insecure, args.seed_ca, max_reconnects=3)
    record: dict = {"url": args.seed_url, "reachable": False}
    events: list[LabelEvent] = []
    async with aiohttp.ClientSession() as session:
        client = SeedClient(session, config)
        try:
            record["sensors"] = await client.sensors()
            record["reachable"] = True
            record["boundary"] = await client.boundary()
        except SeedError as error:
            record["error"] = str(error)
            return events, record
        to_events = ReadingEvents()

        async def collect():
            async for reading in client.readings():
                events.extend(to_events(reading))

        if args.seed_seconds > 0:
            try:
                await asyncio.wait_for(collect(), args.seed_seconds)
            except (asyncio.TimeoutError, SeedError) as error:
                if isinstance(error, SeedError):
                    record["error"] = str(error)
        record["stream"] = dict(client.stats)
    return events, record


def run(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.data if not p.is_file()]
    if missing:
        fail(f"no such recording: {', '.join(missing)}")
    if args.seed_insecure and not args.seed_url:
        fail("--seed-insecure needs --seed-url")
    events: list[LabelEvent] = []
    supervision: dict = {"record": "camera_free_supervision", "seed": None, "home_assistant": None}
    if args.ha_labels is not None:
        if not args.ha_labels.is_file():
            fail(f"no such label file: {args.ha_labels}")
        malformed = __import__("collections").Counter()
        ha = read_events(args.ha_labels, malformed)
        events += ha
        supervision["home_assistant"] = {"file": str(args.ha_labels), **summarize(ha),
                                         "malformed_lines": sum(malformed.values())}
    if args.seed_url:
        seed_events, supervision["seed"] = asyncio.run(_seed_events(args))
        events += seed_events
        if not supervision["seed"]["reachable"] and not args.json:
            note(f"the Seed at {args.seed_url} is unreachable: training without it")
    events.sort(key=lambda e: e.t)
    source = CameraFreeLabelSource(events)
    config = TrainingConfig(seed=args.seed, epochs=args.epochs)
    try:
        result = train(args.data, args.output, config, label_sources=[source])
    except ValueError as error:
        fail(str(error))
    labels = source.last
    mode = degradation_mode(events, len(result.data.nodes))
    rng = np.random.default_rng(args.seed + 1)
    data = result.data
    features = data.features.astype(np.float64)
    params = {k: np.array(v, dtype=np.float64) for k, v in result.model.params.items()}
    triplets, triplet_counts = sensor_verified_triplets(data, labels, rng)
    finetune = contrastive_finetune(params, features, triplets, result.ewc_tasks, rng) if len(triplets) else []
    is_val = np.zeros(len(data), bool)
    is_val[result.val_rows] = True
    heads, refinement = self_refine(params, dict(result.model.heads), data, result.labels,
                                    np.flatnonzero(~is_val), result.val_rows, rng)
    model = TrainedModel(params, heads, result.model.adapters, result.model.config).as_float32()
    quantized = {bits: quantize_model(model_tensors(model), bits)[0] for bits in config.quant_bits}
    out = args.output
    files = write_artifacts(out, model, quantized=quantized, ewc_tasks=result.ewc_tasks,
                            config_extra={"camera_free": {"mode": mode}})
    stats = labels.summary()
    metrics = result.metrics
    metrics["camera_free"] = {"mode": mode, "weak_labels": stats, "events": summarize(events),
                              "sensor_verified_triplets": triplet_counts, "contrastive_finetune_loss": finetune,
                              "self_refinement": refinement.rounds}
    atomic_write_json(out / "training-metrics.json", metrics)
    supervision.update({"mode": mode, "signals": [k for k, v in stats["presence"]["signals"].items() if v],
                        "weak_label_rows": stats["rows"], "sensor_verified_triplets": triplet_counts,
                        "self_refinement_rounds": len(refinement.rounds)})
    atomic_write_json(out / "camera-free-supervision.json", supervision)
    files += ["training-metrics.json", "camera-free-supervision.json",
              write_pose_decoder(out, nodes=tuple(data.nodes), stats={"mode": mode, "presence": stats["presence"]})]
    write_manifest(out, files)
    summary = {"output": str(out), "mode": mode, "frames": len(data), "nodes": list(data.nodes),
               "events": len(events), "presence_labelled": stats["presence"]["known"],
               "sensor_verified_triplets": triplet_counts, "self_refinement": refinement.rounds}
    if args.json:
        emit(summary)
    else:
        print(f"camera-free training ({mode}) on {len(data)} frames, {len(events)} label events")
        print(f"presence labelled on {stats['presence']['known']} of {stats['rows']} rows; "
              f"sensor-verified triplets {triplet_counts}")
        print(f"model written to {out}")
    return 0
