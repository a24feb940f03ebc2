"""Motion on the real corpus, run the way ``ruview analyze`` runs it (``bench_real.py``'s motion task).

Two modes, as the product has them:

- **baseline**: the node's motion is judged against an empty-room capture made before, fitted
  exactly as a room's baseline is. A file that starts with at least ``OWN_LEAD_IN_MIN`` quiet
  seconds (and lasts ``OWN_FILE_MIN``) uses its own first ``OWN_LEAD_IN`` seconds; any other file
  is spliced after the nearest quiet recording of the same dataset, chip and session that passes
  the baseline's own check, like a room enrolled earlier that day.
  Quadrants files are all judged against the first accepted quiet take of the day, whatever the
  doors did since. WiFall and UJI have no quiet recording: self-calibrated only.
- **self**: no baseline; each session's files are spliced in recording order into one stream per
  dataset, chip and session (WiFall and UJI: their published streams), the way a node that has
  been running a while sees them; the first ``SELF_WARMUP_HOPS`` hops of a stream are unknown.

Every hop (1 s) whose label is ``motion`` true or false is scored, except the first second after
a label change. Events: each motion segment of a stream is found when a hop ending within 1 s of
it says motion; a false event is a run of motion hops that touches no motion segment (+-1 s).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ruview_core.analysis import analyze_frames
from ruview_core.calibration.baseline import BaselineError, fit_node_baseline
from ruview_core.node.motion import BASELINE_FACTOR, SELF_FACTOR

from real_corpus import Recording, find, load, splice  # noqa: E402  (run as a script from benchmarks/)

OWN_LEAD_IN = 15.0
OWN_LEAD_IN_MIN = 20.0
OWN_FILE_MIN = 40.0
MAX_LEAD_IN = 30.0
EVENT_SLACK = 1.0


@dataclass
class Unit:
    """One analyzer run: an optional lead-in (the baseline) and the recordings it scores."""

    mode: str
    scored: list[Recording]
    lead_in: Recording | None = None
    own_lead_in: bool = False


@dataclass
class Hop:
    mode: str
    dataset: str
    chip: str
    recording: str
    t: float
    motion: float | None
    detected: bool | None
    truth: object


def _motion_files(root: Path) -> list[Path]:
    paths = [p for p in find(root) if "_ant1" not in p.name]  # an _ant1 file is antenna 0 of its sibling
    return [p for p in paths if "/wifall/clips/" not in str(p) and "/uji_localized_har/executions/" not in str(p)]


def _has_motion_labels(recording: Recording) -> bool:
    return any("motion" in s["labels"] for s in recording.labels["segments"])


def _starts_quiet(recording: Recording) -> bool:
    first = recording.labels["segments"][0]
    return (recording.duration >= OWN_FILE_MIN and first["labels"].get("motion") is False
            and first["end"] - first["start"] >= OWN_LEAD_IN_MIN)


def _accepted_as_baseline(recording: Recording, cache: dict[str, bool]) -> bool:
    if recording.name not in cache:
        try:
            fit_node_baseline(1, recording.frames[: _frames_within(recording, MAX_LEAD_IN)], min_seconds=8.0)
            cache[recording.name] = True
        except BaselineError:
            cache[recording.name] = False
    return cache[recording.name]


def _frames_within(recording: Recording, seconds: float) -> int:
    times = np.array([f.timestamp for f in recording.frames])
    return int(np.searchsorted(times, times[0] + seconds, side="right"))


def plan(recordings: list[Recording]) -> list[Unit]:
    """The analyzer runs of both modes over ``recordings``."""
    units: list[Unit] = []
    accepted: dict[str, bool] = {}
    shape = {r.name: r.frames[0].csi.shape if r.frames else None for r in recordings}
    quiet = sorted((r for r in recordings if r.quiet_throughout()), key=lambda r: r.start)
    for recording in recordings:
        if recording.dataset in ("wifall", "uji_localized_har") or not _has_motion_labels(recording):
            continue
        if _starts_quiet(recording):
            units.append(Unit("baseline", [recording], recording, own_lead_in=True))
            continue
        # The same session only: ESPectre's quiet takes of one chip on other days read 0.1x to 30x
        # each other's quiet level (other firmware, placement), not a room enrolled earlier.
        candidates = [q for q in quiet if q is not recording and q.dataset == recording.dataset
                      and q.chip == recording.chip and q.session == recording.session
                      and shape[q.name] == shape[recording.name]]
        if recording.dataset == "espectre_home_quadrants":
            candidates.sort(key=lambda q: q.start)  # enrolled once, first thing that day
        else:
            candidates.sort(key=lambda q: abs(q.start - recording.start))
        lead_in = next((q for q in candidates if _accepted_as_baseline(q, accepted)), None)
        if lead_in is not None:
            units.append(Unit("baseline", [recording], lead_in))
    sessions: dict[tuple[str, str, str], list[Recording]] = defaultdict(list)
    for recording in recordings:
        if recording.dataset in ("wifall", "uji_localized_har") and "_stream_" not in recording.name:
            continue
        key = (recording.dataset, recording.chip, recording.name if "_stream_" in recording.name else recording.session)
        sessions[key].append(recording)
    for members in sessions.values():
        units.append(Unit("self", sorted(members, key=lambda r: r.start)))
    return units


def run_unit(unit: Unit) -> tuple[list[Hop], list[dict]]:
    """The unit's scored hops and, in self mode, its events."""
    parts = [unit.lead_in] if unit.lead_in is not None and not unit.own_lead_in else []
    frames, starts = splice(parts + unit.scored)
    baseline_seconds = None
    if unit.mode == "baseline":
        baseline_seconds = OWN_LEAD_IN if unit.own_lead_in else min(unit.lead_in.duration + 0.05, MAX_LEAD_IN)
    rows = analyze_frames(frames, baseline_seconds=baseline_seconds)
    origin = frames[0].timestamp if frames else 0.0
    scored = {r.name for r in unit.scored}
    hops: list[Hop] = []
    for row in rows:
        t = origin + row["t"]
        if unit.own_lead_in and row["t"] <= OWN_LEAD_IN + 1.0:
            continue  # the lead-in itself and the hop the baseline was fitted at
        owner = _owner(starts, t - 0.5)
        if owner is None or owner[0].name not in scored:
            continue
        recording, start = owner
        hops.append(Hop(unit.mode, recording.dataset, recording.chip, recording.name, t - origin,
                        row["motion"], row["motion_detected"], recording.label_at(t - 0.5 - start, "motion")))
    events = _events(unit, starts, rows, origin) if unit.mode == "self" else []
    return hops, events


