"""Devices and the base entity: the add-on is the hub, each room and each node a device under it."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import RoomState, RoomStateMessage
from .const import ANOMALY_VETO, CONF_ROOM_ID, DOMAIN
from .coordinator import RuViewConfigEntry, RuViewCoordinator

MANUFACTURER = "RuView"
PERSON_READINGS = ("posture", "breathing_bpm", "heart_bpm", "restlessness", "zone")


def hub_device(entry: RuViewConfigEntry) -> DeviceInfo:
    return DeviceInfo(identifiers={(DOMAIN, str(entry.unique_id))}, name="RuView add-on",
                      manufacturer=MANUFACTURER, model="Add-on",
                      sw_version=entry.runtime_data.health.get("version"))


def room_device(entry: RuViewConfigEntry, subentry: ConfigSubentry) -> DeviceInfo:
    return DeviceInfo(identifiers={(DOMAIN, f"{entry.unique_id}_{subentry.data[CONF_ROOM_ID]}")},
                      name=subentry.title, manufacturer=MANUFACTURER, model="Room",
                      via_device=(DOMAIN, str(entry.unique_id)))


def node_device(entry: RuViewConfigEntry, node_id: int) -> DeviceInfo:
    return DeviceInfo(identifiers={(DOMAIN, f"{entry.unique_id}_node_{node_id}")},
                      name=f"RuView node {node_id}", manufacturer="Espressif", model="ESP32 CSI node",
                      via_device=(DOMAIN, str(entry.unique_id)))


def reading(message: RoomStateMessage, name: str) -> Any:
    """A reading's value, or None (``unknown``) whenever it must not be shown.

    No state (offline, or nothing fresh), a STALE bank, an anomaly veto, and, for what describes
    a person, an empty room: each gives ``unknown``, never the last number. The add-on applies the
    same rules; they are applied again here so an entity can never show more than it should.
    """
    state = _readings(message["state"])
    if state is None:
        return None
    if name != "anomaly" and (state.get("stale") or state.get("vetoed")):
        return None
    if name in PERSON_READINGS and (state.get("presence") or {}).get("value") is not True:
        return None
    return (state.get(name) or {}).get("value")


def anomaly(message: RoomStateMessage) -> bool | None:
    score = reading(message, "anomaly")
    return None if score is None else float(score) >= ANOMALY_VETO


def confidence(message: RoomStateMessage, name: str) -> float | None:
    state = _readings(message["state"])
    if state is None or not isinstance(state.get(name), dict):
        return None
    return round(100.0 * float(state[name].get("confidence") or 0.0), 1)


def _readings(state: RoomState | None) -> dict[str, Any] | None:
    return cast(dict[str, Any] | None, state)


class RuViewEntity(CoordinatorEntity[RuViewCoordinator]):
    """Writes its state only when what it shows changed: the add-on pushes every room about once a
    second, mostly saying what it said before."""

    _attr_has_entity_name = True
    _shown: tuple[bool, Any] | None = None

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self._shown = self._showing()  # what Home Assistant writes once the entity is added

    def _showing(self) -> tuple[bool, Any]:
        return self.available, self.state

    @callback
    def _handle_coordinator_update(self) -> None:
        shown = self._showing()
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()


class RuViewRoomEntity(RuViewEntity):
    """An entity of one room; unavailable while the add-on or all of the room's nodes are away."""

    needs_nodes = True  # False: the entity describes the room's calibration, not what its nodes see

    def __init__(self, coordinator: RuViewCoordinator, subentry: ConfigSubentry,
                 description: EntityDescription) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.entity_description = description
        self.room_id: str = subentry.data[CONF_ROOM_ID]
        self._attr_unique_id = f"{entry.unique_id}_{self.room_id}_{description.key}"
        self._attr_device_info = room_device(entry, subentry)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_room_listener(self.room_id, self._handle_coordinator_update))

    @property
    def message(self) -> RoomStateMessage | None:
        return self.coordinator.room(self.room_id)

    @property
    def available(self) -> bool:
        message = self.message
        return super().available and message is not None and (message["online"] or not self.needs_nodes)
