"""What a pushed message writes: the entities of the room it is about, and only those whose
state changed (the add-on pushes every room about once a second, mostly unchanged)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from typing import Any

from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback

from ruview_core.service.registry import RoomRegistry

from ._addon import Addon, enroll_offline
from .conftest import hub_entry, room_subentry, set_up
from .test_entities import until


async def test_a_message_writes_only_its_rooms_changed_entities(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    registry = RoomRegistry(addon.data_dir)
    registry.create({"room_id": "attic", "name": "Attic", "nodes": [9]})
    registry.create({"room_id": "hall", "name": "Hall", "nodes": [10]})
    await addon.start()
    await set_up(hass, hub_entry(addon, room_subentry("den", "Den"), room_subentry("attic", "Attic", (9,)),
                                 room_subentry("hall", "Hall", (10,))))
    changed: Counter[str] = Counter()
    reported: Counter[str] = Counter()

    @callback
    def ours(event_data: Mapping[str, Any]) -> bool:
        return str(event_data["entity_id"]).split(".")[1].startswith(("den_", "attic_", "hall_"))

    @callback
    def count(event: Event) -> None:
        (changed if event.event_type == EVENT_STATE_CHANGED else reported)[event.data["entity_id"]] += 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, count, event_filter=ours)
    hass.bus.async_listen(EVENT_STATE_REPORTED, count, event_filter=ours)  # written, but unchanged

    await asyncio.sleep(2.5)  # the add-on pushes each room's unchanged state every second
    assert not changed and not reported

    addon.play("sit")  # den's nodes: its readings change with every hop
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    await asyncio.sleep(2.0)
    assert changed["binary_sensor.den_presence"] >= 1
    assert not [entity_id for entity_id in changed if not entity_id.split(".")[1].startswith("den_")]
    assert not reported  # nothing written that did not change
