"""``ruview enroll``: walk a person through the anchors (prompts, countdown, progress, retry/skip)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import Any

from ..calibration import ANCHORS, COUNTDOWN_S, RoomEnrollment, StoredFileError, get_anchor
from ..sources import UdpReceiver
from .common import emit, fail, progress_bar, running

MAX_AUTOMATIC_TRIES = 3


def _interactive(args: argparse.Namespace) -> bool:
    return not args.yes and not args.json and sys.stdin.isatty()


def _ask(prompt: str, choices: str, default: str) -> str:
    answer = input(prompt).strip().lower()[:1] or default
    return answer if answer in choices else default


async def _capture(args: argparse.Namespace, enrollment: RoomEnrollment, anchor: str, shared, source_for: Callable,
                   replace: bool, attempt: int = 1) -> Any:
    spec = get_anchor(anchor)
    seconds = args.seconds or spec.duration_s
    if not args.json:
        for count in range(int(COUNTDOWN_S), 0, -1):
            print(f"  starting in {count}...", flush=True)
            if args.realtime or isinstance(shared, UdpReceiver):
                await asyncio.sleep(1.0)

    progress = progress_bar(not args.json)
    if isinstance(shared, UdpReceiver):
        shared.drain()  # what arrived while the person got ready is not part of the anchor
        # The countdown above already ran in wall time: capture from now on.
        outcome = await enrollment.enroll_async(anchor, shared, seconds=seconds, countdown=0.0,
                                                replace=replace, on_progress=progress)
    else:
        source = source_for(args, anchor, seconds, attempt)
        async with running(source):
            outcome = await enrollment.enroll_async(anchor, source, seconds=seconds, replace=replace,
                                                    on_progress=progress)
    if progress is not None:
        print(flush=True)
    return outcome


def _say(args: argparse.Namespace, record: dict[str, Any], text: str) -> None:
    if args.json:
        emit(record)
    else:
        print(text, flush=True)


async def run_enroll(args: argparse.Namespace, enrollment: RoomEnrollment, source_for: Callable) -> int:
    try:
        enrollment.baseline()
    except StoredFileError as error:
        fail(f"{error}; run ruview calibrate --room {args.room} first")
    shared = source_for(args, "empty", 0.0) if args.source.startswith("udp://") else None
    if shared is not None:
        async with running(shared):
            return await _enroll(args, enrollment, shared, source_for)
    return await _enroll(args, enrollment, None, source_for)


async def _enroll(args: argparse.Namespace, enrollment: RoomEnrollment, shared, source_for: Callable) -> int:
    if args.anchor:
        replace = args.anchor in enrollment.state().accepted
        outcome = await _capture(args, enrollment, args.anchor, shared, source_for, replace)
        _say(args, {"anchor": outcome.anchor, "accepted": outcome.accepted, "reason": outcome.reason},
             f"{outcome.anchor}: {'accepted' if outcome.accepted else 'rejected: ' + outcome.reason}")
        return 0 if outcome.accepted else 1
    tries: dict[str, int] = {}
    while (anchor := enrollment.next_anchor()) is not None:
        position = [a.name for a in ANCHORS].index(anchor.name) + 1
        _say(args, {"prompt": anchor.name, "instruction": anchor.instruction, "seconds": anchor.duration_s},
             f"\nAnchor {position}/{len(ANCHORS)}: {anchor.name} ({args.seconds or anchor.duration_s:.0f} s)\n"
             f"  {anchor.instruction}")
        if _interactive(args):
            choice = _ask("  Enter = start, s = skip, q = quit: ", "sq\n", "\n")
            if choice == "q":
                return 1
            if choice == "s":
                enrollment.skip(anchor.name)
                continue
        tries[anchor.name] = tries.get(anchor.name, 0) + 1
        outcome = await _capture(args, enrollment, anchor.name, shared, source_for, False, tries[anchor.name])
        _say(args, {"anchor": outcome.anchor, "accepted": outcome.accepted, "reason": outcome.reason},
             f"  {'accepted' if outcome.accepted else 'rejected: ' + outcome.reason}")
        if outcome.accepted:
            continue
        if _interactive(args):
            if _ask("  r = retry, s = skip (partial bank): ", "rs", "r") == "s":
                enrollment.skip(anchor.name, reason=outcome.reason)
        elif tries[anchor.name] >= MAX_AUTOMATIC_TRIES:
            enrollment.skip(anchor.name, reason=f"rejected {MAX_AUTOMATIC_TRIES} times: {outcome.reason}")
            _say(args, {"anchor": anchor.name, "skipped": True}, f"  skipped after {MAX_AUTOMATIC_TRIES} tries")
    state = enrollment.state()
    _say(args, {"done": True, "accepted": sorted(state.accepted), "skipped": sorted(state.skipped)},
         f"\nenrollment done: {len(state.accepted)} accepted, {len(state.skipped)} skipped; "
         f"next: ruview train-room --room {args.room}")
    return 0
