"""Stage 3: the one per-window feature computation shared by enrollment, training and the runtime.

Everything is measured against the node's empty-room baseline and in its units, so the
numbers mean the same in every room:

- ``deviation``: mean squared shift of the window's complex mean profile from the empty room's,
  in units of how far the empty room's own windows stray (about 1 when empty). A still person
  reflects and blocks paths, which moves the mean profile even when nothing fluctuates: this
  is the still-person channel that variance alone misses.
- ``residual``: the same shift outside the room's field eigenmodes, i.e. not explained by the
  ways the empty room itself drifts (a curtain, temperature).
- ``amplitude_shift``: the per-subcarrier amplitude-profile shift (posture prototypes).
- ``motion``: the moving dispersion of the amplitude profile's turbulence over the last
  ``MOTION_WINDOW_SECONDS`` (:mod:`ruview_core.node.motion`) over the empty room's quiet level
  (about 1 when still), and ``activity``: the frame-to-frame change over the empty room's floor
  (restlessness).
- ``liveness``: the window's amplitude variance over the empty room's. A body breathes and sways,
  a moved wardrobe does not: this tells drift from a person in an unexpected place.
- ``breathing`` / ``heart``: :mod:`ruview_core.vitals` estimates over a longer window, which the
  caller computes every few seconds and passes in (they are the expensive part).

Non-finite frames never get here: cleaning drops them and counts them in ``dropped``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..dsp.resample import resample_uniform
from ..vitals import VitalSignEstimate, estimate_breathing, estimate_heart_rate
from ..node.motion import MOTION_WINDOW_SECONDS, median_of, robust_dispersion, window_starts
from .baseline import ACTIVITY_SECONDS, PROFILE_SECONDS, NodeBaseline

SUMMARY_NAMES = ("log_deviation", "log_residual", "log_motion", "log_activity", "shift_rms", "log_liveness")
BREATHING_SECONDS = 60.0
HEART_SECONDS = 30.0
MIN_VITALS_SECONDS = 20.0
# Features the breathing / heart estimators are tried with during enrollment; the bank keeps
# the one that found this room's anchors best (``None`` = the estimator's own default).
VITALS_FEATURES = ("default", "amplitude_norm", "complex")
_EMPTY_VITAL = VitalSignEstimate(None, 0.0, "none")


@dataclass(frozen=True)
class WindowFeatures:
    """What one node's recent window looks like, against its baseline."""

    node_id: int
    t: float
    n_frames: int
    coverage: float  # frames present / frames expected over the window
    dropped: float  # share of received frames refused as non-finite or empty, recently
    saturation: float  # share of kept frames clipped at the int8 rails, recently
    deviation: float
    residual: float
    motion: float
    activity: float
    amplitude_shift: np.ndarray = field(repr=False)
    liveness: float = 1.0  # amplitude variance over the empty room's (about 1 empty; a breathing body raises it)
    breathing: VitalSignEstimate = _EMPTY_VITAL
    heart: VitalSignEstimate = _EMPTY_VITAL

    def summary(self) -> np.ndarray:
        """The scalar features as ``[len(SUMMARY_NAMES)]`` (log-scaled where they span decades)."""
        shift = self.amplitude_shift
        return np.array([
            math.log(max(self.deviation, 1e-6)), math.log(max(self.residual, 1e-6)), math.log(max(self.motion, 1e-6)),
            math.log(max(self.activity, 1e-6)), math.sqrt(float(shift @ shift) / shift.size) if shift.size else 0.0,
            math.log(max(self.liveness, 1e-6)),
        ])


