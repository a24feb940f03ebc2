"""The root causes behind the real-data misses (issue "Root causes"), each pinned where it arises.

Tests on real recordings read ``../shared/data/real`` (never copied into the project) and skip
where it is absent; the synthetic cases reproduce the same fault in a few lines.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ruview_core.analysis import NodeAnalyzer, analyze_frames
from ruview_core.calibration.baseline import fit_node_baseline
from ruview_core.dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ruview_core.frames import CsiFrame
from ruview_core.node.cleaning import raw_arrays
from ruview_core.node.window import sanitize_frames
from ruview_core.sim import SimConfig, simulate
from ruview_core.sources.replay import read_recording

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"


def _real(relative: str) -> list[CsiFrame]:
    path = REAL / relative
    if not path.is_file():
        pytest.skip(f"real corpus file {relative} is not present")
    return sorted((p for p in read_recording(path, Counter()) if isinstance(p, CsiFrame)), key=lambda f: f.timestamp)


# -- 1. the subcarrier layout comes from the source -------------------------------------------------

def test_esp32_csi_tool_rows_keep_their_non_csi_word_out_of_the_phase_fit():
    frames = _real("esp32_resp_phuocan/AN1_Slow_Take01_BPM12_20260418_091212.csv.gz")
    times, csi, _ = raw_arrays(frames)  # the HT40 frames: the majority kind
    usable = usable_subcarriers(np.abs(csi[:, 0, :]))
    assert not usable[0] and not usable[1]  # the constant word (|H| ~146) and its companion
    clean = sanitize_frames(csi[:, :, usable], signed_subcarrier_index(csi.shape[2])[usable])
    step = np.abs(np.angle(clean[1:, 0, :] * np.conj(clean[:-1, 0, :])))
    assert np.median(step) < 0.35  # a seated, breathing person: the phase barely moves frame to frame


def test_a_nic_that_lists_tones_in_ascending_order_sees_a_motionless_phantom_as_still():
    frames = _real("nist_breathesmart/nist_bpm16.csi.jsonl.gz")
    assert frames[0].csi.shape == (3, 56)
    records = [r for r in analyze_frames(frames) if r["motion_detected"] is not None]
    assert len(records) > 40
    assert np.mean([r["motion_detected"] for r in records]) <= 0.02  # was 14% of hops


def test_a_node_that_mixes_packet_types_is_judged_on_one_kind():
    # The ESP32-CSI-Tool recording interleaves legacy 20 MHz frames with HT40 ones: same LLTF
    # length, another shape. Each switch read as motion; one node's chain keeps the majority kind.
    frames = _real("esp32_resp_phuocan/AN1_Normal_Take02_BPM17_20260418_100145.csv.gz")
    assert {f.bandwidth_mhz for f in frames} == {20, 40}
    analyzer = NodeAnalyzer(1, baseline_seconds=15.0)
    for frame in frames:
        analyzer.push(dataclasses.replace(frame, node_id=1))
    assert analyzer.pipeline.kind == (64, 40)
    assert analyzer.dropped_frames >= sum(f.bandwidth_mhz == 20 for f in frames)


# -- 2. thresholds from baseline windows of the same length; the first seconds not trusted -----------

def _stream(scenario: str, seed: int, seconds: float) -> list[CsiFrame]:
    return list(simulate(SimConfig(scenario, seed=seed, duration=seconds)).frames())


def test_a_start_up_transient_does_not_inflate_the_quiet_level():
    frames = _stream("empty", 31, 20.0)
    start = frames[0].timestamp
    rng = np.random.default_rng(0)
    settling = [dataclasses.replace(f, csi=(f.csi * rng.uniform(0.2, 3.0, f.csi.shape)).astype(np.complex64))
                if f.timestamp - start < 1.5 else f for f in frames]
    calm = fit_node_baseline(1, frames)
    disturbed = fit_node_baseline(1, settling)
    assert disturbed.motion_level == pytest.approx(calm.motion_level, rel=0.25)


def test_the_quiet_level_of_real_captures_is_taken_from_windows_like_the_ones_judged():
    # An ESPectre ESP32-C3 capture whose first second reads ~8x its quiet level.
    frames = _real("espectre_history/baseline/baseline_c3_64sc_20260310_232427.csi.jsonl.gz")
    node = fit_node_baseline(1, frames, min_seconds=8.0)
    records = [r for r in analyze_frames(frames, baseline_seconds=8.0) if r["motion"] is not None]
    assert records and np.median([r["motion"] for r in records]) == pytest.approx(1.0, abs=0.5)
    assert node.motion_floor < 4.0


# -- 3. a short event is seen by a short window ------------------------------------------------------

def test_half_a_second_of_movement_is_motion():
    frames = _stream("empty", 32, 40.0)
    start = frames[0].timestamp
    rng = np.random.default_rng(1)
    # A person crossing the link for 0.5 s at 25 s: the profile reshaped frame by frame.
    crossed = [dataclasses.replace(f, csi=(f.csi * rng.uniform(0.5, 1.5, f.csi.shape)).astype(np.complex64))
               if 25.0 <= f.timestamp - start < 25.5 else f for f in frames]
    records = analyze_frames(crossed, baseline_seconds=15.0)
    hit = [r for r in records if 25.0 < r["t"] <= 27.0]
    assert any(r["motion_detected"] for r in hit)
    assert not any(r["motion_detected"] for r in records if 17.0 < r["t"] <= 24.0)


# -- 4. one flagged hop does not silence the vitals for a minute -------------------------------------

def test_breathing_comes_back_right_after_a_one_second_disturbance():
    config = SimConfig("breathe_normal", seed=3, duration=100.0, n_antennas=2)
    frames = list(simulate(config).frames())
    start = frames[0].timestamp
    rng = np.random.default_rng(2)
    bumped = [dataclasses.replace(f, csi=(f.csi * rng.uniform(0.5, 1.5, f.csi.shape)).astype(np.complex64))
              if 70.0 <= f.timestamp - start < 70.6 else f for f in frames]
    records = analyze_frames(bumped)
    assert any(r["motion_detected"] for r in records if 70 < r["t"] <= 72)
    # the old chain restarted its 60 s window at every motion hop: nothing until t > 100
    assert any(r["breathing_bpm"] is not None for r in records if 72 < r["t"] <= 90)


# -- 5. a motion window holds enough frames to estimate a spread ----------------------------------------

def test_a_seated_breathing_person_at_ten_packets_a_second_is_not_motion():
    # ESP32-CSI-Tool at 7-12 packets/s: a window of 20 frames estimated the spread so loosely that
    # its 90th percentile read 4-7x the quiet level, and 30% of this take's hops were "motion".
    frames = _real("esp32_resp_phuocan/AN1_Fast_Take01_BPM26_20260418_111055.csv.gz")
    records = [r for r in analyze_frames(frames, baseline_seconds=15.0)
               if r["t"] > 17.0 and r["motion_detected"] is not None]
    assert len(records) > 30
    assert np.mean([r["motion_detected"] for r in records]) <= 0.1  # was 0.26


def test_a_walker_in_the_hallway_is_seen_against_the_days_first_quiet_take():
    # The house recordings: one walker going to and fro in the hallway for 45 s, judged against the
    # quiet take enrolled first thing that day. The short, loosely estimated window missed half of it.
    quiet = _real("espectre_home_quadrants/csi_training_data_baseline_0_0_0_20260313_111215.csi.jsonl.gz")
    walk = _real("espectre_home_quadrants/csi_training_data_movement_hallway_0_0_0_20260313_113151.csi.jsonl.gz")
    offset = quiet[-1].timestamp + 0.05 - walk[0].timestamp
    frames = quiet + [dataclasses.replace(f, timestamp=f.timestamp + offset) for f in walk]
    lead_in = quiet[-1].timestamp - quiet[0].timestamp + 0.05
    records = [r for r in analyze_frames(frames, baseline_seconds=min(lead_in, 30.0))
               if r["t"] > lead_in + 2.0 and r["motion_detected"] is not None]
    assert len(records) > 35
    assert np.mean([r["motion_detected"] for r in records]) >= 0.55  # was 0.43


# -- 6. self-calibrated: the quiet level of a stream that moves most of the time -----------------------

def _motion_truth(relative: str, t: float):
    """The ``motion`` label of a real stream at ``t`` s from its first frame (None within 1 s of a change)."""
    import json
    labels = json.loads((REAL / relative.replace(".csi.jsonl.gz", ".labels.json")).read_text())
    segments = labels["segments"]
    for i, segment in enumerate(segments):
        if segment["start"] <= t < segment["end"]:
            value = segment["labels"].get("motion")
            changed = i > 0 and segments[i - 1]["labels"].get("motion") != value
            return None if changed and t - segment["start"] < 1.0 else value
    return None


def test_a_person_who_moves_most_of_the_time_is_seen_without_a_baseline():
    # UJI: a person stands up, walks, turns and sits down, still for a few seconds between;
    # 70% of the stream is movement. The quiet level taken as the 20% quantile of ten minutes sat
    # inside the movement, and a fifth of the moving seconds read "still".
    relative = "uji_localized_har/streams/uji_D1_stream_01.csi.jsonl.gz"
    frames = _real(relative)
    records = analyze_frames(frames)
    truth = [(_motion_truth(relative, r["t"] - 0.5), bool(r["motion_detected"])) for r in records]
    moving = [said for label, said in truth if label is True]
    quiet = [said for label, said in truth if label is False]
    assert len(moving) > 40 and len(quiet) > 10
    assert np.mean(moving) >= 0.9  # was 0.82
    assert not any(quiet)


# -- 7. breathing's stillness gate on a real receiver's packet timing --------------------------------

HOUSE_EMPTY_TAKES = ("0_0_0_20260313_111215", "0_0_1_20260313_114241", "0_1_0_20260313_113804",
                     "0_1_1_20260313_114626", "1_0_0_20260313_113331", "1_0_1_20260313_115351",
                     "1_1_0_20260313_114956", "1_1_1_20260313_115724")


def test_a_quiet_house_at_twenty_packets_per_second_is_still_to_the_breathing_gate():
    # The house's empty-room takes (19-25 packets/s, irregular): interpolating onto the uniform grid
    # low-passes, white noise alone reads ~1.75 where the gate calls 1.30 moving, so the gate was shut
    # on every quiet window (breathing could never be committed from such a node). Judged against
    # white noise on the same packet times, it opens on most of them.
    from ruview_core.vitals.breathing import on_uniform_grid, sampled_noise, stillness_columns
    from ruview_core.vitals.periodicity import motion_ratio, stillness_factor

    plain, sampled = [], []
    for take in HOUSE_EMPTY_TAKES:
        times, csi, _ = raw_arrays(_real(f"espectre_home_quadrants/csi_training_data_baseline_{take}.csi.jsonl.gz"))
        csi = csi[:, :, usable_subcarriers(np.abs(csi[:, 0, :]))]
        rate = float(round(times.size / np.ptp(times)))
        for start in np.arange(times[0] + 1.0, times[-1] - 15.0, 15.0):
            rows = (times >= start) & (times < start + 15.0)
            grid = on_uniform_grid(times[rows], stillness_columns(csi[rows]), rate)
            plain.append(stillness_factor(grid, rate))
            sampled.append(stillness_factor(grid, rate, motion_ratio(sampled_noise(times[rows], rate), rate)))
    assert len(sampled) >= 12
    assert max(plain) == 0.0
    assert np.mean(np.array(sampled) > 0) >= 0.75
