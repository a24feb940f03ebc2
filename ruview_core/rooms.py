"""What a room is as a whole: its status, its bank trained from its anchors, its live monitor.

The CLI and the service both drive rooms through these three functions, so ``ruview
room-status`` and ``GET /api/v1/rooms/ROOM`` can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .calibration import ANCHOR_NAMES, RoomEnrollment, StoredFileError
from .runtime import RoomMonitor
from .specialists import SpecialistBank, load_bank, save_bank, train_bank

STATUSES = ("untrained", "enrolling", "training", "ready", "stale", "needs_attention")


def bank_stem(enrollment: RoomEnrollment):
    return enrollment.folder / "bank"


def load_room_bank(enrollment: RoomEnrollment) -> SpecialistBank | None:
    """The room's bank, or None when there is none yet (a damaged one raises StoredFileError)."""
    if not (bank_stem(enrollment).with_suffix(".json")).exists():
        return None
    return load_bank(bank_stem(enrollment))


def read_room_bank(enrollment: RoomEnrollment) -> tuple[SpecialistBank | None, str | None]:
    """The room's bank (None when there is none or it is damaged) and why it cannot be used."""
    try:
        bank = load_room_bank(enrollment)
    except StoredFileError as error:
        return None, str(error)
    return bank, None if bank is not None else "the room has no specialist bank yet"


def room_status(enrollment: RoomEnrollment,
                bank_read: tuple[SpecialistBank | None, str | None] | None = None) -> dict[str, Any]:
    """Baseline, anchors, bank and ``status`` (untrained / enrolling / ready / stale /
    needs_attention, with the reason in ``attention``) of a room.

    A room whose baseline cannot be read is ``stale``, with ``baseline_error`` and ``stale_reason``.
    ``bank_read`` is :func:`read_room_bank`'s answer when the caller has it already.
    """
    state = enrollment.state()
    status: dict[str, Any] = {
        "room": enrollment.room,
        "baseline_id": state.baseline_id,
        "anchors": {
            name: "accepted" if name in state.accepted else "skipped" if name in state.skipped else "pending"
            for name in ANCHOR_NAMES
        },
        "rejections": state.rejections,
        "bank": None,
        "stale": False,
        "status": "untrained",
        "attention": None,
    }
    if state.invalid:
        status["attention"] = (f"{len(state.invalid)} damaged record(s) in {enrollment.session.path} were left out "
                               f"({'; '.join(state.invalid[:3])}): fix or delete those lines")
    bank, why = read_room_bank(enrollment) if bank_read is None else bank_read
    if bank is None and bank_stem(enrollment).with_suffix(".json").exists():
        status["bank_error"] = status["attention"] = why
    if state.baseline_id is not None:
        try:
            enrollment.baseline()
        except StoredFileError as error:  # the room can sense nothing: say so, and what repairs it
            status.update(status="stale", stale=True, baseline_error=str(error),
                          stale_reason=f"the room's baseline cannot be used, so it senses nothing ({error}): "
                                       "record the empty room again, enroll the steps and train")
        else:
            if bank is not None:
                status["bank"] = bank.describe()
                status["stale"] = bank.baseline_id != state.baseline_id
                status["status"] = "stale" if status["stale"] else "ready"
            elif state.accepted or state.skipped:
                status["status"] = "enrolling"
    if status["attention"] is not None:
        status["status"] = "needs_attention"
    return status


def train_room(enrollment: RoomEnrollment, specialists: Sequence[str] | None = None) -> SpecialistBank:
    """Train (or, with ``specialists``, retrain only those of) the room's bank and save it atomically.

    Raises StoredFileError when the room has no baseline or its anchors are damaged; a crash
    while saving leaves the previous bank whole.
    """
    baseline = enrollment.baseline()
    records = enrollment.anchor_records()
    previous = read_room_bank(enrollment)[0] if specialists else None  # a damaged bank is retrained whole
    bank = train_bank(enrollment.room, baseline, records, kinds=specialists or None, previous=previous)
    save_bank(bank, bank_stem(enrollment))
    enrollment.session.append("bank_trained", baseline_id=baseline.baseline_id, specialists=bank.kinds)
    return bank


def open_monitor(enrollment: RoomEnrollment, *, hop: float = 1.0,
                 bank_read: tuple[SpecialistBank | None, str | None] | None = None) -> tuple[RoomMonitor, str | None]:
    """A monitor over the room's baseline and bank; the second value says why the bank is not used.

    Without a usable bank, presence and motion still come from the baseline alone.
    """
    baseline = enrollment.baseline()
    bank, why = read_room_bank(enrollment) if bank_read is None else bank_read
    return RoomMonitor(baseline, bank, hop=hop), why
