"""Entities driven by the real add-on and the simulator over UDP (nothing mocked): presence and
readings, an empty room, nodes going silent, an anomaly veto, the add-on restarting, snapshots
and diagnostics."""

from __future__ import annotations

import logging
import time
from unittest.mock import patch

import pytest
from syrupy.assertion import SnapshotAssertion

from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component

from custom_components.ruview import async_remove_config_entry_device
from ruview_core import __version__ as ruview_version
from custom_components.ruview.const import DOMAIN
from custom_components.ruview.diagnostics import async_get_config_entry_diagnostics
from pytest_homeassistant_custom_component.common import snapshot_platform

from ._addon import INSTANCE_ID, TOKEN, Addon, enroll_offline, wait_for
from .conftest import hub_entry, room_subentry, set_up

PERSON = ("sensor.den_posture", "sensor.den_breathing_rate", "sensor.den_heart_rate",
          "sensor.den_restlessness", "sensor.den_zone")


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def until(hass: HomeAssistant, entity_id: str, wanted: str, timeout: float = 40.0) -> None:
    def reached() -> bool:
        current = hass.states.get(entity_id)
        return current is not None and current.state == wanted

    await wait_for(reached, timeout, f"{entity_id} to be {wanted}")


@pytest.fixture
async def den(hass: HomeAssistant, addon: Addon, entity_registry_enabled_by_default: None) -> Addon:
    """A room trained offline (stand still, sit), its add-on started and its entry set up."""
    enroll_offline(addon.data_dir, "den", "Den")
    await addon.start()
    await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    return addon


async def test_presence_readings_and_an_empty_room(hass: HomeAssistant, den: Addon,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    assert state(hass, "binary_sensor.den_presence") == STATE_UNAVAILABLE  # no node has sent anything
    assert state(hass, "sensor.den_calibration_status") == "ready"  # the calibration needs no nodes

    den.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    assert state(hass, "binary_sensor.den_anomaly") == STATE_OFF
    assert state(hass, "binary_sensor.den_motion") in (STATE_ON, STATE_OFF)
    # the add-on gives a breathing rate only once it sees a clear rhythm: a number in range, or unknown
    breathing = state(hass, "sensor.den_breathing_rate")
    assert breathing == STATE_UNKNOWN or 4.0 <= float(breathing) <= 40.0
    assert float(state(hass, "sensor.den_presence_confidence")) > 0
    assert hass.states.get("binary_sensor.ruview_node_1_connectivity").state == STATE_ON

    den.play("empty")
    await until(hass, "binary_sensor.den_presence", STATE_OFF)
    assert [state(hass, entity_id) for entity_id in PERSON] == [STATE_UNKNOWN] * len(PERSON)  # never the last number

    caplog.clear()
    den.stop_simulator()
    await until(hass, "binary_sensor.den_presence", STATE_UNAVAILABLE, timeout=15)
    assert state(hass, "sensor.den_breathing_rate") == STATE_UNAVAILABLE
    await until(hass, "binary_sensor.ruview_node_1_connectivity", STATE_OFF, timeout=10)
    assert state(hass, "sensor.den_calibration_status") == "ready"
    lost = [r for r in caplog.records if "room den is unavailable" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING

    den.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    assert sum("room den: its nodes send frames again" in r.getMessage() for r in caplog.records) == 1


async def test_posture_and_zone_show_what_the_addon_says(hass: HomeAssistant, den: Addon) -> None:
    """The add-on's own words, pushed over its WebSocket, reach the entities: a posture and a zone
    when it gives them, unknown once the room goes STALE. (The engine's posture is often unsure
    in the simulator, so the add-on's inference is paused and its state set here.)"""
    den.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    service = den.service
    assert service is not None
    live = service.rooms["den"]
    live.monitor = None  # the nodes keep the room online; the add-on stops inferring
    said = {**(live.latest or {}), "presence": {"value": True, "confidence": 0.9, "label": "present"},
            "posture": {"value": "sitting", "confidence": 0.8, "label": "sitting"},
            "zone": {"value": 2, "confidence": 0.7, "label": "zone 2 of 5 from node 1 to node 2"},
            "stale": False, "vetoed": False}

    def push(room_state: dict) -> None:
        live.latest, live.latest_at = room_state, time.time()
        service.publish_room("den")

    push(said)
    await until(hass, "sensor.den_posture", "sitting", timeout=2.5)
    assert float(state(hass, "sensor.den_zone")) == 2
    assert float(state(hass, "sensor.den_posture_confidence")) == 80.0
    push({**said, "stale": True, "stale_reason": "the room was re-calibrated"})
    await until(hass, "sensor.den_posture", STATE_UNKNOWN, timeout=2.5)
    assert state(hass, "sensor.den_zone") == STATE_UNKNOWN


async def test_an_anomaly_veto_shows_a_problem_and_no_readings(hass: HomeAssistant, den: Addon) -> None:
    den.play("sit", rate_hz=20.0)  # most frames missing: no person can look like this
    await until(hass, "binary_sensor.den_anomaly", STATE_ON)
    assert state(hass, "binary_sensor.den_presence") == STATE_UNKNOWN
    assert state(hass, "binary_sensor.den_motion") == STATE_UNKNOWN
    assert [state(hass, entity_id) for entity_id in PERSON] == [STATE_UNKNOWN] * len(PERSON)


async def test_the_addon_restarting_makes_entities_unavailable_then_back(hass: HomeAssistant, den: Addon,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    den.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    await den.stop()
    await until(hass, "binary_sensor.den_presence", STATE_UNAVAILABLE, timeout=5)
    assert state(hass, "sensor.den_calibration_status") == STATE_UNAVAILABLE
    assert sum("Error requesting ruview data" in r.getMessage() for r in caplog.records) == 1

    await den.start()  # same API port; the integration reconnects on its own
    assert state(hass, "binary_sensor.den_presence") == STATE_UNAVAILABLE
    await until(hass, "sensor.den_calibration_status", "ready", timeout=20)
    den.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)
    assert any("Connected to the RuView add-on again" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.EVENT])
async def test_entities_snapshot(hass: HomeAssistant, addon: Addon, snapshot: SnapshotAssertion,
                                 entity_registry: er.EntityRegistry, platform: Platform,
                                 entity_registry_enabled_by_default: None) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=())
    await addon.start()
    with patch("custom_components.ruview.PLATFORMS", [platform]):
        entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_devices_and_diagnostics(hass: HomeAssistant, den: Addon) -> None:
    den.play("empty")
    await until(hass, "binary_sensor.ruview_node_2_connectivity", STATE_ON)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    devices = dr.async_get(hass)
    hub = devices.async_get_device({(DOMAIN, INSTANCE_ID)})
    room = devices.async_get_device({(DOMAIN, f"{INSTANCE_ID}_den")})
    node = devices.async_get_device({(DOMAIN, f"{INSTANCE_ID}_node_2")})
    assert hub and room and node and room.via_device_id == hub.id and node.via_device_id == hub.id

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    assert TOKEN not in repr(diagnostics)
    assert diagnostics["health"]["instance_id"] == INSTANCE_ID and diagnostics["connected"] is True
    assert [room["room_id"] for room in diagnostics["rooms"]] == ["den"]
    assert {node["node_id"] for node in diagnostics["nodes"]} == {1, 2}
    assert diagnostics["pushed"]["rooms"]["den"]["room"] == "den"

    # a node still sending cannot be removed from the UI, nor can a room (its subentry goes instead)
    assert await async_remove_config_entry_device(hass, entry, node) is False
    assert await async_remove_config_entry_device(hass, entry, room) is False
    den.stop_simulator()
    await until(hass, "binary_sensor.ruview_node_2_connectivity", STATE_OFF, timeout=10)
    assert await async_remove_config_entry_device(hass, entry, node) is True
    await den.stop()
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["rooms"].startswith("unavailable") and diagnostics["connected"] is False


