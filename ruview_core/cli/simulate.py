"""``ruview simulate``: the simulated room as ADR-018 UDP packets or a ``.csi.jsonl`` file.

With ``--out FILE.csi.jsonl`` it also writes ``FILE.truth.jsonl``, one JSON line per second:
``{"t", "presence", "posture", "motion", "breathing_bpm", "heart_bpm"}``.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from pathlib import Path

from ..sources.replay import Pacer
from ..sim import DEFAULT_RATE_HZ, DEFAULT_SNR_DB, SCENARIOS, SimConfig, simulate
from ..wire.adr018 import encode_packet
from ..wire.jsonl import write_jsonl
from .common import emit, fail, note


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("simulate", help="stream or write a simulated room with ground truth")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--room-seed", type=int, help="keep one room's geometry across scenarios (default: --seed)")
    parser.add_argument("--snr-db", type=float, default=DEFAULT_SNR_DB)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--rate-hz", type=float, default=DEFAULT_RATE_HZ)
    parser.add_argument("--antennas", type=int, default=1, help="receive antennas per node (ESP32: 1)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of stream time")
    parser.add_argument("--switch", action="append", default=[], type=_switch, metavar="SCENARIO@SECONDS",
                        help="play another scenario in the same room from this second on (repeatable)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--udp", metavar="HOST:PORT", help="send ADR-018 packets to this address")
    target.add_argument("--out", type=Path, metavar="FILE.csi.jsonl", help="write a recording plus FILE.truth.jsonl")
    parser.add_argument("--realtime", action="store_true", help="pace packets to the stream clock")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run)


def _switch(text: str) -> tuple[str, float]:
    scenario, _, at = text.partition("@")
    if scenario not in SCENARIOS:
        raise argparse.ArgumentTypeError(f"unknown scenario {scenario!r}")
    try:
        return scenario, float(at)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected SCENARIO@SECONDS") from None


def truth_path(out: Path) -> Path:
    name = out.name
    for suffix in (".csi.jsonl", ".jsonl"):
        if name.endswith(suffix):
            return out.with_name(name[: -len(suffix)] + ".truth.jsonl")
    return out.with_name(name + ".truth.jsonl")


def run(args: argparse.Namespace) -> int:
    if args.nodes < 1 or args.nodes > 16:
        fail("--nodes must be between 1 and 16")
    if not 1 <= args.antennas <= 4:
        fail("--antennas must be between 1 and 4")
    if args.rate_hz <= 0 or args.rate_hz > 1000 or args.duration <= 0:
        fail("--rate-hz must be in (0, 1000] and --duration positive")
    config = SimConfig(
        scenario=args.scenario, seed=args.seed, room_seed=args.room_seed, snr_db=args.snr_db,
        nodes=args.nodes, rate_hz=args.rate_hz, duration=args.duration, n_antennas=args.antennas,
        start_time=time.time() if args.udp else 0.0,
    )
    simulation = simulate(config, schedule=[(at, scenario) for scenario, at in args.switch])
    if args.out is not None:
        if not args.out.parent.is_dir():
            fail(f"{args.out.parent}: no such directory")
        with open(args.out, "w", encoding="utf-8") as out:
            count = write_jsonl(simulation.frames(), out)
        truth_file = truth_path(args.out)
        with open(truth_file, "w", encoding="utf-8") as out:
            for second in simulation.truth():
                out.write(json.dumps(second) + "\n")
        summary = {"frames": count, "out": str(args.out), "truth": str(truth_file)}
    else:
        summary = {"frames": _send(simulation.frames(), args.udp, args.realtime), "udp": args.udp}
    if args.json:
        emit(summary)
    else:
        played = " then ".join([args.scenario] + [f"{name} from {at:g} s" for name, at in args.switch])
        note(f"simulated {played}: {summary['frames']} frames -> {args.out or args.udp}")
    return 0


def _send(frames, address: str, realtime: bool) -> int:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        fail(f"--udp {address}: expected HOST:PORT")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    pacer = Pacer()
    try:
        for frame in frames:
            if realtime and (delay := pacer.delay(frame.timestamp)):
                time.sleep(delay)
            sock.sendto(encode_packet(frame), (host, int(port)))
            sent += 1
    finally:
        sock.close()
    return sent
