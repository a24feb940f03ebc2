"""The home's own sensors as weak labels: state changes of the entities picked for each room,
streamed to the add-on in batches.

A room's subentry says which entities are its motion sensors (``pir``), door and window contacts
(``reed``), vibration sensors, thermometers and hygrometers. Each change of their state becomes a
label event (``ruview_core.supervision.events``) on the add-on's clock, which Home Assistant shares;
every ``LABEL_BATCH_SECONDS`` the pending events of each room go out, ``LABEL_MAX_BATCH`` a
request (the add-on takes bodies of at most 64 KiB). Unknown and
unavailable states say nothing about the room and are never sent; neither are readings the add-on
would refuse (a batch is all or nothing). While the add-on cannot be reached the events wait, up
to ``LABEL_MAX_PENDING`` per room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON, UnitOfTemperature
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import TemperatureConverter

from .api import LabelEvent, RuViewClient, RuViewError, RuViewRequestError
from .const import (
    CONF_LABEL_SENSORS,
    CONF_ROOM_ID,
    LABEL_BATCH_SECONDS,
    LABEL_DOMAINS,
    LABEL_KINDS,
    LABEL_MAX_BATCH,
    LABEL_MAX_PENDING,
    LABEL_SOURCE,
    LABEL_VALUE_RANGE,
    LOGGER,
    SUBENTRY_ROOM,
)

type LabelSensors = dict[str, dict[str, list[str]]]  # room id -> label kind -> entity ids


def label_sensors(subentries: Mapping[str, Any]) -> LabelSensors:
    """Each room's picked entities, from the entry's subentries (rooms without any left out)."""
    rooms: LabelSensors = {}
    for subentry in subentries.values():
        if subentry.subentry_type != SUBENTRY_ROOM:
            continue
        picked = subentry.data.get(CONF_LABEL_SENSORS) or {}
        chosen = {kind: list(picked[kind]) for kind in LABEL_KINDS if picked.get(kind)}
        if chosen:
            rooms[str(subentry.data[CONF_ROOM_ID])] = chosen
    return rooms


def label_value(kind: str, state: State) -> float | None:
    """The event value of an entity's state, or None when it says nothing (unknown, unavailable,
    not a number, outside what the add-on accepts)."""
    if LABEL_DOMAINS[kind] == "binary_sensor":
        return {STATE_ON: 1.0, STATE_OFF: 0.0}.get(state.state)
    try:
        value = float(state.state)
    except ValueError:
        return None
    unit = state.attributes.get("unit_of_measurement")
    if kind == "temperature" and unit in TemperatureConverter.VALID_UNITS and unit != UnitOfTemperature.CELSIUS:
        value = TemperatureConverter.convert(value, unit, UnitOfTemperature.CELSIUS)
    low, high = LABEL_VALUE_RANGE[kind]
    return value if low <= value <= high else None  # NaN falls out here too


class LabelStreamer:
    """Listens to the picked entities while the entry is loaded and posts their changes."""

    def __init__(self, hass: HomeAssistant, client: RuViewClient) -> None:
        self.hass = hass
        self.client = client
        self.sensors: LabelSensors = {}
        self.pending: dict[str, list[LabelEvent]] = {}
        self.dropped = 0  # events lost to the pending cap while the add-on was away
        self._kinds: dict[str, list[tuple[str, str]]] = {}  # entity id -> [(room, kind)]
        self._unsubscribe: list[Callable[[], None]] = []
        self._lock = asyncio.Lock()

    @callback
    def async_track(self, sensors: LabelSensors) -> None:
        """(Re)subscribe to ``sensors``; each entity's current state is sent as a first event,
        since a motion sensor's or a door's state holds until it changes."""
        self._stop_tracking()
        self.sensors = sensors
        self._kinds = {}
        for room_id, kinds in sensors.items():
            for kind, entity_ids in kinds.items():
                for entity_id in entity_ids:
                    self._kinds.setdefault(entity_id, []).append((room_id, kind))
        if not self._kinds:
            return
        now = dt_util.utcnow().timestamp()
        for entity_id in self._kinds:
            state = self.hass.states.get(entity_id)
            if state is not None:
                self._add(entity_id, state, now)
        self._unsubscribe = [
            async_track_state_change_event(self.hass, list(self._kinds), self._changed),
            async_track_time_interval(self.hass, self._flush_soon, timedelta(seconds=LABEL_BATCH_SECONDS),
                                      name="ruview label events"),
        ]

    async def async_shutdown(self) -> None:
        """Stop listening and send what is still pending (once: what fails now is lost)."""
        self._stop_tracking()
        await self.async_flush()

    @callback
    def _stop_tracking(self) -> None:
        while self._unsubscribe:
            self._unsubscribe.pop()()

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or (old is not None and old.state == new.state):
            return  # removed, or only its attributes changed
        self._add(event.data["entity_id"], new, new.last_changed.timestamp())

    @callback
    def _add(self, entity_id: str, state: State, t: float) -> None:
        for room_id, kind in self._kinds.get(entity_id, []):
            value = label_value(kind, state)
            if value is None:
                continue
            queue = self.pending.setdefault(room_id, [])
            queue.append(LabelEvent(t=t, source=LABEL_SOURCE, kind=kind, value=value, entity_id=entity_id))
            if len(queue) > LABEL_MAX_PENDING:
                del queue[0]
                self.dropped += 1

    @callback
    def _flush_soon(self, _now: Any) -> None:
        self.hass.async_create_task(self.async_flush(), "ruview label events", eager_start=True)

    async def async_flush(self) -> None:
        """Post every room's pending events; those the add-on could not take yet are kept."""
        async with self._lock:
            for room_id in list(self.pending):
                events = self.pending.pop(room_id)
                sent = 0
                try:
                    while sent < len(events):
                        await self.client.post_labels(room_id, events[sent:sent + LABEL_MAX_BATCH])
                        sent += LABEL_MAX_BATCH
                except RuViewRequestError as error:  # not a room of the add-on (any more): nobody to tell
                    LOGGER.warning("RuView: the add-on refused %d label events for room %s: %s",
                                   len(events) - sent, room_id, error.message)
                except RuViewError as error:
                    LOGGER.debug("RuView: label events for room %s wait for the add-on: %s", room_id, error)
                    kept = events[sent:] + self.pending.get(room_id, [])
                    self.dropped += max(len(kept) - LABEL_MAX_PENDING, 0)
                    self.pending[room_id] = kept[-LABEL_MAX_PENDING:]
