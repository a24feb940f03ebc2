"""What each job does: capture a baseline, capture (or skip) an anchor, train the bank, update the
bank from the room's label events (and roll such an update back).

Request bodies are checked here, before a job starts, so a bad request changes nothing; a job
that ran to its end "succeeded" even when the room's gate rejected the capture: its result says
``accepted: false`` and why, in words a person can act on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..calibration import ANCHOR_NAMES, COUNTDOWN_S, BaselineError, StoredFileError, get_anchor
from ..calibration.baseline import DEFAULT_BASELINE_SECONDS, MIN_BASELINE_SECONDS, PROFILE_SECONDS
from ..rooms import train_room
from ..specialists import SPECIALIST_KINDS
from ..storage import json_safe
from ..supervision.bank_update import (
    WindowTable,
    active_version,
    history,
    rollback,
    stored_versions,
    update_room_bank,
)
from ..supervision.events import read_events
from .hub import RuViewService
from .jobs import Job, JobFailed
from .labels import labels_path
from .live import LiveRoom
from .registry import RegistryError

MAX_CAPTURE_SECONDS = 600.0
MIN_ANCHOR_SECONDS = PROFILE_SECONDS + 1.0  # one whole feature window, with room for the clip's edges


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)  # null is refused, as the API's schema says: the default is the field left out
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RegistryError(f"{key} must be a number from {low:g} to {high:g}")
    return float(value)


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise RegistryError(f"{key} must be true or false")
    return value


def _only(body: dict[str, Any], keys: set[str]) -> None:
    unknown = set(body) - keys
    if unknown:
        raise RegistryError(f"unknown field(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(keys)) or 'none'}")


def _calibrated(service: RuViewService, room: str) -> LiveRoom:
    """The room's live state, refusing (409) a room that has no baseline to work from yet."""
    live = service.rooms[room]
    if live.status.get("baseline_id") is None:
        raise RegistryError(f"room {room!r} has no baseline yet: capture the empty room first", status=409)
    return live


def _nodes_hint(service: RuViewService, room: str) -> str:
    nodes = service.registry.get(room).nodes
    return f"node(s) {', '.join(map(str, nodes))}" if nodes else "any node"


def start_baseline(service: RuViewService, room: str, body: dict[str, Any], kind: str = "baseline") -> Job:
    """Capture the empty room; ``recalibrate`` is the same capture for a room that has a bank (it
    goes STALE until it is enrolled and trained again)."""
    service.registry.get(room)
    _only(body, {"seconds"})
    seconds = _number(body, "seconds", DEFAULT_BASELINE_SECONDS, MIN_BASELINE_SECONDS, MAX_CAPTURE_SECONDS)
    live = service.rooms[room]

    async def run(job: Job) -> dict[str, Any]:
        service.jobs.report(job, 0.0, seconds)
        frames = live.frames(service.config.no_data_timeout, _nodes_hint(service, room))
        try:
            baseline = await live.enrollment.calibrate_async(
                frames, seconds=seconds, on_progress=lambda f: service.jobs.report(job, f, (1 - f) * seconds))
        except BaselineError as error:
            return {"accepted": False, "reason": str(error)}
        finally:
            await frames.aclose()
        service.reload_room(room)
        return {"accepted": True, "reason": None, "baseline_id": baseline.baseline_id, "nodes": sorted(baseline.nodes)}

    return service.jobs.start(room, kind, run)


def start_anchor(service: RuViewService, room: str, anchor: str, body: dict[str, Any]) -> Job:
    """Capture one anchor after a countdown (or, with ``skip``, record that it was skipped)."""
    service.registry.get(room)
    if anchor not in ANCHOR_NAMES:
        raise RegistryError(f"no anchor {anchor!r}; anchors are {', '.join(ANCHOR_NAMES)}", status=404)
    _only(body, {"seconds", "countdown", "replace", "skip"})
    spec = get_anchor(anchor)
    seconds = _number(body, "seconds", spec.duration_s, MIN_ANCHOR_SECONDS, MAX_CAPTURE_SECONDS)
    countdown = _number(body, "countdown", COUNTDOWN_S, 0.0, 30.0)
    replace, skip = _flag(body, "replace"), _flag(body, "skip")
    live = _calibrated(service, room)

    async def run(job: Job) -> dict[str, Any]:
        if skip:
            live.enrollment.skip(anchor)
            service.reload_room(room)
            return {"accepted": False, "skipped": True, "reason": "skipped", "anchor": anchor,
                    "next_anchor": _next(live)}
        total = countdown + seconds
        service.jobs.report(job, 0.0, total)
        frames = live.frames(service.config.no_data_timeout, _nodes_hint(service, room))
        try:
            outcome = await live.enrollment.enroll_async(
                anchor, frames, seconds=seconds, countdown=countdown, replace=replace,
                on_progress=lambda f: service.jobs.report(job, f, (1 - f) * seconds))
        except StoredFileError as error:
            raise JobFailed(f"{error}: capture the empty room again") from None
        finally:
            await frames.aclose()
        service.reload_room(room)
        return {"accepted": outcome.accepted, "skipped": False, "reason": outcome.reason or None,
                "reasons": list(outcome.reasons), "metrics": outcome.metrics, "anchor": anchor,
                "next_anchor": _next(live)}

    return service.jobs.start(room, "anchor", run, anchor=anchor)


