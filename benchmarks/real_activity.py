"""Activities and posture on the real corpus (``bench_real.py``'s ``activities`` task).

- **clips** (WiFall: fall, jump, sit_down, stand_up, walk; one 3 s clip = one episode): each clip's
  profile (:mod:`ruview_core.activity.profile`, from the node chain's cleaned frames) classified
  leave one subject out: the model is fitted on the other WiFall subjects and on UJI's labelled
  movements (another person, room and chip), never on the subject scored. Reported per subject
  and subject-balanced (ID2 holds 640 of the 768 clips): fall recall, the share of non-fall clips
  called fall, each class's recall. The clips end with the movement, so the fall rule's "still
  afterwards" is not observed there: the model's word stands.
- **streams** (UJI: seated, stand up, walk, turn, sit down, seated, back to back): the product's
  own chain hop by hop (:class:`NodePipeline` self-calibrated, then :class:`ActivityMonitor`),
  the model fitted on all WiFall clips and on UJI's other session (leave one session out).
  A transition (stand_up / sit_down segment) is found when an episode holding it (+-1 s) yields
  that activity; posture is scored on the settled seconds labelled sitting or standing.

UJI's movements for training are windows of ``WINDOW_SECONDS`` at each labelled stand_up (from
its start), sit_down (to its end) and in walking / turning segments (as walk).
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from pathlib import Path

import numpy as np

from ruview_core.activity.classify import ActivityModel
from ruview_core.activity.monitor import PAD_SECONDS, WINDOW_SECONDS, ActivityMonitor
from ruview_core.activity.profile import episode_profile
from ruview_core.node.pipeline import NodePipeline

from real_corpus import Recording, find, load  # noqa: E402  (run as a script from benchmarks/)

L2 = 30.0  # chosen once, not per subject
SLACK = 1.0
SCORED_CLASSES = ("fall", "sit_down", "stand_up", "walk", "jump")


def cleaned(recording: Recording) -> tuple[np.ndarray, np.ndarray]:
    """The recording's cleaned, gain-normalised amplitude on antenna 0, as the node chain keeps it."""
    pipeline = NodePipeline(1, keep_seconds=recording.duration + 5.0)
    for frame in recording.frames:
        pipeline.push(frame)
    pipeline.absorb()
    if pipeline.buffer is None:
        return np.zeros(0), np.zeros((0, 0))
    times, csi = pipeline.buffer.recent(recording.duration + 5.0)
    return times, np.abs(csi[:, 0, :])


def _window(times: np.ndarray, amplitude: np.ndarray, start: float, end: float) -> np.ndarray | None:
    keep = (times >= start) & (times <= end)
    profile = episode_profile(times[keep], amplitude[keep])
    return None if profile is None else profile.values


def clip_rows(path: Path) -> list[tuple[str, str, str, np.ndarray]]:
    """``(dataset, subject or session, activity, profile)`` of one clip or one UJI execution's movements."""
    recording = load(path)
    if not recording.frames:
        return []
    times, amplitude = cleaned(recording)
    if not times.size:
        return []
    origin = recording.start
    if recording.dataset == "wifall":
        values = _window(times, amplitude, times[0], times[-1])
        activity = recording.labels["segments"][0]["labels"].get("activity")
        return [] if values is None else [("wifall", str(recording.labels["subject"]), activity, values)]
    rows = []
    for segment in recording.labels["segments"]:
        activity = segment["labels"].get("activity")
        a, b = origin + segment["start"], origin + segment["end"]
        if activity == "stand_up":
            window = (a - PAD_SECONDS, a - PAD_SECONDS + WINDOW_SECONDS)
        elif activity == "sit_down":
            window = (b + PAD_SECONDS - WINDOW_SECONDS, b + PAD_SECONDS)
        elif activity in ("walk", "turn"):
            middle = (a + b) / 2
            window, activity = (middle - WINDOW_SECONDS / 2, middle + WINDOW_SECONDS / 2), "walk"
        else:
            continue
        values = _window(times, amplitude, *window)
        if values is not None:
            rows.append(("uji", str(recording.session), activity, values))
    return rows


def stream_run(args: tuple[Path, ActivityModel]) -> dict:
    """One UJI stream through the product's chain: its transitions and posture seconds, scored."""
    path, model = args
    recording = load(path)
    pipeline = NodePipeline(1)
    monitor = ActivityMonitor(model)
    origin = recording.start
    hop_t = origin + 1.0
    postures: list[tuple[float, str | None]] = []
    for frame in recording.frames + [None]:
        while frame is None and hop_t <= recording.frames[-1].timestamp + 6.0 or frame is not None and frame.timestamp >= hop_t:
            node_hop = pipeline.hop(hop_t)
            state = monitor.update(hop_t, node_hop.moving, node_hop.motion, pipeline.buffer.recent if pipeline.buffer else _empty)
            postures.append((hop_t - origin, state.posture.posture))
            hop_t += 1.0
        if frame is not None:
            pipeline.push(frame)
    transitions = []
    for segment in recording.labels["segments"]:
        activity = segment["labels"].get("activity")
        if activity not in ("stand_up", "sit_down"):
            continue
        a, b = origin + segment["start"], origin + segment["end"]
        found = any(d.activity == activity for episode, decisions in monitor.episodes
                    if episode.start - SLACK <= b and episode.end + SLACK >= a for d in decisions)
        transitions.append({"activity": activity, "found": found})
    seconds = {"right": 0, "wrong": 0, "unknown": 0}
    for t, said in postures:
        truth = recording.label_at(t - 0.5, "posture")
        if truth not in ("sitting", "standing"):
            continue
        seconds["unknown" if said is None else "right" if said == truth else "wrong"] += 1
    said = [d.activity for _, decisions in monitor.episodes for d in decisions]
    return {"stream": recording.name, "session": recording.session, "transitions": transitions,
            "posture_seconds": seconds, "episodes": len(monitor.episodes), "said": said}


