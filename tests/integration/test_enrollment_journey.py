"""One room enrolled in real time through the dialog, the simulator playing the person: a refused
baseline (someone walking) and its retry, a skipped anchor, a captured one, finishing early,
training, and the room's device and entities appearing in the chosen area."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import area_registry as ar, device_registry as dr

from custom_components.ruview.const import DOMAIN

from ._addon import INSTANCE_ID, Addon
from .conftest import hub_entry, set_up
from .test_entities import until
from .test_room_flow import finish_progress, start_room_flow


async def test_a_room_is_enrolled_step_by_step(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    entry = await set_up(hass, hub_entry(addon))
    living = ar.async_get(hass).async_create("Living room")
    configure = hass.config_entries.subentries.async_configure
    addon.play("walk")

    result = await start_room_flow(hass, entry.entry_id)
    result = await configure(result["flow_id"], {"name": "Den", "area_id": living.id, "nodes": ["1", "2"]})
    result = await configure(result["flow_id"], {"next_step_id": "enroll"})
    assert result["step_id"] == "baseline"
    result = await finish_progress(hass, await configure(result["flow_id"], {"seconds": 10}))
    assert result["step_id"] == "baseline" and result["errors"] == {"base": "capture_rejected"}
    reason = result["description_placeholders"]["reason"]
    assert "moving" in reason or "moved" in reason

    addon.play("empty")
    await asyncio.sleep(3)  # the walker leaves; a loaded machine may still be working through their frames
    result = await finish_progress(hass, await configure(result["flow_id"], {"seconds": 10}))
    assert result["step_id"] == "anchor_empty", (result["errors"], result["description_placeholders"])
    assert result["type"] is FlowResultType.FORM and result["errors"] is None

    result = await configure(result["flow_id"], {"action": "skip", "seconds": 20, "countdown": 3})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "anchor_stand_still"

    addon.play("stand_still")
    result = await configure(result["flow_id"], {"action": "capture", "seconds": 11, "countdown": 0})
    assert result["progress_action"] == "anchor_stand_still"
    result = await finish_progress(hass, result)
    assert result["step_id"] == "anchor_sit" and result["errors"] is None

    result = await configure(result["flow_id"], {"action": "finish", "seconds": 20, "countdown": 3})
    assert result["progress_action"] == "train"
    result = await finish_progress(hass, result)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "room_enrolled"
    await hass.async_block_till_done()

    (subentry,) = entry.subentries.values()
    assert subentry.unique_id == "den" and subentry.data["area_id"] == living.id and subentry.data["nodes"] == [1, 2]
    room = addon.service.room_summary("den")
    assert room["status"] == "ready" and room["anchors"]["stand_still"] == "accepted"
    assert room["anchors"]["empty"] == "skipped" and room["anchors"]["sit"] == "pending"
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{INSTANCE_ID}_den")})
    assert device is not None and device.area_id == living.id and device.name == "Den"
    await until(hass, "sensor.den_calibration_status", "ready")
    assert hass.states.get("binary_sensor.den_presence") is not None
