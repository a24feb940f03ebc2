"""The room subentry flow against the real add-on: bad input, failed and refused captures, skips,
training failures and retries, re-enrolling one anchor, and an abandoned enrollment."""

from __future__ import annotations

from typing import Any

import pytest

from homeassistant.components.repairs import DOMAIN as REPAIRS
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.ruview.const import DOMAIN
from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.service.registry import RoomRegistry

from ._addon import Addon, enroll_offline, wait_for
from .conftest import hub_entry, rendered, room_subentry, set_up
from .test_entities import until

ROOM = "room"


async def start_room_flow(hass: HomeAssistant, entry_id: str) -> Any:
    return await hass.config_entries.subentries.async_init((entry_id, ROOM), context={"source": SOURCE_USER})


async def finish_progress(hass: HomeAssistant, result: Any) -> Any:
    """Let the capture or training run to its end, then take the step it leads to."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS, result
    await hass.async_block_till_done()
    return await hass.config_entries.subentries.async_configure(result["flow_id"])


def subentry_id(entry: Any, room_id: str) -> str:
    return next(s.subentry_id for s in entry.subentries.values() if s.unique_id == room_id)


async def test_bad_room_input_is_refused_and_an_abandoned_enrollment_keeps_its_room(hass: HomeAssistant,
                                                                                 addon: Addon) -> None:
    RoomRegistry(addon.data_dir).create({"room_id": "bedroom", "name": "Bedroom", "nodes": [3]})
    addon.overrides["no_data_timeout"] = 1.0
    await addon.start()
    entry = await set_up(hass, hub_entry(addon))

    result = await start_room_flow(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user"
    configure = hass.config_entries.subentries.async_configure
    result = await configure(result["flow_id"], {"name": "Den", "nodes": ["one"]})
    assert result["errors"] == {"nodes": "invalid_nodes"}
    result = await configure(result["flow_id"], {"name": "Den", "nodes": ["3"]})
    assert result["errors"] == {"base": "room_conflict"}
    assert "belongs to room 'bedroom'" in result["description_placeholders"]["reason"]
    result = await configure(result["flow_id"], {"name": "D" * 101, "nodes": []})
    assert result["errors"] == {"base": "invalid_room"}

    result = await configure(result["flow_id"], {"name": "Den", "nodes": ["2", "1"]})
    assert result["type"] is FlowResultType.MENU and result["step_id"] == "added"
    assert addon.service.registry.get("den").nodes == [1, 2]
    assert [s.unique_id for s in entry.subentries.values()] == ["den"]  # the room exists before its enrollment
    result = await configure(result["flow_id"], {"next_step_id": "enroll"})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "baseline"
    assert result["description_placeholders"]["room"] == "Den"

    result = await configure(result["flow_id"], {"seconds": 10})
    assert result["progress_action"] == "baseline" and result["description_placeholders"]["seconds"] == "10"
    result = await finish_progress(hass, result)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "baseline"
    assert result["errors"] == {"base": "capture_failed"}
    assert "no CSI frames from node(s) 1, 2" in result["description_placeholders"]["reason"]
    shown = await rendered(hass, "config_subentries", "room.error.capture_failed", result["description_placeholders"])
    assert shown.endswith(".") and ".." not in shown and "?." not in shown

    hass.config_entries.subentries.async_abort(result["flow_id"])  # the dialog closed: the room stays
    await hass.async_block_till_done()
    assert {"den", "bedroom"} <= set(addon.service.registry.rooms)
    assert [s.unique_id for s in entry.subentries.values()] == ["den"]
    await until(hass, "sensor.den_calibration_status", "untrained")  # "enrolling" while it captured


async def test_reenrolling_one_anchor_through_a_failure_a_busy_room_and_a_skip(hass: HomeAssistant,
                                                                             addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=())
    addon.overrides["no_data_timeout"] = 1.0
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    configure = hass.config_entries.subentries.async_configure

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"
    result = await configure(result["flow_id"], {"target": "sit"})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "anchor_sit"

    result = await configure(result["flow_id"], {"action": "capture", "seconds": 11, "countdown": 0})
    assert result["progress_action"] == "anchor_sit" and result["description_placeholders"]["seconds"] == "11"
    result = await finish_progress(hass, result)
    assert result["step_id"] == "anchor_sit" and result["errors"] == {"base": "capture_failed"}

    client = entry.runtime_data.client
    busy = await client.start_baseline("den", seconds=10)
    result = await configure(result["flow_id"], {"action": "skip", "seconds": 11, "countdown": 0})
    assert result["step_id"] == "anchor_sit" and result["errors"] == {"base": "capture_failed"}
    assert "busy" in result["description_placeholders"]["reason"]
    await client.wait_for_job(busy["job_id"], poll_s=0.1)

    result = await configure(result["flow_id"], {"action": "skip", "seconds": 11, "countdown": 0})
    assert result["progress_action"] == "train"  # the only anchor asked for is done: train
    result = await finish_progress(hass, result)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    room = await client.room("den")
    assert room["anchors"]["sit"] == "skipped" and room["status"] == "ready"


async def test_training_without_a_baseline_fails_with_a_retry(hass: HomeAssistant, addon: Addon) -> None:
    RoomRegistry(addon.data_dir).create({"room_id": "attic", "name": "Attic", "nodes": [9]})
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("attic", "Attic", nodes=(9,))))
    configure = hass.config_entries.subentries.async_configure

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "attic"))
    result = await configure(result["flow_id"], {"target": "lie_down"})
    result = await configure(result["flow_id"], {"action": "finish", "seconds": 11, "countdown": 3})
    assert result["progress_action"] == "train"
    result = await finish_progress(hass, result)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "train"
    assert result["errors"] == {"base": "capture_failed"} and "no baseline" in result["description_placeholders"]["reason"]

    result = await configure(result["flow_id"], {})  # retry
    result = await finish_progress(hass, result)
    assert result["step_id"] == "train" and result["errors"] == {"base": "capture_failed"}
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert "attic" in addon.service.registry.rooms  # re-enrolling never removes the room


async def test_closing_the_dialog_mid_capture_cancels_the_job(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=())
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    configure = hass.config_entries.subentries.async_configure

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    result = await configure(result["flow_id"], {"target": "room"})
    assert result["step_id"] == "baseline"
    result = await configure(result["flow_id"], {"seconds": 10})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await wait_for(lambda: addon.service.jobs.running("den") is not None, what="the capture to start")
    job_id = addon.service.jobs.running("den").job_id
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    await wait_for(lambda: addon.service.jobs.get(job_id).done, what="the job to end")
    assert addon.service.jobs.get(job_id).state == "cancelled"
    assert "den" in addon.service.registry.rooms


async def test_rooms_need_a_connected_addon(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    result = await start_room_flow(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    await addon.stop()  # gone while the form is open
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {"name": "Kitchen"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "cannot_connect"

    await hass.config_entries.async_reload(entry.entry_id)  # cannot set up without the add-on
    await hass.async_block_till_done()
    result = await start_room_flow(hass, entry.entry_id)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "entry_not_loaded"
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "entry_not_loaded"


async def test_removing_a_room_removes_it_from_the_addon(hass: HomeAssistant, addon: Addon,
                                                         caplog: Any) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=())
    RoomRegistry(addon.data_dir).create({"room_id": "attic", "name": "Attic", "nodes": [9]})
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den"), room_subentry("attic", "Attic", (9,)),
                                         room_subentry("cellar", "Cellar", (8,))))
    assert hass.states.get("sensor.den_calibration_status").state == "ready"

    hass.config_entries.async_update_entry(entry, title="RuView at home")  # no room changed: no reload
    await hass.async_block_till_done()
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "den"))
    await hass.async_block_till_done()
    assert "den" not in addon.service.registry.rooms and hass.states.get("sensor.den_calibration_status") is None

    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "cellar"))  # never in the add-on
    await hass.async_block_till_done()
    await addon.stop()
    assert hass.config_entries.async_remove_subentry(entry, subentry_id(entry, "attic"))
    await hass.async_block_till_done()
    assert "could not remove room attic from the add-on" in caplog.text


@pytest.mark.parametrize("anchor", ["breathe_slow", "breathe_normal", "small_move", "sleep_posture"])
async def test_every_anchor_has_its_own_step(hass: HomeAssistant, addon: Addon, anchor: str) -> None:
    RoomRegistry(addon.data_dir).create({"room_id": "attic", "name": "Attic", "nodes": [9]})
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("attic", "Attic", nodes=(9,))))
    configure = hass.config_entries.subentries.async_configure
    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "attic"))
    result = await configure(result["flow_id"], {"target": anchor})
    assert result["step_id"] == f"anchor_{anchor}"
    assert result["data_schema"]({"action": "capture"})["seconds"] == (30 if anchor != "small_move" else 20)
    result = await configure(result["flow_id"], {"action": "finish", "seconds": 11, "countdown": 0})
    assert result["progress_action"] == "train"
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await hass.async_block_till_done()


async def test_dialogs_closed_after_the_addon_went_away(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=())
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    configure = hass.config_entries.subentries.async_configure
    new_room = await start_room_flow(hass, entry.entry_id)
    new_room = await configure(new_room["flow_id"], {"name": "Kitchen", "nodes": ["5"]})
    new_room = await configure(new_room["flow_id"], {"next_step_id": "enroll"})
    new_room = await configure(new_room["flow_id"], {"seconds": 10})
    await wait_for(lambda: entry.state is ConfigEntryState.LOADED and "kitchen" in entry.runtime_data.rooms,
                   what="the entry to reload with the new room")
    reenroll = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    reenroll = await configure(reenroll["flow_id"], {"target": "room"})
    reenroll = await configure(reenroll["flow_id"], {"seconds": 10})
    await wait_for(lambda: all(addon.service.jobs.running(room) for room in ("den", "kitchen")),
                   what="both captures to start")

    await addon.stop()
    await hass.async_block_till_done()
    for flow in (new_room, reenroll):
        result = await configure(flow["flow_id"])
        assert result["step_id"] == "baseline" and result["errors"] == {"base": "capture_failed"}
        hass.config_entries.subentries.async_abort(flow["flow_id"])
    await hass.async_block_till_done()
    assert "kitchen" in {s.unique_id for s in entry.subentries.values()}  # enrolled later, where it stopped


async def test_a_room_exists_before_its_enrollment_which_goes_on_where_it_stopped(hass: HomeAssistant,
                                                                                  addon: Addon) -> None:
    """Added and enrolled later: its device says untrained and a repair offers the enrollment; a
    dialog closed half-way (a browser closed, a phone that slept) leaves what was recorded, and
    both the room's menu and the repair go on from there."""
    await addon.start()
    await async_setup_component(hass, REPAIRS, {})
    entry = await set_up(hass, hub_entry(addon))
    configure = hass.config_entries.subentries.async_configure
    addon.play("empty")

    result = await start_room_flow(hass, entry.entry_id)
    result = await configure(result["flow_id"], {"name": "Den", "nodes": ["1", "2"]})
    result = await configure(result["flow_id"], {"next_step_id": "later"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "room_added"
    await hass.async_block_till_done()
    assert hass.states.get("sensor.den_calibration_status").state == "untrained"
    issue_id = f"unenrolled_room_{entry.entry_id}_den"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None and issue.is_fixable and issue.translation_placeholders["room"] == "Den"

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    assert result["data_schema"]({})["target"] == "continue"  # what an untrained room is offered first
    result = await configure(result["flow_id"], {"target": "continue"})
    assert result["step_id"] == "baseline"
    result = await finish_progress(hass, await configure(result["flow_id"], {"seconds": 10}))
    assert result["step_id"] == "anchor_empty", result.get("errors")
    hass.config_entries.subentries.async_abort(result["flow_id"])  # closed half-way
    await hass.async_block_till_done()

    flows = hass.data[REPAIRS]["flow_manager"]
    result = await flows.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["step_id"] == "anchor_empty"  # the empty room is recorded already
    result = await flows.async_configure(result["flow_id"], {"action": "skip", "seconds": 20, "countdown": 3})
    assert result["step_id"] == "anchor_stand_still"
    result = await flows.async_configure(result["flow_id"], {"action": "finish", "seconds": 20, "countdown": 3})
    assert result["progress_action"] == "train"
    await hass.async_block_till_done()
    result = await flows.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await until(hass, "sensor.den_calibration_status", "ready")
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None


async def test_going_on_with_every_step_recorded_trains_and_needs_the_addon(hass: HomeAssistant,
                                                                            addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den", anchors=("stand_still", "sit"), trained=False)
    for anchor in ("empty", "lie_down", "breathe_slow", "breathe_normal", "small_move", "sleep_posture"):
        RoomEnrollment(addon.data_dir, "den").skip(anchor)
    await addon.start()
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"unenrolled_room_{entry.entry_id}_den") is not None
    configure = hass.config_entries.subentries.async_configure

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    result = await configure(result["flow_id"], {"target": "continue"})
    assert result["progress_action"] == "train"  # nothing left to record
    result = await finish_progress(hass, result)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    await until(hass, "sensor.den_calibration_status", "ready")
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"unenrolled_room_{entry.entry_id}_den") is None

    result = await entry.start_subentry_reconfigure_flow(hass, subentry_id(entry, "den"))
    await addon.stop()
    result = await configure(result["flow_id"], {"target": "continue"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "cannot_connect"