async def test_a_node_device_can_be_deleted_while_the_entry_is_not_loaded(hass: HomeAssistant, den: Addon,
                                                                          hass_ws_client) -> None:
    """Deleting from the device page when the add-on is away (the entry not loaded) removes the
    node's device instead of failing with an error."""
    den.play("empty")
    await until(hass, "binary_sensor.ruview_node_1_connectivity", STATE_ON)
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    devices = dr.async_get(hass)
    node = devices.async_get_device({(DOMAIN, f"{INSTANCE_ID}_node_1")})
    assert node is not None
    await den.stop()
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "config/device_registry/remove_config_entry",
                                    "config_entry_id": entry.entry_id, "device_id": node.id})
    response = await client.receive_json()
    assert response["success"], response
    assert devices.async_get(node.id) is None


async def test_entity_modelling(hass: HomeAssistant, den: Addon, entity_registry: er.EntityRegistry) -> None:
    """Ids without remarks in them, no statistics of an index, the anomaly among the diagnostics,
    units from the translations."""
    heart = entity_registry.async_get("sensor.den_heart_rate")
    assert heart is not None and heart.translation_key == "heart_rate"
    anomaly = entity_registry.async_get("binary_sensor.den_anomaly")
    assert anomaly is not None and anomaly.entity_category is EntityCategory.DIAGNOSTIC
    zone = hass.states.get("sensor.den_zone")
    assert zone is not None and "state_class" not in zone.attributes
    breathing = hass.states.get("sensor.den_breathing_rate")
    assert breathing is not None and breathing.attributes["unit_of_measurement"] == "br/min"
    assert breathing.attributes["state_class"] == "measurement"
    assert hass.states.get("sensor.den_heart_rate").attributes["unit_of_measurement"] == "bpm"


async def test_the_addon_device_follows_the_addons_version(hass: HomeAssistant, den: Addon) -> None:
    devices = dr.async_get(hass)
    hub = devices.async_get_device({(DOMAIN, INSTANCE_ID)})
    assert hub is not None and hub.sw_version == ruview_version
    await den.stop()
    with patch("ruview_core.service.http.__version__", "9.9.9"):  # the add-on updated while it was down
        await den.start()
        await wait_for(lambda: devices.async_get(hub.id).sw_version == "9.9.9", 20, "the new version")
