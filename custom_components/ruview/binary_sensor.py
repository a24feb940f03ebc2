"""Presence, motion and anomaly of each room; whether each node sends frames."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import RoomStateMessage
from .const import SUBENTRY_ROOM
from .coordinator import RuViewConfigEntry, RuViewCoordinator
from .entity import RuViewEntity, RuViewRoomEntity, anomaly, node_device, reading

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RuViewBinarySensorDescription(BinarySensorEntityDescription):
    value_fn: Callable[[RoomStateMessage], bool | None]


def _flag(name: str) -> Callable[[RoomStateMessage], bool | None]:
    def value(message: RoomStateMessage) -> bool | None:
        raw = reading(message, name)
        return None if raw is None else bool(raw)
    return value


DESCRIPTIONS: tuple[RuViewBinarySensorDescription, ...] = (
    RuViewBinarySensorDescription(key="presence", translation_key="presence",
                                  device_class=BinarySensorDeviceClass.OCCUPANCY, value_fn=_flag("presence")),
    RuViewBinarySensorDescription(key="motion", translation_key="motion", device_class=BinarySensorDeviceClass.MOTION,
                                  value_fn=_flag("motion")),
    # Says whether the other readings can be trusted: about the sensing, not the room.
    RuViewBinarySensorDescription(key="anomaly", translation_key="anomaly", device_class=BinarySensorDeviceClass.PROBLEM,
                                  entity_category=EntityCategory.DIAGNOSTIC, value_fn=anomaly),
)
NODE_CONNECTIVITY = BinarySensorEntityDescription(key="connectivity", device_class=BinarySensorDeviceClass.CONNECTIVITY,
                                                  entity_category=EntityCategory.DIAGNOSTIC)


async def async_setup_entry(hass: HomeAssistant, entry: RuViewConfigEntry,
                            async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_ROOM:
            async_add_entities([RuViewBinarySensor(coordinator, subentry, description) for description in DESCRIPTIONS],
                               config_subentry_id=subentry.subentry_id)

    @callback
    def add_nodes(node_ids: list[int]) -> None:
        async_add_entities([RuViewNodeConnectivity(coordinator, node_id) for node_id in node_ids])

    entry.async_on_unload(coordinator.async_add_node_listener(add_nodes))


class RuViewBinarySensor(RuViewRoomEntity, BinarySensorEntity):
    entity_description: RuViewBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        message = self.message
        return None if message is None else self.entity_description.value_fn(message)


class RuViewNodeConnectivity(RuViewEntity, BinarySensorEntity):
    """Whether an ESP32 node's frames reach the add-on (a node appears here when it first sends)."""

    entity_description = NODE_CONNECTIVITY

    def __init__(self, coordinator: RuViewCoordinator, node_id: int) -> None:
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.node_id = node_id
        self._attr_unique_id = f"{entry.unique_id}_node_{node_id}_connectivity"
        self._attr_device_info = node_device(entry, node_id)

    @property
    def is_on(self) -> bool:
        return self.coordinator.data.nodes.get(self.node_id, False)
