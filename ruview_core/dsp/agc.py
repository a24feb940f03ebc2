"""Automatic gain control steps: sudden common-mode jumps of all subcarriers' amplitude."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class GainStep:
    """The amplitude of every subcarrier jumps by ``ratio`` between frames ``index - 1`` and ``index``."""

    index: int
    ratio: float

    @property
    def db(self) -> float:
        return float(20.0 * np.log10(self.ratio))


def detect_gain_steps(
    amplitude: np.ndarray,
    min_db: float = 1.0,
    max_spread: float = 0.35,
    settle: int = 8,
    jitter_sigmas: float = 5.0,
) -> list[GainStep]:
    """Find AGC gain steps in ``[T, S]`` amplitude (usable subcarriers only).

    A gain step scales every subcarrier by the same factor at once and for good, whereas a
    moving body changes subcarriers by different amounts and packet-to-packet gain jitter
    (about 0.5 dB on ESP32-S3) does not persist. A frame starts a step when

    1. the median over subcarriers of the log-amplitude change is at least ``min_db`` and
       ``jitter_sigmas`` robust standard deviations of that frame-to-frame change;
    2. the subcarriers agree: their spread (MAD) is below ``max_spread`` times the step;
    3. the level holds: the median log level over the ``settle`` frames after differs from
       the ``settle`` frames before by at least ``min_db`` in the same direction.
    """
    amplitude = np.asarray(amplitude, dtype=np.float64)
    if amplitude.ndim != 2 or amplitude.shape[0] < 2:
        return []
    log_amp = np.log(np.maximum(amplitude, 1e-6))
    change = np.diff(log_amp, axis=0)
    common = np.median(change, axis=1)
    spread = _MAD_TO_SIGMA * np.median(np.abs(change - common[:, np.newaxis]), axis=1)
    jitter = _MAD_TO_SIGMA * np.median(np.abs(common - np.median(common)))
    threshold = max(min_db / 20.0 * np.log(10.0), jitter_sigmas * jitter)
    candidates = np.flatnonzero((np.abs(common) >= threshold) & (spread <= max_spread * np.abs(common)))

    level = np.median(log_amp, axis=1)
    held_threshold = min_db / 20.0 * np.log(10.0)
    steps: list[GainStep] = []
    for c in candidates:
        index = int(c) + 1
        before = level[max(index - settle, 0) : index]
        after = level[index : index + settle]
        held = float(np.median(after) - np.median(before))
        if np.sign(held) == np.sign(common[c]) and abs(held) >= held_threshold:
            # The held level is a better size estimate than one frame's change, which carries jitter.
            steps.append(GainStep(index, float(np.exp(held))))
    return steps


def remove_gain_steps(amplitude: np.ndarray, steps: list[GainStep]) -> np.ndarray:
    """Divide out each step from its frame onwards so the whole series shares frame 0's gain.

    Works for amplitude ``[T, ...]`` and for complex CSI alike (a gain is a real factor).
    """
    data = np.asarray(amplitude)
    gain = np.ones(data.shape[0])
    for step in steps:
        gain[step.index :] *= step.ratio
    shape = (data.shape[0],) + (1,) * (data.ndim - 1)
    return data / gain.reshape(shape)
