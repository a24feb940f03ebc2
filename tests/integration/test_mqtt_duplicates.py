"""No room appears twice: a real Home Assistant with its MQTT integration on a real Mosquitto, and
the real add-on publishing its rooms by MQTT discovery. Before the integration connects the rooms
are MQTT entities; once it has connected they are the integration's alone, through an integration
reload (and a Home Assistant restart, which the add-on sees the same way: its WebSocket drops);
removing the integration hands them back to MQTT."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant

from ruview_core.service.mqtt import MqttSettings

from ..engine._mosquitto import start_mosquitto, stop_mosquitto
from ._addon import Addon, enroll_offline, wait_for
from .conftest import hub_entry, room_subentry, set_up


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    process, port = start_mosquitto(tmp_path)
    yield port
    stop_mosquitto(process)


def through_mqtt(hass: HomeAssistant) -> list[str]:
    """The room's entities that came by MQTT discovery (``*.ruview_den_*``; the integration's are ``*.den_*``)."""
    return [entity_id for entity_id in hass.states.async_entity_ids() if entity_id.split(".")[1].startswith("ruview_den_")]


async def test_a_room_never_appears_twice(hass: HomeAssistant, addon: Addon, broker: int,
                                          mock_hass_config_yaml: None) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    addon.overrides["mqtt"] = MqttSettings("127.0.0.1", broker, client_id="ruview-addon")
    await addon.start()
    mqtt = MockConfigEntry(domain="mqtt", data={"broker": "127.0.0.1", "port": broker})
    mqtt.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mqtt.entry_id)
    await wait_for(lambda: "binary_sensor.ruview_den_presence" in through_mqtt(hass), 20, "the room by MQTT")

    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    assert hass.states.get("binary_sensor.den_presence") is not None
    await wait_for(lambda: not through_mqtt(hass), 20, "the MQTT entities to step aside")

    for _ in range(2):  # reloading the integration (its WebSocket drops for a while each time)
        assert await hass.config_entries.async_unload(entry.entry_id)
        await asyncio.sleep(3.0)  # the add-on ticks every second: time enough to publish discovery again
        await hass.async_block_till_done()
        assert not through_mqtt(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    await addon.stop()  # a restarted add-on remembers that the integration serves the rooms
    await addon.start()
    await asyncio.sleep(3.0)
    await hass.async_block_till_done()
    assert not through_mqtt(hass)

    assert (await hass.config_entries.async_remove(entry.entry_id))["require_restart"] is False
    await wait_for(lambda: "binary_sensor.ruview_den_presence" in through_mqtt(hass), 20, "the room by MQTT again")
    assert await hass.config_entries.async_unload(mqtt.entry_id)
    await hass.async_block_till_done()
