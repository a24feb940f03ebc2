"""The per-node analysis chain on the simulator and on the real ESP32-S3 recording."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from ruview_core.analysis import RECORD_KEYS, NodeAnalyzer, analyze_frames
from ruview_core.frames import CsiFrame, VitalsPacket
from ruview_core.sim import SimConfig, simulate

RECORDING = Path(__file__).resolve().parents[3] / "shared/data/ruview-recordings/pretrain-1775182186.csi.jsonl"
BASELINE = 20.0


def _frames(scenario: str, seed: int, duration: float = 60.0, after_empty: float | None = None, **config):
    """Frames of a simulated room; with ``after_empty`` the room is empty until then (same room)."""
    if after_empty is None:
        return list(simulate(SimConfig(scenario=scenario, seed=seed, duration=duration, **config)).frames())
    sim = simulate(SimConfig(scenario="empty", seed=seed, duration=duration, **config), [(after_empty, scenario)])
    return list(sim.frames())


def _after(records, start):
    return [r for r in records if r["t"] >= start]


def test_records_have_exactly_the_promised_keys_and_types():
    records = analyze_frames(_frames("breathe_normal", 0, duration=40.0, nodes=2))
    assert {r["node_id"] for r in records} == {1, 2}
    for node in (1, 2):
        times = [r["t"] for r in records if r["node_id"] == node]
        assert times == sorted(times) and len(times) >= 38
        np.testing.assert_allclose(np.diff(times), 1.0)
    for r in records:
        assert tuple(r) == RECORD_KEYS
        assert isinstance(r["t"], float)
        # The self-calibrated quiet level is learned over the first hops: unknown (None) until then.
        if r["t"] > 15:
            assert isinstance(r["motion"], float) and math.isfinite(r["motion"])
            assert isinstance(r["motion_detected"], bool)
        assert r["motion"] is None or math.isfinite(r["motion"])
        assert r["motion_detected"] in (True, False, None)
        assert r["presence"] in (True, None)  # self-calibrated: never claims an empty room
        assert 0.0 <= r["breathing_confidence"] <= 1.0 and 0.0 <= r["heart_confidence"] <= 1.0
        assert r["breathing_bpm"] is None or 6.0 <= r["breathing_bpm"] <= 30.0
        assert r["heart_bpm"] is None or 50.0 <= r["heart_bpm"] <= 120.0


def test_hop_and_non_csi_packets():
    frames = _frames("sit", 1, duration=20.0)
    noise = VitalsPacket(1, 0, 15.0, 70.0, -50, 1, 0.0, 0.0, 0, 0.0)
    records = analyze_frames([noise] + frames, hop=2.5)
    assert [r["t"] for r in records][:3] == [2.5, 5.0, 7.5]


@pytest.fixture(scope="module")
def empty_room():
    return analyze_frames(_frames("empty", 0, duration=70.0), baseline_seconds=BASELINE)


def test_empty_room_with_baseline_is_empty_and_still(empty_room):
    during = [r for r in empty_room if r["t"] <= BASELINE]
    after = _after(empty_room, BASELINE + 1)
    assert all(r["presence"] is None for r in during)
    assert len(after) >= 45
    assert sum(r["presence"] is True for r in after) <= 0.05 * len(after)
    assert not any(r["motion_detected"] for r in after)
    assert all(r["breathing_bpm"] is None and r["heart_bpm"] is None for r in after)


def test_still_person_is_present_against_the_baseline():
    # Seated people sway by about a millimetre: a variance test cannot see them, the profile
    # shift against the empty room can (unless the person barely touches the paths).
    present_runs = 0
    for seed in range(4):
        records = analyze_frames(_frames("sit", seed, duration=60.0, after_empty=BASELINE), baseline_seconds=BASELINE)
        after = _after(records, BASELINE + 10)  # the simulated arrival is a jump: motion for a while
        assert not any(r["motion_detected"] for r in after)
        present_runs += np.mean([r["presence"] is True for r in after]) > 0.8
    assert present_runs >= 3


def test_walking_is_motion_with_and_without_baseline(empty_room):
    with_baseline, without = [], []
    for seed in range(4):
        frames = _frames("walk", seed, duration=60.0, after_empty=BASELINE)
        records = _after(analyze_frames(frames, baseline_seconds=BASELINE), BASELINE + 2)
        with_baseline.append(np.mean([r["motion_detected"] for r in records]))
        assert all(r["presence"] is True for r in records if r["motion_detected"])
        assert all(r["breathing_bpm"] is None for r in records if r["motion_detected"])
        # Self-calibrated: the quiet level is learned from the stream itself (here its empty start).
        own = _after(analyze_frames(frames), BASELINE + 2)
        without.append(np.mean([bool(r["motion_detected"]) for r in own]))
    assert np.mean(with_baseline) > 0.5
    assert np.mean(without) > 0.5
    assert not any(r["motion_detected"] for r in _after(empty_room, BASELINE + 1))


def test_self_calibrated_analyzer_says_so_and_never_claims_absence():
    analyzer = NodeAnalyzer(1)
    assert analyzer.self_calibrated
    records = [r for f in _frames("empty", 2, duration=40.0) for r in analyzer.push(f)]
    assert all(r["presence"] is None for r in records)
    assert not any(r["motion_detected"] for r in records)
    assert not NodeAnalyzer(1, baseline_seconds=10.0).self_calibrated


def _mangle(frames, rng):
    """HT-LTF / STBC frames (128 / 192 subcarriers), NaN and inf frames, and an AGC step."""
    out = []
    for i, frame in enumerate(frames):
        csi = frame.csi
        if i % 5 == 1:
            csi = np.concatenate([csi, csi[:, ::-1]], axis=1)  # 128: LLTF then HT-LTF
        elif i % 17 == 2:
            csi = np.concatenate([csi, csi, csi], axis=1)  # 192
        if frame.timestamp > 35.0:
            csi = csi * np.float32(2.5)  # AGC jumped 8 dB and stays there
        if i % 23 == 3:
            csi = csi.copy()
            csi[0, rng.integers(0, 64)] = np.nan if i % 2 else np.inf
        out.append(dataclasses.replace(frame, csi=csi.astype(np.complex64)))
    return out


def test_mixed_subcarrier_counts_nan_and_gain_steps_do_not_poison_the_state():
    frames = _frames("empty", 1, duration=60.0)
    mangled = _mangle(frames, np.random.default_rng(0))
    analyzer = NodeAnalyzer(1, baseline_seconds=BASELINE)
    records = [r for f in mangled for r in analyzer.push(f)]
    assert analyzer.dropped_frames == sum(1 for f in mangled if not np.isfinite(f.csi).all())
    assert analyzer.usable is not None and analyzer.usable.size == 64
    for r in records:
        assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in r.values())
    after = _after(records, BASELINE + 1)
    assert sum(r["presence"] is True for r in after) <= 0.05 * len(after)
    assert sum(r["motion_detected"] for r in after) <= 1  # the AGC step is no motion


def test_frames_of_other_nodes_or_shapes_are_dropped():
    frames = _frames("empty", 3, duration=5.0)
    analyzer = NodeAnalyzer(1)
    analyzer.push(frames[0])
    assert analyzer.push(dataclasses.replace(frames[1], node_id=2)) == []
    analyzer.push(dataclasses.replace(frames[2], csi=frames[2].csi[:, :56]))
    for frame in frames[3:]:  # the node's frame kind is settled by the majority of its first frames
        analyzer.push(frame)
    assert analyzer.dropped_frames == 2
    assert analyzer.pipeline.kind == (64, 20)


@pytest.mark.skipif(not RECORDING.exists(), reason="real recording not available")
def test_real_recording_smoke():
    from ruview_core.wire.jsonl import read_jsonl

    packets = list(read_jsonl(RECORDING))
    records = analyze_frames(packets)
    for node in (1, 2):
        mine = [r for r in records if r["node_id"] == node]
        assert 110 <= len(mine) <= 121  # about 120 s at one record per second
        assert all(math.isfinite(r["motion"]) for r in mine if r["t"] > 15)  # unknown while learning the quiet level
        assert all(r["presence"] in (True, None) for r in mine)
    csi_frames = [p for p in packets if isinstance(p, CsiFrame)]
    assert {f.n_subcarriers for f in csi_frames} == {64, 128, 192}  # the mix the chain must cope with


def test_baseline_with_epoch_timestamps() -> None:
    """Live frames carry Unix receive times; the baseline must not lose its windows to rounding."""
    from ruview_core.analysis import analyze_frames
    from ruview_core.sim import SimConfig, simulate

    frames = simulate(SimConfig(scenario="empty", seed=5, duration=8, start_time=1_775_000_000.0)).frames()
    records = analyze_frames(frames, baseline_seconds=3)
    assert records and all(r["presence"] in (False, None) for r in records)
    assert any(r["presence"] is False for r in records)
