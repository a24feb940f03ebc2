"""Room events: things that happen at one moment (a breathing pause that ended, a fall, sitting
down), published once by whoever consumes the room state, never repeated by a re-sent state.

:class:`ActivityEvents` turns the movements the nodes name (:mod:`ruview_core.activity`) into the
room's activity events: the same movement seen by two nodes, or named again by the sliding
windows of one long episode, fires once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..activity.classify import ActivityDecision

ACTIVITY_EVENT_TYPES = ("fall", "sit_down", "stand_up", "lie_down", "get_up")
# Two nodes close the same episode a hop or two apart; nobody sits down twice within this.
REPEAT_SECONDS = 5.0


@dataclass(frozen=True)
class RoomEvent:
    """Something that happened in a room at stream time ``t`` (not a state: published once)."""

    event_type: str
    t: float
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"event_type": self.event_type, "t": round(self.t, 3), **self.attributes}


class ActivityEvents:
    """The movements named in each hop -> one event per movement of ``ACTIVITY_EVENT_TYPES``."""

    def __init__(self, repeat_seconds: float = REPEAT_SECONDS) -> None:
        self.repeat_seconds = repeat_seconds
        self._last_fired: dict[str, float] = {}

    def update(self, t: float, decisions: Iterable[ActivityDecision]) -> list[RoomEvent]:
        events = []
        for decision in sorted(decisions, key=lambda d: -d.confidence):
            if decision.activity not in ACTIVITY_EVENT_TYPES:
                continue
            last = self._last_fired.get(decision.activity)
            if last is not None and t - last < self.repeat_seconds:
                continue
            self._last_fired[decision.activity] = t
            events.append(RoomEvent(decision.activity, t, {"confidence": round(float(decision.confidence), 3),
                                                           "reason": decision.reason}))
        return events
