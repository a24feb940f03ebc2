"""Resampling jittered frame times onto a uniform grid, without bridging long gaps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class UniformSeries:
    """Samples on a uniform time grid.

    ``values`` is ``[n, ...]``; rows where ``valid`` is False fall inside a gap and hold NaN.
    ``gaps`` lists each ``(last_time_before, first_time_after)`` pair further apart than the
    allowed gap.
    """

    times: np.ndarray
    values: np.ndarray
    valid: np.ndarray
    rate_hz: float
    gaps: list[tuple[float, float]] = field(default_factory=list)

    def longest_valid_run(self) -> slice:
        """Slice of the longest stretch of consecutive valid samples."""
        return longest_true_run(self.valid)


def longest_true_run(mask: np.ndarray) -> slice:
    """Slice covering the longest run of True in a 1-D boolean array (empty slice if none)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return slice(0, 0)
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    best = int(np.argmax(stops - starts))
    return slice(int(starts[best]), int(stops[best]))


def resample_uniform(
    timestamps: np.ndarray,
    values: np.ndarray,
    rate_hz: float,
    max_gap: float = 0.5,
    start: float | None = None,
    stop: float | None = None,
    method: str = "linear",
) -> UniformSeries:
    """Linearly interpolate ``values`` (``[n, ...]``, real or complex) onto a ``rate_hz`` grid.

    Timestamps may be jittered, unsorted or repeated (repeats keep the last sample). The grid
    runs from ``start`` (default: first timestamp) while ``<= stop`` (default: last). Grid
    points between two samples further apart than ``max_gap`` seconds, or outside the data,
    are marked invalid instead of being invented. ``method="nearest"`` takes the closest
    sample instead of mixing two (for data whose samples must not be blended, such as raw
    CSI with a random phase offset per packet).
    """
    if method not in ("linear", "nearest"):
        raise ValueError(f"unknown method {method!r}")
    if rate_hz <= 0:
        raise ValueError("rate_hz must be positive")
    timestamps = np.asarray(timestamps, dtype=np.float64)
    values = np.asarray(values)
    if timestamps.ndim != 1 or values.shape[:1] != timestamps.shape:
        raise ValueError("values must have one row per timestamp")
    dtype = np.result_type(values.dtype, np.float64)
    order = np.argsort(timestamps, kind="stable")
    timestamps, values = timestamps[order], values[order]
    keep = np.append(np.diff(timestamps) > 0, True) if timestamps.size else np.zeros(0, bool)
    timestamps, values = timestamps[keep], values[keep]
    if timestamps.size == 0:
        empty = np.zeros((0,) + values.shape[1:], dtype=dtype)
        return UniformSeries(np.zeros(0), empty, np.zeros(0, bool), rate_hz, [])

    t0 = timestamps[0] if start is None else float(start)
    t1 = timestamps[-1] if stop is None else float(stop)
    n = max(int(np.floor((t1 - t0) * rate_hz + 1e-9)) + 1, 0)
    grid = t0 + np.arange(n) / rate_hz

    step = np.diff(timestamps)
    gap_at = np.flatnonzero(step > max_gap)
    gaps = [(float(timestamps[i]), float(timestamps[i + 1])) for i in gap_at]

    right = np.clip(np.searchsorted(timestamps, grid, side="left"), 1, max(timestamps.size - 1, 1))
    left = right - 1
    if timestamps.size == 1:
        right = left = np.zeros_like(right)
        weight = np.zeros(n)
    else:
        span = timestamps[right] - timestamps[left]
        weight = np.clip((grid - timestamps[left]) / span, 0.0, 1.0)
    inside = (grid >= timestamps[0] - 1e-9) & (grid <= timestamps[-1] + 1e-9)
    # A grid point landing exactly on a sample is real data even at a gap's edge.
    on_sample = (weight <= 0.0) | (weight >= 1.0)
    if method == "nearest":
        weight = np.where(weight < 0.5, 0.0, 1.0)
    bridged = ((timestamps[right] - timestamps[left]) > max_gap) & ~on_sample
    valid = inside & ~bridged
    expand = (slice(None),) + (np.newaxis,) * (values.ndim - 1)
    w = weight[expand]
    out = values[left].astype(dtype) * (1.0 - w) + values[right].astype(dtype) * w
    out[~valid] = np.nan
    return UniformSeries(grid, out, valid, float(rate_hz), gaps)
