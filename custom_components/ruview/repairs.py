"""A STALE room is a fixable repair issue: its fix flow re-enrolls the room and retrains it. A room
that needs attention (a damaged file in the add-on) is an issue that says which file and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir

from .const import ANCHORS, CONF_ROOM_ID, DOMAIN, SUBENTRY_ROOM
from .enrollment import EnrollmentSteps

if TYPE_CHECKING:
    from .coordinator import RuViewConfigEntry


def stale_issue_id(entry_id: str, room_id: str) -> str:
    return f"stale_room_{entry_id}_{room_id}"


def attention_issue_id(entry_id: str, room_id: str) -> str:
    return f"room_needs_attention_{entry_id}_{room_id}"


@callback
def async_delete_room_issues(hass: HomeAssistant, entry_id: str, room_id: str) -> None:
    for issue_id in (stale_issue_id(entry_id, room_id), attention_issue_id(entry_id, room_id)):
        ir.async_delete_issue(hass, DOMAIN, issue_id)


def room_title(entry: RuViewConfigEntry, room_id: str) -> str | None:
    """The name a room was given in Home Assistant (None: the room has no subentry here)."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_ROOM and subentry.data.get(CONF_ROOM_ID) == room_id:
            return subentry.title
    return None


@callback
def async_update_stale_issue(hass: HomeAssistant, entry: RuViewConfigEntry, room_id: str, stale: bool,
                             reason: str | None) -> None:
    """Raise the room's STALE issue (or update its reason), or delete it once the room is fine."""
    title = room_title(entry, room_id)
    issue_id = stale_issue_id(entry.entry_id, room_id)
    if not stale or title is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass, DOMAIN, issue_id, is_fixable=True, is_persistent=False, severity=ir.IssueSeverity.WARNING,
        translation_key="stale_room", translation_placeholders={"room": title, "reason": reason or "-"},
        data={"entry_id": entry.entry_id, CONF_ROOM_ID: room_id})


@callback
def async_update_attention_issue(hass: HomeAssistant, entry: RuViewConfigEntry, room_id: str,
                                 reason: str | None) -> None:
    """Raise the room's "needs attention" issue with the add-on's reason, or delete it once fixed."""
    title = room_title(entry, room_id)
    issue_id = attention_issue_id(entry.entry_id, room_id)
    if reason is None or title is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass, DOMAIN, issue_id, is_fixable=False, is_persistent=False, severity=ir.IssueSeverity.ERROR,
        translation_key="room_needs_attention", translation_placeholders={"room": title, "reason": reason})


class StaleRoomRepairFlow(EnrollmentSteps[FlowResult], RepairsFlow):
    """A new empty-room baseline, the anchors again (each may be skipped), and a new bank."""

    recalibrate = True

    def __init__(self, entry_id: str, room_id: str) -> None:
        self.entry_id = entry_id
        self.room_id = room_id
        self.anchors = list(ANCHORS)

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        entry: RuViewConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        title = None if entry is None else room_title(entry, self.room_id)
        if entry is None or title is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        self.client, self.room_name = entry.runtime_data.client, title
        return await self.async_step_baseline()

    async def async_step_done(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        return self.async_create_entry(data={})


async def async_create_fix_flow(hass: HomeAssistant, issue_id: str,
                                data: dict[str, str | int | float | None] | None) -> RepairsFlow:
    assert data is not None
    return StaleRoomRepairFlow(str(data["entry_id"]), str(data[CONF_ROOM_ID]))
