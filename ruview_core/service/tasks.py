"""What each job does: capture a baseline, capture (or skip) an anchor, train the bank.

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
from .hub import RuViewService
from .jobs import Job, JobFailed
from .registry import RegistryError

MAX_CAPTURE_SECONDS = 600.0
MIN_ANCHOR_SECONDS = PROFILE_SECONDS + 1.0  # one whole feature window, with room for the clip's edges


def _number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = body.get(key, default)
    if value is None:
        return default
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
    live = service.rooms[room]
    if live.status.get("baseline_id") is None:
        raise RegistryError(f"room {room!r} has no baseline yet: capture the empty room first", status=409)

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
    if specialists is not None and (not isinstance(specialists, list) or not specialists
                                    or not set(specialists) <= set(SPECIALIST_KINDS)):
        raise RegistryError(f"specialists must be a non-empty list of {', '.join(SPECIALIST_KINDS)}")
    live = service.rooms[room]
    if live.status.get("baseline_id") is None:
        raise RegistryError(f"room {room!r} has no baseline yet: capture the empty room first", status=409)

    async def run(job: Job) -> dict[str, Any]:
        service.jobs.report(job, 0.05, None)
        try:
            bank = await asyncio.to_thread(train_room, live.enrollment, specialists)
        except StoredFileError as error:
            raise JobFailed(f"{error}: re-enroll the room") from None
        service.reload_room(room)
        return {"specialists": bank.describe(), "anchors": sorted(live.enrollment.state().accepted)}

    return service.jobs.start(room, "train", run)
