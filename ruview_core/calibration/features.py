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
- ``motion``: scale-free slow-over-fast variance (about 1 when still), and ``activity``: the
  frame-to-frame change over the empty room's floor (restlessness).
- ``liveness``: the window's amplitude variance over the empty room's. A body breathes and sways,
  a moved wardrobe does not: this tells drift from a person in an unexpected place.
- ``breathing`` / ``heart``: :mod:`ruview_core.vitals` estimates over a longer window, which the
  caller computes every few seconds and passes in (they are the expensive part).

Non-finite frames never get here: cleaning drops them and counts them in ``dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..dsp.motion import motion_energy, motion_index
from ..dsp.resample import resample_uniform
from ..vitals import VitalSignEstimate, estimate_breathing, estimate_heart_rate
from .baseline import ACTIVITY_SECONDS, MOTION_BLOCK_SECONDS, MOTION_SECONDS, PROFILE_SECONDS, NodeBaseline

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
        return np.array([
            np.log(max(self.deviation, 1e-6)), np.log(max(self.residual, 1e-6)), np.log(max(self.motion, 1e-6)),
            np.log(max(self.activity, 1e-6)), float(np.sqrt(np.mean(self.amplitude_shift ** 2))) if self.amplitude_shift.size else 0.0,
            np.log(max(self.liveness, 1e-6)),
        ])


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

    Uses the last ``PROFILE_SECONDS`` for the profile shift, ``MOTION_SECONDS`` for motion and
    ``ACTIVITY_SECONDS`` for activity; pass at least the longest of them.
    """
    if times.size < 8:
        return None
    t = float(times[-1]) if t is None else float(t)
    rate = baseline.rate_hz
    z = csi[:, 0, :]
    profile = z[times > t - PROFILE_SECONDS]
    if profile.shape[0] < 4:
        return None
    deviation, residual = baseline.deviation(profile.mean(axis=0))
    amplitude = np.abs(profile)
    shift = baseline.amplitude_shift(amplitude.mean(axis=0))
    liveness = float(np.median(amplitude.var(axis=0) / np.maximum(baseline.amp_var, 1e-12)))
    moving = z[times > t - MOTION_SECONDS]
    block = max(int(round(MOTION_BLOCK_SECONDS * rate)), 2)
    motion = motion_index(np.concatenate([moving.real, moving.imag], axis=1), block) if moving.shape[0] >= 2 * block else 1.0
    recent = z[times > t - ACTIVITY_SECONDS]
    activity = motion_energy(np.abs(recent)) / max(baseline.activity_floor, 1e-12) if recent.shape[0] >= 3 else 1.0
    expected = max(MOTION_SECONDS, PROFILE_SECONDS) * rate
    return WindowFeatures(
        baseline.node_id, t, int(times.size), min(float(profile.shape[0]) / (PROFILE_SECONDS * rate), 1.0)
        if expected else 0.0, float(dropped), float(saturation), float(deviation), float(residual), float(motion),
        float(activity), shift, liveness, breathing or _EMPTY_VITAL, heart or _EMPTY_VITAL,
    )


def vitals_window(baseline: NodeBaseline, times: np.ndarray, csi: np.ndarray, seconds: float = BREATHING_SECONDS,
                  max_gap: float = 0.5) -> np.ndarray | None:
    """The last ``seconds`` of cleaned CSI on a uniform grid, cut after its last gap (None if short)."""
    keep = times > times[-1] - seconds if times.size else np.zeros(0, bool)
    if keep.sum() < MIN_VITALS_SECONDS * baseline.rate_hz * 0.8:
        return None
    series = resample_uniform(times[keep], csi[keep], baseline.rate_hz, max_gap=max_gap)
    gaps = np.flatnonzero(~series.valid)
    values = series.values[int(gaps[-1]) + 1 if gaps.size else 0:]
    if values.shape[0] < MIN_VITALS_SECONDS * baseline.rate_hz:
        return None
    return values


def estimate_vitals(baseline: NodeBaseline, window: np.ndarray | None, breathing_feature: str | None = None,
                    heart_feature: str | None = None) -> tuple[VitalSignEstimate, VitalSignEstimate]:
    """Breathing over the whole uniform ``window``, heart rate over its last ``HEART_SECONDS``."""
    if window is None:
        return _EMPTY_VITAL, _EMPTY_VITAL
    f = baseline.frequency_index
    rate = baseline.rate_hz
    breathing_feature = None if breathing_feature == "default" else breathing_feature
    heart_feature = None if heart_feature == "default" else heart_feature
    breathing = estimate_breathing(window, rate, feature=breathing_feature, frequency_index=f)
    heart = estimate_heart_rate(window[-int(HEART_SECONDS * rate):], rate, breathing_bpm=breathing.raw_bpm,
                                feature=heart_feature, frequency_index=f)
    return breathing, heart


def sliding_features(baseline: NodeBaseline, times: np.ndarray, csi: np.ndarray, hop: float = 1.0) -> list[WindowFeatures]:
    """Window features every ``hop`` seconds over a clip, once a full ``PROFILE_SECONDS`` is in."""
    if times.size < 8:
        return []
    start = times[0] + min(PROFILE_SECONDS, max(times[-1] - times[0], 0.0))
    out = []
    span = max(MOTION_SECONDS, PROFILE_SECONDS)
    for end in np.arange(start, times[-1] + 1e-9, hop):
        inside = (times > end - span) & (times <= end)
        features = window_features(baseline, times[inside], csi[inside], t=end)
        if features is not None:
            out.append(features)
    return out
