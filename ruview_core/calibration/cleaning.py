"""One node's frames, cleaned the same way for the baseline, enrollment and the runtime.

A frame is kept when its legacy-LTF CSI is finite and not all zero; its usable subcarriers
(found from the baseline's data, never hard-coded) are phase-sanitised and divided by the
frame's mean amplitude on antenna 0, so AGC steps and packet gain jitter cancel. Every later
stage compares cleaned frames with the baseline's cleaned frames, so they must share this path.
"""

from __future__ import annotations

from collections import deque
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


class NodeBuffer:
    """Recent cleaned frames of one node, as per-hop chunks (cheap to append and to expire)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self._chunks: deque[CleanFrames] = deque()
        self.dropped = 0
        self.saturated = 0
        self.received = 0

    def add(self, chunk: CleanFrames) -> None:
        self.dropped += chunk.dropped
        self.saturated += chunk.saturated
        self.received += len(chunk) + chunk.dropped
        if len(chunk):
            self._chunks.append(chunk)
        while self._chunks and len(self._chunks) > 1 and self._chunks[-1].times[-1] - self._chunks[0].times[-1] > self.seconds:
            self._chunks.popleft()

    def clear(self) -> None:
        self._chunks.clear()

    @property
    def last_time(self) -> float | None:
        return float(self._chunks[-1].times[-1]) if self._chunks else None

    def recent(self, seconds: float, end: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times and cleaned CSI of the last ``seconds`` before ``end`` (default: the latest frame)."""
        if not self._chunks:
            return np.zeros(0), np.zeros((0, 1, 0), np.complex128)
        end = self.last_time if end is None else end
        start = end - seconds
        picked = []
        for chunk in reversed(self._chunks):
            picked.append(chunk)
            if chunk.times[0] <= start:
                break
        picked.reverse()
        times = np.concatenate([c.times for c in picked]) if len(picked) > 1 else picked[0].times
        csi = np.concatenate([c.csi for c in picked]) if len(picked) > 1 else picked[0].csi
        inside = (times > start) & (times <= end + 1e-9)
        return times[inside], csi[inside]
