"""A room whose baseline file is damaged says so in Home Assistant: stale, with the reason, and
a repair that walks through a new enrollment (issue 19)."""

from __future__ import annotations

from homeassistant.components.repairs import DOMAIN as REPAIRS
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.ruview.const import DOMAIN

from ._addon import Addon, enroll_offline
from .conftest import hub_entry, room_subentry, set_up
from .test_entities import until


async def test_a_truncated_baseline_makes_the_room_stale_with_a_repair(hass: HomeAssistant, addon: Addon) -> None:
    enroll_offline(addon.data_dir, "den", "Den")
    [tensors] = (addon.data_dir / "rooms" / "den").glob("baseline*.safetensors")
    tensors.write_bytes(tensors.read_bytes()[: tensors.stat().st_size // 2])
    await addon.start()
    await async_setup_component(hass, REPAIRS, {})
    entry = await set_up(hass, hub_entry(addon, room_subentry("den", "Den")))
    await until(hass, "sensor.den_calibration_status", "stale")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"stale_room_{entry.entry_id}_den")
    assert issue is not None and issue.is_fixable
    assert "truncated" in issue.translation_placeholders["reason"]
    flows = hass.data[REPAIRS]["flow_manager"]
    result = await flows.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "baseline"  # the repair starts over
