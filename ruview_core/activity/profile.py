"""The time-frequency profile of one movement episode: a short vector a small classifier reads.

Sitting down, standing up, falling, walking and jumping move the body at different speeds and
with different time courses, and that shape survives a change of person or of spot where a
static fingerprint does not. From the episode's gain-normalised amplitude (the node chain's
cleaned frames, so AGC steps and packet gain have already cancelled):

- the amplitude is put on a ``PROFILE_RATE_HZ`` grid and its first ``COMPONENTS`` principal
  components are taken (the directions along which the body reshapes the channel most; the
  subcarriers differ per chip, the components do not);
- their short-time spectrogram gives, per time step, the energy (the envelope) and the
  frequency under which half of it lies (how fast the path lengths change, the Doppler speed);
- the profile is then: duration, the envelope resampled to ``ENVELOPE_POINTS`` (peak-normalised),
  where the peak lies and how fast energy rises and falls around it, the band shares, the median
  and upper speed, how peaked the energy is, how far the static profile moved from the start to
  the end (a body that ends elsewhere, lower or higher), and how still the channel is afterwards.

Everything is a ratio within the episode, so the profile does not depend on a chip's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import stft

from ..dsp.resample import resample_uniform

PROFILE_RATE_HZ = 40.0
COMPONENTS = 3
STFT_SECONDS = 1.0
STFT_STEP_SECONDS = 0.1
ENVELOPE_POINTS = 8
SPEED_POINTS = 4
GRID_STEPS = 6
BANDS_HZ = ((0.5, 1.5), (1.5, 3.0), (3.0, 6.0), (6.0, 12.0), (12.0, 20.0))
EDGE_SECONDS = 0.4  # the static profile at the start and end: medians over this long
MIN_SECONDS = 1.0  # shorter than this, there is no profile to speak of

FEATURE_NAMES = (
    ("duration", "active_share", "peak_at", "rise", "fall", "speed_median", "speed_high", "speed_at_peak",
     "peakedness", "step", "still_after")
    + tuple(f"band_{lo:g}_{hi:g}" for lo, hi in BANDS_HZ)
    + tuple(f"envelope_{i}" for i in range(ENVELOPE_POINTS))
    + tuple(f"speed_{i}" for i in range(SPEED_POINTS))
    + tuple(f"grid_{i}_{lo:g}" for i in range(GRID_STEPS) for lo, _ in BANDS_HZ)
)


@dataclass(frozen=True)
class EpisodeProfile:
    """One episode's profile (:data:`FEATURE_NAMES` order) and its moving time span."""

    values: np.ndarray
    start: float
    end: float


