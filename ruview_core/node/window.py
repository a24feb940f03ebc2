"""From a node's CsiFrames to a clean, uniformly sampled window of CSI.

The order matters: per-packet phase offsets and gain steps must be removed *before*
resampling, because interpolating between two packets with unrelated phase offsets blends
nonsense.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..dsp.agc import GainStep, detect_gain_steps, remove_gain_steps
from ..dsp.phase import sanitize_phase
from ..dsp.resample import resample_uniform
from ..dsp.subcarriers import lltf_width, signed_subcarrier_index, usable_subcarriers
from ..frames import CsiFrame


def frame_csi(frame: CsiFrame) -> np.ndarray | None:
    """The frame's legacy-LTF CSI ``[antennas, subcarriers]``, or None if it is not finite.

    HT-LTF (128) and STBC (192) frames carry the LLTF first; keeping only it gives every
    frame of a mixed recording the same subcarriers.
    """
    csi = np.asarray(frame.csi)
    if csi.ndim != 2 or csi.size == 0:
        return None
    csi = csi[:, : lltf_width(csi.shape[1], frame.bandwidth_mhz)]
    if not np.isfinite(csi).all():
        return None
    return csi


def stack_frames(frames: Iterable[CsiFrame]) -> tuple[np.ndarray, np.ndarray, bool]:
    """Timestamps ``[N]``, CSI ``[N, antennas, subcarriers]`` and whether it is amplitude only.

    For one node's frames. Non-finite frames are dropped; frames whose LLTF shape differs
    from the most common one are dropped too (they cannot share a window).
    """
    kept: list[tuple[float, np.ndarray, bool]] = []
    for frame in frames:
        csi = frame_csi(frame)
        if csi is not None and np.isfinite(frame.timestamp):
            kept.append((float(frame.timestamp), csi, frame.amplitude_only))
    if not kept:
        return np.zeros(0), np.zeros((0, 1, 0), np.complex64), False
    shape = Counter(c.shape for _, c, _ in kept).most_common(1)[0][0]
    kept = [k for k in kept if k[1].shape == shape]
    times = np.array([t for t, _, _ in kept])
    csi = np.stack([c for _, c, _ in kept])
    return times, csi, any(a for _, _, a in kept)


def sanitize_frames(csi: np.ndarray, frequency_index: np.ndarray) -> np.ndarray:
    """Remove each packet's linear phase from ``[N, antennas, S]`` CSI.

    The line is fitted on antenna 0 and removed from every antenna alike, since all antennas
    of a node share the receiver's oscillator: cross-antenna ratios stay exactly as received.
    """
    reference = csi[:, 0, :]
    correction = np.exp(1j * (sanitize_phase(reference, frequency_index) - np.angle(reference)))
    return csi * correction[:, np.newaxis, :]


@dataclass(frozen=True)
class CsiWindow:
    """Uniformly sampled CSI of one node: ``csi`` is ``[T, antennas, S_usable]``.

    ``frequency_index`` is the signed subcarrier number of each column, ``usable`` the mask
    over the LLTF it came from; ``gain_steps`` were removed, ``gaps`` (longer than allowed)
    cut the window to the latest stretch without one.
    """

    times: np.ndarray
    csi: np.ndarray
    rate_hz: float
    frequency_index: np.ndarray
    usable: np.ndarray
    amplitude_only: bool = False
    gain_steps: list[GainStep] = field(default_factory=list)
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.times.size / self.rate_hz if self.rate_hz else 0.0


def prepare_window(
    times: np.ndarray,
    csi: np.ndarray,
    rate_hz: float,
    *,
    amplitude_only: bool = False,
    usable: np.ndarray | None = None,
    max_gap: float = 0.5,
    sanitize: bool = True,
) -> CsiWindow:
    """Clean one node's stacked frames into a uniform :class:`CsiWindow`.

    Steps: keep usable subcarriers (found from the data unless ``usable`` is given), remove
    AGC gain steps, remove each packet's phase slope and offset (``sanitize``; amplitude-only
    data is kept as real amplitude), resample onto a ``rate_hz`` grid, and keep the latest
    stretch not broken by a gap longer than ``max_gap``. Without ``sanitize`` the raw CSI is
    resampled to the nearest packet instead of being interpolated.
    """
    times = np.asarray(times, dtype=np.float64)
    csi = np.asarray(csi)
    n_sc = csi.shape[2] if csi.ndim == 3 else 0
    amplitude = np.abs(csi[:, 0, :]) if csi.size else np.zeros((0, n_sc))
    if usable is None:
        usable = usable_subcarriers(amplitude) if times.size else np.zeros(n_sc, bool)
    f = signed_subcarrier_index(n_sc)[usable]
    empty = CsiWindow(np.zeros(0), np.zeros((0, csi.shape[1] if csi.ndim == 3 else 1, int(usable.sum()))),
                      rate_hz, f, usable, amplitude_only)
    if times.size < 2 or not usable.any():
        return empty
    data = csi[:, :, usable]
    steps = detect_gain_steps(amplitude[:, usable])
    if steps:
        data = remove_gain_steps(data, steps)
    if amplitude_only:
        data = np.abs(data).astype(np.float64)
    elif sanitize:
        data = sanitize_frames(data, f)
    method = "linear" if (sanitize or amplitude_only) else "nearest"
    series = resample_uniform(times, data, rate_hz, max_gap=max_gap, method=method)
    latest = _latest_valid_run(series.valid)
    return CsiWindow(series.times[latest], series.values[latest], rate_hz, f, usable, amplitude_only,
                     steps, series.gaps)


def _latest_valid_run(valid: np.ndarray) -> slice:
    if valid.size == 0 or not valid[-1]:
        # Trailing invalid samples only happen at a gap's edge; fall back to the last run.
        idx = np.flatnonzero(valid)
        if idx.size == 0:
            return slice(0, 0)
        end = int(idx[-1]) + 1
    else:
        end = valid.size
    invalid_before = np.flatnonzero(~valid[:end])
    start = int(invalid_before[-1]) + 1 if invalid_before.size else 0
    return slice(start, end)
