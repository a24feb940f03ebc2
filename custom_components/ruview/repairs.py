"""A room that needs enrolling is a fixable repair issue: a STALE room (its models no longer fit),
or one added and not enrolled yet (or left half-way). The fix flow walks through the enrollment.
A room that needs attention (a damaged file in the add-on) is an issue that says which file and why."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResult
from homeassistant.helpers import issue_registry as ir

from .const import ANCHORS, CONF_ROOM_ID, DOMAIN, SUBENTRY_ROOM
from .enrollment import EnrollmentSteps, sentence

if TYPE_CHECKING:
    from .coordinator import RuViewConfigEntry

STALE, UNENROLLED = "stale", "unenrolled"  # the two issues a room can have, one at a time
UNKNOWN_STALE_REASON = "its models no longer fit the room"
NOT_ENROLLED = "it has not been enrolled yet"


def room_issue_id(kind: str, entry_id: str, room_id: str) -> str:
    return f"{kind}_room_{entry_id}_{room_id}"


def room_issue_kind(status: str | None, trained: bool) -> str | None:
    """Which repair a room with this status needs: none while it is ready or training."""
    if status == "stale":
        return STALE
    if status == "untrained" or (status == "enrolling" and not trained):
        return UNENROLLED
    return None  # ready; training; or a trained room re-enrolling a step


def room_title(entry: RuViewConfigEntry, room_id: str) -> str | None:
    """The name a room was given in Home Assistant (None: the room has no subentry here)."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_ROOM and subentry.data.get(CONF_ROOM_ID) == room_id:
            return subentry.title
    return None


@callback
def async_update_room_issue(hass: HomeAssistant, entry: RuViewConfigEntry, room_id: str, kind: str | None,
                            reason: str | None) -> None:
    """Raise the room's issue of ``kind`` (or update its reason) and clear the other; none once fine."""
    title = room_title(entry, room_id)
    async_delete_room_issues(hass, entry.entry_id, room_id, keep=kind if title is not None else None)
    if kind is None or title is None:
        return
    why = sentence(reason or UNKNOWN_STALE_REASON) if kind == STALE else sentence(NOT_ENROLLED)
    ir.async_create_issue(
        hass, DOMAIN, room_issue_id(kind, entry.entry_id, room_id), is_fixable=True, is_persistent=False,
        severity=ir.IssueSeverity.WARNING, translation_key=f"{kind}_room",
        translation_placeholders={"room": title, "reason": why},
        data={"entry_id": entry.entry_id, CONF_ROOM_ID: room_id, "kind": kind})


@callback
def async_delete_room_issues(hass: HomeAssistant, entry_id: str, room_id: str, keep: str | None = None,
                             *, attention: bool = False) -> None:
    """Delete the room's enrollment issues (all but ``keep``) and, with ``attention``, its attention issue."""
    for kind in (STALE, UNENROLLED):
        if kind != keep:
            ir.async_delete_issue(hass, DOMAIN, room_issue_id(kind, entry_id, room_id))
    if attention:
        ir.async_delete_issue(hass, DOMAIN, attention_issue_id(entry_id, room_id))


def attention_issue_id(entry_id: str, room_id: str) -> str:
    return f"room_needs_attention_{entry_id}_{room_id}"


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


class RoomEnrollmentRepairFlow(EnrollmentSteps[FlowResult], RepairsFlow):
    """STALE: a new empty-room baseline, the anchors again (each may be skipped), a new bank.
    Not enrolled: on from where the enrollment stopped."""

    def __init__(self, entry_id: str, room_id: str, kind: str) -> None:
        self.entry_id = entry_id
        self.room_id = room_id
        self.kind = kind
        self.recalibrate = kind == STALE
        self.anchors = list(ANCHORS)
        self.why = ""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        entry: RuViewConfigEntry | None = self.hass.config_entries.async_get_entry(self.entry_id)
        title = None if entry is None else room_title(entry, self.room_id)
        if entry is None or title is None or entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        self.client, self.room_name = entry.runtime_data.client, title
        issue = ir.async_get(self.hass).async_get_issue(DOMAIN, room_issue_id(self.kind, self.entry_id, self.room_id))
        self.why = (issue.translation_placeholders or {}).get("reason", "") if issue is not None else ""
        if self.kind == STALE:
            return await self.async_step_baseline()
        return await self._resume()

    def _placeholders(self) -> dict[str, str]:
        return {"stale_reason": self.why}

    async def async_step_done(self, user_input: dict[str, Any] | None = None) -> FlowResult:
        return self.async_create_entry(data={})


async def async_create_fix_flow(hass: HomeAssistant, issue_id: str,
                                data: dict[str, str | int | float | None] | None) -> RepairsFlow:
    assert data is not None
    return RoomEnrollmentRepairFlow(str(data["entry_id"]), str(data[CONF_ROOM_ID]), str(data.get("kind", STALE)))
