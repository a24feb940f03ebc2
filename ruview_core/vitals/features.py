"""Real-valued time series derived from complex CSI, in which chest motion may show.

Every feature maps a uniformly sampled window of CSI, ``[T, S]`` or ``[T, antennas, S]``
(usable subcarriers only), to a real ``[T, M]`` matrix of columns that a periodicity
estimator can scan. They differ in what cancels: amplitude is immune to phase offsets but
often blind to millimetre motion; phase sees it but needs the per-packet offsets removed.
``benchmarks/bench_breathing_features.py`` measures them against each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ..dsp.align import align_to_profile, smooth_projection
from ..dsp.phase import antenna_ratio, reference_subcarrier, sanitize_csi, sanitize_phase

# Polynomial degree of the smooth shape change kept by ``shape`` (measured: 1-2 best, 0.54-0.56
# within 1 bpm at 17 dB on the simulator; 3 keeps more noise, 0.50; all 56 subcarriers 0.14).
SHAPE_DEGREE = 2
_MAD_TO_SIGMA = 1.4826

AMPLITUDE_FEATURES = ("amplitude", "amplitude_norm")


def _phase_deviation(z: np.ndarray) -> np.ndarray:
    """Phase of each column of complex ``z`` relative to the column's mean phasor.

    Bounded to +-pi instead of unwrapped over time: a faded subcarrier's noisy phase would
    otherwise wander off by multiples of 2 pi and swamp the millimetre motion of the others.
    """
    return np.angle(z * np.conj(z.mean(axis=0, keepdims=True)))


def _log_magnitude(z: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(np.abs(z), 1e-9))


def _relative(amp: np.ndarray) -> np.ndarray:
    return amp / np.maximum(amp.mean(axis=0, keepdims=True), 1e-12)


def _amplitude(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Amplitude of each subcarrier relative to its own mean."""
    return _relative(np.abs(h))


