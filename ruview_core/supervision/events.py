"""Label events: what a home's own sensors said, and when, as weak supervision for the CSI.

One event is one reading of one sensor: a motion sensor (``pir``), a door or window contact
(``reed``), a vibration sensor, a thermometer or a hygrometer. They come from Home Assistant
entities the user picked for a room (streamed by the integration) or from a Cognitum Seed
(:mod:`.seed`). The JSON form, which is also what the integration sends to
``POST /api/v1/rooms/{room}/labels`` (a list of these objects) and what the room's
``labels.jsonl`` holds, one per line::

    {"t": 1775182186.25, "source": "home_assistant", "kind": "pir", "value": 1,
     "entity_id": "binary_sensor.hall_motion"}

- ``t``: seconds since the epoch (the add-on's clock; the simulator uses stream time).
- ``kind``: ``pir`` | ``reed`` | ``vibration`` (binary: ``value`` 0/1, ``true``/``false`` or
  Home Assistant's ``"on"``/``"off"``; for ``reed`` 1 = open) or ``temperature`` (°C) or
  ``humidity`` (% RH).
- ``source``: who measured it (``home_assistant``, ``seed``, ``simulated``, ...).
- ``entity_id``: the Home Assistant entity (optional).

Send state changes as they happen; a binary sensor's state is taken to hold until its next
event. Anything else is refused with the reason, never guessed at.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..storage import append_line, atomic_write_bytes

BINARY_KINDS = ("pir", "reed", "vibration")
CONTINUOUS_KINDS = ("temperature", "humidity")
KINDS = BINARY_KINDS + CONTINUOUS_KINDS
# Physical ranges of what a room sensor can report (BME280: -40..85 °C, 0..100 % RH).
VALUE_RANGE = {"temperature": (-40.0, 85.0), "humidity": (0.0, 100.0)}
BINARY_WORDS = {"on": 1.0, "off": 0.0, "open": 1.0, "closed": 0.0, "true": 1.0, "false": 0.0,
                "detected": 1.0, "clear": 0.0}
MAX_TEXT = 255
MAX_EVENTS_PER_REQUEST = 10_000


class LabelEventError(ValueError):
    """An event that is not a label event (with the reason)."""


@dataclass(frozen=True, slots=True)
class LabelEvent:
    t: float
    source: str
    kind: str
    value: float
    entity_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t": self.t, "source": self.source, "kind": self.kind, "value": self.value}
        if self.entity_id is not None:
            out["entity_id"] = self.entity_id
        return out

    @property
    def is_binary(self) -> bool:
        return self.kind in BINARY_KINDS


def _text(value: Any, field: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise LabelEventError(f"{field} must be a non-empty string of at most {MAX_TEXT} characters")
    return value


def _finite(raw: Any) -> float | None:
    """``raw`` as a finite float; None for anything else (text, bools, NaN, integers past a float's range)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        value = float(raw)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _value(kind: str, raw: Any) -> float:
    if kind in BINARY_KINDS:
        if isinstance(raw, bool):
            return float(raw)
        if isinstance(raw, str) and raw.lower() in BINARY_WORDS:
            return BINARY_WORDS[raw.lower()]
        if isinstance(raw, int | float) and raw in (0, 1):
            return float(raw)
        raise LabelEventError(f"a {kind} value must be 0/1, true/false or \"on\"/\"off\", not {raw!r}")
    value = _finite(raw)
    if value is None:
        raise LabelEventError(f"a {kind} value must be a finite number, not {raw!r}")
    low, high = VALUE_RANGE[kind]
    if not low <= value <= high:
        raise LabelEventError(f"a {kind} value must lie in {low:g}..{high:g}, not {raw!r}")
    return value


def event_from_dict(obj: Any) -> LabelEvent:
    """The event of one JSON object; :class:`LabelEventError` says what is wrong with it."""
    if not isinstance(obj, dict):
        raise LabelEventError("an event must be a JSON object")
    unknown = set(obj) - {"t", "source", "kind", "value", "entity_id"}
    if unknown:
        raise LabelEventError(f"unknown field(s) {', '.join(sorted(unknown))}")
    t = _finite(obj.get("t"))
    if t is None or t < 0:
        raise LabelEventError("t must be a non-negative finite number of seconds")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise LabelEventError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if "value" not in obj:
        raise LabelEventError("value is missing")
    return LabelEvent(t, _text(obj.get("source"), "source"), kind, _value(kind, obj["value"]),
                      _text(obj.get("entity_id"), "entity_id", optional=True))


def parse_events(items: Any,
                 window: tuple[float, float] | None = None) -> tuple[list[LabelEvent], list[dict[str, Any]]]:
    """Valid events of a JSON list and, per invalid one, ``{"index", "error"}``; with ``window``
    (first, last), an event stamped outside it is invalid too."""
    if not isinstance(items, list):
        raise LabelEventError("events must be a JSON list")
    if len(items) > MAX_EVENTS_PER_REQUEST:
        raise LabelEventError(f"at most {MAX_EVENTS_PER_REQUEST} events at once")
    events, errors = [], []
    for index, item in enumerate(items):
        try:
            event = event_from_dict(item)
            if window is not None and not window[0] <= event.t <= window[1]:
                raise LabelEventError(f"t = {event.t:.6g} lies outside {window[0]:.0f}..{window[1]:.0f} (seconds "
                                      "since the epoch on the add-on's clock; milliseconds or another clock?)")
            events.append(event)
        except LabelEventError as error:
            errors.append({"index": index, "error": str(error)})
    return events, errors


def event_line(event: LabelEvent) -> str:
    return json.dumps(event.to_dict(), sort_keys=True, separators=(",", ":"))


def append_events(path: str | Path, events: Iterable[LabelEvent]) -> int:
    """Append events to a JSONL file durably, one line each, in one write and fsync; returns how many.

    A crash can still only tear the last line, which :func:`read_events` skips."""
    lines = [event_line(event) for event in events]
    if lines:
        append_line(path, "\n".join(lines))
    return len(lines)


def compact_events(path: str | Path, max_bytes: int, keep_seconds: float, now: float | None = None) -> int:
    """Once ``path`` is over ``max_bytes``, rewrite it (atomically) with only the events of its
    last ``keep_seconds`` and at most half of ``max_bytes``, newest kept; returns how many went.

    Learning uses the events next to the CSI windows it still has (hours), so old ones only fill
    the card; unreadable lines go too (they were already skipped on every read). With ``now`` (the
    clock the events were stamped on), the age is counted from it, never from a newer event:
    one event stamped far ahead (milliseconds sent as seconds) must not make every other one
    "old"; events stamped after ``now`` are kept (a reading is not invalid for being recent).
    """
    path = Path(path)
    if not path.exists() or path.stat().st_size <= max_bytes:
        return 0
    events = read_events(path)
    newest = max((e.t for e in events), default=0.0)
    recent = [e for e in events if e.t >= min(newest, math.inf if now is None else now) - keep_seconds]
    size, keep = 0, len(recent)
    while keep > 0 and size + len(event_line(recent[keep - 1])) + 1 <= max_bytes // 2:
        keep -= 1
        size += len(event_line(recent[keep])) + 1
    write_events(path, recent[keep:])
    return len(events) - (len(recent) - keep)


def write_events(path: str | Path, events: Iterable[LabelEvent]) -> None:
    """Replace a JSONL file with ``events`` atomically."""
    atomic_write_bytes(path, "".join(event_line(e) + "\n" for e in events).encode())


def read_events(path: str | Path, malformed: Counter[str] | None = None) -> list[LabelEvent]:
    """Events of a JSONL file in time order; bad lines are counted in ``malformed`` and skipped
    (a torn last line after a crash is the usual one)."""
    malformed = Counter() if malformed is None else malformed
    events = []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except json.JSONDecodeError:
                malformed["not_json"] += 1
            except LabelEventError:
                malformed["invalid_event"] += 1
    return sorted(events, key=lambda e: e.t)


def summarize(events: Iterable[LabelEvent]) -> dict[str, Any]:
    """Counts per kind and per source, and the time span covered."""
    events = list(events)
    return {
        "events": len(events),
        "kinds": dict(sorted(Counter(e.kind for e in events).items())),
        "sources": dict(sorted(Counter(e.source for e in events).items())),
        "first_t": min((e.t for e in events), default=None),
        "last_t": max((e.t for e in events), default=None),
    }
