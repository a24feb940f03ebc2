"""Breathing on irregular packets, the top-k rhythm finder, gain-line rejection and pauses.

Synthetic cases reproduce what real recordings showed (issue 13, issue 20 item 5); the last
tests replay a few files of ``../shared/data/real`` (skipped when it is absent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ruview_core.dsp.resample import resample_uniform
from ruview_core.vitals import estimate_breathing, estimate_heart_rate, find_pauses, find_rhythm
from ruview_core.vitals.breathing import MIN_CONFIDENCE, on_uniform_grid

from .conftest import require

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "real"
WAVELENGTH_M = 0.057  # 5.2 GHz, as the phantom recordings


def packet_times(seconds: float, rate_hz: float, seed: int) -> np.ndarray:
    """Irregular packet times: gaps jitter +-30 % around 1 / rate."""
    rng = np.random.default_rng(seed)
    gaps = rng.uniform(0.7, 1.3, int(seconds * rate_hz * 1.1)) / rate_hz
    times = np.cumsum(gaps)
    return times[times < seconds]


def chest_csi(times: np.ndarray, bpm: float, antennas: int, seed: int, depth_m: float = 1e-3,
              breathing: np.ndarray | None = None, snr_db: float = 25.0) -> np.ndarray:
    """``[T, antennas, 56]`` CSI: a static channel plus a chest echo moving ``depth_m`` at
    ``bpm`` (``breathing`` masks when it moves), each packet with its own random phase offset
    and gain, as a receiver reports it."""
    rng = np.random.default_rng(seed)
    shape = (antennas, 56)
    static = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    echo = 0.3 * (rng.normal(size=shape) + 1j * rng.normal(size=shape))
    motion = depth_m * np.sin(2 * np.pi * bpm / 60.0 * times)
    if breathing is not None:
        motion = motion * breathing
    rotation = np.exp(1j * 4 * np.pi * motion / WAVELENGTH_M)
    csi = static[None] + echo[None] * rotation[:, None, None]
    offset = np.exp(1j * rng.uniform(-np.pi, np.pi, times.size)) * rng.uniform(0.7, 1.3, times.size)
    noise = 10 ** (-snr_db / 20) * (rng.normal(size=csi.shape) + 1j * rng.normal(size=csi.shape)) / np.sqrt(2)
    return (csi + noise) * offset[:, None, None]


def test_uniform_grid_interpolates_real_columns_between_irregular_times():
    times = np.array([0.0, 0.1, 0.35, 0.4, 0.4, 1.0])
    values = np.column_stack([times * 2.0, -times])
    grid = on_uniform_grid(times, values, 10.0)
    assert grid.shape == (11, 2)
    np.testing.assert_allclose(grid[:, 0], np.arange(11) * 0.2, atol=1e-12)


@pytest.mark.parametrize("bpm", [4.0, 35.0])
def test_rates_outside_the_old_band_are_found_from_irregular_packets(bpm):
    # Slow breathing and phantoms go down to 3-4 bpm, fast breathing to 40; packets arrive
    # at ~10 Hz with jitter and their own phase offset (interpolating complex CSI would mix two).
    times = packet_times(60.0, 10.0, seed=1)
    csi = chest_csi(times, bpm, antennas=3, seed=2)
    estimate = estimate_breathing(csi, 10.0, times=times)
    assert estimate.feature == "antenna_ratio"
    assert estimate.bpm is not None and abs(estimate.bpm - bpm) < 0.5, estimate


def test_a_few_periodic_columns_among_many_noisy_ones_are_found():
    rng = np.random.default_rng(3)
    t = np.arange(600) / 10.0
    columns = rng.normal(size=(600, 120))
    columns[:, :8] += 0.5 * np.sin(2 * np.pi * 0.3 * t)[:, None]
    rhythm = find_rhythm(columns, 10.0, 0.05, 0.67)
    assert rhythm.freq_hz is not None and abs(60 * rhythm.freq_hz - 18.0) < 0.5
    assert rhythm.confidence >= MIN_CONFIDENCE


def test_choosing_the_best_columns_does_not_make_noise_periodic():
    for seed in range(5):
        columns = np.random.default_rng(seed).normal(size=(600, 120))
        assert find_rhythm(columns, 10.0, 0.05, 0.67).confidence < MIN_CONFIDENCE


def test_a_comparable_subharmonic_costs_confidence():
    t = np.arange(600) / 10.0
    rng = np.random.default_rng(5)
    noise = 0.3 * rng.normal(size=(600, 40))
    clean = np.sin(2 * np.pi * 0.28 * t)[:, None] + noise
    alternating = clean + 0.9 * np.sin(2 * np.pi * 0.14 * t)[:, None]
    plain, ambiguous = find_rhythm(clean, 10.0, 0.05, 0.67), find_rhythm(alternating, 10.0, 0.05, 0.67)
    assert plain.harmonic == 1.0
    assert ambiguous.harmonic < 0.6


def _gain_comb_csi(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One antenna whose receiver gain pulses every 6.1 s (0.163 Hz, a comb of harmonics) and
    whose amplitude shape follows the gain: what the ESP32 breathing set shows."""
    rng = np.random.default_rng(seed)
    times = packet_times(60.0, 10.0, seed)
    pulses = (np.mod(times, 6.1) < 0.4).astype(float)
    profile = 20 + 5 * rng.normal(size=56)
    tilt = np.linspace(-1, 1, 56)
    amplitude = profile[None] * (1 + 0.15 * pulses[:, None] * tilt[None]) + rng.normal(size=(times.size, 56))
    gain = 1.0 + 0.4 * pulses
    csi = amplitude * gain[:, None] * np.exp(1j * rng.uniform(-np.pi, np.pi, (times.size, 1)))
    level = np.column_stack([np.log(np.abs(csi).mean(axis=1)), -40 + 3 * pulses])
    return times, csi, level


