"""Breathing rate from a window of CSI.

Breathing moves the chest by a few millimetres, a fraction of the wavelength, so the body's
echo rotates by a fraction of a radian. With two or more antennas the cross-antenna ratio
cancels the per-packet phase offset, timing slope and gain exactly and keeps that rotation;
on one antenna only what survives the per-packet gain and offset can be used (the amplitude
shape: each packet over its own mean amplitude). The rate is then the rhythm the most
periodic columns share, checked on the columns that did not choose it
(:func:`~ruview_core.vitals.rhythm.find_rhythm`), and rejected when the overall gain carries
the same rhythm (:mod:`~ruview_core.vitals.interference`). Only the stretch since the scene
last settled is read (:mod:`~ruview_core.vitals.settling`): a rate is one posture's.

Measured on real recordings by ``benchmarks/real_breathing.py`` (a breathing phantom seen by
3 antennas and by 1, and ESP32 takes of a seated person) and on the simulator by
``benchmarks/bench_accuracy.py``; ``MIN_CONFIDENCE`` is chosen on their reliability tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

import numpy as np

from ..dsp.resample import resample_uniform

from .features import available_features, extract_feature
from .interference import gain_lines, interference_factor, lines_seen_empty
from .periodicity import VitalSignEstimate, estimate_rate, motion_ratio, sees_motion_bands, stillness_factor
from .rhythm import find_rhythm
from .settling import settled_start

# Slow breathing, sleep and phantoms go down to 3 bpm; fast breathing (children, panting) to 40.
BREATHING_BAND_BPM = (3.0, 40.0)
DEFAULT_FEATURE = "amplitude_norm"
MULTI_ANTENNA_FEATURE = "antenna_ratio"
GAIN_FREE_FEATURES = ("antenna_ratio",)
# The top-k rhythm finder; the older combiners of ``estimate_rate`` stay selectable by name.
DEFAULT_COMBINER = "top_k"
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
    times: np.ndarray | None = None,
    gain: np.ndarray | None = None,
    empty_gain_lines: np.ndarray | None = None,
    moved_at: Iterable[float] = (),
) -> VitalSignEstimate:
    """Breathing rate of a ``[T, S]`` / ``[T, antennas, S]`` window.

    ``window`` is complex CSI of usable subcarriers (or a real amplitude / feature matrix,
    used as-is with ``feature="given"``), at least ``MIN_SECONDS`` long. Rows are uniformly
    sampled at ``rate_hz``, unless ``times`` gives each row's time: then the features are
    computed per packet (where the per-packet offsets cancel) and only the real features are
    interpolated onto a ``rate_hz`` grid (interpolating complex CSI across packets mixes two
    random phase offsets and makes false dips). ``gain`` is the per-row overall gain (``[T]``
    or ``[T, G]``: mean amplitude before normalisation, RSSI, ...); a rhythm it shares is not
    a body's, unless ``empty_gain_lines`` (``[L, 2]`` frequency in Hz and strength, the lines
    of the receiver's gain in the empty room: the baseline's) says the empty room did not have
    it (a body moves the total power too). ``moved_at`` are the times (``times``' clock) where
    motion was detected: the rate is read after the last one that left the scene changed
    (:mod:`.settling`). ``bpm`` is None (``raw_bpm`` still tells the best guess) below ``min_confidence``.
    """
    window = np.asarray(window)
    chosen, columns = _feature_columns(window, feature, frequency_index)
    combiner = combiner or DEFAULT_COMBINER
    span = window.shape[0] / rate_hz if times is None else float(np.ptp(times)) if len(times) else 0.0
    if span < MIN_SECONDS or window.shape[0] < 16:
        return VitalSignEstimate(None, 0.0, chosen, combiner, None)
    motion_columns = stillness_columns(window, columns, frequency_index)
    if times is not None:
        columns, motion_columns = (on_uniform_grid(times, c, rate_hz) for c in (columns, motion_columns))
        gain = None if gain is None else on_uniform_grid(times, gain, rate_hz)
    # Read the rate on the stretch since the scene last settled (a posture change steps the shape).
    origin = 0.0 if times is None else float(np.min(times))
    start = settled_start(motion_columns, rate_hz, [round((t - origin) * rate_hz) for t in moved_at])
    if start:
        columns, motion_columns = columns[start:], motion_columns[start:]
        gain = None if gain is None else gain[start:]
        if columns.shape[0] < MIN_SECONDS * rate_hz:
            return VitalSignEstimate(None, 0.0, chosen, combiner, None)
    low, high = band_bpm[0] / 60.0, band_bpm[1] / 60.0
    noise_ratio = 1.0 if times is None else sampling_noise_ratio(times, rate_hz, start)
    stillness = stillness_factor(motion_columns, rate_hz, noise_ratio)
    if combiner != DEFAULT_COMBINER:
        freq, confidence = estimate_rate(columns, rate_hz, low, high, combiner=combiner, stillness=stillness)
    else:
        penalty = None
        # The cross-antenna ratio cancels any common gain change exactly: a rhythm in it is not
        # the gain's, even when the gain shows it too (a body moves the total power as well).
        if gain is not None and chosen not in GAIN_FREE_FEATURES:
            lines, tolerance = gain_lines(gain, rate_hz, low, high), 1.5 * rate_hz / columns.shape[0]
            if empty_gain_lines is not None:
                lines = lines_seen_empty(lines, empty_gain_lines, tolerance)
            penalty = partial(interference_factor, lines=lines, tolerance_hz=tolerance)
        rhythm = find_rhythm(columns, rate_hz, low, high, penalty=penalty)
        freq, confidence = rhythm.freq_hz, rhythm.confidence * stillness
    raw = None if freq is None else 60.0 * freq
    bpm = raw if confidence >= min_confidence else None
    return VitalSignEstimate(bpm, confidence, chosen, combiner, raw)


def breathing_columns(window: np.ndarray, rate_hz: float, *, feature: str | None = None,
                      frequency_index: np.ndarray | None = None, times: np.ndarray | None = None) -> np.ndarray:
    """The real ``[T, M]`` columns :func:`estimate_breathing` scans (on a ``rate_hz`` grid when
    ``times`` gives each row's time): what a pause detector follows between estimates."""
    columns = _feature_columns(np.asarray(window), feature, frequency_index)[1]
    return columns if times is None else on_uniform_grid(times, columns, rate_hz)


def on_uniform_grid(times: np.ndarray, values: np.ndarray, rate_hz: float) -> np.ndarray:
    """Real ``values`` (``[T]`` or ``[T, M]``, one row per time) linearly interpolated onto a
    ``rate_hz`` grid from the first to the last time (unsorted and repeated times allowed)."""
    if np.shape(values)[:1] != np.shape(times):
        raise ValueError("values must have one row per time")
    return resample_uniform(times, np.asarray(values, dtype=np.float64), rate_hz, max_gap=np.inf).values


# How many white-noise columns measure what the sampling alone does to the motion ratio: enough
# that the reference itself scatters by about 1 %, against the 7 % between still and moving.
NOISE_COLUMNS = 32


def sampled_noise(times: np.ndarray, rate_hz: float) -> np.ndarray:
    """White noise sampled at ``times`` and put on the ``rate_hz`` grid as the features are.

    Lost packets and timing jitter make the grid interpolate, which low-passes: white noise then
    shows less power at 3.5-6 Hz than at 0.7-2.5 Hz, as a moving body does. At 8 % loss and 7 ms
    jitter on 20 packets/s (the real corpus's medians) a still scene's ratio rose past the
    moving threshold and breathing was withheld as "moving". The noise is seeded by the packet
    count: the same window always gets the same reference.
    """
    rng = np.random.default_rng(len(times))
    return on_uniform_grid(times, rng.standard_normal((len(times), NOISE_COLUMNS)), rate_hz)


def sampling_noise_ratio(times: np.ndarray, rate_hz: float, start_row: int = 0) -> float:
    """The :func:`~.periodicity.motion_ratio` of :func:`sampled_noise` from grid row ``start_row``
    on (the stretch the gate reads); 1 where the rate cannot show the gate's bands."""
    if not sees_motion_bands(rate_hz):
        return 1.0
    return motion_ratio(sampled_noise(times, rate_hz)[start_row:], rate_hz) or 1.0


def scene_stillness(
    window: np.ndarray, columns: np.ndarray, rate_hz: float, frequency_index: np.ndarray | None
) -> float:
    """Stillness judged on the amplitude shape, which shows body motion but hardly the
    heartbeat (a cross-antenna phase can show the heartbeat's harmonics, which look like motion)."""
    return stillness_factor(stillness_columns(window, columns, frequency_index), rate_hz)


def stillness_columns(window: np.ndarray, columns: np.ndarray | None = None,
                      frequency_index: np.ndarray | None = None) -> np.ndarray:
    """The columns the stillness gate reads: the first antenna's normalised amplitude of complex
    CSI, else the feature ``columns`` themselves."""
    if np.iscomplexobj(window):
        return extract_feature(window[:, 0, :] if window.ndim == 3 else window, "amplitude_norm", frequency_index)
    return columns


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
