"""``ruview analyze``: one JSON line per node per hop from the node pipeline, no training needed.

Self-calibrated, or with ``--baseline-seconds`` of empty room at the start, or with a trained
room (``--data-dir D --room R``): its baseline and bank, exactly as the service runs them, with
one extra line per hop carrying the fused room state.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from ..activity.classify import ActivityModel
from ..analysis import NodeAnalyzers, room_records
from ..frames import CsiFrame
from .common import add_source_options, emit, fail, note, running, source_from_args


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("analyze", help="motion, presence, breathing and heart rate per node, per second")
    add_source_options(parser)
    parser.add_argument("--baseline-seconds", type=float,
                        help="take the first N seconds as the empty room (otherwise the chain calibrates itself)")
    parser.add_argument("--data-dir", type=Path, help="with --room: run that room's baseline and bank")
    parser.add_argument("--room", help="a trained room (see ruview room-status): its per-node rows and fused state")
    parser.add_argument("--activity-model", type=Path,
                        help="an activity model (JSON, ruview_core.activity.classify): rows name movements and posture")
    parser.add_argument("--hop", type=float, default=1.0, help="seconds between outputs (default 1)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.hop <= 0:
        fail("--hop must be positive")
    if args.baseline_seconds is not None and args.baseline_seconds <= 0:
        fail("--baseline-seconds must be positive")
    if args.room is not None and args.baseline_seconds is not None:
        fail("--room uses the room's own baseline: leave out --baseline-seconds")
    return asyncio.run(_analyze_room(args) if args.room is not None else _analyze(args))


async def _analyze(args: argparse.Namespace) -> int:
    source = source_from_args(args)
    model = None
    if args.activity_model is not None:
        try:
            model = ActivityModel.load(args.activity_model)
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"--activity-model {args.activity_model}: {error}")
    analyzers = NodeAnalyzers(hop=args.hop, baseline_seconds=args.baseline_seconds, activity_model=model)
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


async def _analyze_room(args: argparse.Namespace) -> int:
    from ..calibration import RoomEnrollment, StoredFileError
    from ..rooms import open_monitor
    from ..storage import InvalidRoomId
    from .rooms import DEFAULT_DATA_DIR

    try:
        enrollment = RoomEnrollment(args.data_dir or DEFAULT_DATA_DIR, args.room)
        monitor, bank_note = open_monitor(enrollment, hop=args.hop)
    except (InvalidRoomId, StoredFileError) as error:
        fail(f"{error}; run ruview calibrate --room {args.room} first")
    if bank_note:
        note(f"room {args.room}: {bank_note}; presence and motion come from the baseline alone")
    source = source_from_args(args)
    origin = None
    async with running(source):
        async for packet in source:
            if not isinstance(packet, CsiFrame):
                continue
            origin = packet.timestamp if origin is None else origin
            for state in monitor.push(packet):
                hops = {node_id: node.last_hop for node_id, node in monitor.nodes.items()}
                for line in room_records(state, hops, origin):
                    emit(line)
                emit({"t": round(state.t - origin, 1), "room": args.room, "state": state.to_dict()})
    if origin is None:
        note(f"no CSI frames in {args.source}; counters: {source.stats.as_dict()}")
        return 1
    return 0
