"""Narrowband multipath physics: from path lengths to per-subcarrier complex gain.

A WiFi channel between two antennas is a sum of propagation paths. Path ``p`` of length ``d_p``
arrives delayed by ``d_p / c`` and attenuated by ``a_p``, so at frequency ``f``

    H(f) = sum_p a_p * exp(-j 2 pi f d_p / c).

The receiver samples ``H`` at the OFDM subcarriers ``f_k = f_c + k * 312.5 kHz``. Amplitudes follow
the radar equations: a direct or specularly reflected path (image source) falls off as
``lambda / (4 pi d)`` times the reflection coefficients it met; a point scatterer of radar cross
section ``sigma`` at distances ``d1`` (from TX) and ``d2`` (to RX) returns
``lambda sqrt(sigma) / ((4 pi)^1.5 d1 d2)``.
"""

from __future__ import annotations

import numpy as np

SPEED_OF_LIGHT = 299_792_458.0
SUBCARRIER_SPACING_HZ = 312_500.0
N_SUBCARRIERS = 64
# The legacy long training field (LLTF) only carries subcarriers -26..+26 without DC, so an ESP32
# reports zeros at raw index 0 and 27..37 (+27..+31 and -32..-27). Measured on the ESP32-S3
# recording in shared/data (all 2,659 frames of node 1); it includes the S3 guard set 0, 29..35.
NULL_SUBCARRIERS = (0, *range(27, 38))


