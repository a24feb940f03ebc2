"""Breathing pauses: an established rhythm that stops for at least ``MIN_PAUSE_S`` seconds.

A pause is only meaningful against a rhythm that was there: once a window commits a
breathing rate, the columns that carry it (the most periodic at that rate) and their level
in a band around it are the reference. The rhythm's envelope (moving RMS of those columns
around the rate, each over its reference level) falling below ``PAUSE_RATIO`` of the
reference for ``MIN_PAUSE_S`` is a pause; it lasts until the envelope comes back. Without an
established rhythm nothing is said (an empty room or a person whose breathing the link does
not see has no pauses to report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .breathing import breathing_columns, estimate_breathing
from .periodicity import band_pass
from .rhythm import TOP_K, band_spectra

MIN_PAUSE_S = 10.0
# The rhythm's envelope at this share of its reference level counts as stopped.
PAUSE_RATIO = 0.4
REFERENCE_S = 30.0
HOP_S = 2.0


@dataclass(frozen=True, slots=True)
class RhythmReference:
    """What an established rhythm looked like: its rate, the columns that carry it and their level."""

    freq_hz: float
    columns: np.ndarray
    level: np.ndarray


def _rhythm_band(freq_hz: float, rate_hz: float) -> tuple[float, float]:
    return 0.6 * freq_hz, min(1.6 * freq_hz, 0.45 * rate_hz)


def _envelope_seconds(freq_hz: float) -> float:
    """Long enough to hold a breath and a half, short enough to see a 10 s stop."""
    return float(np.clip(1.5 / freq_hz, 3.0, 8.0))


def _moving_rms(x: np.ndarray, n: int) -> np.ndarray:
    kernel = np.ones(max(n, 1)) / max(n, 1)
    return np.sqrt(np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="same"), 0, x**2))


def rhythm_reference(columns: np.ndarray, rate_hz: float, freq_hz: float, k: int = TOP_K) -> RhythmReference | None:
    """The reference of a uniformly sampled ``[T, M]`` window in which ``freq_hz`` was committed."""
    low, high = _rhythm_band(freq_hz, rate_hz)
    spectra = band_spectra(columns, rate_hz, low, high)
    if spectra is None:
        return None
    near = np.abs(spectra.freqs - freq_hz) <= spectra.bin_hz
    share = spectra.spectra[near].sum(axis=0)
    chosen = np.argsort(share)[::-1][: max(1, min(k, share.size))]
    filtered = band_pass(columns[:, chosen], rate_hz, low, high)
    level = np.sqrt(np.mean(filtered**2, axis=0))
    return RhythmReference(freq_hz, chosen, np.maximum(level, 1e-12))


def rhythm_envelope(columns: np.ndarray, rate_hz: float, reference: RhythmReference) -> np.ndarray:
    """The reference rhythm's strength over time in ``[T, M]`` columns, 1 = as when established."""
    low, high = _rhythm_band(reference.freq_hz, rate_hz)
    filtered = band_pass(columns[:, reference.columns], rate_hz, low, high) / reference.level
    n = int(round(_envelope_seconds(reference.freq_hz) * rate_hz))
    return np.median(_moving_rms(filtered, n), axis=1)


def current_pause(columns: np.ndarray, rate_hz: float, reference: RhythmReference,
                  min_pause_s: float = MIN_PAUSE_S) -> float | None:
    """Seconds the rhythm has been stopped at the end of ``[T, M]`` columns (None: it has not, or
    for less than ``min_pause_s``). The envelope blurs each edge by half its length, which is
    added back to the run."""
    below = rhythm_envelope(columns, rate_hz, reference) < PAUSE_RATIO
    # The last half envelope is still filling: judge the run up to there.
    edge = int(round(_envelope_seconds(reference.freq_hz) * rate_hz / 2))
    judged = below[: max(below.size - edge, 0)]
    if judged.size == 0 or not judged[-1]:
        return None
    above = np.flatnonzero(~judged)
    run = judged.size - (int(above[-1]) + 1 if above.size else 0)
    seconds = (run + 2 * edge) / rate_hz
    return seconds if seconds >= min_pause_s else None


# A pause ends once this many checks in a row find the rhythm back: one check can catch a brief
# swell of the envelope in the middle of a long hold, which would split it in two.
END_AFTER_CHECKS = 2


