"""Crash windows of enrollment (issue 19): the session log names the files in use, so a process
killed at any write leaves a room the advised action repairs, and a replacing anchor capture
that is rejected, cancelled or killed keeps the anchor it was to replace.

Each crash is real: a child process runs the capture and ``os._exit``s just before its N-th
durable step (an fsync, a rename or an unlink), with no clean-up, for N = 0, 1, 2, ... until the
capture runs to its end; the parent then opens the room as a restarted service would.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil

import pytest

from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.calibration.persist import StoredFileError
from ruview_core.rooms import open_monitor, room_status, train_room
from ruview_core.service import RuViewService, ServiceConfig

from ._enrolled_room import stream

ROOM = "den"
CRASHED, FAILED, COMPLETED = 70, 71, 0
MAX_STEPS = 40


@pytest.fixture(scope="module")
def clips():
    return {name: list(stream(scenario, seed, 16)) for name, scenario, seed in (
        ("baseline", "empty", 51), ("empty", "empty", 52), ("sit", "sit", 53),
        ("new_baseline", "empty", 54), ("new_empty", "empty", 55), ("new_sit", "sit", 56), ("walk", "walk", 57))}


@pytest.fixture(scope="module")
def trained_room(tmp_path_factory, clips):
    """A room with a baseline, the anchors empty and sit, and a bank: ready."""
    data_dir = tmp_path_factory.mktemp("pristine")
    enrollment = RoomEnrollment(data_dir, ROOM)
    enrollment.calibrate(clips["baseline"], seconds=15)
    for anchor in ("empty", "sit"):
        assert enrollment.enroll(anchor, clips[anchor], seconds=12).accepted
    train_room(enrollment)
    assert room_status(enrollment)["status"] == "ready"
    return data_dir


def _die_before_step(step: int, data_dir, operation: str, clip: list) -> None:
    """The child: count durable steps, exit at the chosen one with no clean-up at all."""
    done = 0

    def hooked(real):
        def step_or_die(*args, **kwargs):
            nonlocal done
            if done == step:
                os._exit(CRASHED)
            done += 1
            return real(*args, **kwargs)
        return step_or_die

    os.fsync, os.replace, os.unlink = hooked(os.fsync), hooked(os.replace), hooked(os.unlink)
    try:
        OPERATIONS[operation](RoomEnrollment(data_dir, ROOM), clip)
    except BaseException:  # noqa: BLE001 -- any failure is reported to the parent as such
        os._exit(FAILED)
    os._exit(COMPLETED)


def _recalibrate(enrollment: RoomEnrollment, clip: list) -> None:
    enrollment.calibrate(clip, seconds=15)


def _replace_sit(enrollment: RoomEnrollment, clip: list) -> None:
    assert enrollment.enroll("sit", clip, seconds=12, replace=True).accepted


def _train(enrollment: RoomEnrollment, clip: list) -> None:
    train_room(enrollment)


OPERATIONS = {"recalibrate": _recalibrate, "replace_sit": _replace_sit, "train": _train}
# Children come from a single-threaded fork server: a fork of the (threaded) test process could deadlock.
PROCESSES = multiprocessing.get_context("forkserver")
PROCESSES.set_forkserver_preload([__name__])  # each child starts with numpy and this module loaded


def crash_before_step(step: int, data_dir, operation: str, clip: list) -> int:
    """Run ``operation`` in a child process that dies before its ``step``-th fsync/rename/unlink."""
    child = PROCESSES.Process(target=_die_before_step, args=(step, data_dir, operation, clip))
    child.start()
    child.join(timeout=60)
    if child.exitcode is None:
        child.kill()
        child.join()
        raise AssertionError(f"the child crashing at step {step} hung")
    return child.exitcode


def walk_crash_points(pristine, tmp_path, operation: str, clip: list, check):
    """For every crash point of ``operation`` on a copy of ``pristine``: ``check`` the room a
    restart finds. Returns how many crash points there were."""
    for step in range(MAX_STEPS):
        data_dir = tmp_path / f"step-{step}"
        shutil.copytree(pristine, data_dir)
        code = crash_before_step(step, data_dir, operation, clip)
        assert code in (CRASHED, COMPLETED), f"the capture failed (exit {code}) at step {step}"
        check(RoomEnrollment(data_dir, ROOM), step)
        if code == COMPLETED:
            return step
    raise AssertionError(f"the operation did not complete within {MAX_STEPS} durable steps")


def agrees(enrollment: RoomEnrollment) -> dict:
    """The room's status, checked against what its monitor runs on: the same baseline, no error."""
    status = room_status(enrollment)
    monitor, _ = open_monitor(enrollment)
    assert "baseline_error" not in status, status["baseline_error"]
    assert monitor.baseline.baseline_id == status["baseline_id"]
    return status


def test_a_recalibration_killed_at_any_write_leaves_a_room_that_re_enrolling_repairs(trained_room, tmp_path, clips):
    before = RoomEnrollment(trained_room, ROOM).baseline().baseline_id
    outcomes = []

    def check(enrollment, step):
        status = agrees(enrollment)
        if status["baseline_id"] == before:  # the capture did not count: the room is as it was
            assert status["status"] == "ready" and set(enrollment.state().accepted) == {"empty", "sit"}
            enrollment.calibrate(clips["new_baseline"], seconds=15)  # the advice: record the empty room again
        assert agrees(enrollment)["status"] == "stale"
        # the repair the room asks for: the steps again, then training
        for anchor in ("empty", "sit"):
            assert enrollment.enroll(anchor, clips[f"new_{anchor}"], seconds=12).accepted
        assert enrollment.baseline().baseline_id != before
        train_room(enrollment)
        assert agrees(enrollment)["status"] == "ready"
        outcomes.append(status["baseline_id"] == before)

    points = walk_crash_points(trained_room, tmp_path, "recalibrate", clips["new_baseline"], check)
    assert points >= 5 and True in outcomes and False in outcomes  # crashes on both sides of the log record
    leftovers = sorted(p.name for p in (tmp_path / f"step-{points}" / "rooms" / ROOM).glob("baseline*"))
    assert len(leftovers) == 2 and all(p.startswith("baseline-") for p in leftovers)  # the old pair is gone


