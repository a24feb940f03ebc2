"""Label events from the integration: ``POST /api/v1/rooms/{room}/labels`` and its statistics.

The integration streams the state changes of the entities the user picked for a room (motion,
door, vibration, temperature, humidity) as a JSON list of events in the format of
:mod:`ruview_core.supervision.events` (also accepted: ``{"events": [...]}``). Every event is
validated; if any is invalid nothing is stored and the answer is a 400 listing each bad event
(``{"error": "bad_request", "message": ..., "invalid": [{"index", "error"}]}``), so a batch is
all or nothing. Valid batches are appended to ``rooms/ROOM/labels.jsonl`` and counted; past
``LABELS_MAX_BYTES`` the file is cut back to its last ``LABELS_KEEP_SECONDS`` (and half the size),
so a home's sensors never fill the card. An event stamped more than ``LABELS_KEEP_SECONDS`` ago
or ``LABELS_AHEAD_SECONDS`` ahead of the add-on's clock is invalid.
``GET /api/v1/rooms/{room}/labels/stats`` reads the file back: counts per kind and source, the
time span, malformed lines.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from aiohttp import web

from ..storage import room_dir
from ..supervision.events import (
    LabelEventError,
    append_events,
    compact_events,
    parse_events,
    read_events,
    summarize,
)
from .body import parse_json
from .registry import RegistryError

LABELS_FILE = "labels.jsonl"
LABELS_MAX_BYTES = 8 * 1024 * 1024
LABELS_KEEP_SECONDS = 7 * 86400.0
# Events are stamped on the add-on's clock (Home Assistant shares it): one from further ahead
# is a wrong unit or clock, and one older than what the file keeps would only be cut again.
LABELS_AHEAD_SECONDS = 3600.0
RECEIVED: web.AppKey[Counter] = web.AppKey("label_events_received", Counter)
# One writer per room at a time: a compaction rewrites the file and must not lose an append.
WRITERS: web.AppKey[dict[str, asyncio.Lock]] = web.AppKey("label_writers", dict)


def labels_path(data_dir, room: str):
    return room_dir(data_dir, room) / LABELS_FILE


def _service(request: web.Request):
    from .http import SERVICE  # http.py imports this module's add_routes: import lazily

    return request.app[SERVICE]


def _room(request: web.Request) -> str:
    from .http import _room as checked_room

    return checked_room(request)


async def post_labels(request: web.Request) -> web.Response:
    service, room = _service(request), _room(request)
    body = parse_json(await request.read() or b"null")
    if isinstance(body, dict) and set(body) == {"events"}:
        body = body["events"]
    try:
        now = time.time()
        events, invalid = parse_events(body, (now - LABELS_KEEP_SECONDS, now + LABELS_AHEAD_SECONDS))
    except LabelEventError as error:
        raise RegistryError(str(error)) from None
    if invalid:
        return web.json_response({"error": "bad_request", "invalid": invalid[:50],
                                  "message": f"{len(invalid)} of {len(body)} events are invalid; nothing was stored"},
                                 status=400)
    path = labels_path(service.config.data_dir, room)
    # A file write and fsync: keep it off the event loop.
    async with request.app[WRITERS].setdefault(room, asyncio.Lock()):
        stored = await asyncio.to_thread(_store, path, events)
    counter = request.app[RECEIVED]
    counter[room] += stored
    return web.json_response({"room": room, "stored": stored, "received_since_start": counter[room]})


def _store(path, events) -> int:
    stored = append_events(path, events)
    compact_events(path, LABELS_MAX_BYTES, LABELS_KEEP_SECONDS, now=time.time())
    return stored


async def label_stats(request: web.Request) -> web.Response:
    service, room = _service(request), _room(request)
    path = labels_path(service.config.data_dir, room)
    malformed: Counter[str] = Counter()
    events = await asyncio.to_thread(read_events, path, malformed) if path.exists() else []
    return web.json_response({"room": room, **summarize(events), "malformed_lines": sum(malformed.values()),
                              "received_since_start": request.app[RECEIVED][room]})


def add_routes(app: web.Application, api_prefix: str = "/api/v1") -> None:
    """Register the label endpoints on the service's app (before it starts)."""
    app[RECEIVED] = Counter()
    app[WRITERS] = {}
    app.router.add_post(f"{api_prefix}/rooms/{{room}}/labels", post_labels)
    app.router.add_get(f"{api_prefix}/rooms/{{room}}/labels/stats", label_stats)
