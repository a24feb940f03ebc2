"""A room's own sensors as weak labels: picked in the room's reconfigure flow, their state changes
streamed to the real add-on in batches (stored in its ``rooms/ROOM/labels.jsonl``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from custom_components.ruview.const import CONF_LABEL_SENSORS, LABEL_BATCH_SECONDS, LABEL_MAX_PENDING
from ruview_core.service.registry import RoomRegistry
from ruview_core.supervision.events import LabelEvent, read_events

from ._addon import Addon
from .conftest import hub_entry, rendered, room_subentry, set_up
from .test_room_flow import subentry_id

MOTION, DOOR, SHAKE = "binary_sensor.hall_pir", "binary_sensor.hall_door", "binary_sensor.hall_floor"
TEMPERATURE, HUMIDITY = "sensor.hall_temperature", "sensor.hall_humidity"
PICKS = {"pir": [MOTION], "reed": [DOOR], "vibration": [SHAKE], "temperature": [TEMPERATURE],
         "humidity": [HUMIDITY]}


def stored(addon: Addon, room: str = "den") -> list[LabelEvent]:
    path = addon.data_dir / "rooms" / room / "labels.jsonl"
    return read_events(path) if path.exists() else []


async def next_batch(hass: HomeAssistant) -> None:
    await hass.async_block_till_done()  # the state changes reach the listener first
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=LABEL_BATCH_SECONDS + 1))
    await hass.async_block_till_done()


def sensors_present(hass: HomeAssistant) -> None:
    hass.states.async_set(MOTION, "off", {"device_class": "motion"})
    hass.states.async_set(DOOR, STATE_UNAVAILABLE, {"device_class": "door"})
    hass.states.async_set(SHAKE, "off", {"device_class": "vibration"})
    hass.states.async_set(TEMPERATURE, "69.8", {"device_class": "temperature", "unit_of_measurement": "°F"})
    hass.states.async_set(HUMIDITY, STATE_UNKNOWN, {"device_class": "humidity", "unit_of_measurement": "%"})


async def test_sensors_picked_in_the_room_flow_stream_their_changes_to_the_addon(hass: HomeAssistant,
                                                                                addon: Addon) -> None:
    RoomRegistry(addon.data_dir).create({"room_id": "den", "name": "Den", "nodes": [1, 2]})
    await addon.start()
    sensors_present(hass)
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    await next_batch(hass)
    assert stored(addon) == []  # nothing picked yet: nothing listened to

    configure = hass.config_entries.subentries.async_configure
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    result = await configure(result["flow_id"], {"target": "sensors"})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "sensors"
    assert result["description_placeholders"] == {"room": "Den"}
    result = await configure(result["flow_id"], PICKS)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "sensors_saved"
    assert result["description_placeholders"]["count"] == "5"
    one = {**result["description_placeholders"], "count": "1"}
    assert await rendered(hass, "config_subentries", "room.abort.sensors_saved", one) == \
        "Sensors of Den that teach RuView now: 1."
    subentry = entry.subentries[subentry_id(entry, "den")]
    assert subentry.data[CONF_LABEL_SENSORS] == PICKS and subentry.data["nodes"] == [1, 2]
    await hass.async_block_till_done()

    # The form shows the current picks when opened again.
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    result = await configure(result["flow_id"], {"target": "sensors"})
    suggested = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert suggested == PICKS
    hass.config_entries.subentries.async_abort(result["flow_id"])

    hass.states.async_set(MOTION, "on", {"device_class": "motion"})
    hass.states.async_set(MOTION, "on", {"device_class": "motion", "friendly_name": "Den motion"})  # attributes only
    hass.states.async_set(DOOR, "on", {"device_class": "door"})
    hass.states.async_set(DOOR, STATE_UNKNOWN, {"device_class": "door"})
    hass.states.async_set(HUMIDITY, "47", {"device_class": "humidity", "unit_of_measurement": "%"})
    hass.states.async_set(HUMIDITY, "4700", {"device_class": "humidity", "unit_of_measurement": "%"})  # broken
    hass.states.async_set(TEMPERATURE, "warm", {"device_class": "temperature", "unit_of_measurement": "°C"})
    await hass.async_block_till_done()
    assert stored(addon) == []  # batched, not one request per change
    await next_batch(hass)

    events = stored(addon)
    assert all(e.source == "home_assistant" for e in events)
    # The first batch: the current state of each sensor that has one, then the changes.
    assert [(e.entity_id, e.kind, e.value) for e in events] == [
        (MOTION, "pir", 0.0), (SHAKE, "vibration", 0.0), (TEMPERATURE, "temperature", pytest.approx(21.0)),
        (MOTION, "pir", 1.0), (DOOR, "reed", 1.0), (HUMIDITY, "humidity", 47.0)]
    motion_on = hass.states.get(MOTION)
    assert motion_on is not None and events[3].t == pytest.approx(motion_on.last_changed.timestamp())
    stats = await entry.runtime_data.client.label_stats("den")
    assert stats["events"] == 6 and stats["kinds"]["pir"] == 2 and stats["sources"] == {"home_assistant": 6}

    # Fewer picks: the dropped sensor is no longer listened to.
    hass.config_entries.async_update_subentry(entry, subentry, data={**subentry.data,
                                                                     CONF_LABEL_SENSORS: {"pir": [MOTION]}})
    await hass.async_block_till_done()
    hass.states.async_set(SHAKE, "on", {"device_class": "vibration"})
    hass.states.async_set(MOTION, "off", {"device_class": "motion"})
    await next_batch(hass)
    late = stored(addon)[6:]
    assert [(e.entity_id, e.value) for e in late] == [(MOTION, 1.0), (MOTION, 0.0)]  # re-sent state, then change

    # Unloading sends what is pending, then listens no more.
    hass.states.async_set(MOTION, "on", {"device_class": "motion"})
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    hass.states.async_set(MOTION, "off", {"device_class": "motion"})
    await next_batch(hass)
    assert [e.value for e in stored(addon)[8:]] == [1.0]


async def test_events_wait_for_the_addon_and_a_refusal_is_logged(hass: HomeAssistant, addon: Addon,
                                                                 caplog: Any) -> None:
    RoomRegistry(addon.data_dir).create({"room_id": "den", "name": "Den", "nodes": [1, 2]})
    await addon.start()
    sensors_present(hass)
    den = room_subentry("den", "Den")
    den = type(den)(**{**den, "data": {**den["data"], CONF_LABEL_SENSORS: {"pir": [MOTION]}}})
    gone = room_subentry("attic", "Attic", nodes=(9,))  # never made in the add-on
    gone = type(gone)(**{**gone, "data": {**gone["data"], CONF_LABEL_SENSORS: {"reed": [DOOR]}}})
    entry = await set_up(hass, hub_entry(addon, den, gone))
    streamer = entry.runtime_data.labels

    await addon.stop()
    for _ in range(3):
        hass.states.async_set(MOTION, "on", {"device_class": "motion"})
        hass.states.async_set(MOTION, "off", {"device_class": "motion"})
    await next_batch(hass)
    assert len(streamer.pending["den"]) == 7 and stored(addon) == []  # kept for later

    streamer.pending["den"] += streamer.pending["den"][-1:] * LABEL_MAX_PENDING  # a long absence
    await next_batch(hass)
    assert len(streamer.pending["den"]) == LABEL_MAX_PENDING and streamer.dropped == 7
    hass.states.async_set(MOTION, "on", {"device_class": "motion"})
    await hass.async_block_till_done()
    assert len(streamer.pending["den"]) == LABEL_MAX_PENDING and streamer.dropped == 8
    assert streamer.pending["den"][-1]["value"] == 1.0  # the newest is kept, the oldest went

    await addon.start()
    hass.states.async_set(DOOR, "on", {"device_class": "door"})
    await next_batch(hass)
    assert not streamer.pending.get("den") and len(stored(addon)) == LABEL_MAX_PENDING  # in several requests
    assert not streamer.pending.get("attic")
    assert "refused 1 label events for room attic" in caplog.text