def test_a_replacing_anchor_capture_killed_at_any_write_keeps_an_accepted_anchor(trained_room, tmp_path, clips):
    before = RoomEnrollment(trained_room, ROOM).state().accepted["sit"]["tensors_sha256"]
    replaced = []

    def check(enrollment, step):
        assert agrees(enrollment)["status"] == "ready"
        accepted = enrollment.state().accepted
        assert set(accepted) == {"empty", "sit"}
        assert {r.anchor for r in enrollment.anchor_records()} == {"empty", "sit"}  # the files the log names
        train_room(enrollment)  # the room trains as it is: nothing to repair
        replaced.append(accepted["sit"]["tensors_sha256"] != before)

    points = walk_crash_points(trained_room, tmp_path, "replace_sit", clips["new_sit"], check)
    assert points >= 3 and replaced[0] is False and replaced[-1] is True
    anchors = sorted(p.name for p in (tmp_path / f"step-{points}" / "rooms" / ROOM / "anchors").iterdir())
    assert len(anchors) == 4  # empty's pair and the new sit's: the replaced pair is gone


def test_a_training_killed_at_any_write_leaves_the_old_bank_or_the_new_one(trained_room, tmp_path, clips):
    pristine = tmp_path / "re-enrolled"
    shutil.copytree(trained_room, pristine)
    enrollment = RoomEnrollment(pristine, ROOM)
    enrollment.calibrate(clips["new_baseline"], seconds=15)
    for anchor in ("empty", "sit"):
        assert enrollment.enroll(anchor, clips[f"new_{anchor}"], seconds=12).accepted
    assert room_status(enrollment)["status"] == "stale"  # the bank is the old baseline's: train again
    statuses = []

    def check(enrollment, step):
        statuses.append(agrees(enrollment)["status"])
        train_room(enrollment)
        assert agrees(enrollment)["status"] == "ready"

    walk_crash_points(pristine, tmp_path, "train", [], check)
    assert set(statuses) == {"stale", "ready"} and statuses[0] == "stale" and statuses[-1] == "ready"


def test_a_replacing_capture_that_is_rejected_or_cancelled_keeps_the_old_anchor(trained_room, tmp_path, clips):
    shutil.copytree(trained_room, tmp_path, dirs_exist_ok=True)
    enrollment = RoomEnrollment(tmp_path, ROOM)
    before = enrollment.state().accepted["sit"]
    rejected = enrollment.enroll("sit", clips["walk"], seconds=12, replace=True)
    assert not rejected.accepted

    async def cancelled():
        async def slow_frames():
            for frame in clips["new_sit"][:200]:
                yield frame
            await asyncio.sleep(60)  # the person is still sitting when the capture is cancelled

        task = asyncio.create_task(enrollment.enroll_async("sit", slow_frames(), seconds=12, replace=True))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled())
    state = RoomEnrollment(tmp_path, ROOM).state()
    assert state.accepted["sit"] == before and "sit" not in state.pending
    assert room_status(enrollment)["status"] == "ready" and len(enrollment.anchor_records()) > 0


def test_a_damaged_baseline_says_so_with_the_repair(trained_room, tmp_path, clips, caplog):
    shutil.copytree(trained_room, tmp_path, dirs_exist_ok=True)
    enrollment = RoomEnrollment(tmp_path, ROOM)
    [tensors] = enrollment.folder.glob("baseline*.safetensors")
    tensors.write_bytes(tensors.read_bytes()[:100])  # truncated
    status = room_status(RoomEnrollment(tmp_path, ROOM))
    assert status["status"] == "stale" and status["stale"] is True
    assert "truncated" in status["baseline_error"] and "record the empty room" in status["stale_reason"]

    (enrollment.folder / "room.json").write_text(f'{{"room_id": "{ROOM}", "name": "Den", "nodes": []}}')
    service = RuViewService(ServiceConfig(tmp_path, token="t", udp_port=0))
    summary = service.room_summary(ROOM)
    assert summary["status"] == "stale" and "truncated" in summary["stale_reason"]
    assert service.room_state(ROOM)["status"] == "stale"
    assert any("cannot sense" in r.getMessage() and "truncated" in r.getMessage() for r in caplog.records)

    # the advised repair: the empty room, the steps, training
    enrollment = RoomEnrollment(tmp_path, ROOM)
    enrollment.calibrate(clips["new_baseline"], seconds=15)
    for anchor in ("empty", "sit"):
        assert enrollment.enroll(anchor, clips[f"new_{anchor}"], seconds=12).accepted
    train_room(enrollment)
    assert agrees(enrollment)["status"] == "ready"


def test_a_session_log_naming_a_path_as_baseline_id_is_refused(tmp_path):
    enrollment = RoomEnrollment(tmp_path, ROOM)
    enrollment.session.append("baseline_accepted", baseline_id="../../../etc/passwd")
    with pytest.raises(StoredFileError, match="invalid baseline id"):
        enrollment.baseline()
    status = room_status(enrollment)
    assert status["status"] == "stale" and "invalid baseline id" in status["stale_reason"]
