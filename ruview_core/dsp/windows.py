"""Sliding windows as strided views (no copies)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def sliding_windows(x: np.ndarray, length: int, step: int = 1, axis: int = 0) -> np.ndarray:
    """Windows of ``length`` samples every ``step`` samples along ``axis``, as a read-only view.

    The result has the window count at ``axis`` and the within-window time right after it,
    e.g. ``[T, S] -> [n_windows, length, S]`` for ``axis=0``. Fewer than ``length`` samples
    give zero windows.
    """
    x = np.asarray(x)
    axis = axis % x.ndim
    if length < 1 or step < 1:
        raise ValueError("length and step must be positive")
    if x.shape[axis] < length:
        shape = list(x.shape)
        shape[axis : axis + 1] = [0, length]
        return np.empty(shape, dtype=x.dtype)
    view = sliding_window_view(x, length, axis=axis)
    view = np.moveaxis(view, -1, axis + 1)
    index = [slice(None)] * view.ndim
    index[axis] = slice(None, None, step)
    return view[tuple(index)]
