"""ADR-071 Phase 1: weak labels from a home's sensors and the CSI, each with a confidence and
the signals that produced it.

- **Presence**: PIR, or CSI presence > 0.3, or temperature rising > 0.1 °C/min (ADR-071). A PIR
  is blind to a still person, so a door contact turns it into an occupancy state: someone the
  PIR saw stays present until the door moves and the PIR stays quiet after it (they left); a
  room the PIR stops seeing after a door event is empty until the next detection. Without a
  door contact presence is held only ``hold_without_door_s`` after the last detection and the
  room is called empty only after ``vacancy_without_door_s`` of silence, with less confidence.
  Where a door-confirmed vacancy meets a weaker contrary signal the row is unknown: a conflict
  is not a label.
- **Activity**: ``stationary`` / ``walking`` / ``gesture`` / ``empty`` from the CSI's motion state,
  the other nodes (a walking body disturbs every link, a gesture mostly one), PIR and vibration.
- **Entry / exit**: a door event with an occupancy change across it, confirmed by a PIR
  transition and a CSI regime change; without a door contact, a CSI regime change with a
  presence change across it (less confident).
- **Breathing zone**: humidity rising while someone is present and still = breathing near the
  hygrometer (1), flat = elsewhere (0).

Graceful degradation (ADR-071 table): ``full`` (sensors + two or more nodes), ``csi_only`` (no
sensor events, two or more nodes), ``single_node``. Every mode fills the same
:class:`CameraFreeLabels`; what a mode cannot tell has confidence 0 (and value unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..training.weak_labels import EMPTY, MOVING, STILL, UNKNOWN, WeakLabels
from .align import AlignedSignals, align_events
from .events import LabelEvent

SIGNALS = ("pir", "reed", "temperature", "humidity", "vibration", "csi_presence", "csi_variance", "csi_regime",
           "cross_node")
BIT = {name: 1 << i for i, name in enumerate(SIGNALS)}
ACTIVITIES = ("stationary", "walking", "gesture", "empty")
STATIONARY, WALKING, GESTURE, ACTIVITY_EMPTY = range(4)
ENTRY, EXIT, NO_TRANSITION = 1, -1, 0
MODES = ("full", "csi_only", "single_node")
CSI_PRESENCE_THRESHOLD = 0.3  # ADR-071
TEMPERATURE_RISE_PER_MIN = 0.1  # ADR-071


@dataclass(frozen=True)
class RuleConfig:
    pir_confidence: float = 0.95
    sealed_confidence: float = 0.85  # a person the PIR saw, the door unmoved since
    vacant_confidence: float = 0.85  # the door moved, then the PIR stayed quiet
    settle_s: float = 30.0  # after an exit, the PIR stays quiet at least this long
    settle_slack_s: float = 5.0  # crossing the doorway takes a few seconds
    pir_hold_s: float | None = None  # the PIR's cool-down; None: estimated from its shortest on-time
    exit_lag_s: float = 2.0
    hold_without_door_s: float = 300.0
    hold_without_door_confidence: float = 0.7
    vacancy_without_door_s: float = 1800.0
    vacancy_without_door_confidence: float = 0.6
    temperature_confidence: float = 0.6
    csi_presence_confidence: float = 0.6
    entry_window_s: float = 5.0
    regime_window_s: float = 10.0
    humidity_rise_per_min: float = 0.05
    use_csi_presence: bool = True


@dataclass(frozen=True)
class CsiEvidence:
    """Per row: time, node, the CSI's presence score (0..1, NaN unknown), whether it is moving
    (0/1, NaN unknown) and whether its regime changed near the row."""

    times: np.ndarray
    node_ids: np.ndarray
    presence_score: np.ndarray
    moving: np.ndarray
    regime_change: np.ndarray

    @property
    def n_nodes(self) -> int:
        return int(np.unique(self.node_ids).size)


@dataclass(frozen=True)
class CameraFreeLabels:
    """Every label per row: value, confidence (0 = unknown) and a bit mask of :data:`SIGNALS`."""

    times: np.ndarray
    mode: str
    presence: np.ndarray  # 1 / 0 / NaN
    presence_confidence: np.ndarray
    presence_signals: np.ndarray
    activity: np.ndarray  # index into ACTIVITIES, -1 unknown
    activity_confidence: np.ndarray
    activity_signals: np.ndarray
    entry_exit: np.ndarray  # ENTRY / EXIT / NO_TRANSITION
    entry_exit_confidence: np.ndarray
    entry_exit_signals: np.ndarray
    breathing_zone: np.ndarray  # 1 near the hygrometer, 0 elsewhere, -1 unknown
    breathing_zone_confidence: np.ndarray
    breathing_zone_signals: np.ndarray

    def __len__(self) -> int:
        return int(self.times.size)

    def to_weak_labels(self) -> WeakLabels:
        """The training pipeline's targets (still / moving / empty; vitals unknown)."""
        mapping = np.array([STILL, MOVING, MOVING, EMPTY])
        activity = np.where(self.activity >= 0, mapping[np.maximum(self.activity, 0)], UNKNOWN).astype(np.int64)
        n = len(self)
        return WeakLabels(self.presence.astype(float), activity, np.full((n, 2), np.nan), np.zeros((n, 2)))

    def summary(self) -> dict:
        """Weak-label statistics: counts per value, mean confidence, rows each signal contributed to."""
        def part(values, confidence, signals, names):
            known = confidence > 0
            return {"known": int(known.sum()),
                    "counts": {name: int(np.sum(known & (values == v))) for v, name in names},
                    "mean_confidence": float(confidence[known].mean()) if known.any() else None,
                    "signals": {s: int(np.sum(known & (signals & BIT[s] > 0))) for s in SIGNALS}}
        return {
            "rows": len(self), "mode": self.mode,
            "presence": part(self.presence, self.presence_confidence, self.presence_signals,
                             ((1.0, "present"), (0.0, "absent"))),
            "activity": part(self.activity, self.activity_confidence, self.activity_signals, enumerate(ACTIVITIES)),
            "entry_exit": part(self.entry_exit, self.entry_exit_confidence, self.entry_exit_signals,
                               ((ENTRY, "entry"), (EXIT, "exit"), (NO_TRANSITION, "none"))),
            "breathing_zone": part(self.breathing_zone, self.breathing_zone_confidence, self.breathing_zone_signals,
                                   ((1, "near_hygrometer"), (0, "elsewhere"))),
        }


