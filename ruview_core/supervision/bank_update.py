"""Between enrollments: the room's presence and motion specialists re-fitted to weak labels,
never silently.

The specialists are thresholds on log evidence (:mod:`ruview_core.specialists.presence`,
:mod:`~ruview_core.specialists.motion`). An update moves them towards what the sensor-only weak
labels (:mod:`.rules`, the CSI's own opinion left out so the bank never confirms itself) say
about the windows of a stretch of live CSI, under an EWC pull: each threshold pays
``lambda/2 * F * shift^2``, ``F`` being its Fisher information on the room's own enrollment anchors,
so the thresholds the anchors depend on hardly move. The candidate is stored as a new bank
version next to the previous ones and becomes the room's bank only if it is not worse than the
current one on the enrollment anchors (accuracy of presence and motion, and no new false
presence in the empty room). Every attempt, kept or refused, and every rollback is a line in
``bank-versions/history.jsonl`` and comes back as an :class:`UpdateReport`.

Layout in the room folder: ``bank.*`` (the active bank, what the runtime loads),
``bank-versions/vNNNN.*`` (the newest :data:`KEEP_VERSIONS` versions and the active one: a room
that learns every hour for a year must not fill a Raspberry Pi's card), ``bank-versions/history.jsonl``
(every record, a few hundred bytes each, pruned versions included).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..calibration.anchors import ANCHORS_BY_NAME
from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures
from ..node.pipeline import NodePipeline
from ..specialists import SpecialistBank, load_bank, save_bank
from ..specialists import motion as motion_specialist
from ..specialists import presence as presence_specialist
from ..storage import append_line
from .events import LabelEvent
from .rules import ACTIVITY_EMPTY, GESTURE, STATIONARY, WALKING, RuleConfig, camera_free_labels

PRESENCE_COLUMNS = (0, 1, 2, 5)  # summary columns the presence thresholds apply to
MOTION_COLUMN = 2
VERSIONS = "bank-versions"
HISTORY = "history.jsonl"
KEEP_VERSIONS = 10


@dataclass(frozen=True)
class WindowTable:
    """Per hop time: each node's window summary ``[T, 6]`` (NaN rows where it had too few frames)."""

    times: np.ndarray
    summaries: dict[int, np.ndarray]


def window_table(baseline: RoomBaseline, frames: Iterable, hop: float = 1.0) -> WindowTable:
    """The runtime's own window features (each node's :class:`ruview_core.node.pipeline.NodePipeline`) every ``hop`` s."""
    nodes = {n: NodePipeline(n, b) for n, b in baseline.nodes.items()}
    times: list[float] = []
    rows: dict[int, list[np.ndarray]] = {n: [] for n in nodes}
    next_t = None
    for frame in frames:
        t = getattr(frame, "timestamp", None)
        if t is None or not np.isfinite(t):
            continue
        next_t = np.floor(t / hop) * hop + hop if next_t is None else next_t
        while t >= next_t:
            times.append(next_t)
            for n, node in nodes.items():
                f = node.hop(next_t, hop).features
                rows[n].append(f.summary() if f is not None else np.full(6, np.nan))
            next_t += hop
        if frame.node_id in nodes:
            nodes[frame.node_id].push(frame)
    return WindowTable(np.array(times), {n: np.array(r).reshape(-1, 6) for n, r in rows.items()})


@dataclass(frozen=True)
class UpdateConfig:
    ewc_lambda: float = 2000.0  # ADR-071's base lambda; the data term is a mean over windows
    min_confidence: float = 0.6
    min_windows: int = 60  # per class: fewer labelled windows than this and nothing is updated
    step_grid: tuple[float, ...] = tuple(np.round(np.linspace(-2.0, 2.0, 41), 3))
    sweeps: int = 3
    tolerance: float = 0.0  # how much anchor accuracy a kept update may lose
    rules: RuleConfig = field(default_factory=lambda: RuleConfig(use_csi_presence=False))


@dataclass
class UpdateReport:
    room: str
    version: int | None
    parent: int | None
    kept: bool
    reason: str
    metrics: dict = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return {"event": "update", "room": self.room, "version": self.version, "parent": self.parent,
                "kept": self.kept, "reason": self.reason, "metrics": self.metrics, "at": self.at}


# -- anchors: the guard -------------------------------------------------------------------------

def _anchor_windows(records: Sequence[AnchorFeatures]) -> dict[str, dict[int, AnchorFeatures]]:
    out: dict[str, dict[int, AnchorFeatures]] = {}
    for r in records:
        if r.n_windows and r.anchor in ANCHORS_BY_NAME:
            out.setdefault(r.anchor, {})[r.node_id] = r
    return out


