"""A room is a config subentry, added (and re-enrolled) by walking through its enrollment."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigEntryState, ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers import area_registry as ar
from homeassistant.helpers.selector import (
    AreaSelector,
    EntitySelector,
    EntitySelectorConfig,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)

from .api import RuViewConflictError, RuViewError, RuViewRequestError
from .const import (
    ANCHORS,
    CONF_AREA_ID,
    CONF_LABEL_SENSORS,
    CONF_NODES,
    CONF_ROOM_ID,
    CONF_TARGET,
    LABEL_DEVICE_CLASSES,
    LABEL_DOMAINS,
    LABEL_KINDS,
    SUBENTRY_ROOM,
)
from .coordinator import RuViewConfigEntry
from .enrollment import EnrollmentSteps, sentence

CONF_NAME = "name"
TARGET_ROOM = "room"
TARGET_SENSORS = "sensors"
TARGET_CONTINUE = "continue"


class RoomSubentryFlowHandler(EnrollmentSteps[SubentryFlowResult], ConfigSubentryFlow):
    """Name, area and nodes make the room at once (its device shows it untrained); its enrollment
    follows now or later, from the room's menu or its repair, and goes on where it stopped."""

    def _loaded_entry(self) -> RuViewConfigEntry | None:
        entry: RuViewConfigEntry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return None
        self.client = entry.runtime_data.client
        return entry

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Name the room, place it in an area, and say which nodes watch it."""
        if self._loaded_entry() is None:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        placeholders = {"reason": "", "nodes": ""}
        if user_input is not None:
            area_id = user_input.get(CONF_AREA_ID)
            area = ar.async_get(self.hass).async_get_area(area_id) if area_id else None
            try:
                nodes = sorted({int(node) for node in user_input.get(CONF_NODES, [])})
            except ValueError:
                errors[CONF_NODES] = "invalid_nodes"
            else:
                try:
                    room = await self.client.create_room(user_input[CONF_NAME], nodes=nodes,
                                                         area=area.name if area else None)
                except RuViewConflictError as error:
                    errors["base"], placeholders["reason"] = "room_conflict", sentence(error.message)
                except RuViewRequestError as error:
                    errors["base"], placeholders["reason"] = "invalid_room", sentence(error.message)
                except RuViewError as error:
                    errors["base"], placeholders["reason"] = "cannot_connect", sentence(str(error))
                else:
                    self.room_id, self.room_name = room["room_id"], room["name"]
                    self.hass.config_entries.async_add_subentry(self._get_entry(), ConfigSubentry(
                        data=MappingProxyType({CONF_ROOM_ID: self.room_id, CONF_AREA_ID: area_id, CONF_NODES: nodes}),
                        subentry_type=SUBENTRY_ROOM, title=self.room_name, unique_id=self.room_id))
                    return await self.async_step_added()
        try:
            seen = await self.client.nodes()
        except RuViewError:
            return self.async_abort(reason="cannot_connect")
        placeholders["nodes"] = ", ".join(str(n["node_id"]) for n in seen if n.get("online")) or "-"
        schema = vol.Schema({
            vol.Required(CONF_NAME): TextSelector(),
            vol.Optional(CONF_AREA_ID): AreaSelector(),
            vol.Optional(CONF_NODES, default=[]): SelectSelector(SelectSelectorConfig(
                options=[SelectOptionDict(value=str(n["node_id"]), label=str(n["node_id"])) for n in seen],
                multiple=True, custom_value=True, mode=SelectSelectorMode.DROPDOWN)),
        })
        return self.async_show_form(step_id="user", data_schema=self.add_suggested_values_to_schema(
            schema, user_input or {}), errors=errors, description_placeholders=placeholders)

    async def async_step_added(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """The room exists: enroll it now, or later (its menu, its repair)."""
        return self.async_show_menu(step_id="added", menu_options=["enroll", "later"],
                                    description_placeholders={"room": self.room_name})

    async def async_step_enroll(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        self.anchors = list(ANCHORS)
        return await self.async_step_baseline()

    async def async_step_later(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        return self.async_abort(reason="room_added", description_placeholders={"room": self.room_name})

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Go on with the enrollment where it stopped, re-enroll the whole room (a new baseline,
        every anchor, training) or one anchor, or pick the room's own sensors that teach it."""
        subentry = self._get_reconfigure_subentry()
        entry = self._loaded_entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        self.room_id, self.room_name = subentry.data[CONF_ROOM_ID], subentry.title
        if user_input is None:
            message = entry.runtime_data.coordinator.room(self.room_id)
            ready = message is not None and message["status"] in ("ready", "stale")
            return self.async_show_form(step_id="reconfigure", data_schema=vol.Schema({
                vol.Required(CONF_TARGET, default=TARGET_ROOM if ready else TARGET_CONTINUE): SelectSelector(
                    SelectSelectorConfig(options=[TARGET_CONTINUE, TARGET_ROOM, TARGET_SENSORS, *ANCHORS],
                                         translation_key="reenroll_target", mode=SelectSelectorMode.LIST)),
            }), description_placeholders={"room": self.room_name})
        target = user_input[CONF_TARGET]
        if target == TARGET_SENSORS:
            return await self.async_step_sensors()
        if target == TARGET_CONTINUE:
            return await self._resume()
        if target == TARGET_ROOM:
            self.anchors = list(ANCHORS)
            return await self.async_step_baseline()
        self.anchors = [target]
        return await self._anchor(target, None)

    async def async_step_sensors(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """The motion sensors, door and window contacts, vibration sensors, thermometers and
        hygrometers of the room: their state changes go to the add-on as weak labels."""
        subentry = self._get_reconfigure_subentry()
        if user_input is not None:
            picked = {kind: list(user_input.get(kind, [])) for kind in LABEL_KINDS}
            self.hass.config_entries.async_update_subentry(
                self._get_entry(), subentry, data={**subentry.data, CONF_LABEL_SENSORS: picked})
            return self.async_abort(reason="sensors_saved",
                                    description_placeholders={"room": subentry.title,
                                                              "count": str(sum(map(len, picked.values())))})
        schema = vol.Schema({
            vol.Optional(kind, default=[]): EntitySelector(EntitySelectorConfig(
                domain=LABEL_DOMAINS[kind], device_class=list(LABEL_DEVICE_CLASSES[kind]), multiple=True))
            for kind in LABEL_KINDS
        })
        current = subentry.data.get(CONF_LABEL_SENSORS) or {}
        return self.async_show_form(step_id="sensors", data_schema=self.add_suggested_values_to_schema(schema, current),
                                    description_placeholders={"room": subentry.title})

    async def async_step_done(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        if self.source == "reconfigure":
            return self.async_update_and_abort(self._get_entry(), self._get_reconfigure_subentry())
        return self.async_abort(reason="room_enrolled", description_placeholders={"room": self.room_name})