def _owner(starts: list[tuple[Recording, float]], t: float) -> tuple[Recording, float] | None:
    owner = None
    for recording, start in starts:
        if t >= start:
            owner = (recording, start)
    return owner


def _events(unit: Unit, starts, rows, origin) -> list[dict]:
    """Motion segments found and false runs, with the product's own decisions."""
    segments = [(recording, start + s["start"], start + s["end"]) for recording, start in starts
                for s in recording.labels["segments"] if s["labels"].get("motion") is True]
    times = np.array([origin + r["t"] for r in rows])
    moving = np.array([bool(r["motion_detected"]) for r in rows])
    out = [{"dataset": rec.dataset, "chip": rec.chip, "kind": "event",
            "found": bool(np.any(moving & (times >= a - EVENT_SLACK) & (times <= b + EVENT_SLACK + 1.0)))}
           for rec, a, b in segments]
    near = np.zeros(times.size, bool)
    for _, a, b in segments:
        near |= (times >= a - EVENT_SLACK) & (times <= b + EVENT_SLACK + 1.0)
    run_start = None
    for i, flag in enumerate(np.append(moving, False)):
        if flag and run_start is None:
            run_start = i
        elif not flag and run_start is not None:
            if not near[run_start:i].any():
                recording = _owner(starts, times[run_start] - 0.5)
                if recording is not None:
                    out.append({"dataset": recording[0].dataset, "chip": recording[0].chip, "kind": "false"})
            run_start = None
    return out


def score(hops: list[Hop], factor: dict[str, float] | None = None, key=lambda h: (h.mode, h.dataset, h.chip)) -> dict:
    """Recall and false-alarm rate per ``key``: of the product's own decision, or with ``factor``
    of the decision ``motion > factor[mode]``."""
    table: dict = defaultdict(lambda: {"moving": 0, "found": 0, "quiet": 0, "false": 0, "unknown": 0})
    for hop in hops:
        if hop.truth not in (True, False):
            continue
        cell = table[key(hop)]
        said = bool(hop.detected) if factor is None else hop.motion is not None and hop.motion > factor[hop.mode]
        if hop.detected is None:
            cell["unknown"] += 1
        if hop.truth:
            cell["moving"] += 1
            cell["found"] += said
        else:
            cell["quiet"] += 1
            cell["false"] += said
    return {k: {**v, "recall": v["found"] / v["moving"] if v["moving"] else None,
                "false_alarm": v["false"] / v["quiet"] if v["quiet"] else None} for k, v in table.items()}


def load_all(root: Path, quick: bool) -> list[Recording]:
    paths = _motion_files(root)
    if quick:  # a few of each folder
        by_folder: dict[Path, list[Path]] = defaultdict(list)
        for path in paths:
            by_folder[path.parent].append(path)
        paths = [p for folder in by_folder.values() for p in folder[:6]]
    recordings = [load(p) for p in paths]
    return [r for r in recordings if r.frames]


def default_factors() -> dict[str, float]:
    return {"baseline": BASELINE_FACTOR, "self": SELF_FACTOR}
