"""The ``ruview`` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import analyze, demo, record, rooms, serve, simulate, train, train_camera_free

COMMANDS = (simulate, record, analyze, rooms, demo, serve, train, train_camera_free)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ruview", description="Camera-free room sensing from ESP32 WiFi CSI.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `ruview analyze ... | head`
        sys.stderr.close()
        return 0
