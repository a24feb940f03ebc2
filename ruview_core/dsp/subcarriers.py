"""Where each subcarrier sits in frequency, which ones carry signal, and which ones react."""

from __future__ import annotations

import numpy as np

LLTF_SUBCARRIERS = 64


def signed_subcarrier_index(n_subcarriers: int) -> np.ndarray:
    """Signed frequency index of each subcarrier in ESP32 raw order.

    The ESP32 reports an FFT in natural bin order: bin ``k < n/2`` is subcarrier ``+k`` and
    bin ``k >= n/2`` is subcarrier ``k - n``, so the negative half comes *after* the positive
    half. Sorting by this index gives true frequency order.
    """
    k = np.arange(n_subcarriers)
    return np.where(k < n_subcarriers // 2, k, k - n_subcarriers)


def frequency_order(n_subcarriers: int) -> np.ndarray:
    """Permutation putting raw-order subcarriers into ascending frequency."""
    return np.argsort(signed_subcarrier_index(n_subcarriers), kind="stable")


def lltf_width(n_subcarriers: int, bandwidth_mhz: int = 20) -> int:
    """How many leading subcarriers of a frame are its legacy LTF.

    Frames carrying HT-LTF (128) or HT-LTF + STBC (192) append them after the LLTF; the LLTF
    is present in every frame, so analysing it alone keeps mixed recordings consistent.
    """
    width = LLTF_SUBCARRIERS * (2 if bandwidth_mhz == 40 else 1)
    return min(width, n_subcarriers)


def usable_subcarriers(amplitude: np.ndarray, relative_threshold: float = 0.05) -> np.ndarray:
    """Boolean mask of the subcarriers that carry signal, found from the data.

    ``amplitude`` is ``[time, subcarriers]``. Null and guard subcarriers report (near) zero in
    every frame, while even a deeply faded data subcarrier keeps a fair fraction of the typical
    level, so a subcarrier is usable when its median amplitude over time exceeds
    ``relative_threshold`` times the 75th percentile of all medians. Which positions are null
    depends on the chip (S3/C3, C5/C6 and the original ESP32 differ), hence no fixed list.
    """
    amplitude = np.asarray(amplitude, dtype=float)
    if amplitude.ndim == 1:
        amplitude = amplitude[np.newaxis, :]
    finite = np.where(np.isfinite(amplitude), amplitude, np.nan)
    median = np.nanmedian(finite, axis=0) if finite.shape[0] else np.zeros(finite.shape[1])
    median = np.nan_to_num(median, nan=0.0)
    reference = np.percentile(median, 75) if median.size else 0.0
    if reference <= 0:
        return np.zeros(median.shape, dtype=bool)
    return median > relative_threshold * reference


def sensitivity_ratio(window: np.ndarray, baseline: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """Per-subcarrier temporal variance of ``window`` over that of ``baseline`` (both ``[T, S]``).

    Subcarriers whose variance rose most since the empty-room baseline are the ones a person
    is disturbing.
    """
    current = np.var(np.asarray(window), axis=0)
    reference = np.var(np.asarray(baseline), axis=0)
    return current / np.maximum(reference, floor)


def select_subcarriers(
    window: np.ndarray, k: int, baseline: np.ndarray | None = None, relative: bool = False
) -> np.ndarray:
    """Indices (ascending) of the ``k`` most sensitive subcarriers of a ``[T, S]`` real window.

    With a baseline the score is the variance ratio to it. Without one it is the temporal
    variance, divided by the squared mean when ``relative`` (for amplitudes, so that strong
    subcarriers are not favoured merely for being strong).
    """
    window = np.asarray(window)
    if baseline is not None:
        score = sensitivity_ratio(window, baseline)
    else:
        score = np.var(window, axis=0)
        if relative:
            score = score / np.maximum(np.mean(window, axis=0) ** 2, 1e-12)
    k = int(min(max(k, 1), window.shape[1]))
    return np.sort(np.argsort(score)[::-1][:k])