def signal_names(mask: int) -> list[str]:
    return [name for name in SIGNALS if int(mask) & BIT[name]]


def degradation_mode(events: Sequence[LabelEvent], n_nodes: int) -> str:
    if n_nodes <= 1:
        return "single_node"
    return "full" if events else "csi_only"


def _pir_intervals(events: Sequence[LabelEvent]) -> list[tuple[float, float]]:
    """[on, off) intervals of the PIR's held state (the last one open-ended)."""
    out, start = [], None
    for e in sorted((e for e in events if e.kind == "pir"), key=lambda e: e.t):
        if e.value > 0.5 and start is None:
            start = e.t
        elif e.value <= 0.5 and start is not None:
            out.append((start, e.t))
            start = None
    if start is not None:
        out.append((start, np.inf))
    return out


def pir_hold_estimate(intervals: list[tuple[float, float]]) -> float:
    """The PIR's cool-down: its shortest on-time (one detection = exactly the hold), 1..300 s."""
    durations = [off - on for on, off in intervals if np.isfinite(off)]
    return float(np.clip(min(durations), 1.0, 300.0)) if durations else 30.0


def occupancy_intervals(events: Sequence[LabelEvent], config: RuleConfig = RuleConfig(),
                        end: float = np.inf) -> list[tuple[float, float, float, float, int]]:
    """``(start, end, state, confidence, signals)`` spans of the sensor-only occupancy state.

    A door event inside a PIR on-interval is an exit when the PIR goes quiet within its hold
    (plus ``settle_slack_s``) after it and stays quiet ``settle_s``: nobody moved after the door.
    Otherwise someone is in after the PIR goes quiet: present (sealed) until the next event.
    A door event while the PIR is quiet changes nothing (whoever leaves must walk past the PIR).
    """
    pir = _pir_intervals(events)
    doors = sorted({e.t for e in events if e.kind == "reed"})
    has_door = bool(doors)
    hold = config.pir_hold_s if config.pir_hold_s is not None else pir_hold_estimate(pir)
    spans: list[tuple[float, float, float, float, int]] = []
    for i, (on, off) in enumerate(pir):
        following = pir[i + 1][0] if i + 1 < len(pir) else end
        inside = [d for d in doors if on - config.settle_slack_s <= d <= min(off, following)]
        # The door opens and closes as one crossing: its first event is when it happened.
        last_door = next((d for d in inside if inside[-1] - d <= config.settle_slack_s), None)
        exit_at, ambiguous = None, False
        if last_door is not None:
            exit_like = off - last_door <= hold + config.settle_slack_s and following - last_door > config.settle_s
            entry_like = last_door - on <= config.settle_slack_s
            exit_at = last_door if exit_like and not entry_like else None
            ambiguous = exit_like and entry_like  # came in and sat straight down, or a quick look in
        occupied_until = min(off, exit_at) if exit_at is not None else off
        spans.append((on, occupied_until, 1.0, config.pir_confidence, BIT["pir"]))
        if exit_at is not None:
            entry = [d for d in doors if exit_at + config.settle_s < d <= following]
            vacant_end = entry[-1] if entry else following - 1.0
            spans.append((exit_at + config.exit_lag_s, vacant_end, 0.0, config.vacant_confidence,
                          BIT["pir"] | BIT["reed"]))
        elif ambiguous:
            continue
        elif has_door:
            spans.append((off, following, 1.0, config.sealed_confidence, BIT["pir"] | BIT["reed"]))
        else:
            spans.append((off, min(following, off + config.hold_without_door_s), 1.0,
                          config.hold_without_door_confidence, BIT["pir"]))
            if following - off > config.vacancy_without_door_s:
                spans.append((off + config.vacancy_without_door_s, following, 0.0,
                              config.vacancy_without_door_confidence, BIT["pir"]))
    return [s for s in spans if s[1] > s[0]]


