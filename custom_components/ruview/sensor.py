"""Posture, breathing, heart rate, restlessness, calibration status and confidences of each room."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import RoomStateMessage
from .const import CONF_NODES, POSTURES, ROOM_STATUSES, SUBENTRY_ROOM
from .coordinator import RuViewConfigEntry, RuViewCoordinator
from .entity import RuViewRoomEntity, confidence, reading

PARALLEL_UPDATES = 0
# Readings whose confidence gets a diagnostic sensor, keyed by the specialist that gives it.
CONFIDENCES = {"presence": "presence", "motion": "motion", "posture": "posture", "breathing": "breathing_bpm",
               "heartbeat": "heart_bpm", "restlessness": "restlessness", "anomaly": "anomaly"}


@dataclass(frozen=True, kw_only=True)
class RuViewSensorDescription(SensorEntityDescription):
    value_fn: Callable[[RoomStateMessage], str | int | float | None]
    needs_nodes: bool = True
    min_nodes: int = 0  # made only for rooms with at least this many nodes


def _number(name: str, scale: float = 1.0) -> Callable[[RoomStateMessage], float | None]:
    def value(message: RoomStateMessage) -> float | None:
        raw = reading(message, name)
        return None if raw is None else round(float(raw) * scale, 1)
    return value


def _posture(message: RoomStateMessage) -> str | None:
    value = reading(message, "posture")
    return value if value in POSTURES else None


def _zone(message: RoomStateMessage) -> int | None:
    value = reading(message, "zone")
    return None if value is None else int(value)


def _confidence(name: str) -> Callable[[RoomStateMessage], float | None]:
    return lambda message: confidence(message, name)


DESCRIPTIONS: tuple[RuViewSensorDescription, ...] = (
    RuViewSensorDescription(
        key="posture", translation_key="posture", device_class=SensorDeviceClass.ENUM, options=list(POSTURES),
        value_fn=_posture),
    RuViewSensorDescription(
        # units in translations (breaths and beats per minute have no Home Assistant unit)
        key="breathing_rate", translation_key="breathing_rate",
        state_class=SensorStateClass.MEASUREMENT, suggested_display_precision=1, value_fn=_number("breathing_bpm")),
    RuViewSensorDescription(
        key="heart_rate", translation_key="heart_rate",
        state_class=SensorStateClass.MEASUREMENT, suggested_display_precision=0, entity_registry_enabled_default=False,
        value_fn=_number("heart_bpm")),
    RuViewSensorDescription(
        key="restlessness", translation_key="restlessness", native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT, suggested_display_precision=0,
        value_fn=_number("restlessness", 100.0)),
    RuViewSensorDescription(
        # 1..5 along the line from the room's first node to its last: a coarse place, not a position,
        # so an index without statistics (no state class).
        key="zone", translation_key="zone", entity_registry_enabled_default=False, min_nodes=2, value_fn=_zone),
    RuViewSensorDescription(
        key="calibration_status", translation_key="calibration_status", device_class=SensorDeviceClass.ENUM,
        options=list(ROOM_STATUSES), entity_category=EntityCategory.DIAGNOSTIC, needs_nodes=False,
        value_fn=lambda message: message["status"] if message["status"] in ROOM_STATUSES else None),
    *(RuViewSensorDescription(
        key=f"{specialist}_confidence", translation_key=f"{specialist}_confidence", native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT, suggested_display_precision=0, entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False, value_fn=_confidence(name)) for specialist, name in CONFIDENCES.items()),
)


async def async_setup_entry(hass: HomeAssistant, entry: RuViewConfigEntry,
                            async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_ROOM:
            nodes = len(subentry.data.get(CONF_NODES, []))
            async_add_entities([RuViewSensor(coordinator, subentry, description) for description in DESCRIPTIONS
                                if nodes >= description.min_nodes], config_subentry_id=subentry.subentry_id)


class RuViewSensor(RuViewRoomEntity, SensorEntity):
    entity_description: RuViewSensorDescription

    def __init__(self, coordinator: RuViewCoordinator, subentry: ConfigSubentry,
                 description: RuViewSensorDescription) -> None:
        super().__init__(coordinator, subentry, description)
        self.needs_nodes = description.needs_nodes

    @property
    def native_value(self) -> str | int | float | None:
        message = self.message
        return None if message is None else self.entity_description.value_fn(message)
