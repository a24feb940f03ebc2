"""The enrollment session: an append-only JSONL event log per room (ADR-151 §2.2).

Every step appends one event; the current state is a fold over them. A restart resumes where the
log ends, the log is the audit trail, and re-enrolling one anchor is just newer events for it:
the anchor accepted before counts until its successor is accepted (a replacing capture that is
rejected, cancelled or cut short by a crash takes nothing away).
Events recorded against an older baseline no longer count once a new baseline is accepted.
"""

from __future__ import annotations

import json
import math
import reprlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..storage import append_line
from .anchors import ANCHOR_NAMES

EVENT_KINDS = frozenset(
    {
        "baseline_accepted",
        "baseline_rejected",
        "anchor_started",
        "anchor_accepted",
        "anchor_rejected",
        "anchor_skipped",
        "bank_trained",
    }
)


@dataclass
class SessionState:
    baseline_id: str | None = None
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # anchor -> its accepted event
    skipped: set[str] = field(default_factory=set)
    rejections: dict[str, list[str]] = field(default_factory=dict)  # anchor -> reasons, oldest first
    trained_at: float | None = None
    torn_lines: int = 0
    invalid: list[str] = field(default_factory=list)  # records of a known kind with damaged fields, left out

    @property
    def pending(self) -> list[str]:
        """Anchors neither accepted nor skipped, in protocol order."""
        return [a for a in ANCHOR_NAMES if a not in self.accepted and a not in self.skipped]

    @property
    def complete(self) -> bool:
        return self.baseline_id is not None and not self.pending


class EnrollmentSession:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown session event {kind!r}")
        anchor = fields.get("anchor")
        if anchor is not None and anchor not in ANCHOR_NAMES:
            raise ValueError(f"unknown anchor {anchor!r}")
        event = {"event": kind, "at": time.time(), **fields}
        append_line(self.path, json.dumps(event, sort_keys=True))
        return event

    def read(self) -> tuple[list[dict[str, Any]], int, list[str]]:
        """The events that can be folded, the count of torn lines, and what is wrong with each
        record that parses but cannot be folded (edited or corrupted: left out, never a crash)."""
        if not self.path.is_file():
            return [], 0, []
        events, torn, invalid = [], 0, []
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    torn += 1
                    continue
                if not isinstance(event, dict) or event.get("event") not in EVENT_KINDS:
                    torn += 1
                    continue
                problem = record_problem(event)
                if problem is None:
                    events.append(event)
                else:
                    invalid.append(f"line {number} ({event['event']}): {problem}")
        return events, torn, invalid

    def state(self) -> SessionState:
        events, torn, invalid = self.read()
        state = SessionState(torn_lines=torn, invalid=invalid)
        for event in events:
            kind, anchor = event["event"], event.get("anchor")
            if kind == "baseline_accepted":
                # A new empty-room fingerprint invalidates every anchor taken against the old one.
                state = SessionState(baseline_id=event.get("baseline_id"), torn_lines=torn, invalid=invalid)
            elif event.get("baseline_id") not in (None, state.baseline_id):
                continue
            elif kind == "anchor_accepted":
                state.accepted[anchor] = event
                state.skipped.discard(anchor)
            elif kind == "anchor_skipped":
                state.skipped.add(anchor)
                state.accepted.pop(anchor, None)
            elif kind == "anchor_rejected":
                state.rejections.setdefault(anchor, []).append(event.get("reason", ""))
            elif kind == "bank_trained":
                state.trained_at = event["at"]
        return state


def record_problem(event: dict[str, Any]) -> str | None:
    """Why a session record of a known kind cannot be folded, or None when it can."""
    at = event.get("at")
    if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
        return "its time ('at') is missing or not a number"
    if event["event"].startswith("anchor_") and event.get("anchor") not in ANCHOR_NAMES:
        return f"its anchor {reprlib.repr(event.get('anchor'))} is not one of {', '.join(ANCHOR_NAMES)}"
    baseline_id = event.get("baseline_id")
    if not isinstance(baseline_id, str) and (baseline_id is not None or event["event"] == "baseline_accepted"):
        return "its baseline id is missing or not a text"
    return None
