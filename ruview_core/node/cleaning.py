"""One node's frames, cleaned the same way for the baseline, enrollment and the runtime.

A frame is kept when its legacy-LTF CSI is finite and not all zero; its usable subcarriers
(found from the baseline's data, never hard-coded) are phase-sanitised and divided by the
frame's mean amplitude on antenna 0, so AGC steps and packet gain jitter cancel. Every later
stage compares cleaned frames with the baseline's cleaned frames, so they must share this path:
:func:`clean` does it for a clip or for the block of frames a hop received, and
:class:`NodeBuffer` keeps a node's recent cleaned frames for the vitals estimate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .window import frame_csi, sanitize_frames
from ..frames import CsiFrame

# |I| or |Q| at the int8 rails: the ESP32's ADC clipped.
SATURATION_LEVEL = 127.0


@dataclass(frozen=True)
class CleanFrames:
    """Cleaned frames of one node: ``csi`` is complex ``[N, antennas, S_usable]``.

    ``dropped`` counts frames refused (non-finite, empty, wrong shape); ``saturated`` the
    kept frames with at least one component at the int8 rail; ``gain`` is each kept frame's
    mean amplitude on antenna 0 before it was divided out (the receiver's overall gain).
    """

    times: np.ndarray
    csi: np.ndarray
    dropped: int = 0
    saturated: int = 0
    gain: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.times.size)


def group_by_node(frames: Iterable[CsiFrame]) -> dict[int, list[CsiFrame]]:
    """CSI frames per ``node_id`` (other packets are ignored), in arrival order."""
    nodes: dict[int, list[CsiFrame]] = {}
    for frame in frames:
        if isinstance(frame, CsiFrame):
            nodes.setdefault(frame.node_id, []).append(frame)
    return nodes


def frame_kind(frame: CsiFrame, csi: np.ndarray) -> tuple[int, int]:
    """What a frame's LLTF can be compared with: its subcarrier count and channel width.

    A node's stream can mix packet types: the ESP32-CSI-Tool recording of a seated person
    interleaves legacy 20 MHz frames with its HT40 frames, whose LLTF has the same length but
    another shape, and each switch read as a burst of motion. One node's chain keeps one kind.
    """
    return int(csi.shape[1]), frame.bandwidth_mhz


def dominant_kind(frames: Iterable[CsiFrame]) -> tuple[int, int] | None:
    """The most common :func:`frame_kind` of ``frames`` (None without a usable frame)."""
    counts: Counter[tuple[int, int]] = Counter()
    for frame in frames:
        csi = frame_csi(frame)
        if csi is not None:
            counts[frame_kind(frame, csi)] += 1
    return counts.most_common(1)[0][0] if counts else None


def raw_arrays(frames: Iterable[CsiFrame], n_subcarriers: int | None = None,
               bandwidth_mhz: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Times ``[N]`` and LLTF CSI ``[N, antennas, subcarriers]`` of finite frames, and how many were refused.

    Frames of another kind than ``n_subcarriers`` / ``bandwidth_mhz`` (or, without them, than
    the most common kind, see :func:`frame_kind`) and frames with another antenna count than
    the first are refused too: they cannot share a subcarrier mask.
    """
    frames = list(frames)
    if n_subcarriers is None or bandwidth_mhz is None:
        dominant = dominant_kind(frames)
        if dominant is not None:
            n_subcarriers = dominant[0] if n_subcarriers is None else n_subcarriers
            bandwidth_mhz = dominant[1] if bandwidth_mhz is None else bandwidth_mhz
    times, rows, dropped, antennas = [], [], 0, None
    for frame in frames:
        csi = frame_csi(frame)
        if csi is None or not np.isfinite(frame.timestamp) or frame_kind(frame, csi) != (n_subcarriers, bandwidth_mhz):
            dropped += 1
            continue
        if antennas is None:
            antennas = csi.shape[0]
        if csi.shape[0] != antennas:
            dropped += 1
            continue
        times.append(float(frame.timestamp))
        rows.append(csi)
    if not rows:
        return np.zeros(0), np.zeros((0, 1, n_subcarriers or 0), np.complex64), dropped
    return np.asarray(times), np.stack(rows), dropped


def clean(times: np.ndarray, csi: np.ndarray, usable: np.ndarray, frequency_index: np.ndarray,
          dropped: int = 0) -> CleanFrames:
    """Clean raw ``[N, antennas, subcarriers]`` CSI onto the ``usable`` subcarriers."""
    times = np.asarray(times, dtype=np.float64)
    csi = np.asarray(csi)
    if times.size == 0 or not usable.any():
        return CleanFrames(np.zeros(0), np.zeros((0, max(csi.shape[1], 1), int(usable.sum())), np.complex128),
                           dropped + int(times.size))
    data = csi[:, :, usable]
    gain = np.abs(data[:, 0, :]).mean(axis=1)
    keep = np.isfinite(gain) & (gain > 0)  # an all-zero frame carries nothing and would divide by zero
    rails = np.maximum(np.abs(data.real), np.abs(data.imag)).max(axis=(1, 2)) >= SATURATION_LEVEL
    data, gain, times = data[keep], gain[keep], times[keep]
    cleaned = sanitize_frames(data, frequency_index) / gain[:, np.newaxis, np.newaxis]
    return CleanFrames(times, cleaned.astype(np.complex128, copy=False), dropped + int((~keep).sum()),
                       int(rails[keep].sum()), gain)


class NodeBuffer:
    """The last ``seconds`` of one node's cleaned frames, in a ring that grows if the rate does.

    Appending copies one frame into preallocated arrays; :meth:`recent` returns the frames of a
    time span in arrival order (the vitals estimate reads the last minute every few seconds).
    """

    def __init__(self, seconds: float, rate_hz: float = 20.0) -> None:
        self.seconds = float(seconds)
        self._capacity = max(int(np.ceil(self.seconds * max(rate_hz, 1.0) * 1.25)) + 8, 16)
        self._times = np.zeros(0)
        self._gain = np.zeros(0)
        self._csi: np.ndarray | None = None
        self._count = 0  # frames ever appended; frame i lives at row i % capacity
        self.dropped = 0
        self.saturated = 0
        self.received = 0

    def __len__(self) -> int:
        return min(self._count, self._capacity)

    def append(self, t: float, csi: np.ndarray, saturated: bool = False) -> None:
        """Add one cleaned ``[antennas, S]`` frame (counted as received)."""
        self.extend(np.array([t]), np.asarray(csi)[np.newaxis], int(saturated))

    def extend(self, times: np.ndarray, csi: np.ndarray, saturated: int = 0, gain: np.ndarray | None = None) -> None:
        """Add a block of cleaned ``[K, antennas, S]`` frames (counted as received; ``saturated`` of
        them clipped) and, where known, their overall gain ``[K]``."""
        k = int(np.asarray(times).size)
        if k == 0:
            return
        if self._csi is None or self._csi.shape[1:] != csi.shape[1:]:
            # int8 CSI loses nothing in single precision, and the minute kept per node takes half the memory.
            self._csi = np.zeros((self._capacity,) + csi.shape[1:], np.complex64)
            self._times = np.full(self._capacity, -np.inf)
            self._gain = np.full(self._capacity, np.nan)
            self._count = 0
        # Grow rather than overwrite a frame still inside ``seconds`` of the newest one.
        while k > self._capacity or (self._count + k > self._capacity and times[-1] - self._times[
                (self._count + k - 1) % self._capacity] <= self.seconds):
            self._grow()
        rows = self._rows(self._count, self._count + k)
        self._times[rows] = times
        self._csi[rows] = csi
        self._gain[rows] = np.nan if gain is None else gain
        self._count += k
        self.received += k
        self.saturated += int(saturated)

    def add(self, chunk: CleanFrames) -> None:
        """Add a cleaned clip (its refused frames are counted as received and dropped)."""
        self.dropped += chunk.dropped
        self.received += chunk.dropped
        self.extend(chunk.times, chunk.csi, chunk.saturated, chunk.gain)

    def _grow(self) -> None:
        order = self._rows(self._count - self._capacity, self._count)
        self._times, self._csi, self._gain = self._times[order], self._csi[order], self._gain[order]
        self._capacity *= 2
        self._gain = np.concatenate([self._gain, np.full(self._capacity - self._gain.size, np.nan)])
        self._times = np.concatenate([self._times, np.full(self._capacity - self._times.size, -np.inf)])
        self._csi = np.concatenate([self._csi, np.zeros((self._capacity - self._csi.shape[0],) + self._csi.shape[1:],
                                                       self._csi.dtype)])
        self._count = self._capacity // 2

    def _rows(self, first: int, stop: int) -> np.ndarray:
        return np.arange(first, stop) % self._capacity

    def clear(self) -> None:
        self._count = 0

    @property
    def last_time(self) -> float | None:
        return float(self._times[(self._count - 1) % self._capacity]) if self._count else None

    def recent(self, seconds: float, end: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times and cleaned CSI of the last ``seconds`` before ``end`` (default: the latest frame)."""
        times, csi, _ = self.recent_with_gain(seconds, end)
        return times, csi

    def recent_with_gain(self, seconds: float, end: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`recent` and each frame's overall gain (NaN where it was not given)."""
        if not self._count or self._csi is None:
            return np.zeros(0), np.zeros((0, 1, 0), np.complex128), np.zeros(0)
        end = self.last_time if end is None else end
        rows = self._rows(max(self._count - self._capacity, 0), self._count)
        times = self._times[rows]
        inside = (times > end - seconds) & (times <= end + 1e-9)
        return times[inside], self._csi[rows[inside]], self._gain[rows[inside]]


def packet_rate(times: np.ndarray) -> float:
    """The packets per second a node sends, measured from its timestamps (real nodes: 7-130/s).

    The larger of two estimates: one over the median step between distinct times (lost
    packets leave it alone) and frames over the span (recorders that stamp a burst of frames
    with one host time make the steps between distinct times too long).
    """
    times = np.sort(np.asarray(times, dtype=np.float64))
    span = float(times[-1] - times[0]) if times.size > 1 else 0.0
    if span <= 0:
        return 20.0
    steps = np.diff(times)
    steps = steps[steps > 0]
    by_step = 1.0 / float(np.median(steps)) if steps.size else 0.0
    rate = max(by_step, (times.size - 1) / span)
    # Whole packets per second: the vitals grid at 19.9 instead of the node's 20/s made the
    # estimators' stillness test read a still sitter as moving (linear interpolation off the
    # packets' own spacing smooths the upper band it compares against).
    return float(np.clip(np.round(rate) if rate >= 5 else rate, 1.0, 1000.0))


def last_gap_end(times: np.ndarray, max_gap: float = 0.5) -> int:
    """Index of the first frame after the last gap longer than ``max_gap`` seconds (0 if none)."""
    gaps = np.flatnonzero(np.diff(np.asarray(times, dtype=np.float64)) > max_gap)
    return int(gaps[-1]) + 1 if gaps.size else 0
