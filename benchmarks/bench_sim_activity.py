"""Activities and posture on the simulator's moving bodies, and what a simulator-trained model does on real data.

The simulator's ``postures`` scenario is ordinary activity (walking about, sitting down on the
chair, standing up, lying down on the bed, getting up; re-seated afresh every time) and ``fall``
a person standing or walking who falls to the floor and lies still. Each stream runs through the
product's chain hop by hop (:class:`NodePipeline` self-calibrated, then :class:`ActivityMonitor`)
and is scored against the simulator's per-second truth:

- posture right / wrong / unknown per person-second (all of them, and the settled ones: not
  during a movement nor in the ``HAND_ON_S`` the chain needs to hand an episode on);
- falls found (an episode within ``SLACK`` s of the true fall said ``fall``), false falls per
  simulated hour of ordinary activity, transitions found per kind.

Three ways: (a) no model (today's product), (b) a base model trained ONLY on simulator streams of
other rooms and seeds (episodes cut by the same chain, labelled by the truth movement they
cover), (c) that model on the real corpus through ``real_activity.py`` (WiFall clips: fall recall
and non-fall clips called fall, per subject and subject-balanced; UJI streams: transitions,
posture and any fall said, where no fall happens). ``--save FILE`` writes the model (b).

    .venv/bin/python benchmarks/bench_sim_activity.py [--quick] [--root ../shared/data/real] [--save model.json]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ruview_core.activity.classify import ActivityModel  # noqa: E402
from ruview_core.activity.monitor import ActivityMonitor  # noqa: E402
from ruview_core.activity.profile import episode_profile  # noqa: E402
from ruview_core.node.pipeline import NodePipeline  # noqa: E402
from ruview_core.sim import SimConfig, simulate  # noqa: E402

from real_activity import _mean, _share  # noqa: E402  (run as a script from benchmarks/)

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
L2 = 30.0  # as real_activity.py: chosen once
SLACK = 1.0
HAND_ON_S = 6.0
TRANSITIONS = ("sit_down", "stand_up", "lie_down", "get_up", "walk", "fall")
# Train and test never share a room or a person seed.
TRAIN_SEEDS, TEST_SEEDS = range(100, 108), range(500, 505)


class _Recorder(ActivityMonitor):
    """The monitor's own windows (whole episodes, sliding windows of long ones), kept unclassified."""

    def __init__(self) -> None:
        super().__init__(model=None)
        self.model = object()  # so that classify() cuts windows
        self.windows: list[tuple[float, float, np.ndarray]] = []

    def _window(self, start, end, still_after, recent):
        times, csi = recent(end - start, end)
        if times.size:
            profile = episode_profile(times, np.abs(np.asarray(csi)[:, 0, :]), np.nan if still_after is None else still_after)
            if profile is not None:
                self.windows.append((start, end, profile.values))
        return None


def run_chain(config: SimConfig, monitor: ActivityMonitor) -> list[tuple[float, str | None]]:
    """Stream ``config`` through the node chain and ``monitor``; the posture said at every hop."""
    pipeline = NodePipeline(1)
    hop_t, postures = 1.0, []

    def recent(seconds, end):
        if pipeline.buffer is None:
            return np.zeros(0), np.zeros((0, 1, 0))
        return pipeline.buffer.recent(seconds, end)

    for batch in simulate(config).batches(seconds=10.0):
        for frame in batch.frames():
            while frame.timestamp >= hop_t:
                node_hop = pipeline.hop(hop_t)
                state = monitor.update(hop_t, node_hop.moving, node_hop.motion, recent)
                postures.append((hop_t, state.posture.posture))
                hop_t += 1.0
            pipeline.push(frame)
    return postures


def moves_of(config: SimConfig):
    return simulate(config).activity_at(0.0)[0].person.moves


def label(start: float, end: float, moves) -> str:
    """The movement a window holds: the one it covers most of (at least half), else ``other``."""
    best, name = 0.0, "other"
    for move in moves:
        covered = (min(move.end, end) - max(move.start, start)) / move.duration
        if covered >= 0.5 and covered > best:
            best, name = covered, move.activity
    return name


