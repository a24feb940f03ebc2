"""Per-node analysis: CsiFrames in, one record per hop out (motion, presence, vital signs).

The chain is stateless apart from a ring buffer of cleaned frames and, optionally, an
empty-room baseline. Each hop it looks at the most recent stretch of stream time:

- motion: :func:`~ruview_core.dsp.motion.motion_index` of the last few seconds of cleaned
  CSI, a scale-free ratio of slow to fast variance (about 1.2 when still);
- presence: with a baseline, the shift of the amplitude profile away from the empty room
  (a still person counts); without one, True only on evidence (motion or a confident
  breathing rhythm), otherwise unknown (None);
- breathing and heart rate: the vitals estimators over the last 60 s / 30 s, suppressed
  while there is motion or when the baseline says the room is empty.
"""

from __future__ import annotations

import numpy as np

from ..dsp.motion import motion_index
from ..dsp.resample import resample_uniform
from ..dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ..frames import CsiFrame
from ..vitals.breathing import estimate_breathing
from ..vitals.heart import estimate_heart_rate
from .baseline import Baseline, fit_baseline
from .window import frame_csi, sanitize_frames

RECORD_KEYS = (
    "t", "node_id", "motion", "motion_detected", "presence",
    "breathing_bpm", "breathing_confidence", "heart_bpm", "heart_confidence",
)
# Self-calibrated motion: above SELF_MOTION_FACTOR x the running median of the node's own
# motion scores (the still level: about 0.9 on the simulator, 0.8 on the ESP32-S3 recording),
# and never below SELF_MOTION_FLOOR.
SELF_MOTION_FACTOR = 1.35
SELF_MOTION_FLOOR = 1.15
# With a baseline, its own motion scores set the threshold, but never below this.
MIN_BASELINE_MOTION_THRESHOLD = 1.05
MOTION_BLOCK_SECONDS = 0.5
MIN_VITALS_SECONDS = 30.0
MASK_FRAMES = 20
MAX_GAP_SECONDS = 0.5
PRESENCE_HOLD_SECONDS = 10.0