def _as_window(record: AnchorFeatures, w: int) -> WindowFeatures:
    s = record.summary[w]
    return WindowFeatures(record.node_id, float(w), 0, 1.0, 0.0, 0.0, float(np.exp(s[0])), float(np.exp(s[1])),
                          float(np.exp(s[2])), float(np.exp(s[3])), record.shifts[w], float(np.exp(s[5])))


def anchor_scores(bank: SpecialistBank, records: Sequence[AnchorFeatures]) -> dict:
    """Room-level (any node) presence and motion accuracy of ``bank`` on the enrollment anchors,
    through the specialists' own ``predict``; and the empty anchor's windows called present."""
    hits = {"presence": [], "motion": []}
    empty_false = 0
    for anchor, by_node in _anchor_windows(records).items():
        spec = ANCHORS_BY_NAME[anchor]
        for w in range(min(r.n_windows for r in by_node.values())):
            windows = [_as_window(r, w) for r in by_node.values()]
            present = any(presence_specialist.predict(bank.get("presence"), f).value for f in windows) \
                if bank.get("presence") else None
            moving = any(motion_specialist.predict(bank.get("motion"), f).value for f in windows) \
                if bank.get("motion") else None
            if present is not None:
                hits["presence"].append(present == spec.presence)
                empty_false += int(present and not spec.presence)
            if moving is not None:
                hits["motion"].append(moving == spec.moving)
    return {"presence_accuracy": float(np.mean(hits["presence"])) if hits["presence"] else None,
            "motion_accuracy": float(np.mean(hits["motion"])) if hits["motion"] else None,
            "empty_false_presence": empty_false, "windows": len(hits["presence"])}


def _fisher(records: Sequence[AnchorFeatures], thresholds: dict[int, np.ndarray], columns: Sequence[int],
            sharpness: float, label) -> dict[int, np.ndarray]:
    """Per node, the mean squared gradient of the anchors' log-loss w.r.t. each threshold."""
    out = {}
    for node, theta in thresholds.items():
        mine = [r for r in records if r.node_id == node and r.n_windows and r.anchor in ANCHORS_BY_NAME]
        if not mine:
            out[node] = np.zeros_like(theta)
            continue
        x = np.concatenate([r.summary[:, columns] for r in mine])
        y = np.concatenate([np.full(r.n_windows, float(label(ANCHORS_BY_NAME[r.anchor]))) for r in mine])
        margin = x - theta
        winner = np.argmax(margin, axis=1)
        p = 1 / (1 + np.exp(-np.clip(sharpness * margin[np.arange(len(y)), winner], -50, 50)))
        grad = np.zeros_like(margin)
        grad[np.arange(len(y)), winner] = -sharpness * (p - y)
        out[node] = np.mean(grad ** 2, axis=0)
    return out


# -- the fit ------------------------------------------------------------------------------------

def _room_probability(table: WindowTable, thresholds: dict[int, np.ndarray], columns, sharpness) -> np.ndarray:
    best = np.full(table.times.size, -np.inf)
    for node, theta in thresholds.items():
        summary = table.summaries.get(node)
        if summary is None:
            continue
        margin = np.max(np.where(np.isnan(summary[:, columns]), -np.inf, summary[:, columns] - theta), axis=1)
        best = np.maximum(best, margin)
    return 1 / (1 + np.exp(-np.clip(sharpness * best, -50, 50)))


def fit_thresholds(table: WindowTable, labels: np.ndarray, weights: np.ndarray, start: dict[int, np.ndarray],
                   fisher: dict[int, np.ndarray], columns: Sequence[int], sharpness: float,
                   config: UpdateConfig) -> tuple[dict[int, np.ndarray], dict]:
    """Coordinate descent over a grid of shifts: weighted log-loss of the room-level decision
    on the labelled windows + the EWC penalty. Returns the thresholds and the objective's parts."""
    theta = {n: np.array(v, dtype=np.float64) for n, v in start.items()}
    rows = np.flatnonzero(weights > 0)
    y, w = labels[rows], weights[rows] / weights[rows].sum()
    sub = WindowTable(table.times[rows], {n: s[rows] for n, s in table.summaries.items()})

    def objective(candidate):
        p = np.clip(_room_probability(sub, candidate, columns, sharpness), 1e-6, 1 - 1e-6)
        data = float(-np.sum(w * (y * np.log(p) + (1 - y) * np.log(1 - p))))
        penalty = sum(0.5 * config.ewc_lambda * float(np.sum(fisher[n] * (candidate[n] - start[n]) ** 2))
                      for n in candidate) / max(rows.size, 1)
        return data + penalty, data, penalty

    best = objective(theta)
    initial = best
    for _ in range(config.sweeps):
        for node in theta:
            for j in range(theta[node].size):
                for step in config.step_grid:
                    trial = {n: v.copy() for n, v in theta.items()}
                    trial[node][j] = start[node][j] + step
                    value = objective(trial)
                    if value[0] < best[0] - 1e-9:
                        best, theta = value, trial
    return theta, {"objective_before": initial[0], "objective_after": best[0], "data_loss_before": initial[1],
                   "data_loss_after": best[1], "ewc_penalty": best[2]}


