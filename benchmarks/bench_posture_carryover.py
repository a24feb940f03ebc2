"""Does a room's posture carry over from one session to the next, and does the bank know when not?

Run: ``.venv/bin/python benchmarks/bench_posture_carryover.py`` (~3 min on 2 cores; ``--rooms``,
``--jitters``, ``--sessions`` to change it). The last line printed is one JSON object.

The posture specialist matches a window's amplitude-profile shift against prototypes from the
enrollment anchors. That shift depends on where exactly the body is, not only on how it is held.
For each re-seating spread (``placement_jitter_m``: how far from the chair's, bed's or standing
spot's centre a person settles each session, per axis; the heading varies in proportion, the
simulator's default being 8 cm and 0.15 rad) every room is enrolled as a person would do it
(:func:`ruview_core.calibration.simulated.enroll_simulated_room`), then scored by the runtime on
unseen sessions of ``stand_still``, ``sit`` and ``lie_down`` (first 20 s not scored):

- ``reliability``: the bank's own cross-session check (each posture anchor classified by
  prototypes built without it, above chance; 0 = the room reports posture unknown);
- ``coverage``: share of scored seconds with a posture; ``accuracy_when_given``: right among those;
- ``confidently_wrong``: share of scored seconds with a wrong posture.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ruview_core.calibration.simulated import enroll_simulated_room  # noqa: E402
from ruview_core.runtime import RoomMonitor  # noqa: E402
from ruview_core.sim import DEFAULT_SNR_DB, SimConfig, simulate  # noqa: E402
from ruview_core.sim.scenarios import FACING_JITTER_RAD, PLACEMENT_JITTER_M  # noqa: E402

POSTURE_OF = {"stand_still": "standing", "sit": "sitting", "lie_down": "lying"}
SESSION_S = 50.0
SKIP_S = 20.0
SCORE_SEED = 80_000


def score_room(room_seed: int, jitter: float, sessions: int, nodes: int, snr_db: float) -> dict:
    options = {"placement_jitter_m": jitter, "facing_jitter_rad": FACING_JITTER_RAD * jitter / PLACEMENT_JITTER_M}
    with tempfile.TemporaryDirectory() as folder:
        enrollment, bank = enroll_simulated_room(folder, "bench", room_seed=room_seed, nodes=nodes, snr_db=snr_db,
                                                 **options)
        baseline = enrollment.baseline()
    specialist = bank.get("posture")
    reliability = [float(specialist.node_param(n, "reliability")[0]) for n in specialist.nodes] if specialist else []
    given = right = total = 0
    for scenario, truth in POSTURE_OF.items():
        for session in range(sessions):
            config = SimConfig(scenario, seed=SCORE_SEED + room_seed * 100 + session * 10 + len(scenario),
                               room_seed=room_seed, nodes=nodes, snr_db=snr_db, duration=SESSION_S, **options)
            for state in RoomMonitor(baseline, bank).run(simulate(config).frames()):
                if state.t < SKIP_S:
                    continue
                value = state.readings["posture"].value
                total += 1
                given += value is not None
                right += value == truth
    return {"room_seed": room_seed, "jitter_m": jitter, "reliability": reliability, "seconds": total,
            "given": given, "right": right}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, nargs="*", default=[20, 21, 22, 23])
    parser.add_argument("--jitters", type=float, nargs="*", default=[0.0, 0.01, 0.03, PLACEMENT_JITTER_M])
    parser.add_argument("--sessions", type=int, default=2, help="unseen sessions per posture and room")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--snr", type=float, default=DEFAULT_SNR_DB)
    args = parser.parse_args()
    started = time.perf_counter()
    summary = {}
    print(f"{'jitter':>7} {'reliability (median)':>21} {'coverage':>9} {'acc. when given':>16} {'conf. wrong':>12}")
    for jitter in args.jitters:
        rows = [score_room(room, jitter, args.sessions, args.nodes, args.snr) for room in args.rooms]
        seconds = sum(r["seconds"] for r in rows)
        given, right = sum(r["given"] for r in rows), sum(r["right"] for r in rows)
        line = {
            "reliability_median": round(float(np.median([v for r in rows for v in r["reliability"]] or [0.0])), 3),
            "coverage": round(given / max(seconds, 1), 3),
            "accuracy_when_given": round(right / given, 3) if given else None,
            "confidently_wrong": round((given - right) / max(seconds, 1), 3),
            "rooms": rows,
        }
        summary[f"{jitter:g}"] = line
        accuracy = "-" if line["accuracy_when_given"] is None else f"{line['accuracy_when_given']:.2f}"
        print(f"{jitter:>6.2f}m {line['reliability_median']:>21.2f} {line['coverage']:>9.2f} {accuracy:>16} "
              f"{line['confidently_wrong']:>12.2f}", flush=True)
    print(json.dumps({"benchmark": "posture_carryover", "nodes": args.nodes, "snr_db": args.snr,
                      "rooms": args.rooms, "sessions": args.sessions, "by_jitter_m": summary,
                      "wall_s": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    main()
