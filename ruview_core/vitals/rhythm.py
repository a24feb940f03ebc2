"""One slow rhythm in many noisy columns, found on some columns and checked on the others.

A body's breathing reaches only some subcarriers (those whose paths pass the chest); the rest
carry noise. So the columns most periodic at a frequency are the evidence, summarised per
frequency by the mean of the ``k`` largest column spectra there (each column normalised to
unit in-band power). Choosing the best columns and then asking how periodic they are always
says yes, so the columns are split into two interleaved folds: each fold finds its own rate,
and the confidence rests on how significant that rate is in the *other* fold, whose columns
were not chosen for it. The selection bias of "the best k at this frequency" is the same at
every frequency, so comparing the statistic at the rate with the rest of the band is fair.

Further checks, each a factor of the confidence in 0..1:
- prominence of the peak over the band median and its flanks (a sloping floor is no peak);
- time agreement: the first, middle and last half of the window find the same rate;
- harmonics: a rhythm whose third, half, double or triple is about as strong is ambiguous
  (alternating deep and shallow breaths read at half the rate, a pulse train's comb at any
  multiple).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import signal

from ..dsp.spectral import parabolic_peak
from .periodicity import band_pass, padded_periodogram, peak_significance, spectral_peak

TOP_K = 10
CANDIDATES = 3
MIN_CYCLES = 2.0
# The high-pass edge, as a share of the band's low end. Filtering drift (a random walk, 1/f^2)
# makes a hump just above the filter's edge; well below the band it cannot pass for a rate.
EDGE_SHARE = 0.5
# Robust z of the held-out statistic at a rate the other fold chose: noise at a fixed frequency
# stays below ~2.5 (it is not the maximum of the band); a rhythm goes far above.
HELD_OUT_Z_NOISE = 2.5
HELD_OUT_Z_SPAN = 4.0
# The peak over max(band median, flanks): 1.5 is reached by noise, clear rhythms reach 3+.
PROMINENCE_NOISE = 1.5
PROMINENCE_SPAN = 1.5
# A harmonic (half or double rate) at this share of the peak starts to cost confidence; at
# AMBIGUOUS_SHARE the rate is a coin toss between the two.
HARMONIC_SHARE = 0.6
AMBIGUOUS_SHARE = 1.0


@dataclass(frozen=True, slots=True)
class Rhythm:
    """``freq_hz`` (None if no interior peak), its ``confidence`` and the factors it is made of."""

    freq_hz: float | None
    confidence: float
    held_out: float = 0.0
    prominence: float = 0.0
    agreement: float = 0.0
    harmonic: float = 0.0


@dataclass(frozen=True, slots=True)
class BandSpectra:
    """Columns' spectra normalised to unit power in ``band``; ``bin_hz`` is one independent bin."""

    freqs: np.ndarray
    spectra: np.ndarray
    band: np.ndarray
    bin_hz: float

    def top_k(self, columns: np.ndarray | slice = slice(None), k: int = TOP_K) -> np.ndarray:
        """Per frequency, the mean of the ``k`` largest column spectra of ``columns``."""
        chosen = self.spectra[:, columns]
        k = max(1, min(k, chosen.shape[1]))
        return np.partition(chosen, chosen.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def band_filter(x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float) -> tuple[np.ndarray, float] | None:
    """Columns of real ``[T, M]`` ``x`` band-passed around ``[low_hz, high_hz]`` and decimated to
    what the band needs: ``(filtered, its rate)``, None if too short or not finite."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, np.newaxis]
    low_hz = max(low_hz, MIN_CYCLES * rate_hz / max(x.shape[0], 1))
    if x.shape[0] < 16 or low_hz >= high_hz or x.shape[1] == 0 or not np.isfinite(x).all():
        return None
    top = min(1.15 * high_hz, 0.45 * rate_hz)
    filtered = band_pass(x, rate_hz, EDGE_SHARE * low_hz, top)
    q = max(int(rate_hz // (2.5 * top)), 1)
    return filtered[::q], rate_hz / q


def filtered_spectra(filtered: np.ndarray, rate_hz: float, low_hz: float, high_hz: float,
                     pad_factor: int = 8) -> BandSpectra | None:
    """In-band spectra of already band-passed ``[T, M]`` columns, each normalised to unit power.

    The band starts no lower than ``MIN_CYCLES`` periods per window: a slower rhythm cannot be
    told from drift in it. Only the band's rows are kept."""
    n = filtered.shape[0]
    low_hz = max(low_hz, MIN_CYCLES * rate_hz / max(n, 1))
    if n < 8 or low_hz >= high_hz:
        return None
    freqs, spectra = padded_periodogram(filtered, rate_hz, pad_factor)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    if band.sum() < 3:
        return None
    spectra = spectra[band]
    totals = spectra.sum(axis=0)
    live = totals > 0
    if not live.any():
        return None
    return BandSpectra(freqs[band], spectra[:, live] / totals[live], np.ones(int(band.sum()), bool), rate_hz / n)


def band_spectra(x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float, pad_factor: int = 8) -> BandSpectra | None:
    """In-band spectra of the columns of real ``[T, M]`` ``x`` (:func:`band_filter`, then
    :func:`filtered_spectra`)."""
    filtered = band_filter(x, rate_hz, low_hz, high_hz)
    return None if filtered is None else filtered_spectra(*filtered, low_hz, high_hz, pad_factor)


def _level(statistic: np.ndarray, freqs: np.ndarray, freq: float) -> float:
    return float(np.interp(freq, freqs, statistic))


def _harmonic_factor(spectra: BandSpectra, statistic: np.ndarray, freq: float) -> float:
    """1 unless a peak at a third, half, double or triple the rate is comparable (0 when as
    strong): then the rate may be a harmonic, or a pulse train's comb."""
    height = _level(statistic, spectra.freqs, freq)
    peaks, _ = signal.find_peaks(statistic)
    peaks = peaks[spectra.band[peaks]]
    share = 0.0
    for other in (freq / 3.0, freq / 2.0, 2.0 * freq, 3.0 * freq):
        near = peaks[np.abs(spectra.freqs[peaks] - other) <= spectra.bin_hz]
        if near.size:
            share = max(share, float(statistic[near].max()) / max(height, 1e-300))
    return float(np.clip((AMBIGUOUS_SHARE - share) / (AMBIGUOUS_SHARE - HARMONIC_SHARE), 0.0, 1.0))


def _prominence(spectra: BandSpectra, statistic: np.ndarray, freq: float) -> float:
    """The peak's height over the higher of its two bases (the lowest point on each side before
    higher ground or the band's edge) or the band median, mapped to 0..1. A bump on a sloping
    floor (drift, a random walk) has a high base; a peak beside the drift skirt at the band's
    edge is judged by the valley between them."""
    inside = statistic[spectra.band]
    i = int(np.argmin(np.abs(spectra.freqs[spectra.band] - freq)))
    height = float(inside[i])
    left = inside[: i + 1][::-1]
    right = inside[i:]
    bases = []
    for side in (left, right):
        higher = np.flatnonzero(side > height)
        stretch = side[: higher[0]] if higher.size else side
        bases.append(float(stretch.min()))
    ratio = height / max(float(np.median(inside)), max(bases), 1e-300)
    return float(np.clip((ratio - PROMINENCE_NOISE) / PROMINENCE_SPAN, 0.0, 1.0))


def _time_agreement(filtered: np.ndarray, rate_hz: float, low_hz: float, high_hz: float, freq: float, k: int,
                    cache: dict) -> float:
    """Share of three slices of the band-passed window (start, middle, end) whose own rate is
    within 1.5 of their bins. Slices are half the window, longer (up to three quarters) where
    half would hold fewer than ``MIN_CYCLES`` + 1 periods of ``freq``."""
    n = filtered.shape[0]
    length = int(min(max(n // 2, np.ceil((MIN_CYCLES + 1) * rate_hz / freq)), 3 * n // 4))
    votes = []
    for start in (0, (n - length) // 2, n - length):
        if (start, length) not in cache:
            cache[start, length] = filtered_spectra(filtered[start : start + length], rate_hz, low_hz, high_hz)
        part = cache[start, length]
        found = None if part is None else spectral_peak(part.freqs, part.top_k(slice(None), k), part.band)
        votes.append(found is not None and abs(found - freq) <= 1.5 * part.bin_hz)
    return float(np.mean(votes))


def _candidates(spectra: BandSpectra, statistic: np.ndarray, n: int) -> list[float]:
    """The ``n`` highest interior peaks of ``statistic`` in the band, between bins."""
    peaks, _ = signal.find_peaks(statistic)
    peaks = peaks[spectra.band[peaks]]
    found = []
    for i in peaks[np.argsort(statistic[peaks])[::-1][:n]]:
        position, _ = parabolic_peak(statistic, int(i))
        found.append(float(np.interp(position, np.arange(spectra.freqs.size), spectra.freqs)))
    return found


def _held_out_z(spectra: BandSpectra, freq: float, k: int) -> float:
    """Robust z at ``freq`` of one fold's columns, where the other fold found ``freq`` on its
    own (the larger of the two ways round; 0 if neither fold found it)."""
    m = spectra.spectra.shape[1]
    if m < 4:
        return peak_significance(spectra.freqs, spectra.top_k(slice(None), k), spectra.band, freq, spectra.bin_hz)
    folds = (np.arange(0, m, 2), np.arange(1, m, 2))
    best = 0.0
    for chosen, other in (folds, folds[::-1]):
        found = _candidates(spectra, spectra.top_k(chosen, max(k // 2, 1)), CANDIDATES)
        if any(abs(f - freq) <= 1.5 * spectra.bin_hz for f in found):
            z = peak_significance(spectra.freqs, spectra.top_k(other, max(k // 2, 1)), spectra.band, freq, spectra.bin_hz)
            best = max(best, z)
    return best


def _judge(filtered: np.ndarray, spectra: BandSpectra, statistic: np.ndarray, freq: float,
           rate_hz: float, low_hz: float, high_hz: float, k: int, cache: dict) -> tuple[Rhythm, float]:
    """Confidence that ``freq`` is the rhythm of the ``k`` most periodic columns, and its held-out z."""
    z = _held_out_z(spectra, freq, k)
    held_out = float(np.clip((z - HELD_OUT_Z_NOISE) / HELD_OUT_Z_SPAN, 0.0, 1.0))
    prominence = _prominence(spectra, statistic, freq)
    harmonic = _harmonic_factor(spectra, statistic, freq)
    if held_out == 0.0 or prominence == 0.0 or harmonic == 0.0:
        return Rhythm(freq, 0.0, held_out, prominence, 0.0, harmonic), z
    agreement = _time_agreement(filtered, rate_hz, low_hz, high_hz, freq, k, cache)
    return Rhythm(freq, held_out * prominence * agreement * harmonic, held_out, prominence, agreement, harmonic), z


def find_rhythm(x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float, k: int | None = None,
                penalty: Callable[[float], float] | None = None) -> Rhythm:
    """The rhythm shared by the most periodic columns of real uniformly sampled ``[T, M]`` ``x``.

    How many columns carry it is not known: a rhythm may reach a few subcarriers strongly or
    all of them weakly. Unless ``k`` is given, ``TOP_K``, a quarter and all of the columns are
    tried. The ``CANDIDATES`` highest peaks of each are judged (postural sway or an interferer
    may stand taller than the breathing), and the surest answer is kept, then the one most
    significant on held-out columns. ``penalty`` (frequency -> 0..1) scales each candidate's
    confidence (a rhythm known to be the receiver's own gets 0).
    """
    prepared = band_filter(x, rate_hz, low_hz, high_hz)
    spectra = None if prepared is None else filtered_spectra(*prepared, low_hz, high_hz)
    if spectra is None:
        return Rhythm(None, 0.0)
    filtered, rate = prepared
    m = spectra.spectra.shape[1]
    judged = []
    cache: dict = {}
    for size in [k] if k is not None else sorted({min(TOP_K, m), max(m // 4, 1), m}):
        statistic = spectra.top_k(slice(None), size)
        for f in _candidates(spectra, statistic, CANDIDATES):
            rhythm, z = _judge(filtered, spectra, statistic, f, rate, low_hz, high_hz, size, cache)
            if penalty is not None and rhythm.confidence > 0:
                rhythm = replace(rhythm, confidence=rhythm.confidence * penalty(f))
            judged.append((rhythm, z))
    if not judged:
        return Rhythm(None, 0.0)
    return max(judged, key=lambda pair: (pair[0].confidence, pair[1]))[0]
