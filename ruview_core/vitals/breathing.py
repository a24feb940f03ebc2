"""Breathing rate from a window of CSI.

Breathing moves the chest by a few millimetres, a fraction of the 12.5 cm wavelength at
2.4 GHz, so the body's echo rotates by a fraction of a radian. On one antenna the receiver's
random per-packet phase offset and slope hide most of that rotation (what is common to all
subcarriers cannot be told from the offset); what survives is best seen in the gain-
normalised amplitude shape. With two antennas the cross-antenna ratio cancels the offsets
exactly and keeps the rotation. ``benchmarks/bench_breathing_features.py`` measured this on
the simulator (MAE of the best peak at 25 dB SNR, 60 s windows, 24 windows: antenna ratio
0.4 bpm; amplitude shape 2.4 bpm; sanitised phase 2.7 bpm; reference-subcarrier products
3.2-3.4 bpm, which also report wrong rates confidently), hence the defaults.
"""

from __future__ import annotations

import numpy as np

from .features import available_features, extract_feature
from .periodicity import VitalSignEstimate, estimate_rate, stillness_factor

BREATHING_BAND_BPM = (6.0, 30.0)
# "shape" (dsp.align) finds the peak more often on one antenna (57 % vs 35 % of 60 s windows
# within 1 bpm at 17 dB, simulator seeds 0-5) but its confidence is not yet trustworthy: on
# seeds 6-11 it reported rates for empty rooms after an AGC step. Until that is fixed the
# amplitude shape stays the default.
DEFAULT_FEATURE = "amplitude_norm"
MULTI_ANTENNA_FEATURE = "antenna_ratio"
DEFAULT_COMBINER = "spectrum"
# Noise-whitened columns are added as they are: normalising each to unit in-band power (the
# "spectrum" combiner) would lift the noisiest smooth component to the level of the best.
FEATURE_COMBINERS = {"shape": "power"}
MIN_CONFIDENCE = 0.3
MIN_SECONDS = 15.0


def estimate_breathing(
    window: np.ndarray,
    rate_hz: float,
    *,
    feature: str | None = None,
    combiner: str | None = None,
    frequency_index: np.ndarray | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    band_bpm: tuple[float, float] = BREATHING_BAND_BPM,
) -> VitalSignEstimate:
    """Breathing rate of a uniformly sampled ``[T, S]`` / ``[T, antennas, S]`` window.

    ``window`` is complex CSI of usable subcarriers (or a real amplitude / feature matrix,
    used as-is with ``feature="given"``); at least ``MIN_SECONDS``, and 60 s is much surer
    than 30 s at ordinary SNR. ``feature`` defaults to the measured best that the data
    supports (the cross-antenna ratio with two antennas, the amplitude shape with one).
    ``bpm`` is None (and ``raw_bpm`` still tells the best guess) when the rhythm is
    not clear enough: an empty room or a walking person must not produce a number.
    """
    window = np.asarray(window)
    chosen, columns = _feature_columns(window, feature, frequency_index)
    combiner = combiner or FEATURE_COMBINERS.get(chosen, DEFAULT_COMBINER)
    if window.shape[0] < MIN_SECONDS * rate_hz:
        return VitalSignEstimate(None, 0.0, chosen, combiner, None)
    low, high = band_bpm[0] / 60.0, band_bpm[1] / 60.0
    stillness = scene_stillness(window, columns, rate_hz, frequency_index)
    freq, confidence = estimate_rate(columns, rate_hz, low, high, combiner=combiner, stillness=stillness)
    raw = None if freq is None else 60.0 * freq
    bpm = raw if confidence >= min_confidence else None
    return VitalSignEstimate(bpm, confidence, chosen, combiner, raw)


def scene_stillness(
    window: np.ndarray, columns: np.ndarray, rate_hz: float, frequency_index: np.ndarray | None
) -> float:
    """Stillness judged on the amplitude shape, which shows body motion but hardly the
    heartbeat (a cross-antenna phase can show the heartbeat's harmonics, which look like motion)."""
    if np.iscomplexobj(window):
        columns = extract_feature(window[:, 0, :] if window.ndim == 3 else window, "amplitude_norm", frequency_index)
    return stillness_factor(columns, rate_hz)


def _feature_columns(
    window: np.ndarray, feature: str | None, frequency_index: np.ndarray | None,
    single_antenna_default: str = DEFAULT_FEATURE,
) -> tuple[str, np.ndarray]:
    """The feature name actually used and its ``[T, M]`` columns."""
    if feature == "given" or not np.iscomplexobj(window):
        if feature not in (None, "given", "amplitude"):
            raise ValueError(f"feature {feature!r} needs complex CSI")
        columns = window.reshape(window.shape[0], -1).astype(np.float64)
        return "given" if feature == "given" else "amplitude", columns
    supported = available_features(window)
    if feature is None:
        feature = MULTI_ANTENNA_FEATURE if MULTI_ANTENNA_FEATURE in supported else single_antenna_default
    return feature, extract_feature(window, feature, frequency_index)
