"""The hub flow against the real add-on service: by hand, by Supervisor discovery, reconfigure, reauth."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_HASSIO, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from custom_components.ruview.api import RuViewClient
from custom_components.ruview.const import CONF_TOKEN, DOMAIN

from ._addon import INSTANCE_ID, TOKEN, Addon, addon_running
from .conftest import hub_entry, set_up


def discovery(addon: Addon, token: str = TOKEN) -> HassioServiceInfo:
    return HassioServiceInfo(config={"host": "127.0.0.1", "port": addon.port, "token": token},
                             name="RuView", slug="ruview", uuid="1234")


async def test_entered_by_hand_after_a_wrong_port_and_a_wrong_token(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "user" and result["errors"] == {}

    closed = {CONF_HOST: "127.0.0.1", CONF_PORT: 9, CONF_TOKEN: TOKEN}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], closed)
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "cannot_connect"}

    wrong = {CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: "not-it"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], wrong)
    assert result["type"] is FlowResultType.FORM and result["errors"] == {CONF_TOKEN: "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**wrong, CONF_TOKEN: TOKEN})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == INSTANCE_ID
    assert result["data"] == {CONF_HOST: "127.0.0.1", CONF_PORT: addon.port, CONF_TOKEN: TOKEN}

    again = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    again = await hass.config_entries.flow.async_configure(again["flow_id"], {**wrong, CONF_TOKEN: TOKEN})
    assert again["type"] is FlowResultType.ABORT and again["reason"] == "already_configured"


async def test_an_addon_without_an_instance_id_is_refused(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    real_health = RuViewClient.health

    async def old_health(self: RuViewClient):  # what add-ons before instance ids answered
        health = await real_health(self)
        health.pop("instance_id")
        return health

    with patch.object(RuViewClient, "health", old_health):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        result = await hass.config_entries.flow.async_configure(result["flow_id"], addon.config)
    assert result["type"] is FlowResultType.FORM and result["errors"] == {"base": "addon_too_old"}


async def test_the_supervisor_announces_the_addon(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO},
                                                       data=discovery(addon))
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "hassio_confirm"
    assert result["description_placeholders"] == {"addon": "RuView"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY and result["result"].unique_id == INSTANCE_ID
    assert result["data"][CONF_PORT] == addon.port and result["data"][CONF_TOKEN] == TOKEN


async def test_discovery_moves_an_existing_entry_to_the_new_address(hass: HomeAssistant, addon: Addon,
                                                                   tmp_path: Path) -> None:
    await addon.start()
    entry = hub_entry(addon)
    entry.add_to_hass(hass)
    old_port = addon.port
    await addon.stop()
    addon.port = 0
    await addon.start()  # same data folder, so the same installation, on another port
    assert addon.port != old_port
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO},
                                                       data=discovery(addon))
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "already_configured"
    assert entry.data[CONF_PORT] == addon.port
    await hass.async_block_till_done()


async def test_discovery_of_an_addon_that_does_not_answer_or_refuses_its_token(hass: HomeAssistant,
                                                                                addon: Addon) -> None:
    await addon.start()
    refused = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO},
                                                        data=discovery(addon, token="stale"))
    assert refused["type"] is FlowResultType.ABORT and refused["reason"] == "invalid_auth"
    gone = discovery(addon)
    await addon.stop()
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_HASSIO}, data=gone)
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "cannot_connect"


async def test_reconfigure_to_a_new_address_but_not_to_another_addon(hass: HomeAssistant, addon: Addon,
                                                                     tmp_path: Path) -> None:
    await addon.start()
    entry = await set_up(hass, hub_entry(addon))
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {**addon.config, CONF_PORT: 9})
    assert result["errors"] == {"base": "cannot_connect"}

    async with addon_running(tmp_path / "other", instance_id="another-installation") as other:
        result = await hass.config_entries.flow.async_configure(result["flow_id"], other.config)
        assert result["type"] is FlowResultType.ABORT and result["reason"] == "another_addon"

    await addon.stop()
    addon.port = 0
    await addon.start()  # the add-on moved to another port
    result = await entry.start_reconfigure_flow(hass)
    moved = {CONF_HOST: addon.config[CONF_HOST], CONF_PORT: addon.port}  # the token left empty: kept
    result = await hass.config_entries.flow.async_configure(result["flow_id"], moved)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PORT] == addon.port and entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_TOKEN] == TOKEN


async def test_a_refused_token_asks_for_the_new_one(hass: HomeAssistant, addon: Addon) -> None:
    await addon.start()
    entry = await set_up(hass, hub_entry(addon))
    entry_with_old_token = {**entry.data, CONF_TOKEN: "old"}
    hass.config_entries.async_update_entry(entry, data=entry_with_old_token)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]

    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TOKEN: "still-wrong"})
    assert result["type"] is FlowResultType.FORM and result["errors"] == {CONF_TOKEN: "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_TOKEN: TOKEN})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reauth_successful"
    assert entry.data[CONF_TOKEN] == TOKEN and entry.state is ConfigEntryState.LOADED