def _empty(seconds: float, end: float | None = None):
    return np.zeros(0), np.zeros((0, 1, 0))


def score_activities(root: Path, quick: bool, workers: int = 2) -> dict:
    clips = [p for p in find(root / "wifall" / "clips")]
    executions = find(root / "uji_localized_har" / "executions")
    if quick:
        by_folder: dict[Path, list[Path]] = defaultdict(list)
        for path in clips:
            by_folder[path.parent].append(path)
        clips = [p for folder in by_folder.values() for p in folder[::8]]
    if not clips or not executions:
        return {"available": False}
    with multiprocessing.get_context("fork").Pool(max(workers, 1)) as pool:
        rows = [r for rows in pool.map(clip_rows, clips + executions, chunksize=8) for r in rows]
        report = {"available": True, "l2": L2, "clips": _clips(rows)}
        streams = find(root / "uji_localized_har" / "streams")
        jobs = [(p, _fit([r for r in rows if not (r[0] == "uji" and r[1] == load(p, with_frames=False).session)]))
                for p in streams]
        report["streams"] = _streams(pool.map(stream_run, jobs, chunksize=1))
    return report


def _fit(rows) -> ActivityModel:
    return ActivityModel.fit(np.array([r[3] for r in rows]), [r[2] for r in rows], l2=L2)


def _clips(rows) -> dict:
    wifall = [r for r in rows if r[0] == "wifall"]
    per_subject = {}
    for subject in sorted({r[1] for r in wifall}):
        mine = [r for r in wifall if r[1] == subject]
        model = _fit([r for r in rows if not (r[0] == "wifall" and r[1] == subject)])
        said = np.array(model.classes)[model.probabilities(np.array([r[3] for r in mine])).argmax(axis=1)]
        truth = np.array([r[2] for r in mine])
        cell = {"clips": len(mine), "fall_recall": _share(said[truth == "fall"] == "fall"),
                "nonfall_called_fall": _share(said[truth != "fall"] == "fall")}
        cell.update({f"{c}_recall": _share(said[truth == c] == c) for c in SCORED_CLASSES if c != "fall"})
        cell["counts"] = {"truth": int(truth.size), "said": {c: int(np.sum(said == c)) for c in set(said)}}
        per_subject[subject] = cell
    keys = ["fall_recall", "nonfall_called_fall"] + [f"{c}_recall" for c in SCORED_CLASSES if c != "fall"]
    balanced = {k: _mean([cell[k] for cell in per_subject.values()]) for k in keys}
    return {"per_subject": per_subject, "subject_balanced": balanced}


def _streams(results: list[dict]) -> dict:
    transitions = [t for r in results for t in r["transitions"]]
    seconds = {k: sum(r["posture_seconds"][k] for r in results) for k in ("right", "wrong", "unknown")}
    scored = sum(seconds.values())
    return {"streams": len(results),
            "transitions": len(transitions),
            "transitions_found": _share([t["found"] for t in transitions]),
            "by_kind": {k: _share([t["found"] for t in transitions if t["activity"] == k]) for k in ("stand_up", "sit_down")},
            "posture_seconds": scored,
            "posture_right": round(seconds["right"] / scored, 4) if scored else None,
            "posture_wrong": round(seconds["wrong"] / scored, 4) if scored else None,
            "posture_unknown": round(seconds["unknown"] / scored, 4) if scored else None,
            "per_stream": {r["stream"]: {"episodes": r["episodes"], "said": r["said"]} for r in results}}


def _share(values) -> float | None:
    values = list(values)
    return round(float(np.mean(values)), 4) if values else None


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(float(np.mean(values)), 4) if values else None


def print_tables(report: dict) -> None:
    print(f"clips, leave one subject out (softmax regression, l2 {report['l2']})")
    print(f"  {'subject':8s} {'clips':>5s} {'fall':>6s} {'nf->fall':>8s} {'sit':>6s} {'stand':>6s} {'walk':>6s} {'jump':>6s}")
    rows = dict(report["clips"]["per_subject"], balanced=report["clips"]["subject_balanced"])
    for subject, c in rows.items():
        print(f"  {subject:8s} {c.get('clips', ''):>5} {_f(c['fall_recall'])} {_f(c['nonfall_called_fall']):>8s} "
              f"{_f(c['sit_down_recall'])} {_f(c['stand_up_recall'])} {_f(c['walk_recall'])} {_f(c['jump_recall'])}")
    s = report["streams"]
    print(f"UJI streams (leave one session out): transitions found {_f(s['transitions_found'])} of {s['transitions']}"
          f" (stand_up {_f(s['by_kind']['stand_up'])}, sit_down {_f(s['by_kind']['sit_down'])}); posture over "
          f"{s['posture_seconds']} s: right {_f(s['posture_right'])} wrong {_f(s['posture_wrong'])} unknown {_f(s['posture_unknown'])}")


def _f(value) -> str:
    return "     -" if value is None else f"{value:6.3f}"