def _next(live) -> str | None:
    pending = live.enrollment.state().pending
    return pending[0] if pending else None


def start_training(service: RuViewService, room: str, body: dict[str, Any]) -> Job:
    """Train the room's specialist bank in a worker thread (the event loop keeps serving)."""
    service.registry.get(room)
    _only(body, {"specialists"})
    specialists = body.get("specialists")
    known = set(SPECIALIST_KINDS)
    if "specialists" in body and (not isinstance(specialists, list) or not specialists
                                  or not all(isinstance(kind, str) and kind in known for kind in specialists)):
        raise RegistryError(f"specialists must be a non-empty list of {', '.join(SPECIALIST_KINDS)}")
    live = _calibrated(service, room)

    async def run(job: Job) -> dict[str, Any]:
        service.jobs.report(job, 0.05, None)
        try:
            bank = await asyncio.to_thread(train_room, live.enrollment, specialists)
        except StoredFileError as error:
            raise JobFailed(f"{error}: re-enroll the room") from None
        service.reload_room(room)
        return {"specialists": bank.describe(), "anchors": sorted(live.enrollment.state().accepted)}

    return service.jobs.start(room, "train", run)


def start_learning(service: RuViewService, room: str, body: dict[str, Any]) -> Job:
    """Update the room's presence and motion specialists from its label events and its recent
    windows, in a worker thread: a new bank version, kept only if it does no worse on the
    enrollment anchors (:func:`ruview_core.supervision.bank_update.update_room_bank`). The result is
    the update's report; a kept update is live at once."""
    service.registry.get(room)
    _only(body, set())
    live = _calibrated(service, room)
    if live.status.get("bank") is None:
        raise RegistryError(f"room {room!r} has no trained bank yet: enroll and train it first", status=409)
    path = labels_path(service.config.data_dir, room)
    if not path.exists():
        raise RegistryError(f"room {room!r} has no label events yet: pick its sensors in Home Assistant (or POST "
                            f"them to /api/v1/rooms/{room}/labels)", status=409)
    if not len(live.windows):
        raise RegistryError(f"room {room!r} has no live windows yet: its nodes must send frames for a while", status=409)

    async def run(job: Job) -> dict[str, Any]:
        service.jobs.report(job, 0.05, None)
        table = live.windows.table()  # a copy: the room keeps filling its own
        try:
            report = await asyncio.to_thread(_learn, live.enrollment, path, table)
        except StoredFileError as error:
            raise JobFailed(f"{error}: re-enroll the room") from None
        if report["kept"]:
            service.reload_room(room)
        return report

    return service.jobs.start(room, "learn", run)


def _learn(enrollment, path, table: WindowTable) -> dict[str, Any]:
    report = update_room_bank(enrollment.folder, enrollment.baseline(), enrollment.anchor_records(), table,
                              read_events(path))
    return json_safe({**report.to_dict(), "windows": int(table.times.size)})


def bank_versions(service: RuViewService, room: str) -> dict[str, Any]:
    """The room's bank versions: which is active, and every update, refusal and rollback."""
    service.registry.get(room)
    folder = service.rooms[room].enrollment.folder
    return {"room": room, "active": active_version(folder), "stored": stored_versions(folder),
            "history": json_safe(history(folder))}


async def rollback_bank(service: RuViewService, room: str, body: dict[str, Any]) -> dict[str, Any]:
    """Make an earlier bank version the room's bank (``version``; default: the active one's parent)."""
    service.registry.get(room)
    _only(body, {"version"})
    version = body.get("version")
    if "version" in body and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        raise RegistryError("version must be a whole number from 1")
    busy = service.jobs.running(room)
    if busy is not None:
        raise RegistryError(f"room {room!r} is busy with a {busy.kind} job ({busy.job_id}): wait for it or cancel it",
                            status=409)
    folder = service.rooms[room].enrollment.folder
    known = {r.get("version") for r in history(folder) if r.get("event") in ("snapshot", "update")}
    if version is not None and version not in known:
        raise RegistryError(f"room {room!r} has no bank version {version}", status=404)
    try:
        record = await asyncio.to_thread(rollback, folder, version)
    except StoredFileError as error:
        raise RegistryError(f"bank version {version} cannot be read: {error}", status=409) from None
    except ValueError as error:
        raise RegistryError(str(error), status=409) from None
    service.reload_room(room)
    return record