def training_rows(quick: bool) -> tuple[np.ndarray, list[str]]:
    values, labels = [], []
    seeds = TRAIN_SEEDS[:4] if quick else TRAIN_SEEDS
    for seed in seeds:
        for scenario, duration, k in (("postures", 400.0 if quick else 600.0, 0), ("fall", 60.0, 1), ("fall", 60.0, 2)):
            config = SimConfig(scenario, seed=seed * 10 + k, room_seed=seed, duration=duration)
            recorder = _Recorder()
            run_chain(config, recorder)
            moves = moves_of(config)
            for start, end, v in recorder.windows:
                values.append(v)
                labels.append(label(start, end, moves))
    return np.array(values), labels


def evaluate(model: ActivityModel | None, quick: bool) -> dict:
    seconds = {"all": Counter(), "settled": Counter()}
    falls, false_falls, ordinary_hours = [], 0, 0.0
    transitions: dict[str, list[bool]] = {k: [] for k in TRANSITIONS}
    seen: dict[str, list[bool]] = {k: [] for k in TRANSITIONS}  # an episode was cut around it (any model)
    seeds = TEST_SEEDS[:3] if quick else TEST_SEEDS
    for seed in seeds:
        for scenario, duration, fall_seed in (("postures", 600.0 if quick else 900.0, 0), ("fall", 80.0, 1), ("fall", 80.0, 2)):
            config = SimConfig(scenario, seed=seed * 10 + fall_seed, room_seed=seed, duration=duration)
            monitor = ActivityMonitor(model)
            postures = run_chain(config, monitor)
            sim = simulate(config)
            truth = {row["t"]: row for row in sim.truth()}
            moves = moves_of(config)
            for hop_t, said in postures:
                row = truth.get(int(hop_t) - 1)
                if row is None or not row["presence"]:
                    continue
                verdict = "unknown" if said is None else "right" if said == row["posture"] else "wrong"
                seconds["all"][verdict] += 1
                if not any(m.start - 0.5 <= hop_t and hop_t - HAND_ON_S <= m.end for m in moves):
                    seconds["settled"][verdict] += 1
            said = [(e, d.activity) for e, decisions in monitor.episodes for d in decisions]
            for move in moves:
                if move.end > duration - HAND_ON_S:
                    continue
                found = any(a == move.activity and e.start - SLACK <= move.end and e.end + SLACK >= move.start
                            for e, a in said)
                transitions[move.activity].append(found)
                if move.activity == "fall":
                    falls.append(found)
                seen[move.activity].append(any(e.start - SLACK <= move.end and e.end + SLACK >= move.start
                                               for e, _ in monitor.episodes))
            fall_moves = [m for m in moves if m.activity == "fall"]
            wrong_falls = sum(1 for e, a in said if a == "fall" and not any(
                e.start - SLACK <= m.end and e.end + SLACK >= m.start for m in fall_moves))
            false_falls += wrong_falls
            if scenario == "postures":
                ordinary_hours += duration / 3600.0
    return {
        "posture": {k: _shares(c) for k, c in seconds.items()},
        "falls": len(falls), "falls_found": _share(falls),
        "false_falls": false_falls, "ordinary_hours": round(ordinary_hours, 3),
        "false_falls_per_hour": round(false_falls / ordinary_hours, 3) if ordinary_hours else None,
        "transitions": {k: {"n": len(v), "found": _share(v), "episode_cut": _share(seen[k])} for k, v in transitions.items()},
    }


