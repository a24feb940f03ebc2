"""Finding one rhythm shared by many noisy columns, with an honest confidence.

Breathing seen through WiFi is weak: at 25 dB SNR a single subcarrier's share of it is
below the noise in the band. Every subcarrier sees the same rate, though, so the power
spectra of all columns are summed (``power``), which keeps the peak where it is while the
noise floor averages out. Confidence asks three questions: does the peak stand out of the
floor more than noise peaks do (a robust z-score and a height over the median), does the
scene look still, and do independent halves of the data
(disjoint column halves, shorter time slices) find the same peak? Noise peaks fail the
second test even when they are tall; a walking person fails it too, since motion is not
periodic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal

from ..dsp.spectral import parabolic_peak

COMBINERS = ("power", "spectrum", "pca")
# Peaks of pure noise reach a robust z of about 3.5 in a 0.1-0.5 Hz band; clear rhythms go far above.
Z_NOISE = 3.5
Z_SPAN = 6.0
# With many columns the floor is so even that a small bump has a large z, so the peak must
# also stand PROMINENCE_NOISE times above the band's median and above both its flanks
# (empty rooms stay below ~1.4).
PROMINENCE_NOISE = 1.5
PROMINENCE_SPAN = 1.0
# Spectral density at 0.7-2.5 Hz over that at 3.5-6 Hz: about 1.13 for a still scene on the
# simulator (noise, shaped by resampling), 1.26 and up for a walking person, whose motion
# fills the low band with power that is not periodic.
MOTION_BANDS_HZ = ((0.7, 2.5), (3.5, 6.0))
MOTION_RATIO_STILL = 1.22
MOTION_RATIO_MOVING = 1.30


@dataclass(frozen=True, slots=True)
class VitalSignEstimate:
    """A rate estimate: ``bpm`` is None when ``confidence`` is below the caller's threshold.

    ``raw_bpm`` keeps the best peak found whatever its confidence (for diagnostics);
    ``feature`` and ``combiner`` say how it was obtained.
    """

    bpm: float | None
    confidence: float
    feature: str
    combiner: str = "power"
    raw_bpm: float | None = None


def band_pass(x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth band-pass along axis 0 (linear trend removed first).

    A steep low edge matters: postural sway and drift sit just below the slowest breathing
    rates and are stronger than the breathing itself.
    """
    x = detrend_linear(x)
    nyquist = rate_hz / 2.0
    high = min(high_hz, 0.95 * nyquist)
    sos = signal.butter(order, [low_hz / nyquist, high / nyquist], btype="bandpass", output="sos")
    padlen = min(3 * (2 * order + 1) * 2, x.shape[0] - 1)
    return signal.sosfiltfilt(sos, x, axis=0, padlen=padlen)


def detrend_linear(x: np.ndarray) -> np.ndarray:
    """Columns of ``[T, ...]`` minus their least-squares line (closed form, no per-column solve)."""
    x = np.asarray(x, dtype=np.float64)
    t = np.arange(x.shape[0], dtype=np.float64)
    t -= t.mean()
    denominator = float(np.dot(t, t)) or 1.0
    shape = (-1,) + (1,) * (x.ndim - 1)
    slope = np.tensordot(t, x, axes=(0, 0)) / denominator
    return x - x.mean(axis=0) - t.reshape(shape) * slope


def principal_components(x: np.ndarray, n: int = 1) -> np.ndarray:
    """First ``n`` principal-component time series ``[T, n]`` of ``[T, M]`` (centred, not scaled)."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    return u[:, :n] * s[:n]


def padded_periodogram(x: np.ndarray, rate_hz: float, pad_factor: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Hann-windowed power spectrum of each column of ``[T, M]``, zero-padded ``pad_factor`` times."""
    n = x.shape[0]
    nfft = int(2 ** np.ceil(np.log2(n * max(pad_factor, 1))))
    window = signal.windows.hann(n, sym=False)
    spectrum = np.abs(np.fft.rfft(x * window[:, np.newaxis], nfft, axis=0)) ** 2
    return np.fft.rfftfreq(nfft, 1.0 / rate_hz), spectrum


def spectral_peak(freqs: np.ndarray, spectrum: np.ndarray, band: np.ndarray) -> float | None:
    """Frequency of the highest *local maximum* of ``spectrum`` inside ``band``, between bins.

    A band edge is never a peak: the skirt of strong drift below the band would otherwise
    always win at the lowest rate.
    """
    peaks, _ = signal.find_peaks(spectrum)
    peaks = peaks[band[peaks]]
    if peaks.size == 0 or not spectrum[peaks].max() > 0:
        return None
    i = int(peaks[np.argmax(spectrum[peaks])])
    position, _ = parabolic_peak(spectrum, i)
    return float(np.interp(position, np.arange(freqs.size), freqs))