def principal_scores(amplitude: np.ndarray, components: int = COMPONENTS) -> np.ndarray:
    """The first ``components`` principal-component scores ``[N, components]`` of ``[N, S]``,
    each subcarrier centred on its median (a signed, spread-ordered summary of the reshaping)."""
    centred = amplitude - np.median(amplitude, axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    scores = centred @ vt[:components].T
    if scores.shape[1] < components:
        scores = np.pad(scores, ((0, 0), (0, components - scores.shape[1])))
    return scores


def episode_profile(times: np.ndarray, amplitude: np.ndarray, still_after: float = np.nan) -> EpisodeProfile | None:
    """The profile of the episode in ``times`` ``[N]`` / gain-normalised ``amplitude`` ``[N, S]``.

    ``still_after`` is the share of the seconds after the episode the node judged still (NaN
    when unknown, e.g. a clip that ends with the movement). None when the episode is too short.
    """
    times = np.asarray(times, dtype=np.float64)
    amplitude = np.abs(np.asarray(amplitude))
    if times.size < 8 or times[-1] - times[0] < MIN_SECONDS:
        return None
    series = resample_uniform(times, amplitude, PROFILE_RATE_HZ, max_gap=1.0)
    grid = series.values[series.valid]
    grid_times = series.times[series.valid]
    if grid.shape[0] < int(MIN_SECONDS * PROFILE_RATE_HZ):
        return None
    scores = principal_scores(grid)
    per_segment = int(round(STFT_SECONDS * PROFILE_RATE_HZ))
    step = int(round(STFT_STEP_SECONDS * PROFILE_RATE_HZ))
    freqs, seg_times, spec = stft(scores.T, fs=PROFILE_RATE_HZ, nperseg=per_segment,
                                  noverlap=per_segment - step, detrend="constant", boundary=None, padded=False)
    power = (np.abs(spec) ** 2).sum(axis=0)  # [freqs, steps], summed over components
    moving_band = freqs >= BANDS_HZ[0][0]
    envelope = power[moving_band].sum(axis=0)
    total = float(envelope.sum())
    if not np.isfinite(total) or total <= 0 or envelope.size < 2:
        return None
    cumulative = np.cumsum(power[moving_band], axis=0) / np.maximum(envelope, 1e-30)
    speed = freqs[moving_band][np.argmax(cumulative >= 0.5, axis=0)]
    weights = envelope / total
    peak = int(np.argmax(envelope))
    active = envelope >= 0.25 * envelope[peak]
    rel = (seg_times - seg_times[0]) / max(seg_times[-1] - seg_times[0], 1e-9)
    rise, fall = _rise_fall(envelope, peak, STFT_STEP_SECONDS)
    bands = [float(power[(freqs >= lo) & (freqs < hi)].sum() / total) for lo, hi in BANDS_HZ]
    curve = np.interp(np.linspace(0.0, 1.0, ENVELOPE_POINTS), rel, envelope / envelope[peak])
    values = np.array([
        grid_times[-1] - grid_times[0],
        float(active.mean()),
        float(rel[peak]),
        rise,
        fall,
        float(np.sum(weights * speed)),
        float(np.quantile(speed[active], 0.9)) if active.any() else 0.0,
        float(speed[peak]),
        float(np.sum(weights ** 2) * weights.size),  # 1 for flat energy, large for one burst
        _step(grid),
        float(still_after),
        *bands,
        *curve,
        *np.interp(np.linspace(0.0, 1.0, SPEED_POINTS), rel, speed),
        *_grid(power, freqs, total),
    ])
    return EpisodeProfile(values, float(times[0]), float(times[-1]))


def _grid(power: np.ndarray, freqs: np.ndarray, total: float) -> np.ndarray:
    """The spectrogram's share of energy in ``GRID_STEPS`` time slices x the bands, in log units."""
    slices = np.array_split(np.arange(power.shape[1]), GRID_STEPS)
    cells = [power[(freqs >= lo) & (freqs < hi)][:, part].sum() if part.size else 0.0
             for part in slices for lo, hi in BANDS_HZ]
    return np.log10(np.asarray(cells) / total + 1e-4)


def _rise_fall(envelope: np.ndarray, peak: int, step_seconds: float) -> tuple[float, float]:
    """Seconds from 20 % of the peak up to it, and from it down to 20 % again."""
    low = envelope < 0.2 * envelope[peak]
    before = np.flatnonzero(low[:peak])
    after = np.flatnonzero(low[peak:])
    rise = (peak - (before[-1] if before.size else 0)) * step_seconds
    fall = (after[0] if after.size else envelope.size - peak) * step_seconds
    return float(rise), float(fall)


def _step(grid: np.ndarray) -> float:
    """How far the static profile moved from the episode's start to its end, over its spread within."""
    edge = max(int(EDGE_SECONDS * PROFILE_RATE_HZ), 2)
    start, end = np.median(grid[:edge], axis=0), np.median(grid[-edge:], axis=0)
    spread = np.sqrt(np.mean(np.var(grid, axis=0))) + 1e-12
    return float(np.sqrt(np.mean((end - start) ** 2)) / spread)
