"""Empty-room baseline: what the channel looks like with nobody there, and how far it strays.

A person standing or sitting still hardly makes the channel fluctuate, but they do change
it: their body reflects and blocks paths, so the (phase-sanitised, gain-normalised) CSI
profile across subcarriers moves away from the empty room's. Presence is judged from that
shift, a Mahalanobis-like distance with a per-subcarrier variance, not from variance alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Presence when the deviation exceeds both this and PRESENCE_MARGIN x the largest deviation
# of the baseline's own windows (an empty room scores about 1).
MIN_PRESENCE_SCORE = 2.0
PRESENCE_MARGIN = 1.5
MOTION_MARGIN = 1.1


@dataclass(frozen=True)
class Baseline:
    """Statistics of the empty room's cleaned CSI (one antenna, usable subcarriers).

    ``mean`` is the complex mean profile, ``frame_var`` each subcarrier's frame-to-frame
    variance (noise), ``drift_var`` the extra variance of one-second means beyond what that
    noise explains (slow changes of an empty room: curtains, temperature).
    """

    mean: np.ndarray
    frame_var: np.ndarray
    drift_var: np.ndarray
    presence_threshold: float
    motion_threshold: float

    def deviation(self, frames: np.ndarray) -> float:
        """Mean over subcarriers of the squared distance of ``[N, S]`` frames' mean profile
        from the baseline, in units of its expected variance: about 1 for an empty room."""
        frames = np.asarray(frames)
        if frames.shape[0] == 0:
            return 0.0
        expected = self.frame_var / frames.shape[0] + self.drift_var
        floor = 1e-3 * float(np.median(self.frame_var)) + 1e-15
        return float(np.mean(np.abs(frames.mean(axis=0) - self.mean) ** 2 / (expected + floor)))


def fit_baseline(
    times: np.ndarray,
    frames: np.ndarray,
    motion_scores: np.ndarray,
    min_motion_threshold: float,
    window_seconds: float = 5.0,
) -> Baseline | None:
    """Baseline from ``[N, S]`` cleaned empty-room frames and their times (None if too short).

    The presence threshold comes from the deviations of the baseline's own sliding
    ``window_seconds`` windows; the motion threshold from the motion scores seen meanwhile.
    """
    times = np.asarray(times, dtype=np.float64)
    times = times - times[0] if times.size else times  # epoch seconds leave no room for 1e-9 steps
    frames = np.asarray(frames)
    if times.size < 20 or times[-1] - times[0] < 2.0:
        return None
    mean = frames.mean(axis=0)
    frame_var = np.mean(np.abs(frames - mean) ** 2, axis=0)
    second = np.floor(times - times[0]).astype(int)
    counts = np.bincount(second)
    full = np.flatnonzero(counts >= 3)
    block_means = np.array([frames[second == s].mean(axis=0) for s in full])
    excess = np.mean(np.abs(block_means - mean) ** 2, axis=0) - frame_var / counts[full].mean()
    drift_var = np.maximum(excess, 0.0)
    provisional = Baseline(mean, frame_var, drift_var, np.inf, np.inf)
    own = [
        provisional.deviation(frames[(times >= start) & (times < start + window_seconds)])
        for start in np.arange(times[0], max(times[-1] - window_seconds, times[0]) + 1e-9, 1.0)
    ]
    presence_threshold = max(MIN_PRESENCE_SCORE, PRESENCE_MARGIN * max(own, default=0.0))
    motion_scores = np.asarray(motion_scores, dtype=np.float64)
    motion_scores = motion_scores[np.isfinite(motion_scores)]
    seen = MOTION_MARGIN * float(motion_scores.max()) if motion_scores.size else 0.0
    return Baseline(mean, frame_var, drift_var, presence_threshold, max(min_motion_threshold, seen))
