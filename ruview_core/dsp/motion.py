"""Motion energy: how much the channel changes within a window."""

from __future__ import annotations

import numpy as np


def normalised_amplitude(amplitude: np.ndarray) -> np.ndarray:
    """``[T, S]`` amplitude divided by each subcarrier's mean over time.

    Makes subcarriers of different strength comparable and turns a gain change into a
    relative one.
    """
    amplitude = np.asarray(amplitude, dtype=np.float64)
    mean = amplitude.mean(axis=0, keepdims=True)
    return amplitude / np.maximum(mean, 1e-12)


def motion_energy(amplitude: np.ndarray, phase: np.ndarray | None = None) -> float:
    """Mean over subcarriers of the temporal variance of the first differences of the signal.

    ``amplitude`` is ``[T, S]`` (normalised per subcarrier here); ``phase`` optionally adds the
    same measure on sanitised phase (radians, ``[T, S]``). Differencing makes the score track
    change *rate*: body motion moves the channel from one frame to the next, while slow
    drifts and breathing barely do, and a constant offset does not count at all.
    """
    amplitude = np.asarray(amplitude, dtype=np.float64)
    if amplitude.shape[0] < 3:
        return 0.0
    energy = float(np.mean(np.var(np.diff(normalised_amplitude(amplitude), axis=0), axis=0)))
    if phase is not None:
        phase = np.asarray(phase, dtype=np.float64)
        step = np.angle(np.exp(1j * np.diff(phase, axis=0)))  # wrap so a 2*pi flip is no motion
        energy += float(np.mean(np.var(step, axis=0)))
    return energy


def motion_index(x: np.ndarray, block: int = 4) -> float:
    """Scale-free motion score of a ``[T, M]`` window: slow variance over fast variance.

    Block averages of ``block`` samples keep changes slower than a few hertz (a body
    moving) and suppress white noise ``block`` times; half the variance of first
    differences measures the white noise alone. Their ratio, scaled so that pure noise
    gives 1, needs no calibration: it is about 1.2 for a still scene (interpolation makes
    noise slightly smooth) and several times that while someone walks.
    """
    x = np.asarray(x, dtype=np.float64)
    n = (x.shape[0] // block) * block
    if n < 2 * block:
        return 0.0
    blocks = x[:n].reshape(n // block, block, -1).mean(axis=1)
    slow = float(np.var(blocks, axis=0).sum())
    noise = float(np.var(np.diff(x, axis=0), axis=0).sum()) / 2.0 / block
    return slow / noise if noise > 0 else 0.0


def motion_energy_series(amplitude: np.ndarray, window: int) -> np.ndarray:
    """Motion energy of consecutive non-overlapping ``window``-frame blocks of ``[T, S]`` amplitude."""
    amplitude = np.asarray(amplitude, dtype=np.float64)
    n = amplitude.shape[0] // window
    return np.array([motion_energy(amplitude[i * window : (i + 1) * window]) for i in range(n)])
