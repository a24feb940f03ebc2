"""The statistics ``benchmarks/bench_sim_realism.py`` holds the simulator against the real corpus with.

Each is checked on synthetic streams whose answer is known by construction: an amplitude noise,
phase noise, gain jitter, gain steps, timestamp jitter and loss, a breathing tone and a walking
rhythm put in, read back through the engine's own cleaning.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ruview_core.dsp.subcarriers import signed_subcarrier_index
from ruview_core.frames import CsiFrame

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import realism_stats as rs  # noqa: E402

RATE = 20.0
SUBCARRIERS = 64
USED = np.r_[1:27, 38:64]  # an ESP32's LLTF in FFT order: DC and guards report zero


def _stream(seconds: float, *, amp_noise: float = 0.05, phase_noise: float = 0.1, gain_db: float = 2.0,
            seed: int = 0) -> list[CsiFrame]:
    """Frames of a still channel: per-subcarrier amplitude and phase noise, and per packet a random
    phase offset, timing slope and overall gain (all of which the engine's cleaning must remove)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    f = signed_subcarrier_index(SUBCARRIERS)[USED]
    profile = (20.0 + 6.0 * np.sin(np.linspace(0, 3 * np.pi, USED.size))) * np.exp(1j * np.linspace(0, 4, USED.size))
    amplitude = 1.0 + amp_noise * rng.standard_normal((n, USED.size))
    phase = phase_noise * rng.standard_normal((n, USED.size))
    phase += rng.uniform(0, 2 * np.pi, (n, 1)) + rng.normal(0, 0.15, (n, 1)) * f
    gain = 10 ** (rng.normal(0, gain_db, (n, 1)) / 20)
    csi = np.zeros((n, 1, SUBCARRIERS), np.complex64)
    csi[:, 0, USED] = profile * gain * amplitude * np.exp(1j * phase)
    return [CsiFrame(node_id=1, sequence=i, timestamp=i / RATE, csi=csi[i]) for i in range(n)]


def test_amplitude_noise_is_read_after_gain_normalisation():
    arrays = rs.node_arrays(_stream(60.0, amp_noise=0.05, gain_db=2.0))
    assert arrays is not None and arrays.clean.shape[1] == USED.size
    # 2 dB of gain per packet alone would read ~0.23 without the per-packet normalisation.
    assert rs.amplitude_noise(arrays.clean) == pytest.approx(0.05, rel=0.1)
    assert rs.amplitude_noise(arrays.raw) > 0.2
    assert rs.gain_jitter_db(arrays.gain) == pytest.approx(2.0, rel=0.1)


def test_phase_scatter_is_read_after_the_engine_sanitises_the_phase():
    arrays = rs.node_arrays(_stream(60.0, phase_noise=0.1, seed=1))
    # The per-packet offset and slope are gone; what is left is the 0.1 rad put in (less the two
    # degrees of freedom of the fitted line, out of 52 subcarriers).
    assert rs.phase_scatter(arrays.clean) == pytest.approx(0.1, rel=0.12)
    quiet = rs.node_arrays(_stream(60.0, phase_noise=0.02, seed=1))
    assert rs.phase_scatter(quiet.clean) == pytest.approx(0.02, rel=0.15)


def test_gain_steps_are_counted_per_minute_with_their_size():
    rng = np.random.default_rng(2)
    n = int(60 * RATE)
    amplitude = (20.0 + 5.0 * rng.uniform(size=52)) * (1 + 0.03 * rng.standard_normal((n, 52)))
    amplitude *= 10 ** (rng.normal(0, 0.2, (n, 1)) / 20)  # the detector needs a step 5x the jitter
    amplitude[300:] *= 10 ** (3.0 / 20)
    amplitude[800:] *= 10 ** (-2.0 / 20)
    per_minute, sizes = rs.gain_steps(amplitude, 60.0)
    assert per_minute == pytest.approx(2.0)
    assert sizes == pytest.approx([3.0, 2.0], abs=0.3)
    assert rs.gain_steps(amplitude[:250], 12.5) == (0.0, [])


def test_timing_reads_rate_loss_and_jitter():
    rng = np.random.default_rng(3)
    times = np.arange(0, 60, 1 / RATE) + np.clip(rng.normal(0, 0.002, int(60 * RATE)), -0.02, 0.02)
    kept = np.delete(times, np.arange(5, times.size, 10))  # every tenth packet lost
    found = rs.timing(kept)
    assert found["rate_hz"] == 20.0
    assert found["loss"] == pytest.approx(0.1, abs=0.005)
    assert found["jitter_ms"] == pytest.approx(2.0, rel=0.12)
    assert found["jitter"] == pytest.approx(0.04, rel=0.12)


def test_breathing_snr_grows_with_the_tone_and_reads_zero_on_noise():
    rng = np.random.default_rng(4)
    t = np.arange(0, 40, 0.1)
    tone = np.sin(2 * np.pi * 0.25 * t)
    noise = rng.standard_normal(t.size)
    snr, peak = rs.breathing_snr_db(noise + 2 * tone, 10.0)
    assert peak == pytest.approx(0.25, abs=0.02)
    assert rs.breathing_snr_db(3.7 * (noise + 2 * tone), 10.0)[0] == pytest.approx(snr)  # a ratio: no units
    # Twice the amplitude, four times the power: +6 dB, less the noise inside the peak's lobe.
    gains = []
    for _ in range(60):
        noise = rng.standard_normal(t.size)
        gains.append(rs.breathing_snr_db(noise + 2 * tone, 10.0)[0] - rs.breathing_snr_db(noise + tone, 10.0)[0])
    assert np.median(gains) == pytest.approx(6.0, abs=0.6)
    at_rate = [rs.breathing_snr_db(rng.standard_normal(t.size), 10.0, 0.25)[0] for _ in range(200)]
    assert abs(np.median(at_rate)) < 0.7
    around_peak = [rs.breathing_snr_db(rng.standard_normal(t.size), 10.0)[0] for _ in range(200)]
    assert 1.5 < np.median(around_peak) < 4.5  # the highest of many noise bins: the floor to clear


def test_breathing_snr_of_a_stream_finds_the_breathing_subcarriers():
    rng = np.random.default_rng(5)
    times = np.arange(0, 90, 0.1)
    amplitude = 1 + 0.05 * rng.standard_normal((times.size, 40))
    chest = 0.1 * np.sin(2 * np.pi * 0.3 * times)[:, None]
    amplitude[:, :5] += chest  # and in antiphase on five more: the packet's mean amplitude stays flat
    amplitude[:, 5:10] -= chest
    snr = rs.breathing_snr(times, amplitude, 10.0, true_hz=0.3)
    assert snr["best"] > 15 and snr["true_best"] > 15
    assert abs(snr["true_median"]) < 1.5  # three quarters of the subcarriers carry only noise
    floor = rs.noise_reference(10.0, 40)
    assert floor["best"] < snr["best"] - 8
    # Complex CSI goes through the engine's single-antenna breathing feature, which divides out each
    # packet's gain: 3 dB of random gain and a random phase per packet leave the rhythm as it was.
    packet = 10 ** (rng.normal(0, 3.0, (times.size, 1)) / 20) * np.exp(1j * rng.uniform(0, 6.3, (times.size, 1)))
    through_engine = rs.breathing_snr(times, amplitude * packet, 10.0, true_hz=0.3)
    assert through_engine["true_best"] == pytest.approx(snr["true_best"], abs=1.0)
    assert rs.breathing_snr(times, amplitude * np.abs(packet), 10.0, true_hz=0.3)["true_best"] < snr["true_best"] - 5


def test_walking_spectrum_reads_where_the_power_lies():
    t = np.arange(0, rs.WALK_PIECE_S, 1 / RATE)
    share, peak = rs.walking_spectrum(np.sin(2 * np.pi * 2.0 * t), RATE)
    assert share > 0.95 and peak == pytest.approx(2.0, abs=0.15)
    share, peak = rs.walking_spectrum(np.sin(2 * np.pi * 0.6 * t), RATE)
    assert share < 0.2 and peak < 1.0


def test_summary_and_inside():
    assert rs.summary([1, 2, 3, 4, 5, float("nan"), None]) == (3.0, 2.0, 4.0, 5)
    # A dataset of 99 files at 1.0 and one of a single file at 5.0, weighted alike: half the weight each.
    median, q1, q3, n = rs.summary([1.0] * 99 + [5.0], [1 / 99] * 99 + [1.0])
    assert (q1, q3, n) == (1.0, 5.0, 100) and 1.0 < median < 5.0
    assert rs.inside(3.5, 3.0, 2.0, 4.0)
    assert rs.inside(5.9, 4.0, 3.0, 4.5) and not rs.inside(6.1, 4.0, 3.0, 4.5)
    assert not rs.inside(0.5, 0.0, 0.0, 0.0) and rs.inside(0.0, 0.0, 0.0, 1.0)
    assert rs.inside(-2.2, -0.5, -0.6, -0.3, decibels=True) and not rs.inside(-2.4, -0.5, -0.6, -0.3, decibels=True)
    assert type(rs.inside(np.float64(-2.2), -0.5, -0.6, -0.3, decibels=True)) is bool  # it goes into JSON
