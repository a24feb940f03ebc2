"""Stage 2-3: guided enrollment through the quality gate, resumable, with labelled features."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ruview_core.calibration.baseline import BaselineError
from ruview_core.node.cleaning import clean, raw_arrays
from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.calibration.features import sliding_features
from ruview_core.calibration.persist import StoredFileError

from ._enrolled_room import anchor_seconds, enrolled_room, stream, with_nan


def test_static_anchors_pass_the_gate_and_rejections_say_why():
    enrollment, outcomes = enrolled_room()
    for name in ("empty", "stand_still", "sit", "lie_down", "sleep_posture"):
        assert outcomes[name].accepted, (name, outcomes[name].reason)
    for outcome in outcomes.values():
        if not outcome.accepted:
            assert outcome.reason.endswith("retry") or "retry" in outcome.reason
    state = enrollment.state()
    assert state.complete and set(state.accepted) | state.skipped == set(outcomes)
    records = enrollment.anchor_records()
    assert {r.anchor for r in records} == set(state.accepted)
    assert {r.node_id for r in records} == {1, 2}
    sit = next(r for r in records if r.anchor == "sit" and r.node_id == 1)
    empty = next(r for r in records if r.anchor == "empty" and r.node_id == 1)
    # baseline-subtracted: a seated person shifts the profile far more than the empty room does
    assert np.median(sit.summary[:, 0]) > np.median(empty.summary[:, 0]) + np.log(3)
    assert np.isfinite(sit.summary).all() and sit.shifts.shape[0] == sit.summary.shape[0]


def test_a_walk_is_rejected_for_stand_still_then_the_retry_is_accepted(tmp_path):
    enrollment = RoomEnrollment(tmp_path, "hall")
    enrollment.calibrate(stream("empty", 31, 16), seconds=15)
    seconds = anchor_seconds("stand_still")
    walked = enrollment.enroll("stand_still", stream("walk", 32, seconds + 4), seconds=seconds)
    assert not walked.accepted and "movement" in walked.reason
    nobody = enrollment.enroll("stand_still", stream("empty", 33, seconds + 4), seconds=seconds)
    assert not nobody.accepted and "hardly different from the empty room" in nobody.reason
    retried = enrollment.enroll("stand_still", stream("stand_still", 34, seconds + 4), seconds=seconds)
    assert retried.accepted, retried.reason
    state = enrollment.state()
    assert "stand_still" in state.accepted and len(state.rejections["stand_still"]) == 2


def test_an_interrupted_enrollment_resumes_and_one_anchor_can_be_redone(tmp_path):
    first = RoomEnrollment(tmp_path, "bedroom")
    first.calibrate(stream("empty", 41, 16), seconds=15)
    assert first.enroll("empty", stream("empty", 42, 16), seconds=12).accepted
    # the process dies here; a new one picks the room up from disk
    second = RoomEnrollment(tmp_path, "bedroom")
    assert second.baseline().baseline_id == first.baseline().baseline_id
    assert second.next_anchor().name == "stand_still"
    assert second.enroll("stand_still", stream("stand_still", 43, 16), seconds=12).accepted
    before = [r.summary for r in second.anchor_records() if r.anchor == "empty"]
    redo = second.enroll("empty", stream("empty", 44, 16), seconds=12, replace=True)
    assert redo.accepted
    after = [r.summary for r in second.anchor_records() if r.anchor == "empty"]
    assert not np.array_equal(before[0], after[0])
    assert set(RoomEnrollment(tmp_path, "bedroom").state().accepted) == {"empty", "stand_still"}


def test_a_new_baseline_invalidates_the_anchors_and_a_bad_one_is_logged(tmp_path):
    enrollment = RoomEnrollment(tmp_path, "study")
    enrollment.calibrate(stream("empty", 51, 16), seconds=15)
    enrollment.enroll("empty", stream("empty", 52, 16), seconds=12)
    with pytest.raises(BaselineError, match="moved"):
        enrollment.calibrate(stream("walk", 53, 16), seconds=15)
    assert set(enrollment.state().accepted) == {"empty"}  # a refused baseline changes nothing
    enrollment.calibrate(stream("empty", 54, 16), seconds=15)
    assert not enrollment.state().accepted and enrollment.anchor_records() == []


def test_tampered_anchor_features_are_refused(tmp_path):
    enrollment = RoomEnrollment(tmp_path, "den")
    enrollment.calibrate(stream("empty", 61, 16), seconds=15)
    enrollment.enroll("empty", stream("empty", 62, 16), seconds=12)
    [path] = (enrollment.folder / "anchors").glob("empty-*.safetensors")
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(StoredFileError, match="truncated or was modified"):
        enrollment.anchor_records()


def test_async_streams_enroll_too(tmp_path):
    async def frames(scenario, seed):
        for frame in stream(scenario, seed, 16):
            yield frame

    async def run():
        enrollment = RoomEnrollment(tmp_path, "porch")
        await enrollment.calibrate_async(frames("empty", 71), seconds=15)
        return await enrollment.enroll_async("sit", frames("sit", 72), seconds=12)

    assert asyncio.run(run()).accepted


def test_nan_and_inf_frames_do_not_poison_features():
    enrollment, _ = enrolled_room()
    node = enrollment.baseline().nodes[1]
    results = []
    for frames in (stream("sit", 81, 14, nodes=1), with_nan(stream("sit", 81, 14, nodes=1))):
        times, csi, dropped = raw_arrays(frames, node.usable.size)
        cleaned = clean(times, csi, node.usable, node.frequency_index, dropped)
        results.append((cleaned, sliding_features(node, cleaned.times, cleaned.csi)))
    (_, good), (dirty_clean, dirty) = results
    assert dirty_clean.dropped > 20 and len(dirty) == len(good)
    for a, b in zip(good, dirty):
        assert np.isfinite(b.summary()).all() and np.isfinite(b.amplitude_shift).all()
        assert abs(np.log(a.deviation) - np.log(b.deviation)) < 0.5
