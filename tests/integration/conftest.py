"""Home Assistant with the RuView integration, and the real add-on service beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from unittest.mock import PropertyMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from custom_components.ruview.const import CONF_AREA_ID, CONF_NODES, CONF_ROOM_ID, DOMAIN, SUBENTRY_ROOM

from ._addon import INSTANCE_ID, Addon


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None, socket_enabled: None) -> None:
    """Let Home Assistant load custom_components/ruview, and the add-on open its sockets (the
    plugin still lets them reach nothing but 127.0.0.1)."""


@pytest.fixture
async def addon(tmp_path: Path) -> AsyncIterator[Addon]:
    """The add-on, not started yet: a test prepares its rooms, then starts it."""
    addon = Addon(tmp_path / "addon")
    yield addon
    await addon.stop()


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    with patch("homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
               return_value=True, new_callable=PropertyMock):
        yield


def room_subentry(room_id: str, title: str, nodes: tuple[int, ...] = (1, 2)) -> ConfigSubentryData:
    return ConfigSubentryData(data={CONF_ROOM_ID: room_id, CONF_AREA_ID: None, CONF_NODES: list(nodes)},
                              subentry_type=SUBENTRY_ROOM, title=title, unique_id=room_id)


def hub_entry(addon: Addon, *rooms: ConfigSubentryData) -> MockConfigEntry:
    return MockConfigEntry(domain=DOMAIN, title="RuView", unique_id=INSTANCE_ID, data=addon.config,
                           subentries_data=list(rooms))


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def rendered(hass: HomeAssistant, category: str, key: str, placeholders: dict[str, str]) -> str:
    """A message as Home Assistant shows it: the integration's English text with its placeholders."""
    texts = await async_get_translations(hass, "en", category, [DOMAIN])
    return texts[f"component.{DOMAIN}.{category}.{key}"].format(**placeholders)
