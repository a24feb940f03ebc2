"""One node's sensing chain: CsiFrames in, one :class:`NodeHop` per hop out.

frames -> layout (which subcarriers are channel, :mod:`ruview_core.dsp.subcarriers`) ->
cleaning (phase sanitised, gain-normalised, :mod:`.cleaning`) -> running window sums ->
per-hop record: the motion statistic and its decision (:mod:`.motion`), and, with a room's
baseline, the window features every specialist reads
(:class:`~ruview_core.calibration.features.WindowFeatures`). The vitals estimators read the
node's recent cleaned frames (:meth:`NodePipeline.vitals_window`).

Two modes only: with an empty-room baseline (a room's, or the lead-in of ``ruview analyze
--baseline-seconds``), whose quiet motion level, layout and packet rate it uses; or
self-calibrated, which finds the layout from its first frames, measures the packet rate and
learns the quiet motion level from the stream. ``ruview analyze``, the room runtime (and so
Home Assistant), enrollment and the benchmarks all run this class.

Frames are queued as they arrive and cleaned block-wise when a hop closes, so the cost per
frame is a few vectorised operations amortised over the block.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..calibration.baseline import NodeBaseline
from ..calibration.features import BREATHING_SECONDS, WindowFeatures, WindowSums, estimate_vitals, vitals_window
from ..dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ..frames import CsiFrame
from ..vitals import VitalSignEstimate, breathing_columns
from .cleaning import NodeBuffer, clean, dominant_kind, frame_kind, last_gap_end, packet_rate
from .motion import (
    BASELINE_FACTOR, SELF_FACTOR, SELF_MEMORY_HOPS, SELF_WARMUP_HOPS, UNTRUSTED_SECONDS, SelfCalibratedLevel,
)
from .window import frame_csi

# Self-calibrated: the layout and the packet rate are taken from this many first frames.
LAYOUT_FRAMES = 20
RATE_MEMORY_HOPS = 10  # dropped / clipped shares are judged over this many recent hops


@dataclass(frozen=True)
class NodeHop:
    """What one node shows over the hop ending at ``t``.

    ``motion`` is the motion statistic over the quiet level (about 1 when still; None while the
    quiet level is unknown), ``moving`` the decision (None while unknown). ``features`` exist only
    with a baseline. ``received`` / ``dropped`` / ``saturated`` count frames over the recent hops.
    """

    t: float
    node_id: int
    motion: float | None
    moving: bool | None
    features: WindowFeatures | None
    received: int
    dropped: int
    saturated: int
    has_data: bool


class NodePipeline:
    """One node's frames, cleaned and summed as they arrive; :meth:`hop` closes a hop."""

    def __init__(self, node_id: int, baseline: NodeBaseline | None = None, *,
                 keep_seconds: float = BREATHING_SECONDS + 2.0, factor: float | None = None) -> None:
        self.node_id = node_id
        self.baseline = baseline
        self.factor = factor if factor is not None else (SELF_FACTOR if baseline is None else BASELINE_FACTOR)
        self.keep_seconds = keep_seconds
        self.usable = None if baseline is None else baseline.usable
        self.frequency_index = None if baseline is None else baseline.frequency_index
        self.rate_hz = None if baseline is None else baseline.rate_hz
        self.amplitude_only = False
        # The frame kind (node.cleaning.frame_kind) and antenna count this chain keeps; None until known.
        self.kind = None if baseline is None else (baseline.usable.size, baseline.bandwidth_mhz)
        self.antennas: int | None = None
        self.buffer: NodeBuffer | None = None
        self.sums: WindowSums | None = None
        self.level: SelfCalibratedLevel | None = None  # self-calibrated: made at the first hop, sized in seconds
        self.first_time: float | None = None
        self.last_time = -math.inf
        self.dropped_total = 0  # every frame refused since the start
        self._pending_t: list[float] = []
        self._pending: list[tuple[CsiFrame, np.ndarray]] = []
        self._counts = [0, 0, 0]  # received, dropped, saturated since the last hop
        self._history: deque[tuple[int, int, int]] = deque(maxlen=RATE_MEMORY_HOPS)
        if baseline is not None:
            self._start_sums(int(baseline.usable.sum()))

    # -- input -----------------------------------------------------------------------------

    def push(self, frame: CsiFrame) -> bool:
        """Queue one frame; False (and counted as dropped) when it cannot be used."""
        self._counts[0] += 1
        csi = frame_csi(frame)
        usable = csi is not None and math.isfinite(frame.timestamp) and (
            self.kind is None or frame_kind(frame, csi) == self.kind)
        if usable and self.kind is not None:
            if self.antennas is None:  # with a baseline: the first frame of its kind sets the rest
                self.antennas, self.amplitude_only = csi.shape[0], frame.amplitude_only
            usable = csi.shape[0] == self.antennas
        if not usable:
            self._counts[1] += 1
            self.dropped_total += 1
            return False
        if self.first_time is None:
            self.first_time = float(frame.timestamp)
        self._pending_t.append(float(frame.timestamp))
        self._pending.append((frame, csi))
        return True

    def _start_sums(self, n_usable: int) -> None:
        self.buffer = NodeBuffer(self.keep_seconds, self.rate_hz or 20.0)
        self.sums = WindowSums(n_usable, rate_hz=self.rate_hz or 20.0)

    def _find_layout(self) -> bool:
        """Self-calibrated: the frame kind, layout and packet rate from the first frames (False until enough)."""
        if len(self._pending_t) < LAYOUT_FRAMES:
            return False
        self.kind = dominant_kind(frame for frame, _ in self._pending)
        self.antennas = self._pending[0][1].shape[0]
        self.amplitude_only = self._pending[0][0].amplitude_only
        keep = [i for i, (frame, csi) in enumerate(self._pending)
                if frame_kind(frame, csi) == self.kind and csi.shape[0] == self.antennas]
        self.dropped_total += len(self._pending) - len(keep)
        self._counts[1] += len(self._pending) - len(keep)
        self._pending_t = [self._pending_t[i] for i in keep]
        self._pending = [self._pending[i] for i in keep]
        amplitude = np.abs(np.stack([csi for _, csi in self._pending])[:, 0, :])
        self.usable = usable_subcarriers(amplitude)
        self.frequency_index = signed_subcarrier_index(amplitude.shape[1])[self.usable]
        self.rate_hz = packet_rate(np.asarray(self._pending_t))
        self._start_sums(int(self.usable.sum()))
        return True

    def absorb(self) -> None:
        """Clean the queued frames as one block and add them to the buffer and the sums."""
        if not self._pending_t or (self.sums is None and not self._find_layout()):
            return
        times = np.asarray(self._pending_t)
        csi = np.stack([csi for _, csi in self._pending])
        self._pending_t, self._pending = [], []
        order = np.argsort(times, kind="stable")  # UDP may reorder within a block
        times, csi = times[order], csi[order]
        late = times < self.last_time  # older than frames already summed: they cannot be inserted
        self._counts[1] += int(late.sum())
        self.dropped_total += int(late.sum())
        times, csi = times[~late], csi[~late]
        if self.amplitude_only:
            csi = np.abs(csi).astype(np.complex64)
        cleaned = clean(times, csi, self.usable, self.frequency_index)
        self._counts[1] += cleaned.dropped
        self.dropped_total += cleaned.dropped
        self._counts[2] += cleaned.saturated
        if not len(cleaned):
            return
        self.buffer.extend(cleaned.times, cleaned.csi, cleaned.saturated, cleaned.gain)
        self.sums.extend(cleaned.times, cleaned.csi[:, 0, :])
        self.last_time = float(cleaned.times[-1])

    # -- per hop ---------------------------------------------------------------------------

    def hop(self, t: float, hop: float = 1.0, breathing: VitalSignEstimate | None = None,
            heart: VitalSignEstimate | None = None) -> NodeHop:
        """Close the hop ending at ``t``: the motion decision and, with a baseline, the features."""
        self.absorb()
        self._history.append(tuple(self._counts))
        self._counts = [0, 0, 0]
        received, dropped, saturated = (sum(column) for column in zip(*self._history, strict=True))
        has_data = self.sums is not None and self.last_time > t - hop
        statistic = self.sums.motion_statistic(t) if has_data else math.nan
        trusted = self.first_time is not None and t - self.first_time >= UNTRUSTED_SECONDS
        features = None
        if self.baseline is not None:
            level = self.baseline.motion_level
            if has_data:
                features = self.sums.features(self.baseline, t, dropped=dropped / max(received, 1),
                                              saturation=saturated / max(received - dropped, 1),
                                              breathing=breathing, heart=heart, motion_statistic=statistic)
        else:
            if self.level is None:
                self.level = SelfCalibratedLevel(memory=max(int(SELF_MEMORY_HOPS / hop), 1),
                                                 warmup=max(int(math.ceil(SELF_WARMUP_HOPS / hop)), 1))
            level = self.level.update(statistic) if has_data and trusted else None
        motion = statistic / level if level and math.isfinite(statistic) else None
        moving = None if motion is None or not trusted else motion > self.factor
        return NodeHop(t, self.node_id, motion, moving, features, received, dropped, saturated, has_data)

    def vitals_window(self, t: float, seconds: float = BREATHING_SECONDS) -> np.ndarray | None:
        """The last ``seconds`` of cleaned CSI before ``t`` on a uniform grid (None if too short)."""
        if self.buffer is None:
            return None
        times, csi = self.buffer.recent(seconds, end=t)
        if not times.size:
            return None
        window = vitals_window(self.rate_hz, times, csi, seconds)
        if window is not None and self.amplitude_only:
            return np.abs(window)
        return window

    def breathing_recent(self, t: float, feature: str | None, seconds: float) -> np.ndarray | None:
        """The breathing estimator's ``feature`` columns over the last ``seconds`` before ``t``,
        from the packets on a uniform grid (what a pause is followed on between estimates)."""
        if self.buffer is None or not self.rate_hz:
            return None
        times, csi = self.buffer.recent(seconds, end=t)
        start = last_gap_end(times)
        times, csi = times[start:], csi[start:]
        if times.size < 16:
            return None
        if self.amplitude_only:
            csi = np.abs(csi)
        return breathing_columns(csi, self.rate_hz, feature=feature, times=times,
                                 frequency_index=None if self.amplitude_only else self.frequency_index)

    def vitals(self, t: float, breathing_feature: str | None = None, heart_feature: str | None = None,
               moved_at: Iterable[float] = ()) -> tuple[VitalSignEstimate, VitalSignEstimate]:
        """Breathing and heart rate over the last ``BREATHING_SECONDS`` before ``t`` (the costly part).

        Breathing gets the packets themselves with their times and overall gain (the estimator
        computes its features per packet, so complex CSI is never interpolated across packets,
        and a rhythm the receiver's gain shares is not taken for a body's, unless the baseline
        says the empty room's gain did not have it), and ``moved_at`` (times motion was detected),
        after the last of which that changed the scene it is read; heart rate the uniform window."""
        frequency_index = None if self.amplitude_only else self.frequency_index
        if self.amplitude_only:  # the features that need phase cannot be computed from amplitudes
            breathing_feature = heart_feature = None
        packets = None
        if self.buffer is not None:
            times, csi, gain = self.buffer.recent_with_gain(BREATHING_SECONDS, end=t)
            start = last_gap_end(times)
            if self.amplitude_only:
                csi = np.abs(csi)
            packets = (times[start:], csi[start:], np.log(np.maximum(gain[start:], 1e-12)))
        return estimate_vitals(self.rate_hz or 0.0, frequency_index, self.vitals_window(t),
                               breathing_feature, heart_feature, packets=packets,
                               empty_gain_lines=None if self.baseline is None else self.baseline.gain_lines,
                               moved_at=moved_at)
