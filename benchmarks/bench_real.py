"""Real recordings judge the engine: scores on the labelled corpus in ``../shared/data/real``.

Runs the product's own chain (``ruview analyze``'s per-node analysis, :mod:`ruview_core.node`)
over every labelled file and prints, per task, mode, dataset and chip group, what it got right:

- motion: recall and false-alarm rate per 1 s hop, with a quiet baseline and self-calibrated
  (``real_motion.py`` says how files are paired and spliced), and events found in streams;
- breathing (``real_breathing.py``): the reliability table (confidence bin -> share within 1
  and 2 bpm, coverage), the phantom's MAE and coverage, the ESP32 takes' per-take medians
  against their paced rates, breath-hold pauses;
- activities (``real_activity.py``): movement clips classified leave one subject out (fall
  recall, non-falls called fall, sit-down / stand-up recognised) and UJI's streams through the
  product's episode chain (transitions found, posture right per scored second);
- with ``--choose``: the motion factors chosen leave one dataset out (each dataset's figures
  with the factor chosen on the others), next to the in-sample choice; and the motion window
  with its factor chosen the same way (``real_windows.py``), and the self-calibrated quiet level
  (quantile, memory, warmup) with its factor (``real_levels.py``).

The corpus is never copied into the project (its licences forbid shipping most of it).
Last line: one JSON object. ``--quick``: a few files of each folder.

    .venv/bin/python benchmarks/bench_real.py [--quick] [--choose] [--root ../shared/data/real]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import real_activity  # noqa: E402
import real_breathing  # noqa: E402
import real_levels  # noqa: E402
import real_motion  # noqa: E402
import real_windows  # noqa: E402
from real_corpus import DEFAULT_ROOT  # noqa: E402

FACTOR_GRID = np.round(np.geomspace(1.5, 40.0, 25), 2)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def motion_table(hops) -> dict:
    """The product's own motion decisions per hop, scored."""
    factors = real_motion.default_factors()
    cells = real_motion.score(hops)
    print(f"\nmotion per 1 s hop, as ruview analyze decides it (factors: baseline {factors['baseline']}, self {factors['self']})")
    print(f"{'mode':9s} {'dataset':26s} {'chip':18s} {'moving':>7s} {'recall':>7s} {'quiet':>7s} {'false':>7s} {'unknown':>7s}")
    for (mode, dataset, chip), c in sorted(cells.items()):
        print(f"{mode:9s} {dataset:26s} {chip:18s} {c['moving']:7d} {_fmt(c['recall']):>7s} {c['quiet']:7d} "
              f"{_fmt(c['false_alarm']):>7s} {c['unknown']:7d}")
    per_chip = real_motion.score(hops, key=lambda h: (h.mode, h.chip))
    print("per chip group:")
    for (mode, chip), c in sorted(per_chip.items()):
        print(f"  {mode:9s} {chip:18s} recall {_fmt(c['recall'])}  false alarms {_fmt(c['false_alarm'])}")
    overall = real_motion.score(hops, key=lambda h: h.mode)
    return {
        "cells": {"/".join(k): _summary(c) for k, c in cells.items()},
        "per_chip": {"/".join(k): _summary(c) for k, c in per_chip.items()},
        "overall": {k: _summary(c) for k, c in overall.items()},
    }


def _summary(cell: dict) -> dict:
    return {"moving_hops": cell["moving"], "recall": _round(cell["recall"]), "quiet_hops": cell["quiet"],
            "false_alarm": _round(cell["false_alarm"])}


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def events_table(events) -> dict:
    table: dict = defaultdict(lambda: {"events": 0, "found": 0, "false": 0})
    for e in events:
        cell = table[(e["dataset"], e["chip"])]
        if e["kind"] == "event":
            cell["events"] += 1
            cell["found"] += e["found"]
        else:
            cell["false"] += 1
    print("\nevents in self-calibrated streams (found within 1 s; false = motion runs touching no event)")
    out = {}
    for (dataset, chip), c in sorted(table.items()):
        found = c["found"] / c["events"] if c["events"] else None
        false_share = c["false"] / (c["false"] + c["found"]) if c["false"] + c["found"] else None
        print(f"  {dataset:26s} {chip:18s} events {c['events']:4d} found {_fmt(found)} false events {c['false']:3d}"
              f" ({_fmt(false_share)} of detections)")
        out[f"{dataset}/{chip}"] = {"events": c["events"], "found": _round(found), "false_events": c["false"],
                                    "false_share": _round(false_share)}
    return out