def _spans_at(spans, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    state, confidence, signals = np.full(times.size, np.nan), np.zeros(times.size), np.zeros(times.size, np.int64)
    for start, stop, value, conf, mask in spans:
        inside = (times >= start) & (times < stop)
        state[inside], confidence[inside], signals[inside] = value, conf, mask
    return state, confidence, signals


def presence_labels(times: np.ndarray, events: Sequence[LabelEvent], signals: AlignedSignals,
                    csi: CsiEvidence | None, config: RuleConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    state, confidence, mask = _spans_at(occupancy_intervals(events, config, end=float(times.max(initial=0)) + 1),
                                        times)
    # The PIR's hold after someone left is not presence: only PIR activity the spans agree with counts.
    mask[(signals.active["pir"] == 1) & (state == 1)] |= BIT["pir"]
    contrary: list[tuple[np.ndarray, float, int]] = [
        (signals.rate_per_min["temperature"] > TEMPERATURE_RISE_PER_MIN, config.temperature_confidence,
         BIT["temperature"])]
    if csi is not None and config.use_csi_presence:
        contrary.append((csi.presence_score > CSI_PRESENCE_THRESHOLD, config.csi_presence_confidence,
                         BIT["csi_presence"]))
    for says_present, conf, bit in contrary:
        conflict = says_present & (state == 0)
        add = says_present & (state != 0)
        state[add] = 1.0
        confidence[add] = 1 - (1 - confidence[add]) * (1 - conf)  # independent evidence: noisy-OR
        mask[add] |= bit
        state[conflict], confidence[conflict], mask[conflict] = np.nan, 0.0, 0
    return state, confidence, mask


def _cross_node_moving(csi: CsiEvidence, tolerance_s: float = 0.5) -> np.ndarray:
    """Share of the other nodes moving at each row's time (NaN with one node)."""
    out = np.full(csi.times.size, np.nan)
    nodes = np.unique(csi.node_ids)
    if nodes.size < 2:
        return out
    votes, counts = np.zeros(csi.times.size), np.zeros(csi.times.size)
    for node in nodes:
        mine = np.flatnonzero(csi.node_ids == node)
        order = mine[np.argsort(csi.times[mine], kind="stable")]
        t = csi.times[order]
        near = np.clip(np.searchsorted(t, csi.times), 0, max(t.size - 1, 0))
        ok = (np.abs(t[near] - csi.times) <= tolerance_s) & (csi.node_ids != node) & np.isfinite(csi.moving[order][near])
        votes[ok] += csi.moving[order][near][ok]
        counts[ok] += 1
    out[counts > 0] = votes[counts > 0] / counts[counts > 0]
    return out


def camera_free_labels(times: np.ndarray, events: Sequence[LabelEvent], csi: CsiEvidence | None = None, *,
                       n_nodes: int | None = None, config: RuleConfig = RuleConfig(),
                       offset_s: float = 0.0) -> CameraFreeLabels:
    """Every label for rows at ``times`` (with ``csi`` describing the same rows, when given)."""
    times = np.asarray(times, dtype=np.float64)
    n = times.size
    n_nodes = (csi.n_nodes if csi is not None else 1) if n_nodes is None else n_nodes
    mode = degradation_mode(events, n_nodes)
    if offset_s:
        events = [LabelEvent(e.t + offset_s, e.source, e.kind, e.value, e.entity_id) for e in events]
    signals = align_events(events, times)
    presence, p_conf, p_mask = presence_labels(times, events, signals, csi, config)

    # Activity.
    activity, a_conf, a_mask = np.full(n, -1, np.int64), np.zeros(n), np.zeros(n, np.int64)
    moving = csi.moving if csi is not None else np.full(n, np.nan)
    others = _cross_node_moving(csi) if csi is not None else np.full(n, np.nan)
    pir = signals.active["pir"] == 1
    vibration = signals.active["vibration"] == 1
    empty = presence == 0
    activity[empty], a_conf[empty], a_mask[empty] = ACTIVITY_EMPTY, p_conf[empty], p_mask[empty]
    present = presence == 1
    csi_moving, csi_still = present & (moving == 1), present & (moving == 0)
    wide = others >= 0.5
    walking = present & (vibration | (csi_moving & (wide | pir)) | (pir & np.isnan(moving)))
    gesture = csi_moving & ~walking
    stationary = present & ~walking & ~gesture & ~pir & (csi_still | (np.isnan(moving) & (p_mask & BIT["reed"] > 0)))
    for rows, label, conf in ((walking, WALKING, 0.7), (gesture, GESTURE, 0.6), (stationary, STATIONARY, 0.8)):
        activity[rows], a_conf[rows] = label, conf * p_conf[rows]
        a_mask[rows] = (p_mask[rows] | np.where(pir[rows], BIT["pir"], 0) | np.where(vibration[rows], BIT["vibration"], 0)
                        | np.where(np.isfinite(moving[rows]), BIT["csi_variance"], 0)
                        | np.where(np.isfinite(others[rows]), BIT["cross_node"], 0))

    # Entry / exit.
    e_value, e_conf, e_mask = np.zeros(n, np.int64), np.zeros(n), np.zeros(n, np.int64)
    regime = csi.regime_change if csi is not None else np.zeros(n, bool)
    doors = sorted({e.t for e in events if e.kind == "reed"})
    window = config.entry_window_s
    if doors:
        e_conf[:] = np.where(np.isfinite(presence), 0.5, 0.0)  # known: no transition, unless below
        e_mask[:] = np.where(np.isfinite(presence), BIT["reed"], 0)
        for d in doors:
            before = _state_near(times, presence, d - window - config.settle_s, d - 1.0)
            after = _state_near(times, presence, d + config.exit_lag_s, d + window + config.settle_s)
            if before is None or after is None or before == after:
                continue
            rows = np.abs(times - d) <= window
            pir_change = bool(np.any(signals.changed["pir"][np.abs(times - d) <= config.settle_s]))
            csi_change = bool(np.any(regime[rows]))
            e_value[rows] = ENTRY if after > before else EXIT
            e_conf[rows] = 0.6 + 0.2 * pir_change + 0.15 * csi_change
            e_mask[rows] = BIT["reed"] | (BIT["pir"] if pir_change else 0) | (BIT["csi_regime"] if csi_change else 0)
    elif csi is not None:
        for i in np.flatnonzero(regime & (np.diff(regime.astype(int), prepend=0) == 1)):
            before = _state_near(times, presence, times[i] - config.regime_window_s, times[i] - 1.0)
            after = _state_near(times, presence, times[i] + 1.0, times[i] + config.regime_window_s)
            if before is None or after is None or before == after:
                continue
            rows = np.abs(times - times[i]) <= window
            e_value[rows], e_conf[rows] = ENTRY if after > before else EXIT, 0.4
            e_mask[rows] = BIT["csi_regime"] | BIT["csi_presence"]

    # Breathing zone.
    z_value, z_conf, z_mask = np.full(n, -1, np.int64), np.zeros(n), np.zeros(n, np.int64)
    rate = signals.rate_per_min["humidity"]
    still_present = present & (activity == STATIONARY)
    near = still_present & (rate > config.humidity_rise_per_min)
    away = still_present & (rate <= 0)
    z_value[near], z_conf[near] = 1, 0.5 * p_conf[near]
    z_value[away], z_conf[away] = 0, 0.3 * p_conf[away]
    z_mask[near | away] = BIT["humidity"]
    return CameraFreeLabels(times, mode, presence, np.where(np.isnan(presence), 0.0, p_conf), p_mask,
                            activity, a_conf, a_mask, e_value, e_conf, e_mask, z_value, z_conf, z_mask)


def _state_near(times: np.ndarray, presence: np.ndarray, start: float, stop: float) -> float | None:
    """The majority known presence in ``[start, stop]`` (None when nothing is known there)."""
    rows = (times >= start) & (times <= stop) & np.isfinite(presence)
    if not rows.any():
        return None
    return float(np.mean(presence[rows]) >= 0.5)