class WindowSums:
    """Prefix sums of one node's cleaned antenna-0 frames: the features of any recent window in O(S).

    Each frame adds its complex profile, amplitude, squared amplitude and its change from the
    previous frame to running totals, so a window's means, variances, block means and
    frame-to-frame variances are differences of two stored rows instead of passes over its
    frames. The arithmetic is that of :func:`ruview_core.node.motion.windowed_dispersion` of the
    turbulence and :func:`~ruview_core.dsp.motion.motion_energy` on the window (differences stay
    inside it), so the runtime, enrollment and a clip give the same numbers up to rounding. Rows older than ``seconds`` are dropped (and the totals rebased,
    so they never grow large enough to lose precision); times are assumed to arrive in order.
    """

    def __init__(self, n_subcarriers: int, seconds: float = max(PROFILE_SECONDS, MOTION_WINDOW_SECONDS, ACTIVITY_SECONDS),
                 rate_hz: float = 20.0) -> None:
        s = int(n_subcarriers)
        self.seconds = float(seconds)
        # Columns of a row: z.real, z.imag, |z|, |z|^2, d|z|, d|z|^2 ([S] each), then the turbulence.
        self._z, self._amp, self._amp2 = slice(0, 2 * s), slice(2 * s, 3 * s), slice(3 * s, 4 * s)
        self._damp, self._damp2 = slice(4 * s, 5 * s), slice(5 * s, 6 * s)
        self._turbulence = slice(6 * s, 6 * s + 1)
        self._width = 6 * s + 1
        self._keep = max(int(math.ceil(self.seconds * max(rate_hz, 1.0) * 1.2)) + 8, 16)
        rows = self._rows(self._keep)
        self._times = np.zeros(rows)
        self._totals = np.zeros((rows + 1, self._width))  # row j: sum of frames before j
        self._last_amp: np.ndarray | None = None
        self.n = 0

    @staticmethod
    def _rows(keep: int) -> int:
        """Rows for ``keep`` frames plus a quarter spare: a rebase every ``keep / 4`` frames copies
        ``keep`` rows, a few rows per frame amortized, and memory stays near what the window needs
        (four 100 Hz nodes: ~20 MB instead of ~40 MB with a spare as large as the window)."""
        return keep + max(keep // 4, 8)

    @classmethod
    def of_clip(cls, times: np.ndarray, z: np.ndarray) -> WindowSums:
        """The sums of a whole clip of cleaned antenna-0 frames ``z`` ``[N, S]`` at once."""
        sums = cls(z.shape[1])
        sums.seconds = math.inf
        sums.extend(times, z)
        return sums

    def _block_rows(self, z: np.ndarray) -> np.ndarray:
        """The rows of a block of frames ``[K, S]`` that follow the last frame added."""
        s = z.shape[1]
        rows = np.empty((z.shape[0], self._width))
        rows[:, :s], rows[:, s:2 * s] = z.real, z.imag
        amp = np.abs(z, out=rows[:, self._amp])
        np.multiply(amp, amp, out=rows[:, self._amp2])
        previous_amp = amp[:1] if self._last_amp is None else self._last_amp[np.newaxis]
        rows[:, self._damp] = np.diff(amp, axis=0, prepend=previous_amp)
        damp = rows[:, self._damp]
        np.multiply(damp, damp, out=rows[:, self._damp2])
        # Turbulence: the spread of the frame's gain-normalised amplitude (cleaned frames have mean 1).
        mean = amp.mean(axis=1)
        variance = np.maximum(rows[:, self._amp2].mean(axis=1) - mean * mean, 0.0)
        rows[:, self._turbulence.start] = np.sqrt(variance)
        self._last_amp = amp[-1].copy()
        return rows

    def extend(self, times: np.ndarray, z: np.ndarray) -> None:
        """Add a block of cleaned antenna-0 frames ``z`` ``[K, S]`` at times ``[K]`` (in order)."""
        times = np.asarray(times, dtype=np.float64)
        k = times.size
        if k == 0:
            return
        rows = self._block_rows(np.asarray(z))
        while self.n + k > self._times.size:
            self._compact(float(times[-1]), room=k)
        self._times[self.n:self.n + k] = times
        np.cumsum(rows, axis=0, out=self._totals[self.n + 1:self.n + k + 1])
        self._totals[self.n + 1:self.n + k + 1] += self._totals[self.n]
        self.n += k

    def append(self, t: float, z: np.ndarray) -> None:
        """Add one cleaned antenna-0 frame ``[S]`` at time ``t``."""
        self.extend(np.array([t]), np.asarray(z)[np.newaxis])

    def _compact(self, t: float, room: int = 1) -> None:
        """Move the newest ``keep`` frames to the front, rebased; grow if they do not span ``seconds``
        or if ``room`` more frames would not fit after them."""
        if self.n < self._keep or t - self._times[self.n - self._keep] <= self.seconds \
                or self._keep + room > self._times.size:
            self._keep *= 2
            extra = self._rows(self._keep) - self._times.size
            self._times = np.concatenate([self._times, np.zeros(extra)])
            self._totals = np.concatenate([self._totals, np.zeros((extra, self._width))])
            return
        first = self.n - self._keep
        self._times[:self._keep] = self._times[first:self.n]
        self._totals[:self._keep + 1] = self._totals[first:self.n + 1] - self._totals[first]
        self.n = self._keep

    def features(self, baseline: NodeBaseline, t: float, *, dropped: float = 0.0, saturation: float = 0.0,
                 breathing: VitalSignEstimate | None = None, heart: VitalSignEstimate | None = None,
                 motion_statistic: float | None = None) -> WindowFeatures | None:
        """:class:`WindowFeatures` of the frames in ``(t - span, t]`` (None if too few frames);
        ``motion_statistic`` is :meth:`motion_statistic` at ``t`` when the caller has it already."""
        span, profile, recent, end = (int(i) for i in np.searchsorted(
            self._times[:self.n], t - _WINDOW_AGES, side="right"))
        n = end - profile
        if end - span < 8 or n < 4:
            return None
        s, totals = baseline.mean.size, self._totals
        window = totals[end] - totals[profile]
        window /= n
        mean = window[:s] + 1j * window[s:2 * s]
        amp_mean = window[self._amp]
        amp_var = window[self._amp2] - amp_mean * amp_mean
        deviation, residual = baseline.deviation(mean)
        liveness = median_of(amp_var / np.maximum(baseline.amp_var, 1e-12))
        rate = baseline.rate_hz
        return WindowFeatures(
            baseline.node_id, t, end - span, min(n / (PROFILE_SECONDS * rate), 1.0) if rate else 0.0, float(dropped),
            float(saturation), float(deviation), float(residual), (self.motion_statistic(t) if motion_statistic is None else motion_statistic) / baseline.motion_level,
            self._activity(recent, end, baseline), baseline.amplitude_shift(amp_mean), max(liveness, 0.0),
            breathing or _EMPTY_VITAL, heart or _EMPTY_VITAL,
        )

    def motion_statistic(self, t: float) -> float:
        """:func:`ruview_core.node.motion.windowed_dispersion` of the turbulence over the motion
        window ending at ``t`` (NaN under 3 frames).

        A median needs the frames themselves: each frame's turbulence is the step of its running
        total (exact to rounding far below the quiet spread), so no second ring is kept in step.
        """
        (start,), (stop,) = window_starts(self._times[:self.n], np.array([t]))
        return robust_dispersion(np.diff(self._totals[start:stop + 1, self._turbulence.start]))

    def _activity(self, start: int, end: int, baseline: NodeBaseline) -> float:
        """``motion_energy`` of the amplitude over frames ``start:end``, over the empty room's."""
        count = end - start
        if count < 3:
            return 1.0
        level = np.maximum((self._totals[end, self._amp] - self._totals[start, self._amp]) / count, 1e-12)
        steps = self._totals[end] - self._totals[start + 1]
        step_mean = steps[self._damp] / (count - 1)
        variance = np.maximum(steps[self._damp2] / (count - 1) - step_mean * step_mean, 0.0)
        return float((variance / (level * level)).sum()) / level.size / max(baseline.activity_floor, 1e-12)


# How far back each window reaches, in the order WindowSums.features unpacks them.
_WINDOW_AGES = np.array([max(MOTION_WINDOW_SECONDS, PROFILE_SECONDS), PROFILE_SECONDS, ACTIVITY_SECONDS, 0.0])


def window_features(
    baseline: NodeBaseline,
    times: np.ndarray,
    csi: np.ndarray,
    *,
    t: float | None = None,
    dropped: float = 0.0,
    saturation: float = 0.0,
    breathing: VitalSignEstimate | None = None,
    heart: VitalSignEstimate | None = None,
) -> WindowFeatures | None:
    """Features of cleaned ``[N, antennas, S]`` frames ending at ``t`` (None if too few frames).

    Uses the last ``PROFILE_SECONDS`` for the profile shift, ``MOTION_WINDOW_SECONDS`` for motion and
    ``ACTIVITY_SECONDS`` for activity; pass at least the longest of them.
    """
    if times.size < 8:
        return None
    t = float(times[-1]) if t is None else float(t)
    return WindowSums.of_clip(times, csi[:, 0, :]).features(baseline, t, dropped=dropped, saturation=saturation,
                                                            breathing=breathing, heart=heart)


def vitals_window(rate_hz: float, times: np.ndarray, csi: np.ndarray, seconds: float = BREATHING_SECONDS,
                  max_gap: float = 0.5) -> np.ndarray | None:
    """The last ``seconds`` of cleaned CSI on a uniform ``rate_hz`` grid, cut after its last gap (None if short)."""
    keep = times > times[-1] - seconds if times.size else np.zeros(0, bool)
    if keep.sum() < MIN_VITALS_SECONDS * rate_hz * 0.8:
        return None
    series = resample_uniform(times[keep], csi[keep], rate_hz, max_gap=max_gap)
    gaps = np.flatnonzero(~series.valid)
    values = series.values[int(gaps[-1]) + 1 if gaps.size else 0:]
    if values.shape[0] < MIN_VITALS_SECONDS * rate_hz:
        return None
    return values


def estimate_vitals(rate_hz: float, frequency_index: np.ndarray | None, window: np.ndarray | None,
                    breathing_feature: str | None = None, heart_feature: str | None = None, *,
                    packets: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                    empty_gain_lines: np.ndarray | None = None, moved_at: Iterable[float] = (),
                    ) -> tuple[VitalSignEstimate, VitalSignEstimate]:
    """Breathing over the whole uniform ``window``, heart rate over its last ``HEART_SECONDS``.

    With ``packets`` (times, cleaned CSI and log overall gain of the same span, not resampled),
    breathing is estimated from them instead: features per packet, the gain's own rhythm ruled out
    (only where the empty room's gain had it too, when ``empty_gain_lines`` gives the baseline's),
    read after the last of the ``moved_at`` times (motion detected) that left the scene changed.
    """
    if window is None:
        return _EMPTY_VITAL, _EMPTY_VITAL
    f = frequency_index
    rate = rate_hz
    breathing_feature = None if breathing_feature == "default" else breathing_feature
    heart_feature = None if heart_feature == "default" else heart_feature
    if packets is not None and packets[0].size >= 16:
        times, csi, gain = packets
        gain = gain if np.isfinite(gain).all() else None
        breathing = estimate_breathing(csi, rate, feature=breathing_feature, frequency_index=f, times=times, gain=gain,
                                       empty_gain_lines=empty_gain_lines, moved_at=moved_at)
    else:
        breathing = estimate_breathing(window, rate, feature=breathing_feature, frequency_index=f)
    heart = estimate_heart_rate(window[-int(HEART_SECONDS * rate):], rate, breathing_bpm=breathing.raw_bpm,
                                feature=heart_feature, frequency_index=f)
    return breathing, heart


def sliding_features(baseline: NodeBaseline, times: np.ndarray, csi: np.ndarray, hop: float = 1.0) -> list[WindowFeatures]:
    """Window features every ``hop`` seconds over a clip, once a full ``PROFILE_SECONDS`` is in."""
    if times.size < 8:
        return []
    start = times[0] + min(PROFILE_SECONDS, max(times[-1] - times[0], 0.0))
    sums = WindowSums.of_clip(times, csi[:, 0, :])
    out = []
    for end in np.arange(start, times[-1] + 1e-9, hop):
        features = sums.features(baseline, float(end))
        if features is not None:
            out.append(features)
    return out