def real(model: ActivityModel, root: Path, quick: bool) -> dict:
    """The simulator-trained model on WiFall's clips and UJI's streams (``real_activity.py``'s scoring)."""
    from real_activity import clip_rows, stream_run
    from real_corpus import find
    clips = find(root / "wifall" / "clips")
    if not clips:
        return {"available": False}
    if quick:
        clips = clips[::8]
    rows = [r for path in clips for r in clip_rows(path)]
    per_subject = {}
    for subject in sorted({r[1] for r in rows}):
        mine = [r for r in rows if r[1] == subject]
        said = np.array(model.classes)[model.probabilities(np.array([r[3] for r in mine])).argmax(axis=1)]
        truth = np.array([r[2] for r in mine])
        per_subject[subject] = {"clips": len(mine), "fall_recall": _share(said[truth == "fall"] == "fall"),
                                "nonfall_called_fall": _share(said[truth != "fall"] == "fall"),
                                "sit_down_recall": _share(said[truth == "sit_down"] == "sit_down"),
                                "stand_up_recall": _share(said[truth == "stand_up"] == "stand_up"),
                                "said": dict(Counter(said.tolist()))}
    balanced = {k: _mean([c[k] for c in per_subject.values()])
                for k in ("fall_recall", "nonfall_called_fall", "sit_down_recall", "stand_up_recall")}
    streams = [stream_run((p, model)) for p in find(root / "uji_localized_har" / "streams")]
    seconds = Counter()
    for r in streams:
        seconds.update(r["posture_seconds"])
    found = [t["found"] for r in streams for t in r["transitions"]]
    return {"available": True, "wifall": {"per_subject": per_subject, "subject_balanced": balanced},
            "uji": {"streams": len(streams), "transitions_found": _share(found),
                    "falls_said": sum(r["said"].count("fall") for r in streams), "posture": _shares(seconds)}}


def _shares(counts: Counter) -> dict:
    total = sum(counts.values())
    return {"seconds": total, **{k: round(counts[k] / total, 4) if total else None for k in ("right", "wrong", "unknown")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter streams, every 8th clip")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--save", type=Path, help="write the simulator-trained model here")
    parser.add_argument("--no-real", action="store_true", help="skip the real corpus")
    args = parser.parse_args()
    began = time.time()
    values, labels = training_rows(args.quick)
    model = ActivityModel.fit(values, labels, l2=L2)
    if args.save:
        model.save(args.save)
    report = {"train_windows": dict(Counter(labels)), "no_model": evaluate(None, args.quick),
              "sim_model": evaluate(model, args.quick)}
    if not args.no_real:
        report["real_sim_model"] = real(model, args.root, args.quick)
    report["seconds"] = round(time.time() - began, 1)
    print(f"training windows (simulator, seeds {TRAIN_SEEDS.start}-{TRAIN_SEEDS.stop - 1}): {report['train_windows']}")
    print(f"{'simulator, held-out rooms':28s} {'right':>6s} {'wrong':>6s} {'unknown':>7s} {'settled right/wrong/unk':>24s} "
          f"{'falls':>6s} {'false/h':>7s}")
    for name in ("no_model", "sim_model"):
        r = report[name]
        a, s = r["posture"]["all"], r["posture"]["settled"]
        print(f"  {name:26s} {_f(a['right'])} {_f(a['wrong'])} {_f(a['unknown']):>7s} "
              f"{_f(s['right']):>10s}/{_f(s['wrong'])}/{_f(s['unknown'])} {_f(r['falls_found'])} {_f(r['false_falls_per_hour']):>7s}")
        print("    transitions found: " + ", ".join(f"{k} {_f(v['found']).strip()} of {v['n']}" for k, v in r["transitions"].items()))
        print("    an episode cut around it (the ceiling for any model): "
              + ", ".join(f"{k} {_f(v['episode_cut']).strip()}" for k, v in r["transitions"].items()))
    print("  targets: posture right >= 0.85, unknown <= 0.20, wrong <= 0.05; falls >= 0.95, <= 1 false fall per hour")
    if report.get("real_sim_model", {}).get("available"):
        w, u = report["real_sim_model"]["wifall"]["subject_balanced"], report["real_sim_model"]["uji"]
        print(f"real corpus, simulator-trained model: WiFall fall recall {_f(w['fall_recall'])}, non-fall called fall "
              f"{_f(w['nonfall_called_fall'])}, sit_down {_f(w['sit_down_recall'])}, stand_up {_f(w['stand_up_recall'])} "
              f"(no model: 0 and 0)")
        print(f"  UJI streams: transitions found {_f(u['transitions_found'])}, falls said {u['falls_said']} (none happen), "
              f"posture right {_f(u['posture']['right'])} wrong {_f(u['posture']['wrong'])} unknown {_f(u['posture']['unknown'])}")
    print(json.dumps(report))


def _f(value) -> str:
    return "     -" if value is None else f"{value:6.3f}"


if __name__ == "__main__":
    main()
