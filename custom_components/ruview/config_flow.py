"""Connect Home Assistant to the RuView add-on: found by the Supervisor, or entered by hand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import voluptuous as vol

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, ConfigSubentryFlow
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.service_info.hassio import HassioServiceInfo

from .api import DEFAULT_PORT, RuViewAuthenticationError, RuViewClient, RuViewError
from .const import CONF_TOKEN, DOMAIN, LOGGER, SUBENTRY_ROOM
from .room_flow import RoomSubentryFlowHandler

TITLE = "RuView"


def _schema(host: str = "", port: int = DEFAULT_PORT, *, token_required: bool = True) -> vol.Schema:
    """Address and token; reconfiguring, an empty token keeps the one in use."""
    token = vol.Required(CONF_TOKEN) if token_required else vol.Optional(CONF_TOKEN)
    return vol.Schema({
        vol.Required(CONF_HOST, default=host): TextSelector(TextSelectorConfig(autocomplete="off")),
        vol.Required(CONF_PORT, default=port): NumberSelector(NumberSelectorConfig(
            min=1, max=65535, step=1, mode=NumberSelectorMode.BOX)),
        token: TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
    })


class RuViewConfigFlow(ConfigFlow, domain=DOMAIN):
    """The hub: one entry per add-on installation (its instance id is the unique id)."""

    VERSION = 1
    _discovered: dict[str, Any]

    @classmethod
    @callback
    def async_get_supported_subentry_types(cls, config_entry: ConfigEntry) -> dict[str, type[ConfigSubentryFlow]]:
        return {SUBENTRY_ROOM: RoomSubentryFlowHandler}

    async def _connect(self, data: Mapping[str, Any]) -> tuple[str | None, dict[str, str]]:
        """The add-on's instance id, or the errors to show: reachable, and the token accepted."""
        client = RuViewClient(async_get_clientsession(self.hass), data[CONF_HOST], int(data[CONF_PORT]),
                              data[CONF_TOKEN])
        try:
            health = await client.health()
            await client.rooms()  # /health is public: this one proves the token
        except RuViewAuthenticationError:
            return None, {CONF_TOKEN: "invalid_auth"}
        except RuViewError as error:
            LOGGER.debug("RuView add-on at %s:%s: %s", data[CONF_HOST], data[CONF_PORT], error)
            return None, {"base": "cannot_connect"}
        instance_id = health.get("instance_id")
        if not instance_id:
            return None, {"base": "addon_too_old"}
        return instance_id, {}

    @staticmethod
    def _entry_data(data: Mapping[str, Any]) -> dict[str, Any]:
        return {CONF_HOST: data[CONF_HOST], CONF_PORT: int(data[CONF_PORT]), CONF_TOKEN: data[CONF_TOKEN]}

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The add-on's address and its token (in the add-on's log and its data folder)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            instance_id, errors = await self._connect(user_input)
            if instance_id is not None:
                await self.async_set_unique_id(instance_id, raise_on_progress=False)
                self._abort_if_unique_id_configured(updates=self._entry_data(user_input))
                return self.async_create_entry(title=TITLE, data=self._entry_data(user_input))
        return self.async_show_form(step_id="user", data_schema=self.add_suggested_values_to_schema(
            _schema(), user_input or {}), errors=errors)

    async def async_step_hassio(self, discovery_info: HassioServiceInfo) -> ConfigFlowResult:
        """The add-on announced itself through the Supervisor (host, port and token)."""
        config = discovery_info.config
        self._discovered = {CONF_HOST: config[CONF_HOST], CONF_PORT: int(config[CONF_PORT]),
                            CONF_TOKEN: config[CONF_TOKEN], "name": discovery_info.name}
        instance_id, errors = await self._connect(self._discovered)
        if instance_id is None:
            return self.async_abort(reason=errors.get("base", "invalid_auth"))
        await self.async_set_unique_id(instance_id)
        self._abort_if_unique_id_configured(updates=self._entry_data(self._discovered))
        self.context["title_placeholders"] = {"name": discovery_info.name}
        return await self.async_step_hassio_confirm()

    async def async_step_hassio_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        if user_input is not None:
            return self.async_create_entry(title=TITLE, data=self._entry_data(self._discovered))
        return self.async_show_form(step_id="hassio_confirm",
                                    description_placeholders={"addon": self._discovered["name"]})

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new address or token for the same add-on installation."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**user_input, CONF_TOKEN: user_input.get(CONF_TOKEN) or entry.data[CONF_TOKEN]}
            instance_id, errors = await self._connect(data)
            if instance_id is not None:
                await self.async_set_unique_id(instance_id)
                self._abort_if_unique_id_mismatch(reason="another_addon")
                return self.async_update_reload_and_abort(entry, data_updates=self._entry_data(data))
        shown = {key: value for key, value in (user_input or {}).items() if key != CONF_TOKEN}
        return self.async_show_form(step_id="reconfigure", data_schema=self.add_suggested_values_to_schema(
            _schema(entry.data[CONF_HOST], entry.data[CONF_PORT], token_required=False), shown), errors=errors)

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The add-on refused the token (it was regenerated): ask for the new one."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {**entry.data, CONF_TOKEN: user_input[CONF_TOKEN]}
            instance_id, errors = await self._connect(data)
            if instance_id is not None:
                await self.async_set_unique_id(instance_id)
                self._abort_if_unique_id_mismatch(reason="another_addon")
                return self.async_update_reload_and_abort(entry, data_updates={CONF_TOKEN: user_input[CONF_TOKEN]})
        return self.async_show_form(step_id="reauth_confirm", data_schema=vol.Schema({
            vol.Required(CONF_TOKEN): TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD)),
        }), errors=errors)
