"""Stage 5: the runtime mixture of specialists, fusion, veto, short-circuit and STALE."""

from __future__ import annotations

import itertools

import numpy as np

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
    assert np.mean([s.value("motion") is False for s in seated + lying]) >= 0.9
    for state in seated + empty:
        assert not state.stale and not state.vetoed
        assert set(state.to_dict()) >= set(READINGS) | {"vetoed", "stale", "stale_reason", "t"}
        for name in READINGS:
            reading = state.readings[name]
            assert 0.0 <= reading.confidence <= 1.0
            if reading.value is None:
                assert reading.confidence == 0.0
    assert any(s.value("posture") is not None for s in seated)


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
    assert state.value("breathing_bpm") == 15.0  # the most confident node
    assert state.anomaly.value == 0.2 and not state.vetoed  # worst case, below the veto
    vetoed = fuse(10.0, [near, node(4, Reading(True, 0.9, "present"), unknown(), anomaly=0.9)])
    assert vetoed.vetoed and vetoed.value("breathing_bpm") is None and vetoed.value("presence") is None
    stale = fuse(10.0, [near, node(5, Reading(True, 0.9, "present"), unknown(), stale="moved")])
    assert stale.stale and stale.stale_reason == "moved" and stale.value("breathing_bpm") is None
    nobody = fuse(10.0, [far])
    assert nobody.value("presence") is False and nobody.readings["breathing_bpm"].label == "nobody present"
