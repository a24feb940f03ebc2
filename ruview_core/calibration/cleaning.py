"""One node's frames, cleaned the same way for the baseline, enrollment and the runtime.

A frame is kept when its legacy-LTF CSI is finite and not all zero; its usable subcarriers
(found from the baseline's data, never hard-coded) are phase-sanitised and divided by the
frame's mean amplitude on antenna 0, so AGC steps and packet gain jitter cancel. Every later
stage compares cleaned frames with the baseline's cleaned frames, so they must share this path:
:func:`clean` does it for a clip, :class:`FrameCleaner` for one frame as it arrives (the same
arithmetic, with what depends only on the subcarrier layout computed once), and
:class:`NodeBuffer` keeps a node's recent cleaned frames for the vitals estimate.
"""

from __future__ import annotations

import math

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..analysis.window import frame_csi, sanitize_frames
from ..frames import CsiFrame

# |I| or |Q| at the int8 rails: the ESP32's ADC clipped.
SATURATION_LEVEL = 127.0


@dataclass(frozen=True)
class CleanFrames:
    """Cleaned frames of one node: ``csi`` is complex ``[N, antennas, S_usable]``.

    ``dropped`` counts frames refused (non-finite, empty, wrong shape); ``saturated`` the
    kept frames with at least one component at the int8 rail.
    """

    times: np.ndarray
    csi: np.ndarray
    dropped: int = 0
    saturated: int = 0

    def __len__(self) -> int:
        return int(self.times.size)


def group_by_node(frames: Iterable[CsiFrame]) -> dict[int, list[CsiFrame]]:
    """CSI frames per ``node_id`` (other packets are ignored), in arrival order."""
    nodes: dict[int, list[CsiFrame]] = {}
    for frame in frames:
        if isinstance(frame, CsiFrame):
            nodes.setdefault(frame.node_id, []).append(frame)
    return nodes


