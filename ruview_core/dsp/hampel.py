"""Hampel outlier filter."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# MAD of a normal distribution times this is its standard deviation.
_MAD_TO_SIGMA = 1.4826


def hampel(
    x: np.ndarray,
    half_window: int = 3,
    n_sigmas: float = 3.0,
    axis: int = 0,
    floor: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Replace outliers by the local median; returns ``(filtered, outlier_mask)``.

    A sample is an outlier when it is more than ``n_sigmas`` robust standard deviations
    (1.4826 x median absolute deviation) from the median of the ``2 * half_window + 1``
    samples centred on it, and further than ``floor`` (which keeps quantised signals, whose MAD
    is often zero, from losing every small step). Edges are handled by reflecting the signal. Real input only.
    """
    x = np.asarray(x, dtype=np.float64)
    if half_window < 1 or x.shape[axis] < 2:
        return x.copy(), np.zeros(x.shape, dtype=bool)
    moved = np.moveaxis(x, axis, -1)
    # Reflection needs more samples than the pad; very short signals repeat their edges.
    mode = "reflect" if moved.shape[-1] > half_window else "edge"
    widths = [(0, 0)] * (moved.ndim - 1) + [(half_window, half_window)]
    padded = np.pad(moved, widths, mode=mode)
    windows = sliding_window_view(padded, 2 * half_window + 1, axis=-1)
    median = np.median(windows, axis=-1)
    mad = np.median(np.abs(windows - median[..., np.newaxis]), axis=-1)
    outliers = np.abs(moved - median) > np.maximum(n_sigmas * _MAD_TO_SIGMA * mad, floor)
    filtered = np.where(outliers, median, moved)
    return np.moveaxis(filtered, -1, axis), np.moveaxis(outliers, -1, axis)
