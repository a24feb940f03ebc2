"""Label events on the CSI's clock: each sensor's evidence for every window or frame time.

A binary sensor (PIR, door contact, vibration) holds its state until its next event, so a
window ``(t - window_s, t]`` saw it active when it was on at the window's start or turned on
inside it. Temperature and humidity are slow, irregular readings: they are interpolated (never
across a gap longer than ``max_gap_s``) and their rate of change is the least-squares slope of
the readings over the trailing ``rate_window_s``. Where a sensor has nothing to say the value is
NaN, never a guess.

``offset_s`` is added to every event time first: Home Assistant and the add-on normally share a
clock (0), a Seed on its own clock may not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .events import BINARY_KINDS, CONTINUOUS_KINDS, LabelEvent

DEFAULT_WINDOW_S = 1.0
RATE_WINDOW_S = 300.0
MAX_GAP_S = 900.0
MIN_RATE_SPAN_S = 60.0


@dataclass(frozen=True)
class AlignedSignals:
    """Per time in ``times``: ``active[kind]`` 1/0 (NaN before the sensor's first event),
    ``changed[kind]`` True where a binary sensor changed state inside the window, ``level[kind]``
    and ``rate_per_min[kind]`` for temperature / humidity (NaN where unknown)."""

    times: np.ndarray
    active: dict[str, np.ndarray] = field(default_factory=dict)
    changed: dict[str, np.ndarray] = field(default_factory=dict)
    level: dict[str, np.ndarray] = field(default_factory=dict)
    rate_per_min: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The sensor kinds that said anything at all about these times."""
        seen = [k for k, v in self.active.items() if np.isfinite(v).any()]
        seen += [k for k, v in self.level.items() if np.isfinite(v).any()]
        return tuple(seen)

    def take(self, rows: np.ndarray) -> AlignedSignals:
        return AlignedSignals(self.times[rows], {k: v[rows] for k, v in self.active.items()},
                              {k: v[rows] for k, v in self.changed.items()},
                              {k: v[rows] for k, v in self.level.items()},
                              {k: v[rows] for k, v in self.rate_per_min.items()})


def _series(events: Iterable[LabelEvent], kind: str, offset_s: float) -> tuple[np.ndarray, np.ndarray]:
    pairs = sorted((e.t + offset_s, e.value) for e in events if e.kind == kind)
    if not pairs:
        return np.zeros(0), np.zeros(0)
    table = np.array(pairs, dtype=np.float64)
    return table[:, 0], table[:, 1]


def binary_activity(stamps: np.ndarray, values: np.ndarray, starts: np.ndarray,
                    ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(active, changed) of a held binary state over intervals ``(start, end]``.

    ``active`` is 1 when the state was on at any moment of the interval, 0 when it was off
    throughout, NaN when the sensor had not reported yet at the interval's end.
    """
    active = np.full(starts.size, np.nan)
    changed = np.zeros(starts.size, bool)
    if stamps.size == 0:
        return active, changed
    on = values > 0.5
    # Index of the last event at or before a time (-1: none yet).
    at_start = np.searchsorted(stamps, starts, side="right") - 1
    at_end = np.searchsorted(stamps, ends, side="right") - 1
    on_prefix = np.concatenate([[0], np.cumsum(on)])
    # Events strictly inside the interval, and whether any of them turns the state on.
    inside_on = on_prefix[at_end + 1] - on_prefix[at_start + 1] > 0
    state_at_start = np.where(at_start >= 0, on[np.maximum(at_start, 0)], False)
    known = at_end >= 0
    active[known] = (state_at_start | inside_on)[known].astype(float)
    transitions = np.concatenate([[0], np.cumsum(np.diff(on.astype(int)) != 0)])
    before = np.where(at_start >= 0, transitions[np.maximum(at_start, 0)], 0)
    changed = known & (transitions[np.maximum(at_end, 0)] > before)
    # The first event of a sensor inside the window is news, not a change of a known state.
    changed &= at_start >= 0
    return active, changed


def interpolate_level(stamps: np.ndarray, values: np.ndarray, times: np.ndarray,
                      max_gap_s: float = MAX_GAP_S) -> np.ndarray:
    """Linear interpolation between readings; NaN outside them or across a longer gap."""
    out = np.full(times.size, np.nan)
    if stamps.size == 0:
        return out
    if stamps.size == 1:
        out[np.abs(times - stamps[0]) <= max_gap_s / 2] = values[0]
        return out
    right = np.clip(np.searchsorted(stamps, times, side="left"), 1, stamps.size - 1)
    gap = stamps[right] - stamps[right - 1]
    inside = (times >= stamps[0]) & (times <= stamps[-1]) & (gap <= max_gap_s)
    out[inside] = np.interp(times[inside], stamps, values)
    return out


def trailing_slope(stamps: np.ndarray, values: np.ndarray, times: np.ndarray, window_s: float = RATE_WINDOW_S,
                   min_span_s: float = MIN_RATE_SPAN_S) -> np.ndarray:
    """Least-squares slope per minute of the readings in ``(t - window_s, t]`` for each time
    (NaN with fewer than 2 readings or when they span less than ``min_span_s``)."""
    out = np.full(times.size, np.nan)
    if stamps.size < 2:
        return out
    t0 = stamps[0]
    s = stamps - t0
    prefix = [np.concatenate([[0.0], np.cumsum(x)]) for x in (np.ones_like(s), s, values, s * s, s * values)]
    lo = np.searchsorted(stamps, times - window_s, side="right")
    hi = np.searchsorted(stamps, times, side="right")
    n, sx, sy, sxx, sxy = (p[hi] - p[lo] for p in prefix)
    span = np.where(hi - lo >= 2, stamps[np.maximum(hi - 1, 0)] - stamps[np.minimum(lo, stamps.size - 1)], 0.0)
    denominator = n * sxx - sx * sx
    ok = (hi - lo >= 2) & (span >= min_span_s) & (denominator > 1e-12)
    out[ok] = (n * sxy - sx * sy)[ok] / denominator[ok] * 60.0
    return out


def align_events(events: Sequence[LabelEvent], times: np.ndarray, *, window_s: float = DEFAULT_WINDOW_S,
                 rate_window_s: float = RATE_WINDOW_S, max_gap_s: float = MAX_GAP_S,
                 offset_s: float = 0.0) -> AlignedSignals:
    """Every sensor kind's evidence at ``times`` (window or frame end times, seconds)."""
    times = np.asarray(times, dtype=np.float64)
    out = AlignedSignals(times)
    for kind in BINARY_KINDS:
        stamps, values = _series(events, kind, offset_s)
        out.active[kind], out.changed[kind] = binary_activity(stamps, values, times - window_s, times)
    for kind in CONTINUOUS_KINDS:
        stamps, values = _series(events, kind, offset_s)
        out.level[kind] = interpolate_level(stamps, values, times, max_gap_s)
        out.rate_per_min[kind] = trailing_slope(stamps, values, times, rate_window_s)
    return out


def align_to_rows(events: Sequence[LabelEvent], times: np.ndarray, sessions: np.ndarray | None = None,
                  session_offsets: dict[int, float] | None = None, **options) -> AlignedSignals:
    """:func:`align_events` for the rows of a training set, one clock offset per session
    (recordings replayed from different days share one event log)."""
    times = np.asarray(times, dtype=np.float64)
    if sessions is None or not session_offsets:
        return align_events(events, times, **options)
    shifted = times - np.array([session_offsets.get(int(s), 0.0) for s in sessions])
    aligned = align_events(events, shifted, **options)
    return AlignedSignals(times, aligned.active, aligned.changed, aligned.level, aligned.rate_per_min)