class NodeAnalyzer:
    """Incremental analysis of one node's CSI; :meth:`push` frames in time order.

    ``hop`` is the output period in stream seconds. With ``baseline_seconds`` the first
    that many seconds are taken as the empty room (presence is None meanwhile); without,
    the analyzer is ``self_calibrated``: motion uses a fixed scale-free threshold and
    presence is only ever True or None. Frames with non-finite CSI, or whose legacy-LTF
    shape differs from the first frame's, are dropped and counted in ``dropped_frames``.
    """

    def __init__(
        self,
        node_id: int,
        hop: float = 1.0,
        baseline_seconds: float | None = None,
        *,
        rate_hz: float | None = None,
        breathing_seconds: float = 60.0,
        heart_seconds: float = 30.0,
        motion_seconds: float = 8.0,
        presence_seconds: float = 5.0,
    ) -> None:
        if hop <= 0:
            raise ValueError("hop must be positive")
        self.node_id = node_id
        self.hop = float(hop)
        self.baseline_seconds = baseline_seconds
        self.self_calibrated = baseline_seconds is None
        self.baseline: Baseline | None = None
        self.rate_hz = rate_hz
        self.breathing_seconds = breathing_seconds
        self.heart_seconds = heart_seconds
        self.motion_seconds = motion_seconds
        self.presence_seconds = presence_seconds
        self.dropped_frames = 0
        self.frames_used = 0
        self.usable: np.ndarray | None = None
        self.amplitude_only = False

        self._start: float | None = None
        self._next_emit = 0.0
        self._shape: tuple[int, int] | None = None
        self._pending_t: list[float] = []
        self._pending_csi: list[np.ndarray] = []
        self._times = np.zeros(0)
        self._clean: np.ndarray | None = None  # [N, antennas, usable] sanitised, gain-normalised
        self._frequency_index = np.zeros(0, dtype=int)
        self._baseline_motion: list[float] = []
        self._motion_history: list[float] = []
        self._last_motion: float | None = None
        self.last_deviation: float | None = None
        self._last_arrival: float | None = None  # when the baseline last saw the room go from empty to occupied
        self._was_present = False

    # -- input -----------------------------------------------------------------------------

    def push(self, frame: CsiFrame) -> list[dict]:
        """Add one frame; returns the records of every hop that ended before it (often none)."""
        csi = frame_csi(frame)
        if frame.node_id != self.node_id or csi is None or not np.isfinite(frame.timestamp):
            self.dropped_frames += 1
            return []
        if self._shape is None:
            self._shape = csi.shape
            self.amplitude_only = frame.amplitude_only
        elif csi.shape != self._shape:
            self.dropped_frames += 1
            return []
        t = float(frame.timestamp)
        if self._start is None:
            self._start = t
            self._next_emit = t + self.hop
        records = []
        while t >= self._next_emit:
            records.append(self._emit(self._next_emit))
            self._next_emit += self.hop
        self._pending_t.append(t)
        self._pending_csi.append(csi)
        return records

    # -- per-hop work ----------------------------------------------------------------------

    def _absorb_pending(self) -> None:
        """Clean the frames received since the last hop and append them to the ring buffer."""
        if not self._pending_t:
            return
        if self.usable is None:
            if len(self._pending_t) < MASK_FRAMES:
                return
            amplitude = np.abs(np.stack(self._pending_csi)[:, 0, :])
            self.usable = usable_subcarriers(amplitude)
            self._frequency_index = signed_subcarrier_index(amplitude.shape[1])[self.usable]
            if self.rate_hz is None:
                step = np.median(np.diff(np.sort(self._pending_t)))
                self.rate_hz = float(np.clip(np.round(1.0 / step), 5.0, 100.0)) if step > 0 else 20.0
        times = np.asarray(self._pending_t)
        csi = np.stack(self._pending_csi)[:, :, self.usable]
        self._pending_t, self._pending_csi = [], []
        gain = np.abs(csi[:, 0, :]).mean(axis=1)
        keep = gain > 0  # an all-zero frame carries nothing and would divide by zero
        self.dropped_frames += int((~keep).sum())
        times, csi, gain = times[keep], csi[keep], gain[keep]
        if times.size == 0 or not self.usable.any():
            return
        if self.amplitude_only:
            clean = np.abs(csi).astype(np.complex128)
        else:
            clean = sanitize_frames(csi, self._frequency_index)
        # Dividing by the frame's mean amplitude removes AGC steps and packet gain jitter.
        clean = clean / gain[:, np.newaxis, np.newaxis]
        self.frames_used += times.size
        if self._clean is None:
            self._times, self._clean = times, clean
        else:
            self._times = np.concatenate([self._times, times])
            self._clean = np.concatenate([self._clean, clean])
        keep_seconds = max(self.breathing_seconds, self.heart_seconds, self.motion_seconds, self.presence_seconds)
        if self.baseline is None and self.baseline_seconds is not None:
            keep_seconds = max(keep_seconds, self.baseline_seconds)
        horizon = self._times.max() - keep_seconds - 1.0
        if self._times[0] < horizon:
            keep = self._times >= horizon
            self._times, self._clean = self._times[keep], self._clean[keep]

    def _recent(self, end: float, seconds: float) -> np.ndarray:
        return (self._times >= end - seconds) & (self._times < end)

    def _motion_score(self, end: float) -> float:
        recent = self._recent(end, self.motion_seconds)
        if recent.sum() < 8:
            return 0.0
        z = self._clean[recent][:, 0, :]
        columns = np.abs(z) if self.amplitude_only else np.concatenate([z.real, z.imag], axis=1)
        return motion_index(columns, block=max(int(round(MOTION_BLOCK_SECONDS * self.rate_hz)), 2))

    def _vitals_window(self, end: float) -> np.ndarray | None:
        """Uniform CSI of the last ``breathing_seconds``, cut after the last gap, the last
        motion and the last arrival (the channel changed then, so older data does not fit)."""
        seconds = self.breathing_seconds
        for change in (self._last_motion, self._last_arrival):
            if change is not None:
                seconds = min(seconds, end - change)
        if seconds < MIN_VITALS_SECONDS:
            return None
        recent = self._recent(end, seconds)
        if recent.sum() < 16:
            return None
        series = resample_uniform(self._times[recent], self._clean[recent], self.rate_hz, max_gap=MAX_GAP_SECONDS)
        run = series.valid
        last_gap = np.flatnonzero(~run)
        start = int(last_gap[-1]) + 1 if last_gap.size else 0
        values = series.values[start:]
        if values.shape[0] < MIN_VITALS_SECONDS * self.rate_hz:
            return None
        return np.abs(values) if self.amplitude_only else values

    def _emit(self, end: float) -> dict:
        self._absorb_pending()
        record = dict.fromkeys(RECORD_KEYS)
        record.update(t=round(end - self._start, 1), node_id=self.node_id, motion=0.0, motion_detected=False,
                      breathing_confidence=0.0, heart_confidence=0.0)
        if self._clean is None or not self._recent(end, self.hop).any():
            return record  # no data for this hop: say nothing rather than repeat stale numbers
        motion = self._motion_score(end)
        elapsed = end - self._start
        calibrating = not self.self_calibrated and self.baseline is None
        if calibrating and elapsed <= self.baseline_seconds + 1e-9:
            self._baseline_motion.append(motion)
        elif calibrating:
            during = self._times < self._start + self.baseline_seconds
            self.baseline = fit_baseline(self._times[during], self._clean[during][:, 0, :],
                                         np.array(self._baseline_motion), MIN_BASELINE_MOTION_THRESHOLD)
            calibrating = False
            if self.baseline is None:  # too short a baseline to be of use
                self.self_calibrated = True
        if self.baseline is not None:
            threshold = self.baseline.motion_threshold
        else:
            self._motion_history.append(motion)
            still_level = float(np.median(self._motion_history[-600:]))
            threshold = max(SELF_MOTION_FLOOR, SELF_MOTION_FACTOR * still_level)
        moving = motion > threshold
        if moving:
            self._last_motion = end
        record.update(motion=round(float(motion), 3), motion_detected=bool(moving))

        presence: bool | None = None
        if self.baseline is not None:
            self.last_deviation = self.baseline.deviation(self._clean[self._recent(end, self.presence_seconds)][:, 0, :])
            presence = bool(moving or self.last_deviation > self.baseline.presence_threshold)
            if presence and not self._was_present:
                self._last_arrival = end
            self._was_present = presence
        elif not calibrating:
            recently_moved = self._last_motion is not None and end - self._last_motion <= PRESENCE_HOLD_SECONDS
            presence = True if recently_moved else None

        if presence is False or moving:
            record["presence"] = presence
            return record
        window = self._vitals_window(end)
        if window is not None:
            self._add_vitals(record, window)
        if self.baseline is None and presence is None and record["breathing_bpm"] is not None:
            presence = True
        if calibrating:
            presence = None
        record["presence"] = presence
        return record

    def _add_vitals(self, record: dict, window: np.ndarray) -> None:
        rate = self.rate_hz
        f = None if self.amplitude_only else self._frequency_index
        breathing = estimate_breathing(window, rate, frequency_index=f)
        record["breathing_confidence"] = round(breathing.confidence, 2)
        if breathing.bpm is not None:
            record["breathing_bpm"] = round(breathing.bpm, 1)
        heart_window = window[-int(round(self.heart_seconds * rate)):]
        heart = estimate_heart_rate(heart_window, rate, breathing_bpm=breathing.raw_bpm, frequency_index=f)
        record["heart_confidence"] = round(heart.confidence, 2)
        if heart.bpm is not None:
            record["heart_bpm"] = round(heart.bpm, 1)