def _amplitude_norm(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Amplitude over the frame's mean amplitude: AGC steps and gain jitter cancel."""
    amp = np.abs(h)
    return _relative(amp / np.maximum(amp.mean(axis=1, keepdims=True), 1e-12))


def _phase(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Sanitised phase (linear trend across subcarriers removed per packet), around its mean."""
    return _phase_deviation(np.exp(1j * sanitize_phase(h, f)))


def _with_reference(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = reference_subcarrier(h)
    keep = np.arange(h.shape[1]) != ref
    return h[:, keep], h[:, ref : ref + 1]


def _conj_ref_raw(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Phase of ``H_k conj(H_ref)`` on the CSI as received: the common offset cancels, but
    the per-packet timing slope stays, times the subcarrier distance to the reference."""
    others, ref = _with_reference(h)
    return _phase_deviation(others * np.conj(ref))


def _conj_ref(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Phase of ``H_k conj(H_ref)`` after the per-packet slope was removed."""
    others, ref = _with_reference(sanitize_csi(h, f))
    return _phase_deviation(others * np.conj(ref))


def _ratio(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Phase and log-magnitude of ``H_k / H_ref`` (slope removed): offset and gain cancel."""
    others, ref = _with_reference(sanitize_csi(h, f))
    r = others / np.where(np.abs(ref) > 0, ref, 1e-9)
    return np.concatenate([_phase_deviation(r), _log_magnitude(r)], axis=1)


def _projected(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Each subcarrier's slope-free complex CSI projected on its own principal axis.

    A small moving reflection traces an arc in the complex plane of every subcarrier; the
    direction of that arc mixes amplitude and phase differently on each subcarrier, and the
    principal axis of the samples (the 2x2 covariance of real and imaginary parts) follows it,
    so neither half of the motion is thrown away.
    """
    z = sanitize_csi(h, f)
    z = z - z.mean(axis=0)
    xx = np.mean(z.real**2, axis=0)
    yy = np.mean(z.imag**2, axis=0)
    xy = np.mean(z.real * z.imag, axis=0)
    angle = 0.5 * np.arctan2(2 * xy, xx - yy)
    projected = z.real * np.cos(angle) + z.imag * np.sin(angle)
    return projected / np.maximum(np.abs(h).mean(axis=0), 1e-12)


def _complex(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Real and imaginary parts of slope-free CSI over the frame's mean amplitude.

    A breathing chest adds ``D_k * exp(j theta(t))`` to every subcarrier: for millimetre
    motion that is one real signal ``theta(t)`` times a fixed complex pattern across the
    subcarriers, which a principal-component combiner can find and add up coherently, using
    both the amplitude and the phase half of the motion. Columns keep absolute (not
    per-subcarrier) units so that faded subcarriers, which are mostly noise, weigh little.
    """
    z = sanitize_csi(h, f)
    z = z / np.maximum(np.abs(z).mean(axis=1, keepdims=True), 1e-12)
    return np.concatenate([z.real, z.imag], axis=1)


def _noise_whitened(columns: np.ndarray) -> np.ndarray:
    """Columns divided by their white-noise level, read from sample-to-sample differences
    (slow rhythms hardly change between samples, noise changes fully)."""
    steps = np.diff(columns, axis=0)
    sigma = _MAD_TO_SIGMA * np.median(np.abs(steps - np.median(steps, axis=0)), axis=0) / np.sqrt(2.0)
    return columns / np.maximum(sigma, 1e-12)


def _shape(h: np.ndarray, f: np.ndarray | None) -> np.ndarray:
    """Smooth change of the CSI profile's shape, each packet aligned to the window's mean
    profile (complex gain and timing slope removed), in units of its own noise level.

    On one antenna the packet's unknown gain and phase hide what a body does to the whole
    profile; only the shape change survives, and it is smooth across subcarriers.
    """
    residual = align_to_profile(h, f).residual
    coefficients = smooth_projection(residual, f, SHAPE_DEGREE)
    return _noise_whitened(np.concatenate([coefficients.real, coefficients.imag], axis=1))


_SINGLE_ANTENNA: dict[str, Callable[[np.ndarray, np.ndarray | None], np.ndarray]] = {
    "amplitude": _amplitude,
    "amplitude_norm": _amplitude_norm,
    "phase": _phase,
    "conj_ref_raw": _conj_ref_raw,
    "conj_ref": _conj_ref,
    "ratio": _ratio,
    "projected": _projected,
    "complex": _complex,
    "shape": _shape,
}
FEATURES = (*_SINGLE_ANTENNA, "antenna_ratio")


def extract_feature(
    csi: np.ndarray, kind: str, frequency_index: np.ndarray | None = None
) -> np.ndarray:
    """The ``kind`` feature of a CSI window as a real ``[T, M]`` matrix.

    - ``amplitude``: amplitude of every subcarrier relative to its mean.
    - ``amplitude_norm``: the same after dividing each frame by its mean amplitude (AGC steps
      and packet-to-packet gain jitter cancel).
    - ``phase``: sanitised phase, as a deviation from its mean over the window.
    - ``conj_ref_raw``: phase of ``H_k conj(H_ref)`` against a strong steady reference,
      on the CSI as received (common offset cancels, timing slope does not).
    - ``conj_ref``: the same after removing the per-packet slope.
    - ``ratio``: phase and log-magnitude of ``H_k / H_ref`` after removing the slope.
    - ``projected``: slope-free complex CSI projected on each subcarrier's principal axis.
    - ``complex``: real and imaginary parts of slope-free CSI over the frame's mean amplitude.
    - ``shape``: smooth change of the profile's shape after aligning every packet's gain and
      timing slope to the window's mean profile, noise-whitened (see ``dsp.align``).
    - ``antenna_ratio``: phase and log-magnitude of ``H_a / H_b`` for every antenna pair (two
      antennas needed; offset, slope and gain all cancel).

    Single-antenna features of multi-antenna CSI stack every antenna's columns.
    ``frequency_index`` is each column's signed subcarrier number; by default the columns
    are a full raw-order block.
    """
    csi = np.asarray(csi)
    stack = csi[:, np.newaxis, :] if csi.ndim == 2 else csi
    if not np.iscomplexobj(stack) and kind not in AMPLITUDE_FEATURES:
        raise ValueError(f"feature {kind!r} needs complex CSI")
    if kind == "antenna_ratio":
        if stack.shape[1] < 2:
            raise ValueError("antenna_ratio needs at least two antennas")
        columns = []
        for a, b in itertools.combinations(range(stack.shape[1]), 2):
            r = antenna_ratio(stack, a, b)
            columns += [_phase_deviation(r), _log_magnitude(r)]
    elif kind in _SINGLE_ANTENNA:
        columns = [_SINGLE_ANTENNA[kind](stack[:, a], frequency_index) for a in range(stack.shape[1])]
    else:
        raise ValueError(f"unknown feature {kind!r}; expected one of {FEATURES}")
    return np.concatenate(columns, axis=1).astype(np.float64, copy=False)


def available_features(csi: np.ndarray) -> tuple[str, ...]:
    """The features a CSI window supports: amplitude only for real input, antenna ratio with two."""
    csi = np.asarray(csi)
    if not np.iscomplexobj(csi):
        return AMPLITUDE_FEATURES
    if csi.ndim < 3 or csi.shape[1] < 2:
        return tuple(f for f in FEATURES if f != "antenna_ratio")
    return FEATURES
