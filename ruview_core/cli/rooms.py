"""Per-room commands (ADR-151): ``calibrate``, ``enroll``, ``train-room``, ``room-status``, ``room-watch``.

Every command takes ``--room`` and ``--data-dir``; those that capture take the one ``--source``
syntax. With a ``sim://`` source the simulator plays the person: each anchor is simulated in the
same room (same seed), so a whole enrollment runs without hardware.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..calibration import ANCHOR_NAMES, COUNTDOWN_S, BaselineError, RoomEnrollment, StoredFileError
from ..rooms import open_monitor, room_status, train_room
from ..sources import SourceSpec, parse_source
from ..sources.spec import SourceError
from ..specialists import SPECIALIST_KINDS
from ..storage import InvalidRoomId
from .common import add_source_options, emit, fail, note, progress_bar, running, source_from_args
from .enroll import run_enroll

DEFAULT_DATA_DIR = Path(os.environ.get("RUVIEW_DATA_DIR", Path.home() / ".local" / "share" / "ruview"))


def add_room_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--room", required=True, help="room id, e.g. living-room")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"where rooms are kept (default $RUVIEW_DATA_DIR or {DEFAULT_DATA_DIR})")


def add_parser(commands: argparse._SubParsersAction) -> None:
    calibrate = commands.add_parser("calibrate", help="capture the empty room (stage 1 baseline)")
    add_room_options(calibrate)
    add_source_options(calibrate)
    calibrate.add_argument("--seconds", type=float, default=30.0, help="capture length (at least 10)")
    calibrate.set_defaults(run=lambda args: asyncio.run(_calibrate(args)))

    enroll = commands.add_parser("enroll", help="guided enrollment: prompts through the anchors")
    add_room_options(enroll)
    add_source_options(enroll)
    enroll.add_argument("--anchor", choices=ANCHOR_NAMES, help="capture this one anchor, non-interactively")
    enroll.add_argument("--seconds", type=float, help="override the anchor's duration")
    enroll.add_argument("--yes", action="store_true", help="do not wait for Enter before each anchor")
    enroll.set_defaults(run=lambda args: asyncio.run(run_enroll(args, open_enrollment(args), anchor_source)))

    train = commands.add_parser("train-room", help="train the room's specialist bank from its anchors")
    add_room_options(train)
    train.add_argument("--specialists", nargs="+", choices=SPECIALIST_KINDS, metavar="KIND",
                       help=f"retrain only these ({', '.join(SPECIALIST_KINDS)}); the others are kept")
    train.add_argument("--json", action="store_true")
    train.set_defaults(run=_train)

    status = commands.add_parser("room-status", help="baseline, anchors and specialists of a room")
    add_room_options(status)
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=_status)

    watch = commands.add_parser("room-watch", help="one JSON line per fused room state")
    add_room_options(watch)
    add_source_options(watch)
    watch.add_argument("--hop", type=float, default=1.0, help="seconds between states")
    watch.set_defaults(run=lambda args: asyncio.run(_watch(args)))


def open_enrollment(args: argparse.Namespace) -> RoomEnrollment:
    try:
        return RoomEnrollment(args.data_dir, args.room)
    except InvalidRoomId as error:
        fail(str(error))


def source_spec(args: argparse.Namespace) -> SourceSpec:
    try:
        return parse_source(args.source)
    except SourceError as error:
        fail(str(error))


def anchor_source(args: argparse.Namespace, scenario: str | None, seconds: float, attempt: int = 1):
    """The source for one capture; a simulated room plays ``scenario`` (default: the one the
    source names) for long enough, a retry being a new session (person seed) of the same room."""
    spec = source_spec(args)
    if spec.kind == "sim":
        scenario = scenario or spec.scenario
        seed = int(spec.params.get("seed", 0))
        params = {"room_seed": seed, **spec.params, "seed": seed + 1000 * (attempt - 1),
                  "duration": seconds + COUNTDOWN_S + 2.0}
        spec = replace(spec, scenario=scenario, params=params)
    return source_from_args(args, spec)


async def _calibrate(args: argparse.Namespace) -> int:
    if args.seconds < 10:
        fail("--seconds must be at least 10: a shorter baseline cannot tell noise from a person")
    enrollment = open_enrollment(args)
    source = anchor_source(args, None, args.seconds)
    note(f"Leave the room empty: capturing {args.seconds:.0f} s of the empty room for '{args.room}'...")
    async with running(source):
        try:
            baseline = await enrollment.calibrate_async(source, seconds=args.seconds, on_progress=progress_bar(not args.json))
        except BaselineError as error:
            _finish_progress(args)
            return _report(args, {"room": args.room, "accepted": False, "reason": str(error)},
                           f"baseline rejected: {error}", code=1)
    _finish_progress(args)
    return _report(args, {"room": args.room, "accepted": True, "baseline_id": baseline.baseline_id,
                          "content_hash": baseline.content_hash, "nodes": sorted(baseline.nodes)},
                   f"baseline accepted: {baseline.baseline_id} ({len(baseline.nodes)} node(s)); "
                   f"next: ruview enroll --room {args.room}")


def _train(args: argparse.Namespace) -> int:
    enrollment = open_enrollment(args)
    try:
        bank = train_room(enrollment, args.specialists)
    except StoredFileError as error:
        fail(f"{error}; run ruview calibrate --room {args.room} first")
    anchors = sorted(enrollment.state().accepted)
    return _report(args, {"room": args.room, "specialists": bank.describe(), "anchors": anchors},
                   f"trained {', '.join(bank.kinds) or 'no specialists'} from {len(anchors)} anchor(s): "
                   f"{', '.join(anchors) or '-'}")


def _status(args: argparse.Namespace) -> int:
    status = room_status(open_enrollment(args))
    if args.json:
        emit(status)
        return 0
    stale = f" (STALE: {status.get('stale_reason') or 'the baseline changed, train again'})" if status["stale"] else ""
    print(f"room {status['room']}: {status['status']}{stale}")
    print(f"  baseline: {status['baseline_id'] or 'none (run ruview calibrate)'}")
    for name, state in status["anchors"].items():
        last = status["rejections"].get(name, [])
        print(f"  {name:15s} {state}{'  (last rejection: ' + last[-1] + ')' if last and state == 'pending' else ''}")
    for kind, info in (status["bank"] or {}).items():
        print(f"  specialist {kind:13s} v{info['version']} nodes {info['nodes']}")
    return 0


async def _watch(args: argparse.Namespace) -> int:
    enrollment = open_enrollment(args)
    try:
        monitor, why = open_monitor(enrollment, hop=args.hop)
    except StoredFileError as error:
        fail(f"{error}; run ruview calibrate --room {args.room} first")
    if why is not None:
        note(f"no usable specialist bank ({why}): presence and motion come from the baseline alone")
    source = source_from_args(args)
    async with running(source):
        async for packet in source:
            for state in monitor.push(packet):
                emit(state.to_dict())
    return 0


def _finish_progress(args: argparse.Namespace) -> None:
    if not args.json and sys.stdout.isatty():
        print(flush=True)


def _report(args: argparse.Namespace, record: dict[str, Any], text: str, code: int = 0) -> int:
    if args.json:
        emit(record)
    else:
        print(text)
    return code

