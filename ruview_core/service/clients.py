"""WebSocket subscribers: each gets its own bounded outbox, so a slow client never stalls ingest."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

OUTBOX = 512  # messages; a client further behind loses its oldest ones


@dataclass(eq=False)
class Subscriber:
    ws: web.WebSocketResponse
    rooms: set[str] | None = None  # None: every room
    integration: bool = False  # the Home Assistant integration (MQTT discovery steps aside for it)
    display: bool = False  # a live view: also gets the rooms' display messages
    outbox: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(maxsize=OUTBOX))
    dropped: int = 0

    def wants(self, room: str | None) -> bool:
        return room is None or self.rooms is None or room in self.rooms

    def offer(self, message: dict[str, Any]) -> None:
        if self.outbox.full():
            self.outbox.get_nowait()
            self.dropped += 1
        self.outbox.put_nowait(message)

    async def pump(self) -> None:
        """Send the outbox until the socket closes."""
        while not self.ws.closed:
            message = await self.outbox.get()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_json(message)


class Subscribers:
    def __init__(self) -> None:
        self.members: set[Subscriber] = set()

    def add(self, subscriber: Subscriber) -> None:
        self.members.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        self.members.discard(subscriber)

    @property
    def integration_connected(self) -> bool:
        return any(member.integration for member in self.members)

    def publish(self, message: dict[str, Any], room: str | None = None, *, display: bool = False) -> None:
        for member in self.members:
            if member.wants(room) and (member.display or not display):
                member.offer(message)

    def displayed(self, rooms: list[str]) -> set[str]:
        """The rooms of ``rooms`` some live view shows."""
        return {room for member in self.members if member.display for room in rooms if member.wants(room)}

    async def close(self) -> None:
        for member in list(self.members):
            await member.ws.close()
        self.members.clear()