def balanced(cells: dict) -> float:
    """Mean over datasets of (recall + 1 - false alarms) / 2 (a side with no hops counts as its other side)."""
    values = []
    for c in cells.values():
        sides = [v for v in (c["recall"], None if c["false_alarm"] is None else 1.0 - c["false_alarm"]) if v is not None]
        if sides:
            values.append(float(np.mean(sides)))
    return float(np.mean(values)) if values else 0.0


def choose(hops) -> dict:
    """The factor per mode chosen on all datasets, and leave one dataset out."""
    print("\nmotion factor chosen leave one dataset out (balanced accuracy per dataset)")
    out = {}
    for mode in ("baseline", "self"):
        mine = [h for h in hops if h.mode == mode]
        datasets = sorted({h.dataset for h in mine})

        def best(subset):
            scores = [balanced(real_motion.score(subset, {mode: f}, key=lambda h: h.dataset)) for f in FACTOR_GRID]
            return float(FACTOR_GRID[int(np.argmax(scores))])

        in_sample = best(mine)
        rows = {}
        for held in datasets:
            factor = best([h for h in mine if h.dataset != held])
            left = real_motion.score([h for h in mine if h.dataset == held], {mode: factor}, key=lambda h: h.dataset)
            fixed = real_motion.score([h for h in mine if h.dataset == held], {mode: in_sample}, key=lambda h: h.dataset)
            rows[held] = {"factor": factor, "left_out": _summary(left[held]), "in_sample": _summary(fixed[held])}
            lo, ins = rows[held]["left_out"], rows[held]["in_sample"]
            print(f"  {mode:9s} {held:26s} factor {factor:6.2f}: recall {_fmt(lo['recall'])} false {_fmt(lo['false_alarm'])}"
                  f"   (in-sample {in_sample:.2f}: recall {_fmt(ins['recall'])} false {_fmt(ins['false_alarm'])})")
        out[mode] = {"in_sample_factor": in_sample, "left_out": rows}
    return out


def choose_window(per_window: dict) -> dict:
    """The (window, factor) pair per mode chosen leave one dataset out, next to the in-sample pair."""
    print("\nmotion window and factor chosen leave one dataset out (replayed outside the product)")
    out = {}
    for mode in ("baseline", "self"):
        mine = {w: [h for h in hops if h.mode == mode] for w, hops in per_window.items()}
        datasets = sorted({h.dataset for hops in mine.values() for h in hops})

        def best(keep):
            scored = [(balanced(real_motion.score([h for h in hops if keep(h)], {mode: f}, key=lambda h: h.dataset)), w, f)
                      for w, hops in mine.items() for f in FACTOR_GRID]
            top = max(s for s, _, _ in scored)
            return next((w, float(f)) for s, w, f in scored if s == top)

        in_window, in_factor = best(lambda h: True)
        rows = {}
        for held in datasets:
            window, factor = best(lambda h: h.dataset != held)
            left = real_motion.score([h for h in mine[window] if h.dataset == held], {mode: factor}, key=lambda h: h.dataset)
            fixed = real_motion.score([h for h in mine[in_window] if h.dataset == held], {mode: in_factor},
                                      key=lambda h: h.dataset)
            lo, ins = _summary(left[held]), _summary(fixed[held])
            rows[held] = {"window": list(window), "factor": factor, "left_out": lo, "in_sample": ins}
            print(f"  {mode:9s} {held:26s} {window[0]:.1f} s/{window[1]:3d} x{factor:5.2f}: recall {_fmt(lo['recall'])} "
                  f"false {_fmt(lo['false_alarm'])}   (in-sample {in_window[0]:.1f} s/{in_window[1]} x{in_factor:.2f}: "
                  f"recall {_fmt(ins['recall'])} false {_fmt(ins['false_alarm'])})")
        out[mode] = {"in_sample_window": list(in_window), "in_sample_factor": in_factor, "left_out": rows}
    return out


