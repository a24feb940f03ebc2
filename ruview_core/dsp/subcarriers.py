"""Where each subcarrier sits in frequency, which ones carry signal, and which ones react."""

from __future__ import annotations

import numpy as np

LLTF_SUBCARRIERS = 64


def subcarrier_order(n_subcarriers: int) -> str:
    """How a source lays out ``n_subcarriers`` tones: ``"fft"`` or ``"ascending"``.

    ESP32 firmware (ADR-018 packets, ESP-IDF / ESP32-CSI-Tool CSV) reports whole FFTs, 64 bins
    per LTF (64, 128, 192, 384), in natural bin order with the nulls in place. Other counts
    come from tools that already dropped the nulls (52 or 56 data and pilot tones of a 20 MHz
    channel: WiFall, UJI, NICs such as Atheros and Intel), which list tones in ascending
    frequency with DC left out.
    """
    return "fft" if n_subcarriers % LLTF_SUBCARRIERS == 0 else "ascending"


def signed_subcarrier_index(n_subcarriers: int) -> np.ndarray:
    """Signed frequency index of each subcarrier, in the order the source reports them.

    In FFT order (:func:`subcarrier_order`) bin ``k < n/2`` is subcarrier ``+k`` and bin
    ``k >= n/2`` is subcarrier ``k - n``, so the negative half comes *after* the positive half.
    Ascending sources list ``-n/2 .. -1, +1 .. +n/2`` (an odd count keeps a middle tone 0).
    Sorting by this index gives true frequency order.
    """
    k = np.arange(n_subcarriers)
    if subcarrier_order(n_subcarriers) == "fft":
        return np.where(k < n_subcarriers // 2, k, k - n_subcarriers)
    half = n_subcarriers // 2
    if n_subcarriers % 2:
        return k - half
    return np.where(k < half, k - half, k - half + 1)


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
    """Boolean mask of the subcarriers that carry channel, found from the data.

    ``amplitude`` is ``[time, subcarriers]`` in the source's order. Null and guard subcarriers
    report (near) zero in every frame, while even a deeply faded data subcarrier keeps a fair
    fraction of the typical level, so a subcarrier carries signal when its median amplitude
    over time exceeds ``relative_threshold`` times the 75th percentile of all medians. Which
    positions are null depends on the chip (S3/C3, C5/C6 and the original ESP32 differ), hence
    no fixed list. Of those, :func:`channel_tones` keeps the ones that look like channel.
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
    return channel_tones(median, median > relative_threshold * reference)


# A channel's response is smooth across neighbouring tones (312.5 kHz apart): a tone several
# times stronger than the tones beside it is not channel (the ESP32-CSI-Tool prints a nearly
# constant non-CSI word in bin 0, |H| ~146 beside nulls). A deep notch one tone wide is
# physical, so only spikes upwards are dropped.
MAX_SPIKE_RATIO = 3.0
NEIGHBOUR_TONES = 2


def channel_tones(median_amplitude: np.ndarray, carries_signal: np.ndarray) -> np.ndarray:
    """The tones of ``carries_signal`` that are channel: never DC, never isolated, no spikes.

    ``median_amplitude`` is each tone's median |H| in the source's order. DC (tone 0) carries
    no channel in OFDM; a tone with no other signal-carrying tone within ``NEIGHBOUR_TONES``
    either side, or more than ``MAX_SPIKE_RATIO`` times the median of those neighbours, is
    dropped too.
    """
    keep = np.asarray(carries_signal, dtype=bool).copy()
    median_amplitude = np.asarray(median_amplitude, dtype=float)
    f = signed_subcarrier_index(keep.size)
    keep &= f != 0
    candidates = np.flatnonzero(keep)
    by_frequency = dict(zip(f[candidates].tolist(), candidates.tolist(), strict=True))
    for index in candidates:
        tone = int(f[index])
        near = [by_frequency[tone + d] for d in range(-NEIGHBOUR_TONES, NEIGHBOUR_TONES + 1)
                if d and tone + d in by_frequency]
        if not near or median_amplitude[index] > MAX_SPIKE_RATIO * np.median(median_amplitude[near]):
            keep[index] = False
    return keep


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
