"""Statistics of a CSI stream that a simulator must reproduce to stand in for a real node.

Used by ``bench_sim_realism.py`` on the real corpus and on the simulator alike, so both are
measured by one code path: the engine's own cleaning (``node.cleaning.clean``: usable
subcarriers, phase sanitising, division by each packet's mean amplitude), its gain-step
detector, packet-rate estimate and motion statistic. Pure functions over numpy arrays.

Scatter from one packet to the next is read from first differences with a robust spread (the
median absolute deviation), divided by sqrt(2): slow drift and the odd glitched packet do not
count, a white per-packet disturbance of standard deviation s reads s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ruview_core.dsp.agc import detect_gain_steps
from ruview_core.dsp.resample import resample_uniform
from ruview_core.dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ruview_core.frames import CsiFrame
from ruview_core.node.cleaning import clean, packet_rate, raw_arrays
from ruview_core.node.motion import MIN_WINDOW_FRAMES, MOTION_WINDOW_SECONDS, turbulence, windowed_dispersion
from ruview_core.vitals.breathing import DEFAULT_FEATURE, breathing_columns
from ruview_core.vitals.periodicity import detrend_linear, padded_periodogram

MAD_TO_STD = 1.4826
BREATHING_BAND_HZ = (0.1, 0.5)
# Around the peak: a Hann window's main lobe over a 40 s window is +-0.05 Hz.
PEAK_HALF_WIDTH_HZ = 0.05
BREATHING_WINDOW_S = 40.0
# Walking: the turbulence's power above WALK_SPLIT_HZ as a share of WALK_BAND_HZ, on pieces of
# WALK_PIECE_S (WiFall's walking clips are 3 s long: one piece each).
WALK_PIECE_S = 2.5
WALK_BAND_HZ = (1.0 / WALK_PIECE_S, 5.0)
WALK_SPLIT_HZ = 1.0
# An interval this many periods long or more means packets were lost in between.
LOSS_PERIODS = 1.5


@dataclass(frozen=True)
class NodeArrays:
    """One node's stream as the engine cleans it: packet ``times`` [N], ``raw`` |CSI| of antenna 0
    on the usable subcarriers [N, S], ``clean`` sanitised and gain-normalised CSI of antenna 0
    [N, S], each packet's ``gain`` [N] (mean amplitude before it was divided out)."""

    times: np.ndarray
    raw: np.ndarray
    clean: np.ndarray
    gain: np.ndarray
    amplitude_only: bool
    rate_hz: float

    def select(self, mask: np.ndarray) -> NodeArrays:
        return NodeArrays(self.times[mask], self.raw[mask], self.clean[mask], self.gain[mask],
                          self.amplitude_only, self.rate_hz)


def node_arrays(frames: Iterable[CsiFrame]) -> NodeArrays | None:
    """Clean one node's frames the way ``node.pipeline`` does (None if nothing usable)."""
    frames = sorted(frames, key=lambda f: f.timestamp)
    times, csi, _ = raw_arrays(frames)
    if times.size < 3:
        return None
    usable = usable_subcarriers(np.abs(csi[:, 0, :]))
    if usable.sum() < 4:
        return None
    cleaned = clean(times, csi, usable, signed_subcarrier_index(csi.shape[2])[usable])
    raw = np.abs(csi[:, 0, usable]).astype(np.float64)
    gain = raw.mean(axis=1)
    raw = raw[np.isfinite(gain) & (gain > 0)]  # the frames clean() keeps
    return NodeArrays(cleaned.times, raw, cleaned.csi[:, 0, :], np.asarray(cleaned.gain, dtype=np.float64),
                      any(f.amplitude_only for f in frames), packet_rate(cleaned.times))