def raw_arrays(frames: Iterable[CsiFrame], n_subcarriers: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Times ``[N]`` and LLTF CSI ``[N, antennas, subcarriers]`` of finite frames, and how many were refused.

    Frames whose shape differs from ``n_subcarriers`` (or, without it, from the first finite
    frame) are refused too: they cannot share a subcarrier mask.
    """
    times, rows, dropped, shape = [], [], 0, None
    for frame in frames:
        csi = frame_csi(frame)
        if csi is None or not np.isfinite(frame.timestamp):
            dropped += 1
            continue
        if shape is None:
            shape = csi.shape if n_subcarriers is None else (csi.shape[0], n_subcarriers)
        if csi.shape != shape:
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
                       int(rails[keep].sum()))


class FrameCleaner:
    """:func:`clean` for one frame at a time, as frames arrive.

    ``clean`` of a single frame spends most of its ~100 us setting up (sorting the subcarriers,
    broadcasting over a frame axis); here the layout is fixed once and a frame costs a few dozen
    small vector operations. The arithmetic is that of
    :func:`ruview_core.dsp.phase.sanitize_phase` (weighted), so a frame cleaned here equals the
    same frame cleaned by :func:`clean` up to rounding.
    """

    def __init__(self, usable: np.ndarray, frequency_index: np.ndarray) -> None:
        self.usable = np.asarray(usable, dtype=bool)
        self.columns = np.flatnonzero(self.usable)
        f = np.asarray(frequency_index)
        self.order = np.argsort(f, kind="stable")
        self.f_sorted = f[self.order].astype(np.float64)
        neighbours = np.flatnonzero(np.diff(self.f_sorted) == 1)
        self.left, self.right = neighbours, neighbours + 1

    def clean(self, csi: np.ndarray) -> tuple[np.ndarray | None, bool]:
        """Cleaned ``[antennas, S_usable]`` CSI of one raw ``[antennas, subcarriers]`` frame and
        whether it touched the int8 rails; ``None`` for a frame :func:`clean` would refuse."""
        if self.columns.size == 0:
            return None, False
        data = csi[:, self.columns]
        reference = data[0]
        power = reference.real * reference.real + reference.imag * reference.imag
        gain = float(np.sqrt(power).sum()) / power.size
        if not (math.isfinite(gain) and gain > 0):
            return None, False
        saturated = bool(max(np.abs(data.real).max(), np.abs(data.imag).max()) >= SATURATION_LEVEL)
        ordered = reference[self.order]
        f = self.f_sorted
        slope = np.angle(ordered[self.right] @ np.conj(ordered[self.left])) if self.left.size else 0.0
        rotated = ordered * np.exp(-1j * slope * f)
        phase = _unwrap(np.angle(rotated * np.exp(-1j * np.angle(rotated.sum()))))
        w = power[self.order]
        total = float(w.sum())
        w = w / total if total > 0 else np.full(f.size, 1.0 / f.size)
        f_mean, p_mean = w @ f, w @ phase
        centred = f - f_mean
        variance = w @ (centred * centred)
        fit_slope = (w @ (centred * (phase - p_mean))) / variance if variance > 0 else 0.0
        residual = np.empty(f.size)
        residual[self.order] = phase - p_mean - fit_slope * centred
        cleaned = data * (np.exp(1j * (residual - np.angle(reference))) / gain)
        if not np.isfinite(cleaned).all():  # a subnormal gain: refuse rather than poison running sums
            return None, False
        return cleaned.astype(np.complex128, copy=False), saturated


def _unwrap(phase: np.ndarray) -> np.ndarray:
    """``np.unwrap`` of one frame; derotated phase rarely jumps, so check that first."""
    if np.abs(np.diff(phase)).max(initial=0.0) > np.pi:
        return np.unwrap(phase)
    return phase


class NodeBuffer:
    """The last ``seconds`` of one node's cleaned frames, in a ring that grows if the rate does.

    Appending copies one frame into preallocated arrays; :meth:`recent` returns the frames of a
    time span in arrival order (the vitals estimate reads the last minute every few seconds).
    """

    def __init__(self, seconds: float, rate_hz: float = 20.0) -> None:
        self.seconds = float(seconds)
        self._capacity = max(int(np.ceil(self.seconds * max(rate_hz, 1.0) * 1.25)) + 8, 16)
        self._times = np.zeros(0)
        self._csi: np.ndarray | None = None
        self._count = 0  # frames ever appended; frame i lives at row i % capacity
        self.dropped = 0
        self.saturated = 0
        self.received = 0

    def __len__(self) -> int:
        return min(self._count, self._capacity)

    def append(self, t: float, csi: np.ndarray, saturated: bool = False) -> None:
        """Add one cleaned ``[antennas, S]`` frame (counted as received)."""
        if self._csi is None or self._csi.shape[1:] != csi.shape:
            # int8 CSI loses nothing in single precision, and the minute kept per node takes half the memory.
            self._csi = np.zeros((self._capacity,) + csi.shape, np.complex64)
            self._times = np.full(self._capacity, -np.inf)
            self._count = 0
        elif self._count >= self._capacity and t - self._times[self._count % self._capacity] <= self.seconds:
            self._grow()
        row = self._count % self._capacity
        self._times[row] = t
        self._csi[row] = csi
        self._count += 1
        self.received += 1
        self.saturated += int(saturated)

    def add(self, chunk: CleanFrames) -> None:
        """Add a cleaned clip frame by frame (its refused frames are counted as received and dropped)."""
        self.dropped += chunk.dropped
        self.received += chunk.dropped
        rails = np.zeros(len(chunk), bool)
        rails[: chunk.saturated] = True  # only the count is known
        for t, csi, saturated in zip(chunk.times, chunk.csi, rails, strict=True):
            self.append(float(t), csi, bool(saturated))

    def _grow(self) -> None:
        order = self._rows(self._count - self._capacity, self._count)
        self._times, self._csi = self._times[order], self._csi[order]
        self._capacity *= 2
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
        if not self._count or self._csi is None:
            return np.zeros(0), np.zeros((0, 1, 0), np.complex128)
        end = self.last_time if end is None else end
        rows = self._rows(max(self._count - self._capacity, 0), self._count)
        times = self._times[rows]
        inside = (times > end - seconds) & (times <= end + 1e-9)
        return times[inside], self._csi[rows[inside]]
