"""Diagnostics: the entry (token redacted), the add-on's health, rooms and nodes, and the pushed picture."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .api import RuViewError
from .const import CONF_TOKEN
from .coordinator import RuViewConfigEntry

TO_REDACT = {CONF_TOKEN}


async def async_get_config_entry_diagnostics(hass: HomeAssistant, entry: RuViewConfigEntry) -> dict[str, Any]:
    runtime = entry.runtime_data
    try:
        rooms: Any = await runtime.client.rooms()
        nodes: Any = await runtime.client.nodes()
    except RuViewError as error:
        rooms = nodes = f"unavailable: {error}"
    coordinator = runtime.coordinator
    return {
        "entry": async_redact_data(entry.as_dict(), TO_REDACT),
        "health": dict(runtime.health),
        "connected": coordinator.last_update_success,
        "rooms": rooms,
        "nodes": nodes,
        "pushed": asdict(coordinator.data) if coordinator.data is not None else None,
    }
