"""Typed async client for the RuView add-on's API (``/api/v1``).

It needs nothing but aiohttp, so HACS can install the integration alone, and it takes the
caller's ``aiohttp.ClientSession`` (Home Assistant's shared one in the integration). The
service's own tests use this client too, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict, cast

import aiohttp

DEFAULT_PORT = 8099
REQUEST_TIMEOUT_S = 10.0


class RuViewError(Exception):
    """Anything that went wrong talking to the add-on."""


class RuViewConnectionError(RuViewError):
    """The add-on cannot be reached (or answered garbage)."""


class RuViewAuthenticationError(RuViewError):
    """The token was refused."""


class RuViewRequestError(RuViewError):
    """The add-on refused the request (4xx); ``message`` says why, in words for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RuViewNotFoundError(RuViewRequestError):
    """No such room, anchor or job."""


class RuViewConflictError(RuViewRequestError):
    """The room is busy (another job runs) or the request clashes with its state."""


class Reading(TypedDict):
    value: Any
    confidence: float
    label: str


class RoomState(TypedDict, total=False):
    t: float
    presence: Reading
    motion: Reading
    posture: Reading
    breathing_bpm: Reading
    heart_bpm: Reading
    restlessness: Reading
    anomaly: Reading
    zone: Reading  # 1..5 between the room's first and last node; null with one node or nobody present
    breathing_pause: Reading  # true while a breathing pause is under way (with duration_s); its end is an event
    vetoed: bool
    veto_reason: str | None
    stale: bool
    stale_reason: str | None
    baseline_id: str | None


class RoomStateMessage(TypedDict):
    room: str
    status: str
    online: bool
    state: RoomState | None
    trained: NotRequired[bool]  # the room has a bank (older add-ons do not say)


class Room(TypedDict, total=False):
    room_id: str
    name: str
    nodes: list[int]
    area: str | None
    status: str  # untrained / enrolling / training / ready / stale / needs_attention
    stale: bool
    stale_reason: str | None
    attention: str | None  # why the room needs a person (a damaged file), with status needs_attention
    baseline_id: str | None
    anchors: dict[str, str]  # anchor -> accepted / skipped / pending
    rejections: dict[str, list[str]]
    bank: dict[str, Any] | None
    online: bool
    job: str | None


class Job(TypedDict, total=False):
    job_id: str
    room: str
    kind: str  # baseline / anchor / train / recalibrate / learn
    anchor: str | None
    state: str  # queued / running / succeeded / failed / cancelled
    progress: float
    seconds_left: float | None
    result: dict[str, Any] | None
    error: str | None


class LabelEvent(TypedDict, total=False):
    """One reading of one of the room's own sensors (``ruview_core.supervision.events``)."""

    t: float  # seconds since the epoch
    source: str
    kind: str  # pir / reed / vibration (value 0/1) / temperature (°C) / humidity (% RH)
    value: float
    entity_id: str


class LabelsStored(TypedDict):
    room: str
    stored: int
    received_since_start: int


class Health(TypedDict, total=False):
    status: str
    version: str
    instance_id: str  # this installation's id (kept in its data folder)
    uptime_s: float
    nodes_seen: int
    rooms: int
    udp_port: int


FINAL_JOB_STATES = ("succeeded", "failed", "cancelled")
_ERRORS: dict[int, type[RuViewRequestError]] = {404: RuViewNotFoundError, 409: RuViewConflictError}


