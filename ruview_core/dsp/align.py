"""Aligning every packet of a window to the window's mean CSI profile.

A single-antenna ESP32 packet is the true channel times an unknown complex gain (AGC level,
gain jitter, carrier phase) and an unknown linear phase across subcarriers (timing offset).
Whatever a person does to the channel in the direction of the profile itself, or of its
linear-phase tilt, is lost in those unknowns; what is left, and measurable, is the change of
the profile's *shape*. Fitting each packet's gain and slope to the mean profile by least
squares, and keeping the residual, isolates that shape change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .phase import sanitize_csi
from .subcarriers import signed_subcarrier_index


@dataclass(frozen=True, slots=True)
class AlignedCsi:
    """``aligned`` ``[T, S]`` CSI (input column order), the ``profile`` ``[S]`` it was fitted to,
    and each packet's complex ``gain`` ``[T]`` (aligned = gain x slope-corrected packet)."""

    aligned: np.ndarray
    profile: np.ndarray
    gain: np.ndarray

    @property
    def residual(self) -> np.ndarray:
        """Change of shape: aligned CSI minus the profile."""
        return self.aligned - self.profile


def align_to_profile(
    csi: np.ndarray, frequency_index: np.ndarray | None = None, iterations: int = 3
) -> AlignedCsi:
    """Remove each packet's complex gain and linear phase slope relative to the mean profile.

    ``csi`` is ``[T, S]`` complex CSI of usable subcarriers; ``frequency_index`` the signed
    subcarrier number of each column (default: a full raw-order block). The slope is the angle
    of the summed neighbour products of ``csi x conj(profile)`` (no unwrapping, so a faded
    subcarrier cannot slip by 2 pi), the gain the least-squares factor onto the profile; the
    profile is re-estimated as the mean of the aligned packets ``iterations`` times.
    """
    csi = np.asarray(csi, dtype=np.complex128)
    if csi.ndim != 2:
        raise ValueError(f"csi must be [time, subcarriers], got shape {csi.shape}")
    n = csi.shape[1]
    f = signed_subcarrier_index(n) if frequency_index is None else np.asarray(frequency_index)
    f = f.astype(np.float64)
    z = sanitize_csi(csi, frequency_index)
    order = np.argsort(f, kind="stable")
    neighbours = np.flatnonzero(np.diff(f[order]) == 1)
    profile = z.mean(axis=0)
    aligned, gain = z, np.ones(z.shape[0], dtype=np.complex128)
    for _ in range(max(iterations, 1)):
        relative = (z * np.conj(profile))[:, order]
        if neighbours.size:
            products = relative[:, neighbours + 1] * np.conj(relative[:, neighbours])
            slope = np.angle(products.sum(axis=1))
        else:
            slope = np.zeros(z.shape[0])
        rotated = z * np.exp(-1j * slope[:, np.newaxis] * f)
        power = np.maximum(np.sum(np.abs(rotated) ** 2, axis=1), 1e-300)
        gain = (np.conj(rotated) @ profile) / power
        aligned = rotated * gain[:, np.newaxis]
        profile = aligned.mean(axis=0)
    return AlignedCsi(aligned, profile, gain)


def smooth_projection(
    residual: np.ndarray, frequency_index: np.ndarray | None = None, degree: int = 2
) -> np.ndarray:
    """Coefficients ``[T, degree + 1]`` of ``[T, S]`` complex rows on orthonormal polynomials
    of subcarrier frequency.

    A body echo's delay differs from the direct path's by nanoseconds, so across a 20 MHz band
    the shape change it causes is smooth; thermal noise is white across subcarriers. Keeping a
    few smooth components keeps most of the change and a few percent of the noise.
    """
    residual = np.asarray(residual)
    n = residual.shape[-1]
    f = signed_subcarrier_index(n) if frequency_index is None else np.asarray(frequency_index)
    f = f.astype(np.float64)
    span = float(np.ptp(f)) or 1.0
    x = 2.0 * (f - f.min()) / span - 1.0
    basis, _ = np.linalg.qr(np.polynomial.legendre.legvander(x, min(degree, n - 1)))
    return residual @ basis
