"""The room's entities as Home Assistant holds them and as its device page shows them."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page

from .ha_ui import Strings
from .hass_instance import HassInstance


def entity_name(strings: Strings, platform: str, key: str) -> str:
    return strings.get("entity", platform, key, "name")


def entity_state(strings: Strings, platform: str, key: str, state: str) -> str:
    return strings.get("entity", platform, key, "state", state)


def room_states(hass: HassInstance, room: str, names: dict[str, str]) -> dict[str, dict]:
    """The room's entities' states from Home Assistant's API, by key, found by their friendly names."""
    by_name = {state["attributes"].get("friendly_name"): state for state in hass.states()}
    return {key: by_name.get(f"{room} {name}") or {} for key, name in names.items()}


def shown_state(strings: Strings, key: str, state: dict) -> str | re.Pattern[str]:
    """What the device page shows for an entity's state, as a person reads it."""
    value = state.get("state")
    if value in (None, "unknown"):
        return "Unknown"
    if key == "presence":
        return {"on": "Detected", "off": "Clear"}.get(value, value)
    if key == "breathing":
        return re.compile(rf"^{re.escape(value)}\s*br/min$")
    platform_key = {"posture": "posture", "calibration": "calibration_status"}[key]
    return entity_state(strings, "sensor", platform_key, value)


def page_shows_states(page: Page, strings: Strings, hass: HassInstance, room: str, names: dict[str, str],
                      timeout_s: float = 15.0) -> None:
    """The device page shows each entity as Home Assistant holds it (read again while it changes)."""
    deadline = time.monotonic() + timeout_s
    for key, name in names.items():
        row = page.locator("hui-generic-entity-row").filter(has_text=name).first
        while True:
            state = room_states(hass, room, {key: name})[key]
            if row.get_by_text(shown_state(strings, key, state)).count():
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"the device page does not show {name} as {state.get('state')!r}")
            time.sleep(0.5)
