"""The add-on's rooms and nodes, pushed over its WebSocket into one coordinator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import (
    Health,
    RoomState,
    RoomStateMessage,
    RuViewAuthenticationError,
    RuViewClient,
    RuViewError,
)
from .const import DOMAIN, LOGGER, RECONNECT_MAX_SECONDS, RECONNECT_MIN_SECONDS
from .labels import LabelStreamer
from .repairs import async_update_attention_issue, async_update_room_issue, room_issue_kind


@dataclass
class RuViewData:
    """What the add-on last said: each room's status and fused state, each node's liveness."""

    rooms: dict[str, RoomStateMessage] = field(default_factory=dict)
    nodes: dict[int, bool] = field(default_factory=dict)
    stale_reasons: dict[str, str | None] = field(default_factory=dict)
    attention: dict[str, str | None] = field(default_factory=dict)  # why a room's files need a person


@dataclass
class RuViewRuntimeData:
    client: RuViewClient
    coordinator: RuViewCoordinator
    health: Health
    rooms: dict[str, str]  # room id -> name, of the subentries this setup made entities for
    labels: LabelStreamer  # the rooms' picked sensors, streamed to the add-on as label events


type RuViewConfigEntry = ConfigEntry[RuViewRuntimeData]


class RuViewCoordinator(DataUpdateCoordinator[RuViewData]):
    """Fetches the picture once, then keeps it current from the add-on's WebSocket.

    Nothing is polled: a dropped connection marks every entity unavailable (logged once), the
    listener reconnects with a growing backoff, and the picture is fetched again on success.
    """

    config_entry: RuViewConfigEntry

    def __init__(self, hass: HomeAssistant, entry: RuViewConfigEntry, client: RuViewClient) -> None:
        super().__init__(hass, LOGGER, config_entry=entry, name=DOMAIN, update_interval=None)
        self.client = client
        self._room_listeners: dict[str, list[Callable[[], None]]] = {}
        self._event_listeners: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self._room_online: dict[str, bool] = {}
        self._issues: dict[str, tuple[str | None, str | None]] = {}  # room -> (kind, reason) its repair shows
        self._attention: dict[str, str | None] = {}  # room -> the reason its "needs attention" issue shows
        # not last_update_success: the add-on's first state messages can beat its "subscribed" reply
        self._connection_lost = False

    async def _async_update_data(self) -> RuViewData:
        try:
            rooms = await self.client.rooms()
            nodes = await self.client.nodes()
        except RuViewAuthenticationError as error:
            raise ConfigEntryAuthFailed(translation_domain=DOMAIN, translation_key="invalid_auth") from error
        except RuViewError as error:
            raise UpdateFailed(translation_domain=DOMAIN, translation_key="cannot_connect",
                               translation_placeholders={"error": str(error)}) from error
        known = self.data.rooms if self.data is not None else {}
        data = RuViewData(
            # a state pushed since the (re)connection is fresh; the summary carries none
            rooms={room["room_id"]: RoomStateMessage(
                room=room["room_id"], status=room.get("status", "untrained"), online=room.get("online", False),
                state=known[room["room_id"]]["state"] if room["room_id"] in known else None,
                trained=room.get("bank") is not None) for room in rooms},
            nodes={int(node["node_id"]): bool(node.get("online")) for node in nodes},
            stale_reasons={room["room_id"]: room.get("stale_reason") for room in rooms},
            attention={room["room_id"]: room.get("attention") for room in rooms},
        )
        for room_id, message in data.rooms.items():
            self._track(room_id, message, data.stale_reasons.get(room_id))
            self._track_attention(room_id, data.attention.get(room_id))
        return data

    # -- push ----------------------------------------------------------------------------------

    @callback
    def async_start_listening(self) -> None:
        self.config_entry.async_create_background_task(self.hass, self._listen(), f"{DOMAIN}-websocket")

    async def _listen(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            try:
                async for message in self.client.subscribe(None, integration=True):
                    if message.get("type") == "subscribed":
                        await self._resync()
                        delay = RECONNECT_MIN_SECONDS
                    else:
                        self._handle(message)
            except RuViewAuthenticationError as error:
                self.async_set_update_error(error)
                self.config_entry.async_start_reauth(self.hass)
                return
            except RuViewError as error:
                self._lost(error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _resync(self) -> None:
        try:
            health = await self.client.health()
            data = await self._async_update_data()
        except (UpdateFailed, ConfigEntryAuthFailed) as error:
            raise RuViewError(str(error)) from error
        self._follow_version(health)
        if self._connection_lost:
            self._connection_lost = False
            LOGGER.info("Connected to the RuView add-on again")
        self.async_set_updated_data(data)

    @callback
    def _follow_version(self, health: Health) -> None:
        """The add-on reconnects after an update: its device shows the version now running."""
        runtime = self.config_entry.runtime_data
        if health.get("version") == runtime.health.get("version"):
            return
        runtime.health = health
        devices = dr.async_get(self.hass)
        hub = devices.async_get_device({(DOMAIN, str(self.config_entry.unique_id))})
        if hub is not None:
            devices.async_update_device(hub.id, sw_version=health.get("version"))

    @callback
    def _lost(self, error: Exception) -> None:
        self._connection_lost = True
        if self.data is not None:
            for message in self.data.rooms.values():
                message["state"] = None  # never show a reading from before the gap
        self.async_set_update_error(error)

    @callback
    def _handle(self, message: dict[str, Any]) -> None:
        """One pushed message: only what it is about hears of it (a room's state: that room's
        entities), so a message of one room never rewrites the others."""
        data = self.data
        kind = message.get("type")
        if kind == "state":
            room_id = str(message["room"])
            state = cast(RoomState | None, message.get("state"))
            status = str(message.get("status", "untrained"))
            snapshot = RoomStateMessage(room=room_id, status=status, online=bool(message.get("online")), state=state,
                                        trained=bool(message.get("trained", status in ("ready", "stale"))))
            data.rooms[room_id] = snapshot
            self._track(room_id, snapshot, data.stale_reasons.get(room_id))
            self._update_room_listeners(room_id)
        elif kind == "stale":
            room_id = str(message["room"])
            data.stale_reasons[room_id] = message.get("reason") if message.get("stale") else None
            if room_id in data.rooms:
                self._track(room_id, data.rooms[room_id], data.stale_reasons[room_id])
        elif kind == "attention":
            room_id = str(message["room"])
            data.attention[room_id] = message.get("reason")
            self._track_attention(room_id, data.attention[room_id])
        elif kind == "node":
            data.nodes[int(message["node_id"])] = bool(message.get("online"))
            self.async_update_listeners()  # the nodes' entities, and new nodes' devices
        elif kind == "event":
            event = message.get("event")
            if isinstance(event, dict):
                for fire in list(self._event_listeners.get(str(message["room"]), ())):
                    fire(event)
        elif kind == "room_removed":
            room_id = str(message["room"])
            data.rooms.pop(room_id, None)
            self._track(room_id, None, None)
            self._track_attention(room_id, None)
            self._update_room_listeners(room_id)
        # job progress is for the flows, which poll their own jobs

    @callback
    def async_add_room_listener(self, room_id: str, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` whenever a pushed message changes the room ``room_id``."""
        return _listen(self._room_listeners.setdefault(room_id, []), update)

    @callback
    def async_add_event_listener(self, room_id: str, fire: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``fire`` with each event the add-on pushes for the room ``room_id`` (once per event)."""
        return _listen(self._event_listeners.setdefault(room_id, []), fire)

    @callback
    def _update_room_listeners(self, room_id: str) -> None:
        for update in list(self._room_listeners.get(room_id, ())):
            update()

    @callback
    def _track(self, room_id: str, message: RoomStateMessage | None, stale_reason: str | None) -> None:
        """Log a room's nodes going away and coming back once each; raise or clear its repair
        (enroll it again when STALE, enroll it when it never was)."""
        online = message is not None and message["online"]
        if self._room_online.get(room_id, True) != online:
            if online:
                LOGGER.info("RuView room %s: its nodes send frames again", room_id)
            else:
                LOGGER.warning("RuView room %s is unavailable: no frames from its nodes", room_id)
        self._room_online[room_id] = online
        kind = None if message is None else room_issue_kind(message["status"], message.get("trained", False))
        issue = (kind, stale_reason if message is not None and message["status"] == "stale" else None)
        if self._issues.get(room_id) != issue:
            self._issues[room_id] = issue
            async_update_room_issue(self.hass, self.config_entry, room_id, *issue)

    @callback
    def _track_attention(self, room_id: str, reason: str | None) -> None:
        if self._attention.get(room_id) != reason:
            self._attention[room_id] = reason
            async_update_attention_issue(self.hass, self.config_entry, room_id, reason)

    # -- what entities ask ---------------------------------------------------------------------

    def room(self, room_id: str) -> RoomStateMessage | None:
        return self.data.rooms.get(room_id) if self.data is not None else None

    @callback
    def async_add_node_listener(self, on_new: Callable[[list[int]], None]) -> Callable[[], None]:
        """Call ``on_new`` with node ids not seen before whenever the coordinator updates."""
        seen: set[int] = set()

        @callback
        def check() -> None:
            new = sorted(set(self.data.nodes) - seen)
            if new:
                seen.update(new)
                on_new(new)

        check()
        return self.async_add_listener(check)


def _listen[T](listeners: list[T], listener: T) -> Callable[[], None]:
    """Add ``listener`` to ``listeners``; returns what removes it again."""
    listeners.append(listener)

    @callback
    def remove() -> None:
        listeners.remove(listener)

    return remove
