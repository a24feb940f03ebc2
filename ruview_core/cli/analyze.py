"""``ruview analyze``: the stateless chain, one JSON line per node per hop, no training needed."""

from __future__ import annotations

import argparse
import asyncio

from ..analysis import NodeAnalyzers
from ..frames import CsiFrame
from .common import add_source_options, emit, fail, note, running, source_from_args


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="motion, presence, breathing and heart rate per node, per second")
    add_source_options(parser)
    parser.add_argument("--baseline-seconds", type=float,
                        help="take the first N seconds as the empty room (otherwise the chain calibrates itself)")
    parser.add_argument("--hop", type=float, default=1.0, help="seconds between outputs (default 1)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.hop <= 0:
        fail("--hop must be positive")
    if args.baseline_seconds is not None and args.baseline_seconds <= 0:
        fail("--baseline-seconds must be positive")
    return asyncio.run(_analyze(args))


async def _analyze(args: argparse.Namespace) -> int:
    source = source_from_args(args)
    analyzers = NodeAnalyzers(hop=args.hop, baseline_seconds=args.baseline_seconds)
    if args.baseline_seconds is None:
        note("no --baseline-seconds: the chain calibrates itself; presence of a still person may be missed")
    async with running(source):
        async for packet in source:
            if not isinstance(packet, CsiFrame):
                continue
            for line in analyzers.push(packet):
                emit(line)
    if not analyzers.by_node:
        note(f"no CSI frames in {args.source}; counters: {source.stats.as_dict()}")
        return 1
    return 0
