"""RuView: camera-free room sensing from ESP32 WiFi CSI, through the RuView add-on."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .api import RuViewClient, RuViewError, RuViewNotFoundError
from .const import CONF_AREA_ID, CONF_ROOM_ID, CONF_TOKEN, DOMAIN, LOGGER, SUBENTRY_ROOM
from .coordinator import RuViewConfigEntry, RuViewCoordinator, RuViewRuntimeData
from .entity import hub_device, room_device
from .labels import LabelStreamer, label_sensors
from .repairs import async_delete_room_issues
from .services import async_setup_services

PLATFORMS = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    async_setup_services(hass)
    return True


def _client(hass: HomeAssistant, entry: RuViewConfigEntry) -> RuViewClient:
    return RuViewClient(async_get_clientsession(hass), entry.data[CONF_HOST], int(entry.data[CONF_PORT]),
                        entry.data[CONF_TOKEN])


async def async_setup_entry(hass: HomeAssistant, entry: RuViewConfigEntry) -> bool:
    client = _client(hass, entry)
    try:
        health = await client.health()
    except RuViewError as error:
        raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="cannot_connect",
                                  translation_placeholders={"error": str(error)}) from error
    coordinator = RuViewCoordinator(hass, entry, client)
    labels = LabelStreamer(hass, client)
    entry.runtime_data = RuViewRuntimeData(client, coordinator, health, rooms=_rooms(entry), labels=labels)
    await coordinator.async_config_entry_first_refresh()
    _register_devices(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    coordinator.async_start_listening()
    labels.async_track(label_sensors(entry.subentries))
    entry.async_on_unload(labels.async_shutdown)
    entry.async_on_unload(entry.add_update_listener(_async_entry_updated))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: RuViewConfigEntry) -> bool:
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: RuViewConfigEntry) -> None:
    """Clear the rooms' repairs, and hand the rooms back to the add-on's MQTT discovery (which
    steps aside for good once the integration has connected)."""
    for room_id in _rooms(entry):
        async_delete_room_issues(hass, entry.entry_id, room_id, attention=True)
    try:
        await _client(hass, entry).release_integration()
    except RuViewError as error:
        LOGGER.warning("RuView: could not tell the add-on that the integration is removed, so its MQTT discovery "
                       "stays off (delete the file 'integration' in the add-on's data folder to turn it on): %s", error)


async def async_remove_config_entry_device(hass: HomeAssistant, entry: RuViewConfigEntry,
                                           device: dr.DeviceEntry) -> bool:
    """A node device may go once the node is offline (it comes back when it sends again); while the
    add-on is not connected no node is known to send, so any node device may go."""
    prefix = f"{entry.unique_id}_node_"
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier.startswith(prefix):
            if entry.state is not ConfigEntryState.LOADED:
                return True
            return not entry.runtime_data.coordinator.data.nodes.get(int(identifier.removeprefix(prefix)), False)
    return False


async def _async_entry_updated(hass: HomeAssistant, entry: RuViewConfigEntry) -> None:
    """A room added, renamed or removed: reload (a removed room leaves the add-on too); other sensors
    picked for a room: listen to those. The flows that change the address or token reload the entry
    themselves."""
    rooms = _rooms(entry)
    if rooms == entry.runtime_data.rooms:
        sensors = label_sensors(entry.subentries)
        if sensors != entry.runtime_data.labels.sensors:
            await entry.runtime_data.labels.async_flush()  # what the old picks said still counts
            entry.runtime_data.labels.async_track(sensors)
        return
    for room_id in entry.runtime_data.rooms.keys() - rooms.keys():
        try:
            await entry.runtime_data.client.delete_room(room_id)
        except RuViewNotFoundError:
            pass
        except RuViewError as error:
            LOGGER.warning("RuView: could not remove room %s from the add-on: %s", room_id, error)
        async_delete_room_issues(hass, entry.entry_id, room_id, attention=True)
    hass.config_entries.async_schedule_reload(entry.entry_id)


def _rooms(entry: RuViewConfigEntry) -> dict[str, str]:
    return {str(s.data[CONF_ROOM_ID]): s.title for s in entry.subentries.values() if s.subentry_type == SUBENTRY_ROOM}


def _register_devices(hass: HomeAssistant, entry: RuViewConfigEntry) -> None:
    """The hub, and each room in the area chosen for it (unless the user has moved it since)."""
    devices = dr.async_get(hass)
    devices.async_get_or_create(config_entry_id=entry.entry_id, **hub_device(entry))
    areas = ar.async_get(hass)
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_ROOM:
            continue
        device = devices.async_get_or_create(config_entry_id=entry.entry_id,
                                             config_subentry_id=subentry.subentry_id, **room_device(entry, subentry))
        area_id = subentry.data.get(CONF_AREA_ID)
        if area_id and device.area_id is None and areas.async_get_area(area_id) is not None:
            devices.async_update_device(device.id, area_id=area_id)
