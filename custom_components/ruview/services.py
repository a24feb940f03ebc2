"""The ``ruview.train_room`` and ``ruview.recalibrate`` actions, on a room's device."""

from __future__ import annotations

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


def _room(call: ServiceCall) -> tuple[RuViewClient, str]:
    """The add-on client and room id behind the room device the action names."""
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
            return entry.runtime_data.client, subentry.data[CONF_ROOM_ID]
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="unknown_room",
                                 translation_placeholders={"room": device_id})


async def _run(client: RuViewClient, room_id: str, start: Any) -> Job:
    try:
        job: Job = await start
        job = await client.wait_for_job(job["job_id"], timeout_s=JOB_TIMEOUT_SECONDS)
    except RuViewConflictError as error:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="room_refused",
                                 translation_placeholders={"room": room_id, "reason": error.message}) from error
    except (RuViewError, TimeoutError) as error:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="cannot_connect",
                                 translation_placeholders={"error": str(error)}) from error
    if job["state"] != "succeeded":
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="job_failed",
                                 translation_placeholders={"room": room_id, "reason": job.get("error") or job["state"]})
    return job


async def _train_room(call: ServiceCall) -> ServiceResponse:
    """Train the room's bank from what it enrolled (all specialists, or the ones named)."""
    client, room_id = _room(call)
    job = await _run(client, room_id, client.start_training(room_id, call.data.get(ATTR_SPECIALISTS)))
    result = job.get("result") or {}
    return {"room": room_id, "job_id": job["job_id"], "specialists": sorted(result.get("specialists", {})),
            "anchors": list(result.get("anchors", []))}


async def _recalibrate(call: ServiceCall) -> ServiceResponse:
    """Capture the empty room again; an accepted baseline makes the room STALE until it is re-enrolled."""
    client, room_id = _room(call)
    job = await _run(client, room_id, client.recalibrate(room_id, call.data.get(CONF_SECONDS)))
    result = job.get("result") or {}
    return {"room": room_id, "job_id": job["job_id"], "accepted": bool(result.get("accepted")),
            "reason": result.get("reason")}