def subcarrier_indices(n_subcarriers: int = N_SUBCARRIERS) -> np.ndarray:
    """Signed subcarrier number of each raw-order slot: ``0..n/2-1`` then ``-n/2..-1``."""
    raw = np.arange(n_subcarriers)
    return np.where(raw < n_subcarriers // 2, raw, raw - n_subcarriers)


def subcarrier_frequencies(freq_mhz: float, n_subcarriers: int = N_SUBCARRIERS) -> np.ndarray:
    """Absolute frequency in Hz of each raw-order subcarrier around the centre ``freq_mhz``."""
    return freq_mhz * 1e6 + subcarrier_indices(n_subcarriers) * SUBCARRIER_SPACING_HZ


def wavelength(freq_mhz: float) -> float:
    return SPEED_OF_LIGHT / (freq_mhz * 1e6)


def free_space_amplitude(length: np.ndarray, wavelength_m: float) -> np.ndarray:
    """Field amplitude of a line-of-sight (or image-source) path: the Friis ``lambda / (4 pi d)``."""
    return wavelength_m / (4 * np.pi * np.asarray(length, dtype=float))


def bistatic_amplitude(
    to_tx: np.ndarray, to_rx: np.ndarray, rcs: np.ndarray, wavelength_m: float
) -> np.ndarray:
    """Field amplitude of the echo of a point scatterer (bistatic radar equation)."""
    return wavelength_m * np.sqrt(rcs) / ((4 * np.pi) ** 1.5 * to_tx * to_rx)


def _even_grid(freqs_hz: np.ndarray) -> tuple[float, float, np.ndarray] | None:
    """``(lowest, spacing, step of each frequency)`` if ``freqs_hz`` lie on an even grid, else None."""
    freqs_hz = np.asarray(freqs_hz, dtype=float)
    f0 = float(np.min(freqs_hz))
    offsets = freqs_hz - f0
    if not np.any(offsets > 0):
        return None
    spacing = float(np.min(offsets[offsets > 0]))
    steps = np.rint(offsets / spacing).astype(int)
    if not np.allclose(steps * spacing, offsets, rtol=0, atol=1.0) or steps.max() > 4 * steps.size:
        return None
    return f0, spacing, steps


def _phasor_ladder(lengths: np.ndarray, f0: float, spacing: float, n_steps: int) -> np.ndarray:
    """``exp(-j 2 pi (f0 + n spacing) d / c)`` for ``n = 0..n_steps-1``: a geometric progression in
    ``n``, so two complex exponentials and a cumulative product replace one exponential per
    subcarrier."""
    ladder = np.empty(lengths.shape + (n_steps,), dtype=complex)
    ladder[..., 0] = np.exp((-2j * np.pi * f0 / SPEED_OF_LIGHT) * lengths)
    ladder[..., 1:] = np.exp((-2j * np.pi * spacing / SPEED_OF_LIGHT) * lengths)[..., None]
    return np.cumprod(ladder, axis=-1, out=ladder)


def path_phasors(lengths: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """``exp(-j 2 pi f d / c)`` for every path length and frequency, ``[..., freqs]``."""
    lengths = np.asarray(lengths, dtype=float)
    grid = _even_grid(freqs_hz)
    if grid is None:
        return np.exp((-2j * np.pi / SPEED_OF_LIGHT) * (lengths[..., None] * np.asarray(freqs_hz)))
    f0, spacing, steps = grid
    return _phasor_ladder(lengths, f0, spacing, int(steps.max()) + 1)[..., steps]


def path_responses(amplitudes: np.ndarray, lengths: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """Complex gain of each path at each frequency, ``[..., paths, freqs]``."""
    return np.asarray(amplitudes)[..., None] * path_phasors(lengths, freqs_hz)


def multipath_response(amplitudes: np.ndarray, lengths: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    """``H(f) = sum_p a_p exp(-j 2 pi f d_p / c)``: ``[..., paths]`` inputs give ``[..., freqs]``."""
    amplitudes = np.asarray(amplitudes, dtype=complex)
    lengths = np.asarray(lengths, dtype=float)
    grid = _even_grid(freqs_hz)
    # einsum, not matmul: batched tiny complex matmuls go through BLAS and crawl under load.
    if grid is None:
        return np.einsum("...p,...pk->...k", amplitudes, path_phasors(lengths, freqs_hz))
    f0, spacing, steps = grid
    n_steps = int(steps.max()) + 1
    # Step n = 8 q + r: a_p z_p^n = (a_p z_p^(8q)) z_p^r with z_p the phasor of one spacing, so
    # the sum over paths is an [8 x P] @ [P x 8] product per time and antenna, and the full
    # [paths x subcarriers] table of phasors is never built. Sum first, reorder afterwards.
    fine = _phasor_ladder(lengths, 0.0, spacing, 8)  # z^0 .. z^7
    coarse_step = fine[..., -1] * fine[..., 1]  # z^8
    coarse = np.empty(lengths.shape + (-(-n_steps // 8),), dtype=complex)
    coarse[..., 0] = amplitudes * np.exp((-2j * np.pi * f0 / SPEED_OF_LIGHT) * lengths)
    coarse[..., 1:] = coarse_step[..., None]
    np.cumprod(coarse, axis=-1, out=coarse)
    summed = np.einsum("...pq,...pr->...qr", coarse, fine)
    return summed.reshape(summed.shape[:-2] + (-1,))[..., steps]


def scatterer_response(
    points: np.ndarray, rcs: np.ndarray, tx: np.ndarray, rx: np.ndarray, freqs_hz: np.ndarray,
    tx_gains: np.ndarray | None = None, rx_gains: np.ndarray | None = None,
) -> np.ndarray:
    """Summed echo of moving point scatterers, also via one wall bounce before or after them.

    ``points`` is ``[T, S, 3]`` and ``rcs`` ``[S]`` (or ``[T, S]``: a body changing posture). ``tx`` is ``[M, 3]``: the transmitter then its
    mirror images in the walls, with reflection coefficients ``tx_gains`` ``[M]`` (first = 1);
    likewise ``rx`` is ``[A, N, 3]`` per receive antenna with ``rx_gains`` ``[N]``. Paths bounce at
    most once (tx image -> point -> rx, or tx -> point -> rx image). Returns ``[T, A, freqs]``.
    """
    tx = np.atleast_2d(tx)
    rx = rx[:, None, :] if rx.ndim == 2 else rx
    tx_gains = np.ones(1) if tx_gains is None else tx_gains
    rx_gains = np.ones(1) if rx_gains is None else rx_gains
    n_tx, n_rx = tx.shape[0], rx.shape[1]
    first = np.concatenate([np.arange(n_tx), np.zeros(n_rx - 1, dtype=int)])
    second = np.concatenate([np.zeros(n_tx, dtype=int), np.arange(1, n_rx)])
    to_tx = np.linalg.norm(points[:, :, None, :] - tx[None, None], axis=-1)  # [T, S, M]
    to_rx = np.linalg.norm(points[:, None, :, None, :] - rx[None, :, None, :, :], axis=-1)  # [T, A, S, N]
    d1 = to_tx[:, None, :, first]  # [T, 1, S, B]
    d2 = to_rx[..., second]  # [T, A, S, B]
    lam = SPEED_OF_LIGHT / float(np.mean(freqs_hz))
    gains = tx_gains[first] * rx_gains[second]
    rcs = np.asarray(rcs)
    rcs = rcs[:, None] if rcs.ndim == 1 else rcs[:, None, :, None]  # [S] or per time [T, S]
    amplitude = bistatic_amplitude(d1, d2, rcs, lam) * gains
    shape = d2.shape[:2] + (-1,)
    return multipath_response(amplitude.reshape(shape), (d1 + d2).reshape(shape), freqs_hz)


def segment_blockage(
    centres: np.ndarray, body_height: np.ndarray, starts: np.ndarray, ends: np.ndarray, radius: float
) -> np.ndarray:
    """How much a standing-cylinder body at ``centres`` ``[T, 2]`` covers each ray segment.

    Returns weights in 0..1, ``[T, Q]`` for ``Q`` segments ``starts -> ends`` (``[Q, 3]``): a
    Gaussian of the horizontal distance from the body axis to the segment, gated by whether the
    segment passes below the top of the body (``body_height`` ``[T]``) where it is closest.
    """
    a = starts[None, :, :2]
    ab = (ends - starts)[None, :, :2]
    c = centres[:, None, :]
    span = np.maximum(np.sum(ab * ab, axis=-1), 1e-12)
    s = np.clip(np.sum((c - a) * ab, axis=-1) / span, 0.0, 1.0)  # [T, Q]
    gap = np.linalg.norm(a + s[..., None] * ab - c, axis=-1)
    z = starts[None, :, 2] + s * (ends - starts)[None, :, 2]
    below_top = 1.0 / (1.0 + np.exp((z - body_height[:, None]) / 0.08))
    return np.exp(-((gap / radius) ** 2)) * below_top
