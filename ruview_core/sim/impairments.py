"""What an ESP32 receiver does to the true channel before it reports CSI.

* Thermal and phase noise: additive circular complex Gaussian noise at a fixed SNR relative to
  the mean power of the node's static channel.
* No shared clock with the router: every packet gets a random common phase (carrier frequency
  offset and PLL phase) and a random linear phase slope across subcarriers (symbol timing offset,
  ``-2 pi k df tau``). Both are common to all antennas of a node.
* Automatic gain control: per packet the gain settles a little differently (0.45 dB rms, as
  measured on the S3 recording), and now and then it jumps to another gain step (a few dB) and
  stays there for a while.
* int8 I/Q: the CSI is scaled to a fixed target magnitude and rounded; the recorded ESP32-S3 data
  in shared/data peaks at only 12..30 counts per packet (median 15), not near 127.
* Guard and DC subcarriers are reported as exact zeros.
* Packets get lost (the sequence counter still advances) and host timestamps jitter by ms.
"""

from __future__ import annotations

import numpy as np

DEFAULT_STO_STD_S = 25e-9  # measured spread of the per-packet phase slope on the S3 recording
DEFAULT_GAIN_JITTER_DB = 0.45  # common-mode packet-to-packet scatter on the S3 recording
DEFAULT_AGC_STEP_DB = (2.0, 4.0)
AGC_LIMIT_DB = 6.0
INT8_LIMIT = 127


def add_noise(channel: np.ndarray, noise_power: float, rng: np.random.Generator) -> np.ndarray:
    """``channel`` plus complex Gaussian noise of ``noise_power`` per element."""
    sigma = np.sqrt(noise_power / 2)
    return channel + sigma * (rng.standard_normal(channel.shape) + 1j * rng.standard_normal(channel.shape))


def timing_phase(
    n_packets: int, subcarriers: np.ndarray, spacing_hz: float, sto_std_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Per-packet unit phasors ``[n_packets, subcarriers]``: random offset plus linear slope."""
    offset = rng.uniform(0, 2 * np.pi, n_packets)
    delay = rng.normal(0.0, sto_std_s, n_packets)
    return np.exp(1j * (offset[:, None] - 2 * np.pi * spacing_hz * delay[:, None] * subcarriers[None, :]))


def agc_steps(
    n_packets: int, level_db: float, step_probability: float, rng: np.random.Generator,
    step_db: tuple[float, float] = DEFAULT_AGC_STEP_DB,
) -> tuple[np.ndarray, float]:
    """Persistent gain level per packet (dB) starting from ``level_db``; returns it and the final level.

    Each packet independently triggers a jump with ``step_probability``; the jump size is uniform in
    ``step_db`` with a random sign, turned back if it would leave +-``AGC_LIMIT_DB``.
    """
    levels = np.full(n_packets, float(level_db))
    jumps = np.flatnonzero(rng.uniform(size=n_packets) < step_probability)
    sizes = rng.uniform(*step_db, jumps.size) * rng.choice([-1.0, 1.0], jumps.size)
    level = float(level_db)
    for index, size in zip(jumps, sizes, strict=True):  # rare: about one jump a minute
        level = level + size if abs(level + size) <= AGC_LIMIT_DB else level - size
        levels[index:] = level
    return levels, level


def quantize_int8(channel: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scale each packet by ``scale`` (``[packets]``) and round I and Q to int8 counts (saturating)."""
    scaled = channel * scale.reshape((-1,) + (1,) * (channel.ndim - 1))
    real = np.clip(np.rint(scaled.real), -INT8_LIMIT - 1, INT8_LIMIT)
    imag = np.clip(np.rint(scaled.imag), -INT8_LIMIT - 1, INT8_LIMIT)
    return (real + 1j * imag).astype(np.complex64)


def rssi_dbm(channel: np.ndarray, tx_power_dbm: float, rng: np.random.Generator) -> np.ndarray:
    """Integer RSSI per packet from the mean received power of ``[packets, ..., subcarriers]``."""
    power = np.mean(np.abs(channel.reshape(channel.shape[0], -1)) ** 2, axis=1)
    dbm = tx_power_dbm + 10 * np.log10(np.maximum(power, 1e-30)) + rng.normal(0, 0.7, channel.shape[0])
    return np.clip(np.rint(dbm), -95, -20).astype(np.int16)


def jitter_times(
    nominal: np.ndarray, period_s: float, jitter_s: float, window: tuple[float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """Reported timestamps: ``nominal`` plus Gaussian jitter, kept in packet order and in ``window``.

    Clipping the jitter to under half a period keeps each node's packets in order; clipping to the
    window keeps blocks of stream time disjoint so blocks can be merged across nodes by sorting.
    """
    jitter = np.clip(rng.normal(0.0, jitter_s, nominal.size), -0.45 * period_s, 0.45 * period_s)
    return np.clip(nominal + jitter, window[0], np.nextafter(window[1], -np.inf))
