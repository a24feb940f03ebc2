"""Camera-free supervision (issue 8): does a day of weak labels make a room better, never worse?

Run: ``.venv/bin/python benchmarks/bench_camera_free.py`` (``--quick``: two rooms, shorter days).

Per simulated room (2 nodes, enrolled with the simulator as the person): a day compressed to
``--minutes`` of visits (walk in, mostly still, walk out) and empty spells, with simulated PIR /
door / temperature / humidity / vibration sensors and their real flaws
(:mod:`ruview_core.supervision.simulated_sensors`). The room's presence and motion specialists
are updated from the day's sensor-only weak labels (:mod:`ruview_core.supervision.bank_update`,
guarded by the enrollment anchors), then presence accuracy of the live runtime
(:class:`ruview_core.runtime.RoomMonitor`) is measured on held-out sessions (other person seeds:
empty, walk, sit, stand_still, lie_down, sleep_posture; 40 s each, the first 10 s dropped) with
the enrolled bank and with the updated one. The wrong-label case repeats the update from the
enrolled bank with the PIR of the next room (another day's schedule) and the room's own door,
thermometer and hygrometer. Low SNR (10 dB) rooms are the still-person-heavy failures of the
enrolled banks; a 17 dB room checks that a good room is not made worse.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruview_core.calibration.simulated import enroll_simulated_room  # noqa: E402
from ruview_core.runtime import RoomMonitor  # noqa: E402
from ruview_core.sim import SimConfig, simulate  # noqa: E402
from ruview_core.specialists import load_bank  # noqa: E402
from ruview_core.supervision.bank_update import rollback, update_room_bank, window_table  # noqa: E402
from ruview_core.supervision.rules import camera_free_labels  # noqa: E402
from ruview_core.supervision.simulated_sensors import simulated_day, simulated_sensor_events, timeline  # noqa: E402

HELD_OUT = ("empty", "walk", "sit", "stand_still", "lie_down", "sleep_posture")
ROOMS = ((20, 10.0), (22, 10.0), (25, 10.0), (27, 10.0), (21, 17.0))


def held_out_accuracy(baseline, bank, room_seed: int, snr: float, seconds: float = 40.0) -> dict[str, float]:
    out = {}
    for scenario in HELD_OUT:
        sim = simulate(SimConfig(scenario, seed=room_seed * 7 + 5, room_seed=room_seed, nodes=2, duration=seconds,
                                 snr_db=snr))
        truth = sim.truth()[0]["presence"]
        states = list(RoomMonitor(baseline, bank).run(sim.frames()))[10:]
        out[scenario] = round(float(np.mean([s.readings["presence"].value == truth for s in states])), 3)
    return out


def day(room_seed: int, snr: float, minutes: float, person_seed: int):
    schedule = simulated_day(person_seed, minutes)
    sim = simulate(SimConfig(schedule[0][1], seed=person_seed * 31 + 1, room_seed=room_seed, nodes=2,
                             duration=minutes * 60, snr_db=snr), schedule[1:])
    return sim, timeline(sim)


def run_room(folder: Path, room_seed: int, snr: float, minutes: float) -> dict:
    start = time.perf_counter()
    enrollment, bank = enroll_simulated_room(folder, f"room-{room_seed}", room_seed=room_seed, nodes=2, snr_db=snr)
    baseline, records = enrollment.baseline(), enrollment.anchor_records()
    sim, truth = day(room_seed, snr, minutes, room_seed)
    events = simulated_sensor_events(truth, seed=room_seed)
    table = window_table(baseline, sim.frames())
    labels = camera_free_labels(table.times, events, n_nodes=2)
    second = np.clip(np.floor(table.times).astype(int) - 1, 0, truth.presence.size - 1)
    confident = labels.presence_confidence >= 0.6
    label_quality = {"coverage": round(float(confident.mean()), 3),
                     "accuracy": round(float(np.mean(labels.presence[confident] == truth.presence[second][confident])), 3)}
    before = held_out_accuracy(baseline, bank, room_seed, snr)
    report = update_room_bank(enrollment.folder, baseline, records, table, events)
    after = held_out_accuracy(baseline, load_bank(enrollment.folder / "bank"), room_seed, snr)

    # The wrong label source: the next room's PIR (another day), this room's door and climate sensors.
    if report.kept:
        rollback(enrollment.folder, 1)
    _, neighbour = day(room_seed, snr, minutes, room_seed + 1000)
    wrong = [e for e in events if e.kind != "pir"]
    wrong += [e for e in simulated_sensor_events(neighbour, seed=room_seed + 1000) if e.kind == "pir"]
    wrong.sort(key=lambda e: e.t)
    wrong_labels = camera_free_labels(table.times, wrong, n_nodes=2)
    confident_wrong = wrong_labels.presence_confidence >= 0.6
    wrong_report = update_room_bank(enrollment.folder, baseline, records, table, wrong)
    wrong_after = held_out_accuracy(baseline, load_bank(enrollment.folder / "bank"), room_seed, snr)
    return {
        "room_seed": room_seed, "snr_db": snr, "enrolled_specialists": bank.kinds,
        "weak_labels": label_quality,
        "before": before, "after": after, "mean_before": round(float(np.mean(list(before.values()))), 3),
        "mean_after": round(float(np.mean(list(after.values()))), 3),
        "update": {"kept": report.kept, "reason": report.reason, "refused": report.metrics.get("refused", [])},
        "wrong_pir": {"label_accuracy": round(float(np.mean(
            wrong_labels.presence[confident_wrong] == truth.presence[second][confident_wrong])), 3),
            "kept": wrong_report.kept, "reason": wrong_report.reason,
            "refused": wrong_report.metrics.get("refused", []), "after": wrong_after,
            "mean_after": round(float(np.mean(list(wrong_after.values()))), 3)},
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two rooms, 10-minute days")
    parser.add_argument("--minutes", type=float, default=20.0, help="length of the compressed day")
    args = parser.parse_args()
    rooms = ROOMS[1:3] if args.quick else ROOMS
    minutes = 10.0 if args.quick else args.minutes
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for room_seed, snr in rooms:
            row = run_room(Path(folder), room_seed, snr, minutes)
            results.append(row)
            print(f"room {room_seed} @ {snr:g} dB: presence {row['mean_before']:.3f} -> {row['mean_after']:.3f} "
                  f"({row['update']['reason']}); wrong PIR: {row['wrong_pir']['mean_after']:.3f} "
                  f"({row['wrong_pir']['reason']})", flush=True)
    per_scenario_worse = sum(row["after"][s] < row["before"][s] for row in results for s in HELD_OUT)
    updates = [row["update"]["kept"] for row in results] + [row["wrong_pir"]["kept"] for row in results]
    summary = {
        "benchmark": "camera_free", "day_minutes": minutes, "rooms": results,
        "presence_accuracy_before": round(float(np.mean([r["mean_before"] for r in results])), 3),
        "presence_accuracy_after": round(float(np.mean([r["mean_after"] for r in results])), 3),
        "presence_accuracy_after_wrong_pir": round(float(np.mean([r["wrong_pir"]["mean_after"] for r in results])), 3),
        "rooms_worse_after": sum(r["mean_after"] < r["mean_before"] for r in results),
        "rooms_worse_after_wrong_pir": sum(r["wrong_pir"]["mean_after"] < r["mean_before"] for r in results),
        "held_out_sessions_worse_after": per_scenario_worse,
        "update_rejection_rate": round(1 - float(np.mean(updates)), 3),
        "specialist_updates_refused_by_anchor_check": sum(
            len(r["update"]["refused"]) + len(r["wrong_pir"]["refused"]) for r in results),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
