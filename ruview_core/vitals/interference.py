"""Rhythms that are the receiver's, not a body's.

An ESP32 link can carry a narrowband line in its overall gain (one real set: about 0.16 Hz, a
pulse train with harmonics at 2x and 3x, in nearly every take of every person), and the CSI
shape follows it. A rhythm that also shows in the overall gain, the RSSI or the packet timing
is not a person's. The gain's lines are found as significant spectral peaks; each one rules
out a comb around it (its multiples and half-multiples, since a pulse train's fundamental may
be the weaker line).

But a body moves the total power too (the simulated person's breathing shows in the gain as
clearly as in the shape), and how much of a rhythm is common to all subcarriers does not tell
the two apart (measured: the share of a rhythm's power that is common to every subcarrier is
0.3-0.7 for the simulated person and 0.4-0.85 for the ESP32 line). What does is the empty room:
the receiver's own line is there with nobody present. Where the empty room's gain lines are
known (:func:`gain_lines` of the baseline capture), only the gain lines on their combs are
ruled out (:func:`lines_seen_empty`); without a baseline every gain line is.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .periodicity import peak_significance
from .rhythm import band_spectra

# A gain line counts from this robust z (noise peaks of one series reach ~4-5) and is certain
# from LINE_Z_FULL; and it must stand this many times above the band's median.
LINE_Z = 4.0
LINE_Z_FULL = 7.0
LINE_RATIO = 4.0
COMB_RATIOS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
FAMILY_RATIOS = (1.0 / 3.0, 0.5, 1.0, 2.0, 3.0)
MAX_LINES = 3


def gain_lines(gain: np.ndarray, rate_hz: float, low_hz: float, high_hz: float) -> list[tuple[float, float]]:
    """``(frequency_hz, strength 0..1)`` of significant lines in real ``[T]`` / ``[T, G]`` gain series."""
    gain = np.asarray(gain, dtype=np.float64)
    spectra = band_spectra(gain, rate_hz, low_hz / 2.0, high_hz)
    if spectra is None:
        return []
    lines: list[tuple[float, float]] = []
    for column in spectra.spectra.T:
        peaks, _ = signal.find_peaks(column)
        peaks = peaks[spectra.band[peaks]]
        median = float(np.median(column[spectra.band]))
        for i in peaks[np.argsort(column[peaks])[::-1][:MAX_LINES]]:
            f = float(spectra.freqs[i])
            if column[i] < LINE_RATIO * median:
                continue
            z = peak_significance(spectra.freqs, column, spectra.band, f, spectra.bin_hz)
            strength = float(np.clip((z - LINE_Z) / (LINE_Z_FULL - LINE_Z), 0.0, 1.0))
            if strength > 0:
                lines.append((f, strength))
    return lines


def interference_factor(freq_hz: float, lines: list[tuple[float, float]], tolerance_hz: float) -> float:
    """1 for a rate clear of every gain line's comb, down to 0 on a certain line's comb (the
    doubts of several lines on it multiply)."""
    factor = 1.0
    for line, strength in lines:
        if any(abs(freq_hz - ratio * line) <= tolerance_hz for ratio in COMB_RATIOS):
            factor *= 1.0 - strength
    return factor


def lines_seen_empty(lines: list[tuple[float, float]], empty: np.ndarray, tolerance_hz: float) -> list[tuple[float, float]]:
    """The ``lines`` that the empty room's gain showed too (``empty`` ``[L, 2]``: frequency in Hz,
    strength), with the weaker of the two strengths: a receiver's line is there with nobody
    present, a person's is not. A pulse train's lines are one family: a short empty-room
    capture may show only one of its harmonics, so a line at a whole multiple or fraction of
    an empty-room line counts as seen (within ``tolerance_hz`` times the multiple)."""
    empty = np.asarray(empty, dtype=np.float64).reshape(-1, 2)
    kept = []
    for freq, strength in lines:
        seen = [s for f, s in empty
                if any(abs(freq - ratio * f) <= tolerance_hz * max(ratio, 1.0) for ratio in FAMILY_RATIOS)]
        if seen:
            kept.append((freq, min(strength, max(seen))))
    return kept