def choose_level(per_level: dict) -> dict:
    """The self-calibrated level (memory, quantile, warmup) and factor chosen leave one dataset out."""
    print("\nself-calibrated quiet level (memory hops, quantile, warmup hops) and factor chosen leave one dataset out"
          " (replayed outside the product)")
    datasets = sorted({h.dataset for hops in per_level.values() for h in hops})
    # Per (level, factor), each dataset's balanced accuracy, computed once: the folds only regroup them.
    table = {(level, float(f)): {d: balanced({d: c}) for d, c in
                                 real_motion.score(hops, {"self": f}, key=lambda h: h.dataset).items()}
             for level, hops in per_level.items() for f in FACTOR_GRID}

    def best(held=None):
        return max(table, key=lambda k: np.mean([v for d, v in table[k].items() if d != held]))

    (in_level, in_factor) = best()
    rows, decided = {}, []
    for held in datasets:
        level, factor = best(held)
        left = real_motion.score([h for h in per_level[level] if h.dataset == held], {"self": factor},
                                 key=lambda h: h.dataset)
        fixed = real_motion.score([h for h in per_level[in_level] if h.dataset == held], {"self": in_factor},
                                  key=lambda h: h.dataset)
        lo, ins = _summary(left[held]), _summary(fixed[held])
        rows[held] = {"level": list(level), "factor": factor, "left_out": lo, "in_sample": ins}
        decided += [(h, factor) for h in per_level[level] if h.dataset == held]
        print(f"  self      {held:26s} {level[0]:5d}/{level[1]:.2f}/{level[2]:2d} x{factor:5.2f}: recall {_fmt(lo['recall'])} "
              f"false {_fmt(lo['false_alarm'])}   (in-sample {in_level[0]}/{in_level[1]:.2f}/{in_level[2]} x{in_factor:.2f}: "
              f"recall {_fmt(ins['recall'])} false {_fmt(ins['false_alarm'])})")
    said = [(h.truth, h.motion is not None and h.motion > f) for h, f in decided if h.truth in (True, False)]
    moving = [s for t, s in said if t]
    quiet = [s for t, s in said if not t]
    overall = {"recall": _round(np.mean(moving)) if moving else None,
               "false_alarm": _round(np.mean(quiet)) if quiet else None}
    print(f"  self      all left out: recall {_fmt(overall['recall'])} false {_fmt(overall['false_alarm'])}")
    return {"in_sample_level": list(in_level), "in_sample_factor": in_factor, "left_out": rows,
            "left_out_overall": overall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the corpus folder (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a few files of each folder")
    parser.add_argument("--choose", action="store_true", help="choose the motion factors leave one dataset out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tasks", default="motion,breathing,activities",
                        help="comma-separated: motion, breathing, activities")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(json.dumps({"error": f"no corpus at {args.root}"}))
        return 1
    started = time.perf_counter()
    tasks = set(args.tasks.split(","))
    report: dict = {}
    if "motion" in tasks:
        recordings = real_motion.load_all(args.root, args.quick)
        units = real_motion.plan(recordings)
        with multiprocessing.get_context("fork").Pool(max(args.workers, 1)) as pool:
            results = pool.map(real_motion.run_unit, units, chunksize=1)
        hops = [h for unit_hops, _ in results for h in unit_hops]
        events = [e for _, unit_events in results for e in unit_events]
        report.update(files=len(recordings), units=len(units))
        report["motion"] = motion_table(hops)
        report["events"] = events_table(events)
        if args.choose:
            report["choice"] = choose(hops)
            with multiprocessing.get_context("fork").Pool(max(args.workers, 1)) as pool:
                windows = pool.map(real_windows.unit_hops, units, chunksize=1)
            per_window = {w: [h for unit in windows for h in unit[w]] for w in real_windows.CANDIDATES}
            report["window_choice"] = choose_window(per_window)
            with multiprocessing.get_context("fork").Pool(max(args.workers, 1)) as pool:
                levels = pool.map(real_levels.unit_hops, units, chunksize=1)
            per_level = {c: [h for unit in levels for h in unit[c]] for c in real_levels.CANDIDATES}
            report["level_choice"] = choose_level(per_level)
    if "breathing" in tasks:
        print("\nbreathing (real_breathing.py)")
        report["breathing"] = real_breathing.score_breathing(args.root, args.quick)
        if report["breathing"].get("available"):
            real_breathing.print_tables(report["breathing"])
    if "activities" in tasks:
        print("\nactivities and posture (real_activity.py)")
        report["activities"] = real_activity.score_activities(args.root, args.quick, args.workers)
        if report["activities"].get("available"):
            real_activity.print_tables(report["activities"])
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, sort_keys=True, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
