"""The room's device page held against the add-on's own API at the same instant.

The page is read between two reads of the add-on's ``GET /rooms/{room}/state``; when both say the
same, that is what the add-on reported while the page was read, and each row must show it: the
value, or ``Unknown`` wherever the add-on says null (and for what describes a person, whenever it
does not say someone is there, or the room is stale or vetoed). The page lags the add-on by a push,
so an instant whose rows differ is read again, until one matches or the time is up.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page

from ruview_core.specialists.anomaly import VETO

from .browser import deep_texts
from .ha_ui import Strings
from .hass_instance import HassInstance
from .processes import RuViewServe

UNKNOWN = "Unknown"
PERSON_READINGS = ("posture", "breathing_bpm", "restlessness")
POLL_S = 0.25
# How far a shown number may be from the add-on's: the entity keeps one decimal, the frontend rounds
# that to the entity's display precision (breathing 1 decimal, restlessness whole percent).
SHOWN_WITHIN = {"breathing_bpm": 0.051, "restlessness": 0.51}


@dataclass(frozen=True)
class Row:
    """One reading of the add-on and the device page's row that shows it."""

    reading: str  # the add-on's name for it (``status``: the room's calibration status)
    platform: str
    key: str  # the entity's translation key
    on_off: tuple[str, str] = ("", "")  # how a binary sensor's device class says true / false


ROWS = (
    Row("presence", "binary_sensor", "presence", ("Detected", "Clear")),
    Row("motion", "binary_sensor", "motion", ("Detected", "Clear")),
    Row("anomaly", "binary_sensor", "anomaly", ("Problem", "OK")),
    Row("posture", "sensor", "posture"),
    Row("breathing_bpm", "sensor", "breathing_rate"),
    Row("restlessness", "sensor", "restlessness"),
    Row("status", "sensor", "calibration_status"),
)


def entity_name(strings: Strings, platform: str, key: str) -> str:
    return strings.get("entity", platform, key, "name")


def room_states(hass: HassInstance, room: str, names: dict[str, str]) -> dict[str, dict]:
    """The room's entities' states from Home Assistant's API, by key, found by their friendly names."""
    by_name = {state["attributes"].get("friendly_name"): state for state in hass.states()}
    return {key: by_name.get(f"{room} {name}") or {} for key, name in names.items()}


def add_on_value(message: dict[str, Any], reading: str) -> Any:
    """What a person may be shown of ``reading`` in the add-on's state message (None: unknown)."""
    if reading == "status":
        return message.get("status")
    state = message.get("state")
    if not state:
        return None
    if reading != "anomaly" and (state.get("stale") or state.get("vetoed")):
        return None
    if reading in PERSON_READINGS and (state.get("presence") or {}).get("value") is not True:
        return None
    value = (state.get(reading) or {}).get("value")
    if reading == "anomaly" and value is not None:
        return float(value) >= VETO  # a score: a problem from the add-on's veto on
    return value


def expected_text(strings: Strings, row: Row, value: Any) -> str | float:
    """The row's text for ``value``: a word, or a number (compared to what the page prints)."""
    if value is None:
        return UNKNOWN
    if row.platform == "binary_sensor":
        return row.on_off[0] if value else row.on_off[1]
    if row.reading == "breathing_bpm":
        return round(float(value), 1)
    if row.reading == "restlessness":
        return round(100.0 * float(value), 1)
    return strings.get("entity", "sensor", row.key, "state", str(value))


def shows(reading: str, shown: str, expected: str | float) -> bool:
    if isinstance(expected, str):
        return shown == expected
    number = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*\S*", shown)
    return number is not None and abs(float(number.group(1)) - expected) <= SHOWN_WITHIN[reading]


@dataclass
class Instant:
    """The add-on's state message and the device page's rows read between two equal copies of it."""

    message: dict[str, Any]
    shown: dict[str, str]  # reading -> the row's state text
    expected: dict[str, str | float]

    @property
    def t(self) -> float | None:
        """The add-on's time of the state (None when it had none)."""
        return (self.message.get("state") or {}).get("t")

    def value(self, reading: str) -> Any:
        return add_on_value(self.message, reading)

    def differences(self) -> list[str]:
        return [f"{reading}: page {self.shown.get(reading)!r}, add-on {expected!r}"
                for reading, expected in self.expected.items()
                if reading not in self.shown or not shows(reading, self.shown[reading], expected)]

    def describe(self) -> str:
        return ", ".join(f"{reading} {text}" for reading, text in self.shown.items())


class DevicePage:
    """The room's device page (open in ``page``) and the add-on the integration reads."""

    def __init__(self, page: Page, strings: Strings, service: RuViewServe, room_id: str) -> None:
        self.page, self.strings, self.service, self.room_id = page, strings, service, room_id
        self.names = {row.reading: entity_name(strings, row.platform, row.key) for row in ROWS}

    def add_on_message(self) -> dict[str, Any]:
        status, message = self.service.request("GET", f"/rooms/{self.room_id}/state")
        assert status == 200, f"GET /rooms/{self.room_id}/state: HTTP {status} {message}"
        return message

    def rows(self) -> dict[str, str]:
        """Each reading's row as the page shows it now: the text after the entity's name."""
        shown = {}
        for pieces in deep_texts(self.page, "hui-generic-entity-row"):
            for reading, name in self.names.items():
                if pieces and pieces[0] == name:
                    shown[reading] = " ".join(pieces[1:])
        return shown

    def instant(self) -> Instant | None:
        """The page read while the add-on's state stood still; None when it moved meanwhile."""
        before = self.add_on_message()
        shown = self.rows()
        if self.add_on_message() != before:
            return None
        expected = {row.reading: expected_text(self.strings, row, add_on_value(before, row.reading)) for row in ROWS}
        return Instant(before, shown, expected)

    def wait_for_match(self, timeout_s: float, wanted: Callable[[Instant], bool] = lambda _: True,
                       what: str = "") -> Instant:
        """The first instant the page shows exactly what the add-on reports and ``wanted`` holds.

        Fails after ``timeout_s`` saying how the page and the add-on last differed, or what the
        add-on last reported when it never reached ``what``.
        """
        deadline = time.monotonic() + timeout_s
        last: Instant | None = None
        while True:
            instant = self.instant()
            if instant is not None:
                last = instant
                if not instant.differences() and wanted(instant):
                    return instant
            if time.monotonic() > deadline:
                if last is None:
                    raise AssertionError(f"the add-on's state never stood still for a read in {timeout_s:.0f} s")
                if last.differences():
                    raise AssertionError(f"the device page does not show what the add-on reports after "
                                         f"{timeout_s:.0f} s: {'; '.join(last.differences())}")
                raise AssertionError(f"the add-on did not report {what} within {timeout_s:.0f} s; "
                                     f"it last reported {last.message}")
            time.sleep(POLL_S)
