"""The ``ruview.train_room`` and ``ruview.recalibrate`` actions, on a room's device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .api import Job, RuViewClient, RuViewConflictError, RuViewError
from .const import (
    ATTR_ROOM,
    ATTR_SPECIALISTS,
    CONF_ROOM_ID,
    CONF_SECONDS,
    DOMAIN,
    MAX_CAPTURE_SECONDS,
    MIN_BASELINE_SECONDS,
    SERVICE_RECALIBRATE,
    SERVICE_TRAIN_ROOM,
    SPECIALISTS,
)
from .coordinator import RuViewConfigEntry
from .enrollment import sentence

JOB_TIMEOUT_SECONDS = MAX_CAPTURE_SECONDS + 120

TRAIN_ROOM_SCHEMA = vol.Schema({
    vol.Required(ATTR_ROOM): cv.string,
    vol.Optional(ATTR_SPECIALISTS): vol.All(cv.ensure_list, [vol.In(SPECIALISTS)], vol.Length(min=1)),
})
RECALIBRATE_SCHEMA = vol.Schema({
    vol.Required(ATTR_ROOM): cv.string,
    vol.Optional(CONF_SECONDS): vol.All(vol.Coerce(float), vol.Range(min=MIN_BASELINE_SECONDS, max=MAX_CAPTURE_SECONDS)),
})


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    hass.services.async_register(DOMAIN, SERVICE_TRAIN_ROOM, _train_room, schema=TRAIN_ROOM_SCHEMA,
                                 supports_response=SupportsResponse.OPTIONAL)
    hass.services.async_register(DOMAIN, SERVICE_RECALIBRATE, _recalibrate, schema=RECALIBRATE_SCHEMA,
                                 supports_response=SupportsResponse.OPTIONAL)


@dataclass(frozen=True)
class _Room:
    client: RuViewClient
    room_id: str
    name: str  # what errors say: the room's name in Home Assistant, not its id

    def own_words(self, reason: str) -> str:
        """The add-on's reason without the room's id (the message names the room already)."""
        return reason.replace(f"room {self.room_id!r}", "the room")


def _room(call: ServiceCall) -> _Room:
    """The add-on client, room id and name behind the room device the action names."""
    device_id = call.data[ATTR_ROOM]
    device = dr.async_get(call.hass).async_get(device_id)
    for entry_id, subentry_ids in (device.config_entries_subentries.items() if device else ()):
        entry: RuViewConfigEntry | None = call.hass.config_entries.async_get_entry(entry_id)
        if entry is None or entry.domain != DOMAIN:
            continue
        for subentry_id in subentry_ids:
            subentry = entry.subentries.get(subentry_id) if subentry_id else None
            if subentry is None:
                continue
            if entry.state is not ConfigEntryState.LOADED:
                raise ServiceValidationError(translation_domain=DOMAIN, translation_key="room_not_loaded",
                                             translation_placeholders={"room": subentry.title})
            return _Room(entry.runtime_data.client, subentry.data[CONF_ROOM_ID], subentry.title)
    name = (device.name_by_user or device.name) if device else None
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unknown_room",
                                 translation_placeholders={"room": name or device_id})


async def _run(room: _Room, start: Any) -> Job:
    try:
        job: Job = await start
        job = await room.client.wait_for_job(job["job_id"], timeout_s=JOB_TIMEOUT_SECONDS)
    except RuViewConflictError as error:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="room_refused", translation_placeholders={
            "room": room.name, "reason": sentence(room.own_words(error.message))}) from error
    except (RuViewError, TimeoutError) as error:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="cannot_connect",
                                 translation_placeholders={"error": sentence(str(error))}) from error
    if job["state"] != "succeeded":
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="job_failed", translation_placeholders={
            "room": room.name, "reason": sentence(room.own_words(job.get("error") or job["state"]))})
    return job


async def _train_room(call: ServiceCall) -> ServiceResponse:
    """Train the room's bank from what it enrolled (all specialists, or the ones named)."""
    room = _room(call)
    job = await _run(room, room.client.start_training(room.room_id, call.data.get(ATTR_SPECIALISTS)))
    result = job.get("result") or {}
    return {"room": room.room_id, "job_id": job["job_id"], "specialists": sorted(result.get("specialists", {})),
            "anchors": list(result.get("anchors", []))}


async def _recalibrate(call: ServiceCall) -> ServiceResponse:
    """Capture the empty room again; an accepted baseline makes the room STALE until it is re-enrolled."""
    room = _room(call)
    job = await _run(room, room.client.recalibrate(room.room_id, call.data.get(CONF_SECONDS)))
    result = job.get("result") or {}
    return {"room": room.room_id, "job_id": job["job_id"], "accepted": bool(result.get("accepted")),
            "reason": result.get("reason")}
