"""Stage 5: the runtime mixture of specialists, fusion, veto, short-circuit and STALE."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ruview_core.runtime import DRIFT_WINDOWS, NodeState, RoomMonitor, fuse
from ruview_core.runtime.room_state import READINGS
from ruview_core.specialists import Reading, train_bank
from ruview_core.specialists.base import unknown

from ._enrolled_room import enrolled_room, jammed, stream, with_nan

SESSION_SECONDS = 40


def _bank():
    enrollment, _ = enrolled_room()
    return enrollment.baseline(), train_bank("test-room", enrollment.baseline(), enrollment.anchor_records())


def _watch(frames, bank=None, baseline=None):
    if baseline is None:
        baseline, default = _bank()
        bank = default if bank is None else bank
    return [s for s in RoomMonitor(baseline, bank).run(frames)]


def _settled(states, after=15.0):
    first = states[0].t
    return [s for s in states if s.t - first >= after]


def test_full_loop_on_unseen_sessions():
    # seeds never used while enrolling: other people, same room
    empty = _settled(_watch(stream("empty", 501, SESSION_SECONDS)))
    seated = _settled(_watch(stream("sit", 502, SESSION_SECONDS)))
    lying = _settled(_watch(stream("sleep_posture", 503, SESSION_SECONDS)))
    assert len(empty) >= 20
    assert np.mean([s.value("presence") is False for s in empty]) >= 0.9
    assert np.mean([s.value("presence") is True for s in seated]) >= 0.9  # a still person, no motion needed
    assert np.mean([s.value("presence") is True for s in lying]) >= 0.9
    # The simulated sleeper's breathing lifts the nearer node's motion statistic to ~3x the empty
    # room's (real seated people in the corpus stay near 1): a still person may read as moving now and then.
    assert np.mean([s.value("motion") is False for s in seated + lying]) >= 0.85
    for state in seated + empty:
        assert not state.stale and not state.vetoed
        assert set(state.to_dict()) >= set(READINGS) | {"vetoed", "stale", "stale_reason", "t"}
        for name in READINGS:
            reading = state.readings[name]
            assert 0.0 <= reading.confidence <= 1.0
            if reading.value is None:
                assert reading.confidence == 0.0
    # another person, another spot of the same chair: a posture is either right or unknown, never wrong
    assert all(s.value("posture") in (None, "sitting") for s in seated)
    assert all(s.value("posture") is None for s in empty)


def test_presence_false_short_circuits_person_readings():
    for state in _settled(_watch(stream("empty", 511, 30))):
        if state.value("presence") is False:
            for name in ("posture", "breathing_bpm", "heart_bpm", "restlessness"):
                assert state.readings[name].value is None and state.readings[name].label == "nobody present"


def test_walking_reads_as_motion_not_anomaly():
    states = _settled(_watch(stream("walk", 521, SESSION_SECONDS)), after=10)
    assert np.mean([s.value("motion") is True or s.value("presence") is True for s in states]) >= 0.8
    assert not any(s.vetoed for s in states)


def test_stale_after_recalibration():
    enrollment, _ = enrolled_room()
    _, bank = _bank()
    from ruview_core.calibration.baseline import capture_baseline

    fresh = capture_baseline(stream("empty", 531, 15))
    states = _watch(stream("sit", 532, 20), bank=bank, baseline=fresh)
    assert states and all(s.stale for s in states)
    for state in states:
        assert "re-calibrated" in state.stale_reason
        assert all(state.readings[n].value is None for n in READINGS if n != "anomaly")


def test_stale_after_the_room_drifts():
    # another room_seed: the furniture and walls are not where they were at calibration
    states = _watch(stream("empty", 541, DRIFT_WINDOWS + 20, room_seed=99))
    assert not any(s.stale for s in states[: DRIFT_WINDOWS - 1])
    assert states[-1].stale and "no longer matches its calibration" in states[-1].stale_reason
    assert states[-1].readings["breathing_bpm"].value is None


def test_anomaly_vetoes_every_reading():
    head = list(stream("sit", 551, 15))
    tail = list(jammed(stream("sit", 551, 25)))[len(head):]
    states = _watch(itertools.chain(head, tail))
    late = [s for s in states if s.t > head[-1].timestamp + 3]
    assert late and all(s.vetoed for s in late)
    for state in late:
        assert state.veto_reason.startswith("anomaly")
        assert all(state.readings[n].value is None for n in READINGS if n != "anomaly")
        assert state.anomaly.value >= 0.5


def test_corrupt_frames_do_not_poison_the_runtime():
    states = _settled(_watch(with_nan(stream("sit", 561, 30))))
    assert states and not any(s.vetoed or s.stale for s in states)
    assert np.mean([s.value("presence") is True for s in states]) >= 0.9


def test_baseline_only_monitor_still_sees_presence_and_motion():
    enrollment, _ = enrolled_room()
    baseline = enrollment.baseline()
    seated = _settled(_watch(stream("sit", 571, 30), bank=None, baseline=baseline))
    assert np.mean([s.value("presence") is True for s in seated]) >= 0.9
    assert all(s.readings["posture"].label == "not trained" for s in seated)


def test_fusion_rules():
    def node(node_id, presence, breathing, anomaly=0.1, stale=None):
        readings = {"presence": presence, "motion": Reading(False, 0.9, "still"), "posture": unknown(),
                    "breathing_bpm": breathing, "heart_bpm": unknown(), "restlessness": unknown(),
                    "anomaly": Reading(anomaly, 1 - anomaly, "normal")}
        return NodeState(node_id, readings, stale)

    far = node(1, Reading(False, 0.7, "absent"), unknown("nobody present"))
    near = node(2, Reading(True, 0.8, "present"), Reading(14.0, 0.6, "measured"))
    nearer = node(3, Reading(True, 0.9, "present"), Reading(15.0, 0.9, "measured"), anomaly=0.2)
    state = fuse(10.0, [far, near, nearer])
    assert state.value("presence") is True and state.presence.confidence == 0.9  # OR
    # 14 and 15 br/min agree within 1: confidence-weighted, surer than either node
    assert state.value("breathing_bpm") == pytest.approx(14.6) and state.breathing_bpm.confidence == pytest.approx(0.96)
    assert state.anomaly.value == 0.2 and not state.vetoed  # worst case, below the veto
    vetoed = fuse(10.0, [near, node(4, Reading(True, 0.9, "present"), unknown(), anomaly=0.9)])
    assert vetoed.vetoed and vetoed.value("breathing_bpm") is None and vetoed.value("presence") is None
    stale = fuse(10.0, [near, node(5, Reading(True, 0.9, "present"), unknown(), stale="moved")])
    assert stale.stale and stale.stale_reason == "moved" and stale.value("breathing_bpm") is None
    nobody = fuse(10.0, [far])
    assert nobody.value("presence") is False and nobody.readings["breathing_bpm"].label == "nobody present"


def test_nodes_that_agree_on_the_breathing_rate_raise_its_confidence_and_disagreeing_ones_lower_it():
    def rates(*readings):
        nodes = [NodeState(i, {"presence": Reading(True, 0.9, "present"), "motion": Reading(False, 0.9, "still"),
                               "anomaly": Reading(0.1, 0.9, "normal"), "breathing_bpm": r}) for i, r in enumerate(readings)]
        return fuse(10.0, nodes).breathing_bpm

    alone = rates(Reading(15.0, 0.5, "measured"), unknown("no clear rhythm"))
    assert alone.value == 15.0 and alone.confidence == 0.5  # one node: its own reading
    agree = rates(Reading(15.0, 0.5, "measured"), Reading(15.6, 0.5, "measured"))
    assert agree.value == pytest.approx(15.3) and agree.confidence == pytest.approx(0.75)
    assert agree.label == "2 nodes agree"
    weakly_contradicted = rates(Reading(15.0, 0.8, "measured"), Reading(19.0, 0.35, "measured"))
    assert weakly_contradicted.value == 15.0 and weakly_contradicted.confidence == pytest.approx(0.8 * 0.65)
    both_sure = rates(Reading(15.0, 0.8, "measured"), Reading(19.0, 0.8, "measured"))
    assert both_sure.value is None and both_sure.confidence == 0.0 and "disagree" in both_sure.label


# -- the incremental path: frames cleaned and summed as they arrive ---------------------------------


def _node_clip(scenario="walk", seed=581, seconds=30, **kwargs):
    from ruview_core.node.cleaning import group_by_node, raw_arrays

    enrollment, _ = enrolled_room()
    node = next(iter(enrollment.baseline().nodes.values()))
    frames = group_by_node(stream(scenario, seed, seconds, **kwargs))[node.node_id]
    return node, frames, raw_arrays(frames, node.usable.size)


def test_running_sums_give_the_window_formulas():
    from ruview_core.calibration.baseline import ACTIVITY_SECONDS, PROFILE_SECONDS
    from ruview_core.calibration.features import WindowSums
    from ruview_core.dsp.motion import motion_energy
    from ruview_core.node.cleaning import clean
    from ruview_core.node.motion import MIN_WINDOW_FRAMES, MOTION_WINDOW_SECONDS, robust_dispersion, turbulence

    node, _, (times, csi, _) = _node_clip("walk", 583, 40)
    cleaned = clean(times, csi, node.usable, node.frequency_index)
    t_all, z_all = cleaned.times, cleaned.csi[:, 0, :]
    # a rate far below the real one: the sums must grow, then compact and rebase, on the way
    running = WindowSums(z_all.shape[1], rate_hz=2.0)
    blocks = WindowSums(z_all.shape[1], rate_hz=2.0)  # the same frames a hop's block at a time
    checked, block_start = 0, 0
    for i, (t, z) in enumerate(zip(t_all, z_all, strict=True)):
        running.append(t, z)
        if i % 50 != 49 or t - t_all[0] < PROFILE_SECONDS:
            continue
        blocks.extend(t_all[block_start:i + 1], z_all[block_start:i + 1])
        block_start = i + 1
        got = running.features(node, t)
        window = z_all[(t_all > t - PROFILE_SECONDS) & (t_all <= t)]
        moving = np.flatnonzero((t_all > t - MOTION_WINDOW_SECONDS) & (t_all <= t))
        moving = np.arange(min(moving[0], i + 1 - MIN_WINDOW_FRAMES), i + 1)
        recent = z_all[(t_all > t - ACTIVITY_SECONDS) & (t_all <= t)]
        assert got.n_frames == window.shape[0]
        np.testing.assert_allclose([got.deviation, got.residual], node.deviation(window.mean(axis=0)), rtol=1e-8)
        np.testing.assert_allclose(got.amplitude_shift, node.amplitude_shift(np.abs(window).mean(axis=0)),
                                   rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(got.liveness, np.median(np.abs(window).var(axis=0) / node.amp_var), rtol=1e-7)
        np.testing.assert_allclose(got.motion, robust_dispersion(turbulence(np.abs(z_all[moving]))) / node.motion_level,
                                   rtol=1e-5)  # the sums give each frame's turbulence back to rounding
        np.testing.assert_allclose(got.activity, motion_energy(np.abs(recent)) / node.activity_floor, rtol=1e-8)
        clip = WindowSums.of_clip(t_all[: i + 1], z_all[: i + 1]).features(node, t)
        np.testing.assert_allclose(clip.summary(), got.summary(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(blocks.features(node, t).summary(), got.summary(), rtol=1e-9, atol=1e-12)
        checked += 1
    assert checked >= 8
    assert running.features(node, t_all[-1]).motion > 0


def test_node_buffer_keeps_the_last_seconds_whatever_the_rate():
    from ruview_core.node.cleaning import NodeBuffer

    buffer = NodeBuffer(5.0, rate_hz=2.0)  # the frames come ten times faster than assumed
    frames = np.arange(400)[:, np.newaxis, np.newaxis] * np.ones((1, 2, 3))
    for i, frame in enumerate(frames):
        buffer.append(i / 20.0, frame.astype(np.complex128))
    times, csi = buffer.recent(5.0)
    assert times.size == 100 and np.all(np.diff(times) > 0) and times[-1] == 399 / 20.0
    assert np.array_equal(csi[:, 0, 0].real, np.arange(300, 400))
    times, _ = buffer.recent(2.0, end=18.0)
    assert times.size == 40 and times[-1] == 18.0


def test_vitals_refresh_runs_on_schedule_after_the_state():
    baseline, bank = _bank()
    monitor = RoomMonitor(baseline, bank, hop=1.0, vitals_every=4.0)
    log = []
    for node_id, node in monitor.nodes.items():
        refresh = node.refresh_vitals

        def logged(t, bank, moved_at=(), refresh=refresh, node_id=node_id):
            log.append((t, node_id))
            refresh(t, bank, moved_at)
        node.refresh_vitals = logged
    states = list(monitor.run(stream("breathe_normal", 591, 40)))
    per_hop = [sum(1 for t, _ in log if t == s.t) for s in states]
    assert max(per_hop) == 1  # staggered: no hop pays for two nodes
    for node_id in monitor.nodes:
        times = [t for t, n in log if n == node_id]
        assert len(times) >= 8 and np.allclose(np.diff(times), 4.0)
    assert len({t for t, _ in log}) == len(log)
    # the cached estimates are what the specialists read (a full 20 s window was in by then)
    assert all(node.vitals[0] is not None and node.vitals[0].feature != "none" for node in monitor.nodes.values())


def test_fused_unknown_reading_says_why_from_a_node_that_sees_someone() -> None:
    from ruview_core.runtime.fusion import fuse
    from ruview_core.runtime.room_state import NodeState
    from ruview_core.specialists.base import Reading, unknown

    empty_view = NodeState(1, {"presence": Reading(False, 0.9, "absent"), "breathing_bpm": unknown("nobody present")})
    person_view = NodeState(2, {"presence": Reading(True, 0.8, "present"), "breathing_bpm": unknown("no clear rhythm")})
    state = fuse(10.0, [empty_view, person_view])
    assert state.presence.value is True
    assert state.breathing_bpm.value is None and state.breathing_bpm.label == "no clear rhythm"


def test_zone_needs_someone_present_and_two_nodes():
    seated = _settled(_watch(stream("sit", 502, 30)))
    present = [s for s in seated if s.value("presence") is True]
    assert present
    for state in present:
        zone = state.readings["zone"]
        assert zone.value in (1, 2, 3, 4, 5) and 0.0 <= zone.confidence <= 1.0 and "node 1 to node 2" in zone.label
    # The same person seen through one node only: no position at all.
    one_node = [s for s in _settled(_watch(f for f in stream("sit", 502, 30) if f.node_id == 1))]
    assert one_node and all(s.readings["zone"].value is None for s in one_node)
    for state in _settled(_watch(stream("empty", 511, 30))):
        if state.value("presence") is False:
            assert state.readings["zone"].value is None
