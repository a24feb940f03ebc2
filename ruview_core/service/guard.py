"""Bounds on what one HTTP connection can hold: its request head, its body, its idle time.

aiohttp closes idle keep-alive connections (``keepalive_timeout``) and stops draining an unread
body after ``lingering_time``, but it waits forever for the first request head of a connection
(silent, or trickled a byte at a time) and a handler reading a body waits as long as the
client trickles it. :class:`ConnectionGuard` closes connections whose first request head does
not arrive in time, refuses a body announced larger than the limit before reading any of it,
and gives the rest of a body a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class ConnectionGuard:
    head_timeout_s: float
    body_timeout_s: float
    max_body_bytes: int
    closed: int = 0  # connections closed for want of a request head
    # aiohttp's connections take no weak references: these are pruned to the open ones on each sweep
    _first_seen: dict[RequestHandler, float] = field(default_factory=dict)
    _served: set[RequestHandler] = field(default_factory=set)

    @web.middleware
    async def mark_served(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Outermost: a connection that got a whole request head is aiohttp's to time out."""
        if request.protocol is not None:
            self._served.add(request.protocol)
        return await handler(request)

    @web.middleware
    async def read_body(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Innermost (after authentication): the body read once, in bounded time and size; the
        handlers' own reads get it from aiohttp's cache."""
        announced = request.content_length
        if announced is not None and announced > self.max_body_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=self.max_body_bytes, actual_size=announced)
        if request.body_exists:
            try:
                async with asyncio.timeout(self.body_timeout_s):
                    await request.read()
            except TimeoutError:
                raise web.HTTPRequestTimeout(reason=f"the request body did not arrive within {self.body_timeout_s:g} s")
        return await handler(request)

    def sweep(self, connections: list[RequestHandler], now: float) -> None:
        """Close the connections that have waited longer than ``head_timeout_s`` for a first head."""
        self._first_seen = {c: self._first_seen.get(c, now) for c in connections}
        self._served &= set(connections)
        for connection, first in self._first_seen.items():
            if connection not in self._served and now - first > self.head_timeout_s:
                connection.force_close()
                self.closed += 1

    async def watch(self, runner: web.AppRunner) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(min(1.0, self.head_timeout_s / 4))
            if runner.server is not None:
                self.sweep(runner.server.connections, loop.time())
