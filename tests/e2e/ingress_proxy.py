"""A loopback stand-in for the Supervisor's ingress proxy (Home Assistant OS / Supervised only).

The real one (supervisor/api/ingress.py) serves ``/api/hassio_ingress/<token>/<path>`` to a
signed-in Home Assistant user and forwards it, HTTP and WebSocket alike, to the add-on's
``ingress_port`` at ``/<path>``, from 172.30.32.2, with ``X-Ingress-Path:
/api/hassio_ingress/<token>``. This one does the same from 127.0.0.2 (any 127/8 address is
loopback on Linux), so the add-on can be told to trust exactly that address while the test's own
requests from 127.0.0.1 still need the token. Home Assistant's login in front of it is not
reproduced: that needs the Supervisor.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from .processes import LOOPBACK, free_port

PROXY_SOURCE = "127.0.0.2"
HOP_HEADERS = {"connection", "keep-alive", "upgrade", "transfer-encoding", "host", "content-length",
               "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-accept"}


@dataclass
class IngressProxy:
    """Serve ``/api/hassio_ingress/<token>/`` on loopback, forwarded to ``upstream`` (``host:port``)."""

    upstream: str
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = field(default_factory=free_port)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    @property
    def path(self) -> str:
        return f"/api/hassio_ingress/{self.token}"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{self.path}/"

    def start(self) -> IngressProxy:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="ingress-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the ingress proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _open(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(PROXY_SOURCE, 0)),
                                              auto_decompress=False)
        app = web.Application()
        app.router.add_route("*", f"{self.path}/{{tail:.*}}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, LOOPBACK, self.port).start()

    async def _close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _headers(self, request: web.Request) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers["X-Ingress-Path"] = self.path
        return headers

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        target = f"http://{self.upstream}/{request.match_info['tail']}"
        if request.query_string:
            target += f"?{request.query_string}"
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._websocket(request, target)
        async with self._session.request(request.method, target, headers=self._headers(request),
                                         data=await request.read(), allow_redirects=False) as upstream:
            body = await upstream.read()
            headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
            return web.Response(status=upstream.status, body=body, headers=headers)

    async def _websocket(self, request: web.Request, target: str) -> web.WebSocketResponse:
        assert self._session is not None
        client = web.WebSocketResponse()
        await client.prepare(request)
        async with self._session.ws_connect(target, headers=self._headers(request)) as upstream:

            async def pipe(source, sink) -> None:
                async for message in source:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        await sink.send_str(message.data)
                    elif message.type == aiohttp.WSMsgType.BINARY:
                        await sink.send_bytes(message.data)
                    else:
                        break

            tasks = [asyncio.ensure_future(pipe(client, upstream)), asyncio.ensure_future(pipe(upstream, client))]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()
        await client.close()
        return client
