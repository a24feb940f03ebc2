"""What happens in each room, as events: a breathing pause (when it ends, with its duration) and
the movements the add-on names (a fall, sitting down, standing up, lying down, getting up).

The add-on pushes every event once (``{"type": "event", "room", "event"}``); an entity fires for
the events of its ``event_types``, with the event's attributes. Nothing is fired from a room's
state, so states pushed again (every second, after a reconnection) never fire twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SUBENTRY_ROOM
from .coordinator import RuViewConfigEntry, RuViewCoordinator
from .entity import RuViewRoomEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class RuViewEventDescription(EventEntityDescription):
    attributes: tuple[str, ...] = ()  # the event's fields shown as the entity's attributes


DESCRIPTIONS: tuple[RuViewEventDescription, ...] = (
    RuViewEventDescription(key="breathing_pause", translation_key="breathing_pause", event_types=["breathing_pause"],
                           attributes=("duration_s", "confidence")),
    # The movements the add-on names (a fall comes from the activity model and its rule, never enrolled).
    RuViewEventDescription(key="activity", translation_key="activity",
                           event_types=["fall", "sit_down", "stand_up", "lie_down", "get_up"],
                           attributes=("confidence", "reason")),
)


async def async_setup_entry(hass: HomeAssistant, entry: RuViewConfigEntry,
                            async_add_entities: AddConfigEntryEntitiesCallback) -> None:
    coordinator = entry.runtime_data.coordinator
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_ROOM:
            async_add_entities([RuViewEvent(coordinator, subentry, description) for description in DESCRIPTIONS],
                               config_subentry_id=subentry.subentry_id)


class RuViewEvent(RuViewRoomEntity, EventEntity):
    entity_description: RuViewEventDescription

    def __init__(self, coordinator: RuViewCoordinator, subentry: ConfigSubentry,
                 description: RuViewEventDescription) -> None:
        super().__init__(coordinator, subentry, description)

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_add_event_listener(self.room_id, self._handle_room_event))

    @callback
    def _handle_room_event(self, event: dict[str, Any]) -> None:
        event_type = event.get("event_type")
        if event_type not in (self.entity_description.event_types or ()):
            return
        attributes = {name: event.get(name) for name in self.entity_description.attributes}
        self._trigger_event(str(event_type), attributes)
        self.async_write_ha_state()
