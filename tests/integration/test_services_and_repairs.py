"""The actions (and their errors), and a STALE room's repair walking through a new enrollment."""

from __future__ import annotations

import pytest

from homeassistant.components.repairs import DOMAIN as REPAIRS
from homeassistant.const import STATE_ON, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.ruview.const import DOMAIN

from ._addon import INSTANCE_ID, Addon, enroll_offline, wait_for
from .conftest import hub_entry, room_subentry, set_up
from .test_entities import state, until


def room_device_id(hass: HomeAssistant, room_id: str) -> str:
    device = dr.async_get(hass).async_get_device({(DOMAIN, f"{INSTANCE_ID}_{room_id}")})
    assert device is not None
    return device.id


async def call(hass: HomeAssistant, service: str, **data: object) -> dict:
    return await hass.services.async_call(DOMAIN, service, data, blocking=True, return_response=True)


async def test_actions_and_their_errors(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    from ruview_core.service.registry import RoomRegistry

    RoomRegistry(addon.data_dir).create({"room_id": "attic", "name": "Attic", "nodes": [9]})
    addon.overrides["no_data_timeout"] = 1.0
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den"), room_subentry("attic", "Attic", (9,))))
    den, attic = room_device_id(hass, "den"), room_device_id(hass, "attic")

    trained = await call(hass, "train_room", room=den, specialists=["presence", "motion"])
    assert trained["room"] == "den" and {"presence", "motion", "posture"} <= set(trained["specialists"])
    assert trained["anchors"] == ["sit", "stand_still"]

    with pytest.raises(ServiceValidationError) as unknown:
        await call(hass, "train_room", room="no-such-device")
    assert unknown.value.translation_key == "unknown_room"
    with pytest.raises(HomeAssistantError) as refused:
        await call(hass, "train_room", room=attic)
    assert refused.value.translation_key == "room_refused" and "no baseline" in str(refused.value.translation_placeholders)
    assert str(refused.value) == "Room Attic cannot do that now: the room has no baseline yet: capture the empty room first."
    with pytest.raises(HomeAssistantError) as failed:
        await call(hass, "recalibrate", room=attic, seconds=10)
    assert failed.value.translation_key == "job_failed"
    assert "no CSI frames" in failed.value.translation_placeholders["reason"]
    assert failed.value.translation_placeholders["room"] == "Attic"

    await addon.stop()
    with pytest.raises(HomeAssistantError) as gone:
        await call(hass, "train_room", room=den)
    assert gone.value.translation_key == "cannot_connect"
    await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as unloaded:
        await call(hass, "recalibrate", room=den)
    assert unloaded.value.translation_key == "room_not_loaded"


async def test_a_stale_room_is_repaired_by_enrolling_it_again(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    await addon.start()
    await async_setup_component(hass, REPAIRS, {})
    await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    issues = ir.async_get(hass)
    den = room_device_id(hass, "den")

    addon.play("empty")
    recalibrated = await call(hass, "recalibrate", room=den, seconds=10)
    assert recalibrated["accepted"] is True and recalibrated["reason"] is None
    await until(hass, "sensor.den_calibration_status", "stale")
    issue_id = f"stale_room_{hass.config_entries.async_entries(DOMAIN)[0].entry_id}_den"
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.is_fixable and issue.translation_placeholders["room"] == "Den"
    assert "re-calibrated" in issue.translation_placeholders["reason"]

    addon.play("sit")  # someone there, but the bank no longer fits the room: nothing is claimed
    await wait_for(lambda: state(hass, "binary_sensor.den_presence") == STATE_UNKNOWN, 10, "presence unknown")
    assert state(hass, "sensor.den_posture") == STATE_UNKNOWN

    flows = hass.data[REPAIRS]["flow_manager"]
    result = await flows.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "baseline"
    assert result["description_placeholders"]["room"] == "Den"
    assert "re-calibrated" in result["description_placeholders"]["stale_reason"]  # the repair says why
    addon.play("empty")
    result = await flows.async_configure(result["flow_id"], {"seconds": 10})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    result = await flows.async_configure(result["flow_id"])
    assert result["step_id"] == "anchor_empty"
    result = await flows.async_configure(result["flow_id"], {"action": "finish", "seconds": 20, "countdown": 3})
    await hass.async_block_till_done()
    result = await flows.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    await until(hass, "sensor.den_calibration_status", "ready")
    addon.play("sit")
    await until(hass, "binary_sensor.den_presence", STATE_ON)


async def test_the_repair_needs_a_connected_addon(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den", recalibrated=True)
    await addon.start()
    await async_setup_component(hass, REPAIRS, {})
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    issue_id = f"stale_room_{entry.entry_id}_den"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None  # stale from the start
    await hass.config_entries.async_unload(entry.entry_id)
    result = await hass.data[REPAIRS]["flow_manager"].async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "entry_not_loaded"


async def test_a_room_with_a_damaged_file_raises_an_issue_and_the_others_run(hass: HomeAssistant,
                                                                              addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    enroll_offline(addon.data_dir, "office", "Office", nodes=(3,), anchors=(), trained=False)
    session = addon.data_dir / "rooms" / "den" / "session.jsonl"
    healthy = session.read_text()
    session.write_text(healthy + '{"event": "anchor_skipped", "anchor": ["sit"], "at": 1.0}\n')
    await addon.start()
    await async_setup_component(hass, REPAIRS, {})
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den"), room_subentry("office", "Office", (3,))))
    issue_id = f"room_needs_attention_{entry.entry_id}_den"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None and not issue.is_fixable and issue.translation_placeholders["room"] == "Den"
    assert "session.jsonl" in issue.translation_placeholders["reason"]
    assert state(hass, "sensor.den_calibration_status") == "needs_attention"
    assert state(hass, "sensor.office_calibration_status") == "untrained"
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"room_needs_attention_{entry.entry_id}_office") is None

    session.write_text(healthy)  # the person fixes the file; the add-on reads it again on its restart
    await addon.stop()
    await addon.start()
    await wait_for(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None, 30, "the issue cleared")
    await until(hass, "sensor.den_calibration_status", "ready")
