"""Breathing rates committed after posture changes: the browser journey's anchor order, replayed.

An enrolled room (``bench_accuracy.enroll_room``) runs its ``RoomMonitor`` over the order a person
follows on the device page: small_move 30 s, stand_still 14 s, lie_down 12 s, then sit 110 s, each
a fresh simulated person (as the live simulator plays them). Every distinct breathing rate the
room state commits is compared with the true mean rate of the person playing at that moment over
the last 60 s (truth within the scenario, from its start). A commit more than 2 bpm off is wrong.
This is how the sidelobe of a short lying stretch read as a sitting person's rate was found
(``ruview_core/vitals/settling.py``).

    .venv/bin/python benchmarks/bench_breathing_switches.py [--rooms 20,21] [--seeds 0-12]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_accuracy  # noqa: E402  (run as a script from benchmarks/)

from ruview_core.runtime.monitor import RoomMonitor  # noqa: E402
from ruview_core.sim.simulation import DEFAULT_SNR_DB, SimConfig, simulate  # noqa: E402

PLAN = (("small_move", 30.0), ("stand_still", 14.0), ("lie_down", 12.0), ("sit", 110.0))
TRUTH_SECONDS = 60.0
WITHIN_BPM = 2.0


def journey_frames(room: int, seed: int, playing: list):
    """The plan's sessions back to back per node, sequence numbers continued; ``playing`` holds the current one."""
    last: dict[int, int] = {}
    offset = 0.0
    for i, (scenario, seconds) in enumerate(PLAN):
        simulation = simulate(SimConfig(scenario, seed=seed * 10 + i, room_seed=room, nodes=2,
                                        snr_db=DEFAULT_SNR_DB, rate_hz=100.0, duration=seconds, start_time=offset))
        playing[:] = [(simulation, offset, scenario)]
        shift: dict[int, int] = {}
        for frame in simulation.frames():
            node = frame.node_id
            shift.setdefault(node, last.get(node, -1) + 1 - frame.sequence)
            last[node] = frame.sequence + shift[node]
            yield replace(frame, sequence=last[node] % 2**32)
            offset = frame.timestamp


def commits(room: int, seed: int, baseline, bank) -> list[dict]:
    """Each distinct committed breathing rate with the truth of the person playing then."""
    monitor = RoomMonitor(baseline, bank, hop=1.0)
    playing: list = []
    found, previous = [], None
    for state in monitor.run(journey_frames(room, seed, playing)):
        row = state.to_dict()
        value = row["breathing_bpm"]["value"]
        if isinstance(value, float) and math.isfinite(value) and value != previous:
            simulation, start, scenario = playing[0]
            activity, _ = simulation.activity_at(0.0)
            local = row["t"] - start
            truth = activity.truth(int(row["t"]), max(0.0, local - TRUTH_SECONDS), local)["breathing_bpm"]
            found.append({"seed": seed, "t": round(row["t"], 1), "scenario": scenario, "into_s": round(local, 1),
                          "bpm": round(value, 2), "truth": truth,
                          "wrong": truth is None or abs(value - truth) > WITHIN_BPM})
        previous = value
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", default="20,21")
    parser.add_argument("--seeds", default="0-12", help="first-last, inclusive")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    started = time.perf_counter()
    report = {}
    for room in (int(r) for r in args.rooms.split(",")):
        job = bench_accuracy.Job(room, DEFAULT_SNR_DB, 2, 130.0, (math.inf, math.inf))
        baseline, bank, _ = bench_accuracy.enroll_room(job, tempfile.mkdtemp(prefix="ruview-switches-"))
        rows = [c for seed in range(first, last + 1) for c in commits(room, seed, baseline, bank)]
        for c in rows:
            print(f"room {room} seed {c['seed']:2d} t {c['t']:6.1f} ({c['scenario']} +{c['into_s']:.0f} s): "
                  f"{c['bpm']:5.2f} bpm, truth {c['truth']} {'WRONG' if c['wrong'] else ''}")
        wrong = [c for c in rows if c["wrong"]]
        print(f"room {room}: {len(rows)} distinct commits, {len(wrong)} wrong")
        report[str(room)] = {"commits": len(rows), "wrong": len(wrong), "wrong_rows": wrong}
    print(json.dumps({"rooms": report, "seeds": [first, last], "seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
