"""Power spectra, band power, and periodicity with sub-bin precision."""

from __future__ import annotations

import numpy as np
from scipy import signal


def welch_psd(
    x: np.ndarray,
    rate_hz: float,
    segment_seconds: float | None = None,
    axis: int = 0,
    nfft: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density of real ``x`` along ``axis`` (Hann, 50 % overlap, detrended).

    ``segment_seconds`` defaults to the whole signal (one segment, i.e. a windowed periodogram
    with the best frequency resolution); ``nfft`` larger than the segment zero-pads.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[axis]
    nperseg = n if segment_seconds is None else int(min(n, max(4, round(segment_seconds * rate_hz))))
    nfft = max(nfft or nperseg, nperseg)
    return signal.welch(x, fs=rate_hz, nperseg=nperseg, nfft=nfft, axis=axis, detrend="linear")


def band_power(freqs: np.ndarray, psd: np.ndarray, low_hz: float, high_hz: float) -> np.ndarray:
    """Power of ``psd`` (frequency on the last axis) between ``low_hz`` and ``high_hz`` inclusive."""
    freqs = np.asarray(freqs)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    if not band.any():
        return np.zeros(np.asarray(psd).shape[:-1])
    df = freqs[1] - freqs[0] if freqs.size > 1 else 1.0
    return np.sum(np.asarray(psd)[..., band], axis=-1) * df


def parabolic_peak(y: np.ndarray, i: int) -> tuple[float, float]:
    """Sub-sample position and height of the peak at index ``i`` of ``y``.

    Fits a parabola through ``y[i-1], y[i], y[i+1]``; the offset is clipped to +/- 0.5 so a
    flat top never moves the peak into the neighbouring bin. Edge peaks are returned as-is.
    """
    y = np.asarray(y, dtype=np.float64)
    if i <= 0 or i >= y.size - 1:
        return float(i), float(y[i])
    left, centre, right = y[i - 1], y[i], y[i + 1]
    curvature = left - 2.0 * centre + right
    if curvature >= 0:
        return float(i), float(centre)
    offset = float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
    return i + offset, float(centre - 0.25 * (left - right) * offset)


def periodogram_peak(
    x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float, pad_factor: int = 8
) -> tuple[float | None, float]:
    """Strongest spectral peak of real 1-D ``x`` in ``[low_hz, high_hz]``: ``(freq, fraction)``.

    Uses a Hann-windowed periodogram zero-padded ``pad_factor`` times plus parabolic
    interpolation, so the estimate is not quantised to the ``rate / n`` bin spacing.
    ``fraction`` is the share of in-band power within one bin spacing (``rate / n``) of the
    peak: near 1 for a clean sinusoid, lower for noise (about 0.35 for 30 s of white noise
    in a 0.1-0.5 Hz band).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 4:
        return None, 0.0
    nfft = int(2 ** np.ceil(np.log2(n * max(pad_factor, 1))))
    freqs, psd = signal.periodogram(x, fs=rate_hz, window="hann", nfft=nfft, detrend="linear")
    band = np.flatnonzero((freqs >= low_hz) & (freqs <= high_hz))
    if band.size < 3 or not np.any(psd[band] > 0):
        return None, 0.0
    i = int(band[np.argmax(psd[band])])
    position, _ = parabolic_peak(psd, i)
    freq = float(np.interp(position, np.arange(freqs.size), freqs))
    near = band[np.abs(freqs[band] - freq) <= rate_hz / n]
    fraction = float(psd[near].sum() / psd[band].sum())
    return freq, fraction


def autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised (biased) autocorrelation of real 1-D ``x`` for lags ``0 .. n-1``; ``r[0] == 1``."""
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    n = x.size
    if n == 0:
        return np.zeros(0)
    nfft = int(2 ** np.ceil(np.log2(2 * n)))
    spectrum = np.fft.rfft(x, nfft)
    r = np.fft.irfft(spectrum * np.conj(spectrum), nfft)[:n]
    return r / r[0] if r[0] > 0 else np.zeros(n)


def autocorrelation_periodicity(
    x: np.ndarray, rate_hz: float, low_hz: float, high_hz: float
) -> tuple[float | None, float]:
    """Dominant period of real 1-D ``x`` in a frequency band: ``(frequency_hz, strength)``.

    Finds the highest autocorrelation peak at lags between ``1 / high_hz`` and ``1 / low_hz``
    and refines its lag by parabolic interpolation (a sub-sample lag avoids the coarse
    ``rate / lag`` quantisation that integer lags give at low sample rates). ``strength`` is
    the normalised autocorrelation at that lag, clipped to 0..1; ``(None, 0.0)`` when there is
    no peak in range.
    """
    r = autocorrelation(x)
    min_lag = max(int(np.floor(rate_hz / high_hz)), 1)
    max_lag = min(int(np.ceil(rate_hz / low_hz)), r.size - 2)
    if max_lag <= min_lag:
        return None, 0.0
    segment = r[min_lag - 1 : max_lag + 2]
    peaks, _ = signal.find_peaks(segment)
    if peaks.size == 0:
        return None, 0.0
    best = int(peaks[np.argmax(segment[peaks])])
    lag, height = parabolic_peak(segment, best)
    lag += min_lag - 1
    freq = rate_hz / lag
    if not (low_hz <= freq <= high_hz):
        return None, 0.0
    return float(freq), float(np.clip(height, 0.0, 1.0))