def test_a_rhythm_the_overall_gain_carries_is_not_a_body():
    committed_without, committed_with = 0, 0
    for seed in range(4):
        times, csi, level = _gain_comb_csi(seed)
        committed_without += estimate_breathing(csi, 10.0, times=times).bpm is not None
        committed_with += estimate_breathing(csi, 10.0, times=times, gain=level).bpm is not None
    assert committed_without >= 2  # the shape alone is periodic: only the gain tells it apart
    assert committed_with == 0


def _body_in_the_gain(seed: int, bpm: float = 14.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One antenna at 2.4 GHz whose strong chest echo moves the total power as well as the
    shape (as the simulated person does), with the log overall gain a receiver reports."""
    rng = np.random.default_rng(seed)
    times = packet_times(60.0, 10.0, seed)
    static = rng.normal(size=56) + 1j * rng.normal(size=56)
    echo = 0.6 * np.exp(1j * np.linspace(0, 1.5, 56)) * (1 + 0.3 * rng.normal(size=56))
    rotation = np.exp(1j * 4 * np.pi * 2e-3 * np.sin(2 * np.pi * bpm / 60.0 * times) / 0.125)
    csi = static[None] + echo[None] * rotation[:, None]
    csi = csi + 0.03 * (rng.normal(size=csi.shape) + 1j * rng.normal(size=csi.shape))
    csi = csi * np.exp(1j * rng.uniform(-np.pi, np.pi, (times.size, 1)))
    return times, csi, np.log(np.abs(csi).mean(axis=1))


def test_a_body_that_moves_the_total_power_is_kept_when_the_empty_room_had_no_such_line():
    for seed in range(3):
        times, csi, level = _body_in_the_gain(seed)
        # Without a baseline the gain's line rules the rate out (the simulator's regression).
        assert estimate_breathing(csi, 10.0, times=times, gain=level).bpm is None
        kept = estimate_breathing(csi, 10.0, times=times, gain=level, empty_gain_lines=np.zeros((0, 2)))
        assert kept.bpm is not None and abs(kept.bpm - 14.0) < 0.5, (seed, kept)
        # The same line in the empty room's gain: the receiver's, not a body's.
        seen = estimate_breathing(csi, 10.0, times=times, gain=level, empty_gain_lines=np.array([[14.0 / 60.0, 1.0]]))
        assert seen.bpm is None


def test_the_receivers_own_comb_stays_ruled_out_when_the_empty_room_shows_it():
    from ruview_core.vitals.interference import gain_lines

    for seed in range(4):
        times, csi, level = _gain_comb_csi(seed)
        empty_times, _, empty_level = _gain_comb_csi(seed + 10)
        empty = gain_lines(on_uniform_grid(empty_times[empty_times < 30.0], empty_level[empty_times < 30.0, 0], 10.0),
                           10.0, 3.0 / 60.0, 40.0 / 60.0)
        assert empty, "the pulse train shows in the empty room's gain"
        estimate = estimate_breathing(csi, 10.0, times=times, gain=level, empty_gain_lines=np.array(empty))
        assert estimate.bpm is None, (seed, estimate)


def test_a_breath_hold_in_an_established_rhythm_is_a_pause_with_its_duration():
    times = packet_times(95.0, 10.0, seed=6)
    breathing = ~((times >= 45.0) & (times < 62.0))
    csi = chest_csi(times, 15.0, antennas=3, seed=7, breathing=breathing.astype(float))
    pauses = find_pauses(csi, times, 10.0)
    assert len(pauses) == 1
    start, end = pauses[0]
    assert 41.0 <= start <= 49.0 and 59.0 <= end <= 68.0
    assert end - start >= 10.0


def test_steady_breathing_and_a_still_room_have_no_pauses():
    times = packet_times(90.0, 10.0, seed=8)
    assert find_pauses(chest_csi(times, 15.0, antennas=3, seed=9), times, 10.0) == []
    assert find_pauses(chest_csi(times, 15.0, antennas=3, seed=9, depth_m=0.0), times, 10.0) == []


def _real_take(name: str):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from real_breathing import load_take

    folder = "nist_breathesmart" if name.startswith("nist") else "esp32_resp_phuocan"
    matches = sorted((REAL / folder).glob(name + "*")) if REAL.is_dir() else []
    return load_take(require(matches[0] if matches else REAL / folder / name))


def _window(take, end: float, seconds: float = 60.0):
    rows = (take.times >= end - seconds) & (take.times < end)
    return estimate_breathing(take.csi[rows], take.rate_hz, times=take.times[rows], gain=take.gain[rows])


def test_phantom_on_three_antennas_commits_its_exact_rate():
    take = _real_take("nist_bpm24.csi")  # the old estimator never committed on this take
    for end in (40.0, 62.0):
        estimate = _window(take, end)
        assert estimate.bpm is not None and abs(estimate.bpm - 24.0) < 0.3, (end, estimate)


def test_esp32_gain_artefact_is_not_reported_as_breathing():
    # The old estimator reported 29 bpm (the artefact's third harmonic) for this 12 bpm take.
    take = _real_take("AN1_Slow_Take01")
    for end in (40.0, 50.0, 60.0):
        estimate = _window(take, end)
        assert estimate.bpm is None or abs(estimate.bpm - 12.0) <= 2.0, (end, estimate)


def test_heart_rate_stays_unknown_on_a_phantom_without_a_heart():
    # The old threshold committed 50.6 bpm here (confidence 0.49): a phantom has no heart.
    take = _real_take("nist_bpm10.csi")
    rows = take.times < 30.0
    window = resample_uniform(take.times[rows], take.csi[rows], take.rate_hz, max_gap=1.0, method="nearest")
    heart = estimate_heart_rate(window.values, take.rate_hz)
    assert heart.bpm is None and heart.raw_bpm is not None


def test_the_node_chain_gives_the_estimator_the_empty_rooms_gain_lines(monkeypatch):
    from ruview_core.calibration.baseline import capture_baseline
    from ruview_core.node import pipeline as node_pipeline

    from ._enrolled_room import stream

    baseline = capture_baseline(stream("empty", 21, 12, nodes=1)).nodes[1]
    seen = []
    real = node_pipeline.estimate_vitals
    monkeypatch.setattr(node_pipeline, "estimate_vitals",
                        lambda *args, **kwargs: seen.append(kwargs.get("empty_gain_lines")) or real(*args, **kwargs))
    chain = node_pipeline.NodePipeline(1, baseline)
    for frame in stream("sit", 22, 25, nodes=1):
        chain.push(frame)
    chain.absorb()
    chain.vitals(25.0)
    assert seen and seen[0] is baseline.gain_lines and seen[0].shape[1] == 2


def test_the_phantom_score_tells_the_best_guess_apart_from_what_is_committed():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from real_breathing import Take, TakeResult, Window, phantom_scores

    take = Take("t", "nist_breathesmart", "phantom_1ant", 12.0, np.zeros(1), np.zeros((1, 1, 1)), np.zeros((1, 2)))
    result = TakeResult(take, [Window(40.0, 12.5, 0.1), Window(42.0, 20.0, 0.05), Window(44.0, 12.0, 0.9)])
    scores = phantom_scores([result], threshold=0.3)
    assert scores["coverage"] == pytest.approx(1 / 3, abs=1e-3) and scores["mae_bpm"] == 0.0
    assert scores["raw_within_2"] == pytest.approx(2 / 3, abs=1e-3)


# -- a rate is one posture's: the window starts where the scene last settled -----------------------


def _postures(seed: int, parts: list[tuple[float, float, float]], rate_hz: float = 50.0):
    """Packet times and CSI of one person in successive postures ``(start s, end s, bpm)``: each
    its own static channel and chest echo, as a person who lies down or sits somewhere else."""
    times = packet_times(parts[-1][1], rate_hz, seed)
    csi = np.zeros((times.size, 1, 56), complex)
    for k, (start, end, bpm) in enumerate(parts):
        rows = (times >= start) & (times < end)
        csi[rows] = chest_csi(times[rows], bpm, 1, seed * 10 + k)
    return times, csi


def test_breathing_is_read_on_the_posture_since_the_last_change():
    # Standing (11 bpm), 12 s lying (17), 16 s sitting (14), motion flagged at each change: the
    # old estimator read the whole minute and said unknown every time; the sitting stretch alone
    # holds a clear 14.
    for seed in range(4):
        times, csi = _postures(seed, [(0.0, 32.0, 11.0), (32.0, 44.0, 17.0), (44.0, 60.0, 14.0)])
        estimate = estimate_breathing(csi, 50.0, times=times, moved_at=[33.0, 45.0])
        assert estimate.bpm is not None and abs(estimate.bpm - 14.0) < 0.5, (seed, estimate)


def test_a_posture_held_for_less_than_the_shortest_window_has_no_rate_yet():
    times, csi = _postures(1, [(0.0, 50.0, 11.0), (50.0, 60.0, 14.0)])
    unaware = estimate_breathing(csi, 50.0, times=times)
    assert unaware.raw_bpm is not None and abs(unaware.raw_bpm - 11.0) < 0.5  # the standing person's
    estimate = estimate_breathing(csi, 50.0, times=times, moved_at=[51.0])
    assert estimate.bpm is None and estimate.raw_bpm is None and estimate.confidence == 0.0


def test_a_false_alarm_where_nothing_changed_costs_nothing():
    # One sitting person; motion flagged twice (a door elsewhere): the whole minute is still read.
    for seed in range(3):
        times, csi = _postures(seed, [(0.0, 60.0, 14.0)])
        whole = estimate_breathing(csi, 50.0, times=times)
        flagged = estimate_breathing(csi, 50.0, times=times, moved_at=[25.0, 40.0])
        assert whole.bpm is not None and flagged.bpm == whole.bpm, seed


@pytest.mark.parametrize("name", ["nist_bpm18.csi", "AN1_Slow_Take02", "AN1_Apnea_Take05"])
def test_real_takes_without_a_posture_change_are_read_whole(name):
    # The real windows scoring highest without a change (a phantom, a seated person, a breath hold).
    from ruview_core.vitals.breathing import _feature_columns, stillness_columns
    from ruview_core.vitals.settling import STEP_SCORE, step_scores

    take = _real_take(name)
    for end in np.arange(60.0, take.times[-1], 10.0):
        rows = (take.times >= end - 60.0) & (take.times < end)
        columns = stillness_columns(take.csi[rows], _feature_columns(take.csi[rows], None, None)[1], None)
        grid = on_uniform_grid(take.times[rows], columns, 20.0)
        assert step_scores(grid, 20.0).max() < STEP_SCORE, (name, end)


# -- stillness on the packet timing of real receivers -------------------------------------------

def _receiver_times(seconds: float, rate_hz: float, loss: float, seed: int) -> np.ndarray:
    """Packet times as the real corpus's receivers send them: gaps jitter +-30 %, ``loss`` of the packets lost."""
    times = packet_times(seconds, rate_hz, seed)
    return times[np.random.default_rng(seed + 1).uniform(size=times.size) >= loss]


@pytest.mark.parametrize("seed", range(3))
def test_a_still_chest_on_lossy_irregular_packets_is_not_taken_for_motion(seed):
    # 20 packets/s with 8 % lost (the corpus's median loss): interpolating onto the grid low-passes,
    # the stillness gate read the quiet scene's 0.7-2.5 Hz / 3.5-6 Hz ratio as a moving body's and
    # withheld every rate (confidence 0). Judged against what white noise gets from the same packet
    # times, the scene is still and the chest's 15 bpm is committed.
    from ruview_core.vitals.breathing import sampled_noise, stillness_columns
    from ruview_core.vitals.periodicity import motion_ratio, stillness_factor

    times = _receiver_times(60.0, 20.0, 0.08, seed)
    csi = chest_csi(times, 15.0, 1, seed)
    grid = on_uniform_grid(times, stillness_columns(csi), 20.0)
    noise_ratio = motion_ratio(sampled_noise(times, 20.0), 20.0)
    assert noise_ratio > 1.3  # the sampling alone would pass for motion
    assert stillness_factor(grid, 20.0) == 0.0 and stillness_factor(grid, 20.0, noise_ratio) == 1.0
    estimate = estimate_breathing(csi, 20.0, times=times)
    assert estimate.bpm is not None and abs(estimate.bpm - 15.0) < 0.5


def test_a_body_moving_on_lossy_irregular_packets_still_closes_the_gate():
    # The same receiver, the body swaying a few millimetres at 1-2 Hz (fidgeting): the gate stays shut.
    from ruview_core.vitals.breathing import sampled_noise, stillness_columns
    from ruview_core.vitals.periodicity import motion_ratio, stillness_factor

    times = _receiver_times(60.0, 20.0, 0.08, 4)
    rng = np.random.default_rng(4)
    sway = sum(0.002 * np.sin(2 * np.pi * f * times + rng.uniform(0, 6.3)) for f in rng.uniform(0.8, 2.2, 6))
    shape = (1, 56)
    static = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    echo = 0.3 * (rng.normal(size=shape) + 1j * rng.normal(size=shape))
    csi = static[None] + echo[None] * np.exp(1j * 4 * np.pi * sway / WAVELENGTH_M)[:, None, None]
    grid = on_uniform_grid(times, stillness_columns(csi), 20.0)
    assert stillness_factor(grid, 20.0, motion_ratio(sampled_noise(times, 20.0), 20.0)) == 0.0