def peak_significance(freqs: np.ndarray, spectrum: np.ndarray, band: np.ndarray, freq: float, bin_hz: float) -> float:
    """Robust z-score of the spectrum at ``freq`` against the rest of the band.

    Uses independent bins only (one per ``bin_hz``) at least two bins away from the peak,
    with the median as floor and 1.4826 x MAD as spread.
    """
    step = max(int(round(bin_hz / (freqs[1] - freqs[0]))), 1)
    idx = np.flatnonzero(band)[::step]
    floor_bins = idx[np.abs(freqs[idx] - freq) > 2 * bin_hz]
    if floor_bins.size < 4:
        return 0.0
    floor = np.median(spectrum[floor_bins])
    spread = 1.4826 * np.median(np.abs(spectrum[floor_bins] - floor))
    height = float(np.interp(freq, freqs, spectrum))
    return float((height - floor) / max(spread, 1e-300))


def _flank(freqs: np.ndarray, spectrum: np.ndarray, band: np.ndarray, centre: float, bin_hz: float) -> float:
    """Mean of the spectrum within half a bin of ``centre``, over searched bins only (0 if none:
    an excluded harmonic next to the peak says nothing about the peak)."""
    near = (np.abs(freqs - centre) <= bin_hz / 2) & band
    return float(spectrum[near].mean()) if near.any() else 0.0


def _combine(filtered: np.ndarray, spectra: np.ndarray | None, band: np.ndarray, combiner: str,
             rate_hz: float, pad_factor: int) -> np.ndarray:
    """One spectrum from many columns (``spectra`` are the columns' own, when already known)."""
    if combiner == "pca":
        return padded_periodogram(principal_components(filtered, 1), rate_hz, pad_factor)[1][:, 0]
    if spectra is None:
        spectra = padded_periodogram(filtered, rate_hz, pad_factor)[1]
    if combiner == "power":
        return spectra.sum(axis=1)
    # "spectrum": every column normalised to unit in-band power, so weak but clean ones count.
    totals = spectra[band].sum(axis=0)
    return (spectra[:, totals > 0] / totals[totals > 0]).sum(axis=1)


