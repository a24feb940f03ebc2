"""``ruview record``: any source to a raw-variant ``.csi.jsonl`` recording."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from ..frames import CsiFrame
from ..wire.jsonl import packet_to_record
from ..wire.errors import ParseError
from .common import add_source_options, emit, fail, note, running, source_from_args


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("record", help="record a source to a .csi.jsonl file (replayable as UDP)")
    add_source_options(parser)
    parser.add_argument("--out", required=True, type=Path, help="FILE.csi.jsonl to write")
    parser.add_argument("--duration", type=float, help="stop after this many seconds (wall time for UDP)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not args.out.name.endswith(".jsonl"):
        fail(f"{args.out}: recordings are written as .csi.jsonl")
    if not args.out.parent.is_dir():
        fail(f"{args.out.parent}: no such directory")
    return asyncio.run(_record(args))


async def _record(args: argparse.Namespace) -> int:
    source = source_from_args(args)
    written = frames = 0
    partial = args.out.with_name(args.out.name + ".partial")
    # Write beside the target and rename at the end, so an interrupted run never leaves a
    # file that looks complete.
    with open(partial, "w", encoding="utf-8") as out:
        async with running(source):
            try:
                async with asyncio.timeout(args.duration):
                    async for packet in source:
                        try:
                            record = packet_to_record(packet)
                        except ParseError:
                            continue  # amplitude-only frames have no raw form to write
                        out.write(json.dumps(record, separators=(",", ":")) + "\n")
                        written += 1
                        frames += isinstance(packet, CsiFrame)
            except TimeoutError:
                pass
    partial.replace(args.out)
    summary = {"out": str(args.out), "packets": written, "frames": frames, **source.stats.as_dict()}
    if args.json:
        emit(summary)
    else:
        note(f"wrote {written} packets ({frames} CSI frames) to {args.out}")
    return 0

