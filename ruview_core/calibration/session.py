"""The enrollment session: an append-only JSONL event log per room (ADR-151 §2.2).

Every step appends one event; the current state is a fold over them. A restart resumes where the
log ends, the log is the audit trail, and re-enrolling one anchor is just newer events for it:
the anchor accepted before counts until its successor is accepted (a replacing capture that is
rejected, cancelled or cut short by a crash takes nothing away).
Events recorded against an older baseline no longer count once a new baseline is accepted.
"""

from __future__ import annotations

import json
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

    def events(self) -> tuple[list[dict[str, Any]], int]:
        """All readable events and how many lines were unreadable (a crash can tear the last)."""
        if not self.path.is_file():
            return [], 0
        events, torn = [], 0
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    torn += 1
                    continue
                if isinstance(event, dict) and event.get("event") in EVENT_KINDS:
                    events.append(event)
                else:
                    torn += 1
        return events, torn

    def state(self) -> SessionState:
        events, torn = self.events()
        state = SessionState(torn_lines=torn)
        for event in events:
            kind, anchor = event["event"], event.get("anchor")
            if kind == "baseline_accepted":
                # A new empty-room fingerprint invalidates every anchor taken against the old one.
                state = SessionState(baseline_id=event.get("baseline_id"), torn_lines=torn)
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