def _balanced(labels: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    weights = np.where(np.isfinite(labels), confidence, 0.0)
    for value in (0.0, 1.0):
        mine = weights[labels == value].sum()
        if mine > 0:
            weights[labels == value] /= mine
    return weights


def propose_update(bank: SpecialistBank, records: Sequence[AnchorFeatures], table: WindowTable,
                   events: Sequence[LabelEvent], config: UpdateConfig = UpdateConfig()) -> tuple[SpecialistBank, dict]:
    """A candidate bank with re-fitted presence and motion thresholds, and what went into it."""
    labels = camera_free_labels(table.times, events, n_nodes=len(table.summaries), config=config.rules)
    presence = labels.presence
    confident = labels.presence_confidence >= config.min_confidence
    moving = np.where(np.isin(labels.activity, (WALKING, GESTURE)), 1.0,
                      np.where(np.isin(labels.activity, (STATIONARY, ACTIVITY_EMPTY)), 0.0, np.nan))
    counts = {"present": int(np.sum(confident & (presence == 1))), "absent": int(np.sum(confident & (presence == 0))),
              "moving": int(np.sum(moving == 1)),
              "still": int(np.sum(moving == 0))}
    info: dict = {"labelled_windows": counts, "weak_labels": labels.summary()}
    specialists = dict(bank.specialists)
    for kind, module, columns, label_values, conf, anchor_label in (
        ("presence", presence_specialist, PRESENCE_COLUMNS, presence, labels.presence_confidence,
         lambda a: a.presence),
        ("motion", motion_specialist, (MOTION_COLUMN,), moving, labels.activity_confidence, lambda a: a.moving),
    ):
        current = bank.get(kind)
        key = "thresholds" if kind == "presence" else "threshold"
        if current is None:
            info[kind] = {"skipped": "not trained"}
            continue
        usable = np.where(conf >= config.min_confidence, label_values, np.nan)
        if min(np.sum(usable == 0), np.sum(usable == 1)) < config.min_windows:
            info[kind] = {"skipped": f"fewer than {config.min_windows} confident windows of each class"}
            continue
        start = {n: current.node_param(n, key) for n in current.nodes if n in table.summaries}
        fisher = _fisher(records, start, columns, module.SHARPNESS, anchor_label)
        theta, fit = fit_thresholds(table, np.nan_to_num(usable), _balanced(usable, conf), start, fisher, columns,
                                    module.SHARPNESS, config)
        if all(np.allclose(theta[n], start[n]) for n in theta):
            info[kind] = {**fit, "skipped": "the weak labels agree with the current thresholds"}
            continue
        params = dict(current.params)
        params.update({f"n{n}.{key}": v for n, v in theta.items()})
        specialists[kind] = replace(current, params=params, trained_at=time.time(),
                                    config={**current.config, "weak_label_update": True})
        info[kind] = {**fit, "shift": {str(n): (theta[n] - start[n]).round(3).tolist() for n in theta},
                      "fisher": {str(n): fisher[n].round(4).tolist() for n in fisher}}
    return SpecialistBank(bank.room, bank.baseline_id, specialists), info


# -- versions -----------------------------------------------------------------------------------

def history(folder: str | Path) -> list[dict]:
    path = Path(folder) / VERSIONS / HISTORY
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line after a crash
    return out


def active_version(folder: str | Path, records: list[dict] | None = None) -> int | None:
    """The version the room's bank is (None before the first update snapshot); ``records``: the
    history when the caller has read it already."""
    active = None
    for record in history(folder) if records is None else records:
        if record.get("event") == "snapshot" or (record.get("event") == "update" and record.get("kept")):
            active = record["version"]
        elif record.get("event") == "rollback":
            active = record["to"]
    return active


def _next_version(records: list[dict]) -> int:
    return max((int(r["version"]) for r in records if r.get("version") is not None), default=0) + 1


def _record(folder: Path, record: dict) -> None:
    append_line(folder / VERSIONS / HISTORY, json.dumps(record, sort_keys=True, default=float))


def version_stem(folder: str | Path, version: int) -> Path:
    return Path(folder) / VERSIONS / f"v{version:04d}"


def update_room_bank(folder: str | Path, baseline: RoomBaseline, records: Sequence[AnchorFeatures],
                     table: WindowTable, events: Sequence[LabelEvent],
                     config: UpdateConfig = UpdateConfig()) -> UpdateReport:
    """Propose, store as a new version, check on the anchors, and keep or refuse (see module doc)."""
    folder = Path(folder)
    bank = load_bank(folder / "bank")
    room = bank.room
    past = history(folder)  # read once: every record below is appended to it as well
    if bank.baseline_id != baseline.baseline_id:
        report = UpdateReport(room, None, active_version(folder, past), False,
                              "the bank belongs to another baseline: re-enroll before updating")
        _record(folder, report.to_dict())
        return report
    parent = active_version(folder, past)
    if parent is None:  # the enrolled bank becomes version 1, so that it can be rolled back to
        parent = _next_version(past)
        save_bank(bank, version_stem(folder, parent))
        snapshot = {"event": "snapshot", "room": room, "version": parent, "at": time.time()}
        _record(folder, snapshot)
        past.append(snapshot)
    candidate, info = propose_update(bank, records, table, events, config)
    if all("skipped" in info.get(k, {"skipped": 1}) for k in ("presence", "motion")):
        report = UpdateReport(room, None, parent, False, "not enough confident weak labels", info)
        _record(folder, report.to_dict())
        return report
    # Each specialist is judged on its own: a worse motion update does not cost a better presence one.
    before = anchor_scores(bank, records)
    kept, refused = dict(bank.specialists), []
    for kind, metric in (("presence", "presence_accuracy"), ("motion", "motion_accuracy")):
        if "skipped" in info.get(kind, {"skipped": 1}):
            continue
        alone = anchor_scores(SpecialistBank(bank.room, bank.baseline_id,
                                             {**bank.specialists, kind: candidate.specialists[kind]}), records)
        worse = before[metric] is not None and alone[metric] is not None and \
            alone[metric] < before[metric] - config.tolerance
        worse |= kind == "presence" and alone["empty_false_presence"] > before["empty_false_presence"]
        info[kind]["anchors"] = alone
        if worse:
            refused.append(kind)
        else:
            kept[kind] = candidate.specialists[kind]
    final = SpecialistBank(bank.room, bank.baseline_id, kept)
    info.update({"anchors_before": before, "anchors_after": anchor_scores(final, records), "refused": refused})
    version = _next_version(past)
    changed = [k for k in ("presence", "motion") if k not in refused and "skipped" not in info.get(k, {"skipped": 1})]
    # A refused candidate is stored too (to inspect it); a kept one as the bank it becomes.
    save_bank(final if changed else candidate, version_stem(folder, version))
    if not changed:
        report = UpdateReport(room, version, parent, False,
                              "worse on the enrollment anchors: " + ", ".join(refused), info)
    else:
        save_bank(final, folder / "bank")
        why = "not worse on the enrollment anchors: " + ", ".join(changed)
        report = UpdateReport(room, version, parent, True,
                              why + (f" (refused: {', '.join(refused)})" if refused else ""), info)
    _record(folder, report.to_dict())
    prune_versions(folder, active=version if changed else parent)
    return report


def stored_versions(folder: str | Path) -> list[int]:
    """Versions whose files are still in ``bank-versions``, oldest first."""
    found = {int(path.name[1:5]) for path in (Path(folder) / VERSIONS).glob("v[0-9][0-9][0-9][0-9].json")}
    return sorted(found)


def prune_versions(folder: str | Path, keep: int = KEEP_VERSIONS, *, active: int | None = None) -> list[int]:
    """Delete the files of all but the newest ``keep`` versions and the active one; returns
    the versions removed (recorded in the history, which keeps every record)."""
    folder = Path(folder)
    stored = stored_versions(folder)
    spared = set(stored[-keep:]) | {active_version(folder) if active is None else active}
    removed = [v for v in stored if v not in spared]
    for version in removed:
        stem = version_stem(folder, version)
        for path in stem.parent.glob(f"{stem.name}.*"):
            path.unlink(missing_ok=True)
    if removed:
        _record(folder, {"event": "pruned", "versions": removed, "kept": keep, "at": time.time()})
    return removed


def rollback(folder: str | Path, to_version: int | None = None) -> dict:
    """Make an earlier version the room's bank again (default: the active version's parent)."""
    folder = Path(folder)
    active = active_version(folder)
    if to_version is None:
        parents = {r["version"]: r.get("parent") for r in history(folder) if r.get("event") == "update"}
        to_version = parents.get(active)
        if to_version is None:
            raise ValueError("nothing to roll back to: the bank has no earlier version")
    if to_version not in stored_versions(folder):
        raise ValueError(f"version {to_version} is not stored (only the newest {KEEP_VERSIONS} versions and the active "
                         f"one are kept; stored: {', '.join(map(str, stored_versions(folder))) or 'none'})")
    bank = load_bank(version_stem(folder, to_version))
    save_bank(bank, folder / "bank")
    record = {"event": "rollback", "room": bank.room, "from": active, "to": to_version, "at": time.time()}
    _record(folder, record)
    return record