class PauseTracker:
    """One node's pause state between estimates: the reference its last committed rate set and
    the pause under way (``started``, stream seconds).

    :meth:`establish` after every estimate (renews the reference while no pause is under way),
    :meth:`check` every ``HOP_S`` on the last ``REFERENCE_S`` seconds of the same columns;
    :meth:`reset` when the scene changes (motion, nobody there): the old reference no longer holds.
    A pause ends at the first check that found the rhythm back, once ``end_after`` checks in a
    row did (``ended`` is then its ``(start, end)``).
    """

    def __init__(self, min_pause_s: float = MIN_PAUSE_S, end_after: int = END_AFTER_CHECKS) -> None:
        self.min_pause_s = min_pause_s
        self.end_after = end_after
        self.reference: RhythmReference | None = None
        self.confidence = 0.0  # of the estimate that set the reference
        self.started: float | None = None
        self.ended: tuple[float, float] | None = None  # the last pause that ended
        self._back_since: float | None = None  # the first check of this pause that found the rhythm back
        self._back_checks = 0

    def reset(self) -> None:
        self.reference, self.confidence, self.started = None, 0.0, None
        self._back_since, self._back_checks = None, 0

    @property
    def ending(self) -> bool:
        """The last check found the rhythm back, but the pause has not ended yet."""
        return self._back_since is not None

    def establish(self, recent: np.ndarray, rate_hz: float, bpm: float | None, confidence: float) -> None:
        """A new estimate over the window ending with ``recent`` columns: a committed ``bpm`` renews the reference."""
        if bpm is None or self.started is not None:
            return
        reference = rhythm_reference(recent, rate_hz, bpm / 60.0)
        if reference is not None:
            self.reference, self.confidence = reference, confidence

    def check(self, end: float, recent: np.ndarray, rate_hz: float) -> float | None:
        """Seconds the pause under way at ``end`` has lasted (None: none); ``recent`` are the
        columns of the last ``REFERENCE_S`` seconds before ``end``. While its end is being
        confirmed, the seconds up to the first check that found the rhythm back."""
        paused = None if self.reference is None else current_pause(recent, rate_hz, self.reference, self.min_pause_s)
        if paused is not None:
            self.started = end - paused if self.started is None else self.started
            self._back_since, self._back_checks = None, 0
            return end - self.started
        if self.started is None:
            return None
        self._back_since = end if self._back_since is None else self._back_since
        self._back_checks += 1
        if self._back_checks < self.end_after:
            return self._back_since - self.started
        self.ended = (self.started, self._back_since)
        self.started, self._back_since, self._back_checks = None, None, 0
        return None


def find_pauses(csi: np.ndarray, times: np.ndarray, rate_hz: float, *, gain: np.ndarray | None = None,
                min_pause_s: float = MIN_PAUSE_S, hop_s: float = HOP_S) -> list[tuple[float, float]]:
    """``(start_s, end_s)`` of every pause in a recording of packets (``csi`` ``[N, ...]`` at ``times``).

    Replays it as the product would (:class:`PauseTracker`): every ``hop_s`` the last
    ``REFERENCE_S`` seconds are estimated; a committed rate establishes (or renews) the reference
    while no pause is under way; a pause is reported from when its rhythm stopped until it is back.
    """
    times = np.asarray(times, dtype=np.float64) - float(np.min(times))
    grid = breathing_columns(csi, rate_hz, times=times)
    tracker = PauseTracker(min_pause_s)
    pauses: list[tuple[float, float]] = []
    for end in np.arange(REFERENCE_S, times[-1] + 1e-9, hop_s):
        stop = int(end * rate_hz)
        recent = grid[max(stop - int(REFERENCE_S * rate_hz), 0): stop]
        ended = tracker.ended
        if tracker.check(float(end), recent, rate_hz) is not None:
            continue
        if tracker.ended is not ended:
            pauses.append(tracker.ended)
        rows = (times >= end - REFERENCE_S) & (times < end)
        estimate = estimate_breathing(csi[rows], rate_hz, times=times[rows],
                                      gain=None if gain is None else gain[rows])
        tracker.establish(recent, rate_hz, estimate.bpm, estimate.confidence)
    if tracker.started is not None:
        pauses.append((tracker.started, float(times[-1])))
    return pauses
