"""Options and helpers shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NoReturn

from ..sources import Source, SourceError, SourceSpec, UdpReceiver, open_source, parse_source


def add_source_options(parser: argparse.ArgumentParser, *, window: bool = True) -> None:
    parser.add_argument(
        "--source", required=True,
        help="udp://HOST:PORT, a .csi.jsonl/.csv recording, or sim://SCENARIO?seed=N&snr_db=X&nodes=K&duration=SEC",
    )
    parser.add_argument("--realtime", action="store_true", help="pace recordings and simulations to their own clock")
    if window:
        parser.add_argument("--start", type=float, help="skip the first START seconds of a recording")
        parser.add_argument("--end", type=float, help="stop END seconds into a recording")
    parser.add_argument("--allow-node", type=int, action="append", metavar="NODE_ID",
                        help="with udp://, accept only these node ids (repeatable); others are counted and dropped")
    parser.add_argument("--allow-address", action="append", metavar="IP",
                        help="with udp://, accept only packets from these addresses (repeatable)")
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON lines)")


def source_from_args(args: argparse.Namespace, spec: SourceSpec | None = None) -> Source:
    """The source an invocation asks for (or ``spec`` with its options), or a clear error on stderr."""
    try:
        return open_source(spec or parse_source(args.source), realtime=args.realtime,
                           start=getattr(args, "start", None), end=getattr(args, "end", None),
                           allow_nodes=args.allow_node, allow_addresses=args.allow_address)
    except SourceError as error:
        fail(str(error))


def fail(message: str, code: int = 2) -> NoReturn:
    print(f"ruview: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(", ", ": ")) + "\n")
    sys.stdout.flush()


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@asynccontextmanager
async def running(source: Source) -> AsyncIterator[Source]:
    """Start a UDP receiver (clear error when the port is taken); close any source after use."""
    if isinstance(source, UdpReceiver):
        try:
            await source.start()
        except OSError as error:
            fail(str(error.strerror or error))
        note(f"listening on udp://{source.host}:{source.port}")
    try:
        yield source
    finally:
        source.close()


def progress_bar(enabled: bool = True, width: int = 30):
    """A progress callback (fraction 0..1) that redraws a bar on a terminal, or None.

    It redraws only when the shown percentage moves, so fast (simulated) captures stay cheap.
    """
    if not enabled or not sys.stdout.isatty():
        return None
    shown = -1

    def show(fraction: float) -> None:
        nonlocal shown
        percent = int(100 * fraction)
        if percent != shown:
            shown = percent
            filled = int(fraction * width)
            print(f"\r  [{'#' * filled}{'.' * (width - filled)}] {percent:3d}%", end="", flush=True)

    return show
