"""The simulated room: determinism, frame format, impairments, physics and ground truth."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ruview_core.frames import CsiFrame
from ruview_core.sim import (
    DEFAULT_RATE_HZ, DEFAULT_SNR_DB, NULL_SUBCARRIERS, SCENARIOS, SimConfig, simulate,
)

USED = np.setdiff1d(np.arange(64), NULL_SUBCARRIERS)
TRUTH_KEYS = ["t", "presence", "posture", "motion", "breathing_bpm", "heart_bpm", "breathing_pause", "activity"]
STILL = ("stand_still", "sit", "lie_down", "sleep_posture", "breathe_slow", "breathe_normal")


def stream(config: SimConfig, node_id: int | None = None) -> dict[str, np.ndarray]:
    """All frames of a simulation as arrays (optionally of one node)."""
    batches = list(simulate(config).batches(seconds=3600))
    out = {key: np.concatenate([getattr(b, key) for b in batches])
           for key in ("node_id", "sequence", "timestamp", "csi", "rssi")}
    if node_id is not None:
        keep = out["node_id"] == node_id
        out = {key: value[keep] for key, value in out.items()}
    return out


def breathing_rate_bpm(timestamps: np.ndarray, csi: np.ndarray, band_hz=(0.08, 0.6), fs=20.0) -> float:
    """Dominant breathing-band frequency of the subcarrier amplitudes (a test helper, not the DSP).

    Dividing each packet by its mean amplitude over subcarriers (a ratio of subcarriers) cancels
    the receiver's gain jitter and AGC steps; the random phase offsets do not touch amplitudes.
    """
    amplitude = np.abs(csi).astype(float)
    amplitude /= amplitude.mean(axis=1, keepdims=True)
    amplitude /= amplitude.mean(axis=0)
    grid = np.arange(timestamps[0], timestamps[-1], 1 / fs)
    resampled = np.stack([np.interp(grid, timestamps, column) for column in amplitude.T], axis=1)
    resampled -= resampled.mean(axis=0)
    n = 8 * grid.size
    power = np.abs(np.fft.rfft(resampled * np.hanning(grid.size)[:, None], n=n, axis=0)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / fs)
    band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    return float(freqs[band][np.argmax(power[band].sum(axis=1))] * 60)


def smoothed_variation(csi: np.ndarray, window: int = 40) -> float:
    """Median over subcarriers of the std of 2-second-averaged, mean-normalised amplitude."""
    amplitude = np.abs(csi[:, 0, USED]).astype(float)
    amplitude /= amplitude.mean(axis=0)
    kernel = np.ones(window) / window
    smooth = np.stack([np.convolve(column, kernel, mode="valid") for column in amplitude.T], axis=1)
    return float(np.median(smooth.std(axis=0)))


def test_public_constants():
    assert SCENARIOS == ("empty", "walk", "stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal",
                         "small_move", "sleep_posture", "breath_hold", "postures", "fall")
    assert 10 <= DEFAULT_SNR_DB <= 30
    assert DEFAULT_RATE_HZ == 20
    config = SimConfig("sit")
    assert (config.seed, config.snr_db, config.nodes, config.rate_hz, config.duration) == (
        0, DEFAULT_SNR_DB, 1, DEFAULT_RATE_HZ, 30.0)
    assert (config.room_seed, config.freq_mhz, config.start_time) == (None, 2437, 0.0)
    with pytest.raises(ValueError):
        SimConfig("dance")


def test_same_seed_same_stream_regardless_of_chunking():
    config = SimConfig("walk", seed=5, duration=6.5, nodes=2)
    a, b = stream(config), stream(config)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    chunked = list(simulate(config).batches(seconds=1))
    assert len(chunked) == 7
    np.testing.assert_array_equal(np.concatenate([c.csi for c in chunked]), a["csi"])
    np.testing.assert_array_equal(np.concatenate([c.timestamp for c in chunked]), a["timestamp"])
    assert simulate(config).truth() == simulate(config).truth()


def test_different_seeds_differ():
    a = simulate(SimConfig("sit", seed=1, duration=5))
    b = simulate(SimConfig("sit", seed=2, duration=5))
    assert not np.allclose(a.static_channel(1), b.static_channel(1))
    assert not np.array_equal(a.room.size, b.room.size)
    assert a.truth()[0]["breathing_bpm"] != b.truth()[0]["breathing_bpm"]
    # Same room, different person: the static channel is shared, the stream is not.
    c = simulate(SimConfig("sit", seed=2, room_seed=1, duration=5))
    np.testing.assert_allclose(c.static_channel(1), a.static_channel(1))
    assert not np.array_equal(stream(c.config)["csi"], stream(a.config)["csi"])


def test_frame_fields_shapes_and_dtypes():
    frames = list(simulate(SimConfig("sit", seed=3, duration=3, freq_mhz=2462, start_time=1000.0)).frames())
    assert 50 <= len(frames) <= 61
    for frame in frames:
        assert isinstance(frame, CsiFrame)
        assert frame.csi.dtype == np.complex64 and frame.csi.shape == (1, 64)
        assert (frame.node_id, frame.freq_mhz, frame.flags, frame.ppdu_type) == (1, 2462, 0, 0)
        assert frame.channel == 11
        assert -80 <= frame.rssi <= -30 and frame.noise_floor == -95
        assert 1000.0 <= frame.timestamp < 1003.0
        # int8 I/Q as an ESP32 reports it: integer counts in range, using a sensible part of it.
        parts = np.concatenate([frame.csi.real.ravel(), frame.csi.imag.ravel()])
        np.testing.assert_array_equal(parts, np.round(parts))
        assert np.abs(parts).max() <= 128 and np.abs(parts).max() >= 5
    two = next(simulate(SimConfig("empty", duration=1, n_antennas=2)).frames())
    assert two.csi.shape == (2, 64)


def test_null_subcarriers_are_zero():
    assert {0, *range(29, 36)} <= set(NULL_SUBCARRIERS)
    csi = stream(SimConfig("walk", seed=2, duration=5))["csi"][:, 0, :]
    assert np.all(csi[:, list(NULL_SUBCARRIERS)] == 0)
    assert np.mean(csi[:, USED] != 0) > 0.99


def test_empty_room_is_static_apart_from_noise_and_walking_is_not():
    # Without noise and with phase and gain removed by a subcarrier ratio, an empty room is constant.
    exact = dict(snr_db=None, quantize=False, duration=10)
    empty = stream(SimConfig("empty", seed=4, **exact))["csi"][:, 0]
    walk = stream(SimConfig("walk", seed=4, **exact))["csi"][:, 0]
    ratio_empty = np.abs(empty[:, 5] / empty[:, 45])
    ratio_walk = np.abs(walk[:, 5] / walk[:, 45])
    assert np.std(ratio_empty) / np.mean(ratio_empty) < 1e-3
    assert np.std(ratio_walk) / np.mean(ratio_walk) > 0.02
    # At the default SNR the slow amplitude variation of walking clearly exceeds the empty room's.
    for seed in (0, 1, 2):
        quiet = smoothed_variation(stream(SimConfig("empty", seed=seed, agc_step_interval_s=None))["csi"])
        busy = smoothed_variation(stream(SimConfig("walk", seed=seed, agc_step_interval_s=None))["csi"])
        assert busy > 2 * quiet, (seed, quiet, busy)


def test_breathing_is_visible_in_csi():
    hits = []
    for seed in range(5):
        config = SimConfig("breathe_normal", seed=seed, duration=60, snr_db=40, quant_peak=40)
        data = stream(config)
        truth = np.mean([row["breathing_bpm"] for row in simulate(config).truth()])
        hits.append(abs(breathing_rate_bpm(data["timestamp"], data["csi"][:, 0, USED]) - truth) < 1.0)
    # A person whose chest happens to move across the link's sensitivity shows little; most do not.
    assert sum(hits) >= 4, hits


def test_a_breath_hold_stops_the_chest_and_the_truth_says_so():
    sim = simulate(SimConfig("breath_hold", seed=7, duration=70.0))
    start, end = sim.activity_at(0.0)[0].holds[0]
    assert 35.0 <= start <= 40.0 and 15.0 <= end - start <= 25.0
    truth = sim.truth()
    assert [row["t"] for row in truth if row["breathing_pause"]] == [t for t in range(70) if start <= t + 0.5 < end]
    assert all(row["breathing_bpm"] == 0.0 for row in truth if start <= row["t"] and row["t"] + 1 <= end)
    chest = sim.activity_at(0.0)[0].person.breathing
    held = chest.displacement(np.linspace(start + 0.1, end - 0.1, 50))
    assert np.ptp(held) < 0.25 * chest.depth_m  # only the slow breath-to-breath swell, no breaths
    assert np.ptp(chest.displacement(np.linspace(start - 10, start, 50))) > 0.5 * chest.depth_m


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_truth_rows(scenario):
    truth = simulate(SimConfig(scenario, seed=7, duration=12.5)).truth()
    assert len(truth) == 13
    assert [row["t"] for row in truth] == list(range(13))
    for row in truth:
        assert list(row) == TRUTH_KEYS
    row = truth[0]
    assert row["presence"] is (scenario != "empty")
    assert row["motion"] is (scenario in ("walk", "small_move"))
    expected_posture = {"empty": None, "walk": "standing", "stand_still": "standing", "sit": "sitting",
                        "lie_down": "lying", "sleep_posture": "lying", "breathe_slow": "sitting",
                        "breathe_normal": "sitting", "breath_hold": "sitting", "postures": "standing",
                        "fall": "standing"}
    if scenario in expected_posture:
        assert row["posture"] == expected_posture[scenario]
    else:
        assert row["posture"] in ("sitting", "standing")
    if scenario in ("empty", "walk"):
        assert row["breathing_bpm"] is None and row["heart_bpm"] is None
    else:
        low, high = {"breathe_slow": (6, 10), "breathe_normal": (12, 18), "breath_hold": (12, 18)}.get(scenario, (10, 20))
        rates = [r["breathing_bpm"] for r in truth]
        assert all(low <= rate <= high for rate in rates)
        assert all(55 <= r["heart_bpm"] <= 95 for r in truth)
        assert len(set(rates)) > 1  # rates drift slowly, as real ones do


def test_packet_loss_leaves_sequence_gaps():
    data = stream(SimConfig("sit", seed=1, duration=60, loss_rate=0.1))
    gaps = np.diff(data["sequence"])
    assert np.all(gaps >= 1)
    lost = np.sum(gaps - 1)
    assert 0.06 < lost / (data["sequence"][-1] + 1) < 0.14
    lossless = stream(SimConfig("sit", seed=1, duration=10, loss_rate=0.0))
    np.testing.assert_array_equal(lossless["sequence"], np.arange(lossless["sequence"].size))


def test_timestamps_jitter_by_milliseconds_around_the_rate():
    data = stream(SimConfig("empty", seed=2, duration=30, loss_rate=0.0, rate_hz=25))
    t = data["timestamp"]
    assert np.all(np.diff(t) > 0)
    regular = t[0] + (data["sequence"] - data["sequence"][0]) / 25
    deviation = t - regular - np.median(t - regular)
    assert 1e-3 < np.std(deviation) < 6e-3
    assert abs(t.size / 30 - 25) < 1


def test_several_nodes_interleave_in_time_order():
    data = stream(SimConfig("walk", seed=3, nodes=3, duration=10, start_time=500.0))
    assert set(data["node_id"].tolist()) == {1, 2, 3}
    assert np.all(np.diff(data["timestamp"]) >= 0)
    first_second = data["node_id"][data["timestamp"] < 501.0]
    assert set(first_second.tolist()) == {1, 2, 3}
    switches = np.count_nonzero(np.diff(data["node_id"]))
    assert switches > data["node_id"].size / 2  # interleaved, not one node after another
    for node in (1, 2, 3):
        count = np.count_nonzero(data["node_id"] == node)
        assert 0.85 * 200 < count <= 200
    frames = list(itertools.islice(simulate(SimConfig("empty", nodes=2, duration=None)).frames(), 500))
    assert all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(frames))


def test_static_multipath_is_shared_by_all_scenarios_of_a_room():
    times = np.linspace(0, 20, 50)
    empty = simulate(SimConfig("empty", seed=11, room_seed=42, nodes=2))
    reference = [empty.channel(node, times) for node in (1, 2)]
    for scenario, seed in (("sit", 3), ("lie_down", 11), ("walk", 5)):
        sim = simulate(SimConfig(scenario, seed=seed, room_seed=42, nodes=2))
        for node in (1, 2):
            np.testing.assert_allclose(sim.static_channel(node), empty.static_channel(node), rtol=1e-12)
            np.testing.assert_allclose(sim.channel(node, times, include_person=False), reference[node - 1],
                                       rtol=1e-12)
            person_part = sim.channel(node, times) - reference[node - 1]
            assert np.mean(np.abs(person_part)) > 0.03 * np.mean(np.abs(reference[node - 1]))
    # Empty room: the static channel plus a curtain drifting by millimetres, nothing else.
    drift = np.abs(reference[0] - empty.static_channel(1)) / np.abs(empty.static_channel(1))
    assert np.max(drift) < 5e-3


def test_scenario_switch_keeps_the_room():
    sim = simulate(SimConfig("empty", seed=2, duration=30), schedule=[(10, "sit"), (20, "walk")])
    truth = sim.truth()
    assert [truth[s]["posture"] for s in (5, 15, 25)] == [None, "sitting", "standing"]
    assert truth[15]["breathing_bpm"] is not None and truth[25]["breathing_bpm"] is None
    sim.switch("lie_down", at=20)
    assert sim.truth()[25]["posture"] == "lying"
    np.testing.assert_allclose(sim.static_channel(1), simulate(SimConfig("sit", seed=2)).static_channel(1))
    timestamps = np.concatenate([b.timestamp for b in sim.batches(seconds=30)])
    assert timestamps.size > 500 and math.isclose(timestamps.max(), 30, abs_tol=0.2)


def test_agc_steps_change_the_gain_for_a_while():
    data = stream(SimConfig("empty", seed=6, duration=60, agc_step_interval_s=10, snr_db=30))
    level = 20 * np.log10(np.abs(data["csi"][:, 0, USED]).mean(axis=1))
    smooth = np.convolve(level, np.ones(20) / 20, mode="valid")
    jumps = np.abs(smooth[20:] - smooth[:-20])
    assert jumps.max() > 1.5  # dB, held over a second
    steady = stream(SimConfig("empty", seed=6, duration=60, agc_step_interval_s=None, snr_db=30))
    steady_level = np.convolve(20 * np.log10(np.abs(steady["csi"][:, 0, USED]).mean(axis=1)),
                               np.ones(20) / 20, mode="valid")
    assert np.ptp(steady_level) < 1.0


def test_generation_is_vectorised_enough_for_long_streams():
    # 4 nodes x 20 Hz x 60 s; correctness of the count only, speed is measured outside the tests.
    count = sum(len(batch) for batch in simulate(SimConfig("walk", seed=1, nodes=4, duration=60)).batches(60))
    assert 0.9 * 4800 < count <= 4800


def test_a_person_settles_near_the_place_by_the_placement_jitter():
    from ruview_core.sim.room import make_room
    from ruview_core.sim.scenarios import PLACEMENT_JITTER_M, make_activity

    room = make_room(3)
    exact = [make_activity("sit", room, seed, placement_jitter_m=0.0, facing_jitter_rad=0.0).person for seed in (1, 2)]
    assert all(np.array_equal(p.anchor, room.chair[:2]) and p.facing == room.chair[2] for p in exact)
    offsets = np.array([make_activity("sit", room, seed).person.anchor - room.chair[:2] for seed in range(200)])
    assert 0.6 * PLACEMENT_JITTER_M < offsets.std() < 1.4 * PLACEMENT_JITTER_M
    config = SimConfig("sit", seed=1, room_seed=3, placement_jitter_m=0.0, facing_jitter_rad=0.0)
    assert np.array_equal(simulate(config).activity_at(1.0)[0].person.anchor, room.chair[:2])