def robust_step_std(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Standard deviation of a white per-sample disturbance, from first differences along ``axis``."""
    d = np.diff(np.asarray(x, dtype=np.float64), axis=axis)
    mad = np.median(np.abs(d - np.median(d, axis=axis, keepdims=True)), axis=axis)
    return MAD_TO_STD * mad / np.sqrt(2.0)


def amplitude_noise(amplitude: np.ndarray) -> float:
    """Median over subcarriers of the packet-to-packet scatter of gain-normalised ``[N, S]``
    amplitude, relative to the subcarrier's level (0.1 = 10 %)."""
    amplitude = np.abs(np.asarray(amplitude))
    if amplitude.shape[0] < 3:
        return float("nan")
    level = np.median(amplitude, axis=0)
    relative = robust_step_std(amplitude) / np.where(level > 0, level, np.nan)
    return float(np.nanmedian(relative))


def phase_scatter(csi: np.ndarray) -> float:
    """Median over subcarriers of the packet-to-packet phase scatter (rad) of sanitised ``[N, S]`` CSI."""
    csi = np.asarray(csi)
    if csi.shape[0] < 3:
        return float("nan")
    turn = np.angle(csi[1:] * np.conj(csi[:-1]))  # wrapped change, safe across +-pi
    mad = np.median(np.abs(turn - np.median(turn, axis=0)), axis=0)
    return float(np.median(MAD_TO_STD * mad / np.sqrt(2.0)))


def gain_jitter_db(gain: np.ndarray) -> float:
    """Packet-to-packet scatter (dB) of the overall gain (each packet's mean amplitude)."""
    gain = np.asarray(gain, dtype=np.float64)
    gain = gain[gain > 0]
    return float(robust_step_std(20 * np.log10(gain))) if gain.size >= 3 else float("nan")


def gain_steps(amplitude: np.ndarray, seconds: float) -> tuple[float, list[float]]:
    """Gain steps the engine finds (``dsp.agc.detect_gain_steps``) in raw ``[N, S]`` amplitude:
    how many per minute, and the size of each in |dB|."""
    steps = detect_gain_steps(np.abs(np.asarray(amplitude)))
    per_minute = 60.0 * len(steps) / seconds if seconds > 0 else float("nan")
    return per_minute, [abs(s.db) for s in steps]


def timing(times: np.ndarray) -> dict[str, float]:
    """Packet rate (the engine's ``packet_rate``), loss and timestamp jitter relative to it.

    ``loss`` counts the packets missing from intervals of ``LOSS_PERIODS`` periods or more;
    ``jitter`` is the per-timestamp scatter of the other intervals as a share of the period
    (``jitter_ms`` the same in milliseconds).
    """
    times = np.sort(np.asarray(times, dtype=np.float64))
    if times.size < 3:
        return {"rate_hz": float("nan"), "loss": float("nan"), "jitter": float("nan"), "jitter_ms": float("nan")}
    rate = packet_rate(times)
    period = 1.0 / rate
    steps = np.diff(times)
    long = steps >= LOSS_PERIODS * period
    lost = float(np.sum(np.maximum(np.rint(steps[long] / period) - 1, 0)))
    regular = steps[~long]
    if regular.size >= 2:
        spread = MAD_TO_STD * float(np.median(np.abs(regular - np.median(regular)))) / np.sqrt(2.0)
    else:
        spread = float("nan")
    return {"rate_hz": rate, "loss": lost / (lost + times.size), "jitter": spread / period, "jitter_ms": spread * 1e3}


def motion_per_second(times: np.ndarray, amplitude: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The engine's motion statistic (turbulence, windowed robust dispersion) at each of ``ends``."""
    return windowed_dispersion(times, turbulence(amplitude), np.asarray(ends, dtype=np.float64),
                               MOTION_WINDOW_SECONDS, MIN_WINDOW_FRAMES)


def breathing_snr_db(series: np.ndarray, rate_hz: float, at_hz: float | None = None) -> tuple[float, float]:
    """Breathing-band SNR (dB) of a uniformly sampled series and the frequency it was read at.

    Hann power spectrum in ``BREATHING_BAND_HZ``; the mean power within ``PEAK_HALF_WIDTH_HZ``
    of its highest bin (or of ``at_hz``, a known rate) over the mean power of the rest of the
    band. White noise reads about 3 dB around the peak (the highest of many bins) and 0 dB at a
    given rate.
    """
    x = detrend_linear(np.asarray(series, dtype=np.float64))
    freqs, power = padded_periodogram(x[:, np.newaxis], rate_hz, pad_factor=4)
    power = power[:, 0]
    band = (freqs >= BREATHING_BAND_HZ[0]) & (freqs <= BREATHING_BAND_HZ[1])
    if band.sum() < 8:
        return float("nan"), float("nan")
    centre = float(freqs[band][np.argmax(power[band])]) if at_hz is None else float(at_hz)
    near = band & (np.abs(freqs - centre) <= PEAK_HALF_WIDTH_HZ)
    rest = band & ~near
    if not near.any() or not rest.any() or not power[rest].mean() > 0:
        return float("nan"), centre
    return float(10 * np.log10(power[near].mean() / power[rest].mean())), centre


def uniform(times: np.ndarray, values: np.ndarray, rate_hz: float) -> np.ndarray:
    """``values`` on a uniform ``rate_hz`` grid (the engine's resampler), the longest gap-free run."""
    series = resample_uniform(times, values, rate_hz, max_gap=max(0.5, 3.0 / rate_hz))
    return series.values[series.longest_valid_run()]


def breathing_snr(times: np.ndarray, csi: np.ndarray, rate_hz: float, true_hz: float | None = None,
                  window_s: float = BREATHING_WINDOW_S) -> dict[str, float]:
    """Breathing SNR over ``window_s`` windows (hop half a window) of the columns the engine's
    breathing estimate scans: for complex ``[N, S]`` CSI of one antenna its single-antenna feature
    (``vitals.breathing.breathing_columns``: each packet's amplitude over its own mean), real
    ``[N, M]`` columns as they are. Per window the median and the best over columns, around the
    peak and (where ``true_hz`` is given) at the true rate; each the median over the windows."""
    if np.iscomplexobj(csi):
        grid = breathing_columns(np.asarray(csi), rate_hz, feature=DEFAULT_FEATURE, times=np.asarray(times))
    else:
        grid = uniform(times, np.asarray(csi, dtype=np.float64), rate_hz)
    n = round(window_s * rate_hz)
    found: dict[str, list[float]] = {"median": [], "best": [], "true_median": [], "true_best": []}
    for start in range(0, grid.shape[0] - n + 1, max(n // 2, 1)):
        for prefix, at_hz in (("", None), ("true_", true_hz)):
            if prefix and true_hz is None:
                continue
            snrs = np.array([breathing_snr_db(grid[start:start + n, k], rate_hz, at_hz)[0]
                             for k in range(grid.shape[1])])
            snrs = snrs[np.isfinite(snrs)]
            if snrs.size:
                found[prefix + "median"].append(float(np.median(snrs)))
                found[prefix + "best"].append(float(np.max(snrs)))
    return {key: float(np.median(v)) if v else float("nan") for key, v in found.items()}


def noise_reference(rate_hz: float, n_subcarriers: int, seed: int = 0,
                    window_s: float = BREATHING_WINDOW_S) -> dict[str, float]:
    """What :func:`breathing_snr` reads on white noise: the floor a breathing SNR must clear."""
    rng = np.random.default_rng(seed)
    n = round(3 * window_s * rate_hz)
    times = np.arange(n) / rate_hz
    return breathing_snr(times, 1.0 + 0.05 * rng.standard_normal((n, n_subcarriers)), rate_hz, 0.25, window_s)


def walking_spectrum(series: np.ndarray, rate_hz: float) -> tuple[float, float]:
    """Share of a uniformly sampled series' power above ``WALK_SPLIT_HZ`` within ``WALK_BAND_HZ``,
    and the band's dominant frequency."""
    x = np.asarray(series, dtype=np.float64)
    x = x - x.mean()
    freqs, power = padded_periodogram(x[:, np.newaxis], rate_hz, pad_factor=4)
    power = power[:, 0]
    band = (freqs >= WALK_BAND_HZ[0]) & (freqs <= min(WALK_BAND_HZ[1], rate_hz / 2))
    total = power[band].sum()
    if not total > 0:
        return float("nan"), float("nan")
    high = power[band & (freqs > WALK_SPLIT_HZ)].sum()
    return float(high / total), float(freqs[band][np.argmax(power[band])])


def walking_pieces(times: np.ndarray, amplitude: np.ndarray, rate_hz: float,
                   piece_s: float = WALK_PIECE_S) -> list[tuple[float, float]]:
    """:func:`walking_spectrum` of the turbulence of each whole ``piece_s`` piece of a stretch."""
    grid = uniform(times, turbulence(np.abs(amplitude)), rate_hz)
    n = round(piece_s * rate_hz)
    return [walking_spectrum(grid[s:s + n], rate_hz) for s in range(0, grid.shape[0] - n + 1, n)] if n >= 8 else []


def summary(values: Iterable[float], weights: Iterable[float] | None = None) -> tuple[float, float, float, int]:
    """Median, first and third quartile of the finite ``values``, and how many there were.

    With ``weights`` (e.g. one over the number of files of each value's dataset, so that every
    dataset counts alike) the quartiles are of the weighted distribution: each value stands at the
    middle of its share of the cumulative weight.
    """
    values = list(values)
    weights = [1.0] * len(values) if weights is None else list(weights)
    pairs = [(float(x), float(w)) for x, w in zip(values, weights, strict=True)
             if x is not None and np.isfinite(x) and w > 0]
    if not pairs:
        return float("nan"), float("nan"), float("nan"), 0
    v, w = np.array(pairs).T
    if np.allclose(w, w[0]):
        q1, median, q3 = np.percentile(v, [25, 50, 75])
    else:
        order = np.argsort(v, kind="stable")
        v, w = v[order], w[order]
        position = (np.cumsum(w) - 0.5 * w) / w.sum()
        q1, median, q3 = np.interp([0.25, 0.5, 0.75], position, v)
    return float(median), float(q1), float(q3), int(v.size)


def inside(sim: float, median: float, q1: float, q3: float, factor: float = 1.5, decibels: bool = False) -> bool:
    """The simulator's value lies in the real inter-quartile range or within ``factor`` of the median.

    For ``decibels`` the factor applies to the power the value stands for (1.5x = 1.76 dB either
    side). A median of 0 (e.g. no gain steps in most files) accepts only a value inside the range.
    """
    if not all(np.isfinite([sim, median, q1, q3])):
        return False
    if q1 <= sim <= q3:  # a plain bool: it goes into the benchmark's JSON line
        return True
    if decibels:
        return bool(abs(sim - median) <= 10 * np.log10(factor))
    if median > 0 and sim > 0:
        return bool(median / factor <= sim <= median * factor)
    return False