@dataclass
class RuViewClient:
    session: aiohttp.ClientSession
    host: str
    port: int = DEFAULT_PORT
    token: str = ""

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/api/v1"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                async with self.session.request(method, f"{self.base_url}{path}", json=body,
                                                headers=self._headers()) as response:
                    if response.status == 204:
                        return None
                    text = await response.text()
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise RuViewConnectionError(f"cannot reach the RuView add-on at {self.base_url}: {error}") from error
        try:
            data = json.loads(text) if text else None
        except json.JSONDecodeError as error:
            raise RuViewConnectionError(f"{self.base_url}{path} did not answer JSON") from error
        if response.status == 401:
            raise RuViewAuthenticationError("the RuView add-on refused the token")
        if response.status >= 400:
            refusal = data if isinstance(data, dict) else {}
            kind = _ERRORS.get(response.status, RuViewRequestError)
            raise kind(response.status, str(refusal.get("error", "error")), str(refusal.get("message", text)))
        return data

    # -- service -------------------------------------------------------------------------------

    async def health(self) -> Health:
        return cast(Health, await self._request("GET", "/health"))

    async def nodes(self) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], (await self._request("GET", "/nodes"))["nodes"])

    async def openapi(self) -> dict[str, Any]:
        return cast(dict[str, Any], await self._request("GET", "/openapi.json"))

    # -- rooms ---------------------------------------------------------------------------------

    async def rooms(self) -> list[Room]:
        return cast(list[Room], (await self._request("GET", "/rooms"))["rooms"])

    async def room(self, room_id: str) -> Room:
        return cast(Room, await self._request("GET", f"/rooms/{room_id}"))

    async def create_room(self, name: str, *, room_id: str | None = None, nodes: Sequence[int] = (),
                          area: str | None = None) -> Room:
        body: dict[str, Any] = {"name": name, "nodes": list(nodes), "area": area}
        if room_id is not None:
            body["room_id"] = room_id
        return cast(Room, await self._request("POST", "/rooms", body))

    async def update_room(self, room_id: str, **changes: Any) -> Room:
        return cast(Room, await self._request("PATCH", f"/rooms/{room_id}", changes))

    async def delete_room(self, room_id: str) -> None:
        await self._request("DELETE", f"/rooms/{room_id}")

    async def release_integration(self) -> None:
        """Tell the add-on the integration is gone: its MQTT discovery may show the rooms again."""
        await self._request("DELETE", "/integration")

    async def room_state(self, room_id: str) -> RoomStateMessage:
        return cast(RoomStateMessage, await self._request("GET", f"/rooms/{room_id}/state"))

    async def post_labels(self, room_id: str, events: Sequence[LabelEvent]) -> LabelsStored:
        """Store label events for the room (all or nothing: one invalid event refuses the batch)."""
        return cast(LabelsStored, await self._request("POST", f"/rooms/{room_id}/labels", {"events": list(events)}))

    async def label_stats(self, room_id: str) -> dict[str, Any]:
        return cast(dict[str, Any], await self._request("GET", f"/rooms/{room_id}/labels/stats"))

    # -- jobs ----------------------------------------------------------------------------------

    async def start_baseline(self, room_id: str, seconds: float | None = None) -> Job:
        return cast(Job, await self._request("POST", f"/rooms/{room_id}/baseline", _given(seconds=seconds)))

    async def recalibrate(self, room_id: str, seconds: float | None = None) -> Job:
        return cast(Job, await self._request("POST", f"/rooms/{room_id}/recalibrate", _given(seconds=seconds)))

    async def start_anchor(self, room_id: str, anchor: str, *, seconds: float | None = None,
                           countdown: float | None = None, replace: bool = False, skip: bool = False) -> Job:
        body = _given(seconds=seconds, countdown=countdown, replace=replace or None, skip=skip or None)
        return cast(Job, await self._request("POST", f"/rooms/{room_id}/anchors/{anchor}", body))

    async def start_training(self, room_id: str, specialists: Sequence[str] | None = None) -> Job:
        body = _given(specialists=list(specialists) if specialists else None)
        return cast(Job, await self._request("POST", f"/rooms/{room_id}/train", body))

    async def start_learning(self, room_id: str) -> Job:
        """Update the room's presence and motion specialists from its label events (a job whose
        result says whether the new bank version was kept, and why)."""
        return cast(Job, await self._request("POST", f"/rooms/{room_id}/learn", {}))

    async def rollback_bank(self, room_id: str, version: int | None = None) -> dict[str, Any]:
        """Make an earlier bank version the room's bank (default: the current one's parent)."""
        return cast(dict[str, Any], await self._request("POST", f"/rooms/{room_id}/bank/rollback",
                                                        _given(version=version)))

    async def job(self, job_id: str) -> Job:
        return cast(Job, await self._request("GET", f"/jobs/{job_id}"))

    async def cancel_job(self, job_id: str) -> Job:
        return cast(Job, await self._request("DELETE", f"/jobs/{job_id}"))

    async def wait_for_job(self, job_id: str, *, poll_s: float = 0.5, timeout_s: float = 900.0) -> Job:
        """Poll until the job ends (the WebSocket pushes progress; this is the simple way)."""
        async with asyncio.timeout(timeout_s):
            while True:
                job = await self.job(job_id)
                if job["state"] in FINAL_JOB_STATES:
                    return job
                await asyncio.sleep(poll_s)

    # -- push ----------------------------------------------------------------------------------

    async def subscribe(self, rooms: Sequence[str] | None = None, *,
                        integration: bool = False) -> AsyncIterator[dict[str, Any]]:
        """Messages pushed by the add-on (``state``, ``job``, ``node``, ``stale``, ...) until the
        connection drops (raises :class:`RuViewConnectionError`); the caller reconnects."""
        try:
            async with self.session.ws_connect(f"{self.base_url}/ws", headers=self._headers(),
                                               heartbeat=30.0) as ws:
                await ws.send_json({"type": "subscribe", "rooms": None if rooms is None else list(rooms),
                                    "integration": integration})
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        yield cast(dict[str, Any], json.loads(message.data))
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
        except aiohttp.WSServerHandshakeError as error:
            if error.status == 401:
                raise RuViewAuthenticationError("the RuView add-on refused the token") from error
            raise RuViewConnectionError(f"WebSocket refused: {error}") from error
        except (aiohttp.ClientError, OSError) as error:
            raise RuViewConnectionError(f"lost the RuView add-on at {self.base_url}: {error}") from error
        raise RuViewConnectionError(f"the RuView add-on at {self.base_url} closed the connection")


def _given(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