def _agreement(
    filtered: np.ndarray, spectra: np.ndarray, freqs: np.ndarray, band: np.ndarray, freq: float,
    combiner: str, rate_hz: float, pad_factor: int,
) -> float:
    """Share of independent sub-estimates that find the same peak as the whole window.

    Column halves (four random splits, seeded for repeatability) keep the full frequency
    resolution; time slices (first half, middle half, last half) are coarser, so they are
    allowed one of their own bins of difference.
    """
    n, m = filtered.shape
    votes: list[bool] = []
    if m >= 4 and combiner != "pca":
        rng = np.random.default_rng(m)
        for _ in range(4):
            order = rng.permutation(m)
            for half in (order[: m // 2], order[m // 2 :]):
                sub = _combine(filtered[:, half], spectra[:, half], band, combiner, rate_hz, pad_factor)
                found = spectral_peak(freqs, sub, band)
                votes.append(found is not None and abs(found - freq) <= 1.5 * rate_hz / n)
    for part in (slice(0, n // 2), slice(n // 4, n // 4 + n // 2), slice(n - n // 2, n)):
        piece = filtered[part]
        sub_freqs, sub_spectra = padded_periodogram(piece, rate_hz, pad_factor)
        sub_band = (sub_freqs >= freqs[band].min()) & (sub_freqs <= freqs[band].max())
        sub = _combine(piece, sub_spectra, sub_band, combiner, rate_hz, pad_factor)
        found = spectral_peak(sub_freqs, sub, sub_band)
        votes.append(found is not None and abs(found - freq) <= rate_hz / piece.shape[0])
    return float(np.mean(votes)) if votes else 0.0


def estimate_rate(
    x: np.ndarray,
    rate_hz: float,
    low_hz: float,
    high_hz: float,
    *,
    combiner: str = "power",
    exclude_hz: Sequence[float] = (),
    exclude_width_hz: float = 0.0,
    pad_factor: int = 8,
    stillness: float | None = None,
) -> tuple[float | None, float]:
    """Dominant rate shared by the columns of real ``[T, M]`` ``x``: ``(frequency_hz, confidence)``.

    Columns are band-passed (and decimated to what the band needs), combined into one
    spectrum (``power``: summed spectra; ``spectrum``: summed in-band-normalised spectra;
    ``pca``: spectrum of the first principal component), and the highest interior peak is
    located between zero-padded bins by parabolic interpolation. Confidence in 0..1 is the
    product of: the peak's robust z-score above the band floor, mapped from ``Z_NOISE`` (0)
    to ``Z_NOISE + Z_SPAN`` (1); its height over the band median, mapped from
    ``PROMINENCE_NOISE`` (0) up by ``PROMINENCE_SPAN``; the share of independent
    sub-estimates that agree; and :func:`stillness_factor` (a moving body makes tall but
    meaningless peaks; computed from ``x`` unless given, which callers do when ``x`` is so
    sensitive that it shows the heartbeat's harmonics). ``exclude_hz`` removes frequencies (e.g. breathing harmonics) from the search.
    """
    if combiner not in COMBINERS:
        raise ValueError(f"unknown combiner {combiner!r}; expected one of {COMBINERS}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, np.newaxis]
    if x.shape[0] < max(16, int(2 * rate_hz / low_hz)) or x.shape[1] == 0 or not np.isfinite(x).all():
        return None, 0.0
    if stillness is None:
        stillness = stillness_factor(x, rate_hz)
    top = min(1.15 * high_hz, 0.45 * rate_hz)
    filtered = band_pass(x, rate_hz, 0.85 * low_hz, top)
    # Nothing is left above the band: keep every q-th sample (a cheaper spectrum, same content).
    q = max(int(rate_hz // (2.5 * top)), 1)
    filtered, rate = filtered[::q], rate_hz / q
    n = filtered.shape[0]
    freqs, spectra = padded_periodogram(filtered, rate, pad_factor)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    for f in exclude_hz:
        band &= np.abs(freqs - f) > exclude_width_hz
    if band.sum() < 3:
        return None, 0.0
    combined = _combine(filtered, spectra, band, combiner, rate, pad_factor)
    freq = spectral_peak(freqs, combined, band)
    if freq is None:
        return None, 0.0
    z = peak_significance(freqs, combined, band, freq, rate / n)
    strength = float(np.clip((z - Z_NOISE) / Z_SPAN, 0.0, 1.0))
    height = float(np.interp(freq, freqs, combined))
    # Both flanks (three bins out, past the Hann main lobe) must be lower too: on a sloping
    # floor (drift, a random walk) a bump that is higher than the median is still no peak.
    flanks = max(_flank(freqs, combined, band, freq - 3 * rate / n, rate / n),
                 _flank(freqs, combined, band, freq + 3 * rate / n, rate / n))
    ratio = height / max(np.median(combined[band]), flanks, 1e-300)
    prominence = float(np.clip((ratio - PROMINENCE_NOISE) / PROMINENCE_SPAN, 0.0, 1.0))
    if strength == 0.0 or stillness == 0.0 or prominence == 0.0:
        return freq, 0.0
    agreement = _agreement(filtered, spectra, freqs, band, freq, combiner, rate, pad_factor)
    return freq, strength * prominence * agreement * stillness


def sees_motion_bands(rate_hz: float) -> bool:
    """Whether ``rate_hz`` samples reach the upper of the ``MOTION_BANDS_HZ`` (above ~12 per second)."""
    return rate_hz / 2 >= MOTION_BANDS_HZ[1][1]


def motion_ratio(x: np.ndarray, rate_hz: float) -> float | None:
    """Median spectral density of ``[T, M]`` columns at 0.7-2.5 Hz over that at 3.5-6 Hz.

    Scale-free: a still scene's spectrum above the vital-sign bands is noise, nearly flat,
    while body motion piles power into the lower band. None when the rate is too low to
    see the upper band.
    """
    (low_a, high_a), (low_b, high_b) = MOTION_BANDS_HZ
    nperseg = int(2 ** np.floor(np.log2(min(x.shape[0], 4 * rate_hz / 0.3))))
    if not sees_motion_bands(rate_hz) or nperseg < 64:
        return None
    freqs, psd = signal.welch(x, fs=rate_hz, nperseg=nperseg, axis=0, detrend="constant")
    total = psd.sum(axis=1)
    # Medians over fine bins: a strong breathing rhythm's harmonics are narrow lines in the
    # lower band and must not pass for motion, which raises the whole band.
    lower = np.median(total[(freqs >= low_a) & (freqs <= high_a)])
    upper = np.median(total[(freqs >= low_b) & (freqs <= high_b)])
    return float(lower / upper) if upper > 0 else None


def stillness_factor(x: np.ndarray, rate_hz: float, noise_ratio: float = 1.0) -> float:
    """1 for a still scene, 0 for a moving one, linear in between (1 if it cannot tell).

    ``noise_ratio`` is the :func:`motion_ratio` white noise gets from the same sampling (see
    :func:`~ruview_core.vitals.breathing.sampling_noise_ratio`): the scene's ratio is judged
    relative to it.
    """
    ratio = motion_ratio(x, rate_hz)
    if ratio is None:
        return 1.0
    ratio /= noise_ratio
    span = MOTION_RATIO_MOVING - MOTION_RATIO_STILL
    return float(np.clip((MOTION_RATIO_MOVING - ratio) / span, 0.0, 1.0))
