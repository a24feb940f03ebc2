"""Amplitude, phase sanitisation and offset-cancelling CSI products."""

from __future__ import annotations

import numpy as np

from .subcarriers import signed_subcarrier_index


def amplitude(csi: np.ndarray) -> np.ndarray:
    """Magnitude of complex CSI, as float64."""
    return np.abs(np.asarray(csi)).astype(np.float64, copy=False)


def _sorted_frequencies(n: int, frequency_index: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    f = signed_subcarrier_index(n) if frequency_index is None else np.asarray(frequency_index)
    if f.shape != (n,):
        raise ValueError(f"frequency_index has shape {f.shape}, expected ({n},)")
    order = np.argsort(f, kind="stable")
    return order, f[order].astype(np.float64)


def _derotate(csi_sorted: np.ndarray, f_sorted: np.ndarray) -> np.ndarray:
    """Remove a robust estimate of each packet's linear phase, before any unwrapping.

    The slope is the angle of the summed products of neighbouring subcarriers (one subcarrier
    apart), the offset the angle of the summed, slope-corrected CSI. Neither needs unwrapping,
    so the residual phase is small and the later unwrap across subcarriers cannot slip by
    2 pi at a noisy or faded subcarrier, which would bend the least-squares line.
    """
    neighbours = np.flatnonzero(np.diff(f_sorted) == 1)
    if neighbours.size:
        products = csi_sorted[..., neighbours + 1] * np.conj(csi_sorted[..., neighbours])
        slope = np.angle(products.sum(axis=-1))[..., np.newaxis]
    else:
        slope = np.zeros(csi_sorted.shape[:-1] + (1,))
    rotated = csi_sorted * np.exp(-1j * slope * f_sorted)
    offset = np.angle(rotated.sum(axis=-1))[..., np.newaxis]
    return rotated * np.exp(-1j * offset)


def sanitize_phase(
    csi: np.ndarray, frequency_index: np.ndarray | None = None, weighted: bool = True
) -> np.ndarray:
    """Per-packet phase with the linear trend across subcarriers removed.

    Each packet's measured phase is the channel phase plus a random offset (carrier phase)
    and a random slope across subcarriers (sampling-time offset). Unwrapping across
    subcarriers in true frequency order and subtracting the least-squares line
    ``a * f + b`` per packet removes both, leaving the multipath shape that a person changes.
    A coarse, unwrap-free estimate of the line is removed first so that the unwrap cannot
    slip by 2 pi at a noisy subcarrier. With ``weighted`` the fit weighs each subcarrier by
    its power, the inverse of its phase-noise variance: a faded subcarrier's wild phase then
    cannot tilt the line, which would add a random slope to every subcarrier of the packet.

    ``csi`` is ``[..., subcarriers]`` (only usable subcarriers should be passed: null ones
    carry noise phase). ``frequency_index`` gives each column's signed subcarrier number; by
    default the columns are a full raw-order ESP32 block. Returns phases in the input order.
    """
    csi = np.asarray(csi)
    order, f_sorted = _sorted_frequencies(csi.shape[-1], frequency_index)
    ordered = csi[..., order]
    phase = np.unwrap(np.angle(_derotate(ordered, f_sorted)), axis=-1)
    if weighted:
        w = np.abs(ordered) ** 2
        total = w.sum(axis=-1, keepdims=True)
        w = np.where(total > 0, w / np.where(total > 0, total, 1.0), 1.0 / f_sorted.size)
    else:
        w = np.full(phase.shape, 1.0 / f_sorted.size)
    f_mean = (w * f_sorted).sum(axis=-1, keepdims=True)
    p_mean = (w * phase).sum(axis=-1, keepdims=True)
    centred = f_sorted - f_mean
    variance = (w * centred**2).sum(axis=-1, keepdims=True)
    slope = (w * centred * (phase - p_mean)).sum(axis=-1, keepdims=True) / np.where(variance > 0, variance, 1.0)
    slope = np.where(variance > 0, slope, 0.0)
    residual = phase - p_mean - slope * centred
    result = np.empty_like(residual)
    result[..., order] = residual
    return result


def sanitize_csi(csi: np.ndarray, frequency_index: np.ndarray | None = None) -> np.ndarray:
    """Complex CSI with each packet's linear phase removed (amplitudes untouched).

    Same phase as :func:`sanitize_phase`, reattached to the measured amplitude, so that
    complex-domain operations (products with a reference, projections) can follow.
    """
    csi = np.asarray(csi)
    return np.abs(csi) * np.exp(1j * sanitize_phase(csi, frequency_index))


def conjugate_reference_product(csi: np.ndarray, reference: int) -> np.ndarray:
    """``H_k * conj(H_ref)`` for every subcarrier ``k`` of ``[..., subcarriers]`` CSI.

    The per-packet common phase offset cancels; what remains is the phase of each subcarrier
    relative to the reference (plus the slope term, which is small for nearby subcarriers).
    """
    csi = np.asarray(csi)
    return csi * np.conj(csi[..., reference : reference + 1])


def reference_subcarrier(csi: np.ndarray) -> int:
    """Column of ``[time, subcarriers]`` CSI best suited as a phase reference.

    The strongest subcarrier whose amplitude is also steady: a faded or fluctuating reference
    would inject its own noise into every product.
    """
    amp = amplitude(csi)
    mean = amp.mean(axis=0)
    steadiness = mean / np.maximum(amp.std(axis=0), 1e-12)
    score = np.log(np.maximum(mean, 1e-12)) + 0.5 * np.log(np.maximum(steadiness, 1e-12))
    return int(np.argmax(score))


def antenna_ratio(csi: np.ndarray, a: int = 0, b: int = 1, floor: float = 1e-9) -> np.ndarray:
    """``H_a / H_b`` of ``[..., antennas, subcarriers]`` CSI.

    Both antennas share one oscillator and one sampling clock, so the per-packet phase offset
    and slope cancel exactly, and so does any common gain (AGC) change.
    """
    csi = np.asarray(csi)
    numerator = csi[..., a, :]
    denominator = csi[..., b, :]
    safe = np.where(np.abs(denominator) > floor, denominator, floor)
    return numerator / safe
