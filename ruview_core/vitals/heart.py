"""Heart rate from a window of CSI.

The heartbeat moves the chest wall by tenths of a millimetre, near the ESP32 noise floor, so
this estimator is deliberately cautious: it needs a clear narrowband peak that is not a
harmonic of the breathing rate, located between FFT bins (zero padding and parabolic
interpolation) so that a 15 Hz stream is not quantised to 4-6 bpm steps.
"""

from __future__ import annotations

import numpy as np

from .breathing import _feature_columns, scene_stillness
from .periodicity import VitalSignEstimate, estimate_rate

HEART_BAND_BPM = (50.0, 120.0)
DEFAULT_COMBINER = "spectrum"
# No threshold is validated: on the simulator no window reaches a committed heart rate within
# 5 bpm 90 % of the time (issue 13 item 4), and on real recordings 33 of 159 windows reached
# confidence >= 0.3 with numbers that cannot be right (a breathing phantom has no heart; the
# ESP32 takes gave 59-60 bpm, the sixth harmonic of their receiver's 9.8 bpm gain line). So the
# rate stays unknown (``raw_bpm`` and ``confidence`` are still given) unless a caller passes a
# threshold it has validated.
MIN_CONFIDENCE = float("inf")
MIN_SECONDS = 10.0
# Breathing is not a pure sinusoid: its harmonics land in the heart band.
BREATHING_HARMONICS = range(2, 9)


def estimate_heart_rate(
    window: np.ndarray,
    rate_hz: float,
    *,
    breathing_bpm: float | None = None,
    feature: str | None = None,
    combiner: str = DEFAULT_COMBINER,
    frequency_index: np.ndarray | None = None,
    min_confidence: float = MIN_CONFIDENCE,
    band_bpm: tuple[float, float] = HEART_BAND_BPM,
) -> VitalSignEstimate:
    """Heart rate of a uniformly sampled ``[T, S]`` / ``[T, antennas, S]`` window.

    Same inputs as :func:`~ruview_core.vitals.breathing.estimate_breathing`; with
    ``breathing_bpm`` the frequencies of its harmonics are left out of the search. The
    sample rate must exceed twice the top of the band (4 Hz for 120 bpm).
    """
    window = np.asarray(window)
    chosen, columns = _feature_columns(window, feature, frequency_index)
    low, high = band_bpm[0] / 60.0, band_bpm[1] / 60.0
    if window.shape[0] < MIN_SECONDS * rate_hz or rate_hz <= 2.2 * high:
        return VitalSignEstimate(None, 0.0, chosen, combiner, None)
    exclude: list[float] = []
    width = 0.0
    if breathing_bpm:
        f_b = breathing_bpm / 60.0
        exclude = [k * f_b for k in BREATHING_HARMONICS]
        width = 2.0 * rate_hz / window.shape[0]  # the Hann main lobe: two bins either side
    freq, confidence = estimate_rate(
        columns, rate_hz, low, high, combiner=combiner, exclude_hz=exclude, exclude_width_hz=width,
        # Real columns may be the very signal whose harmonics would read as motion: trust
        # the caller's motion gating then.
        stillness=scene_stillness(window, columns, rate_hz, frequency_index) if np.iscomplexobj(window) else 1.0,
    )
    raw = None if freq is None else 60.0 * freq
    bpm = raw if confidence >= min_confidence else None
    return VitalSignEstimate(bpm, confidence, chosen, combiner, raw)
