"""Run the service: the UDP receiver and the HTTP API in one event loop until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from aiohttp import web

from .. import __version__
from .http import GUARD, create_app
from .hub import RuViewService, ServiceConfig
from .schedule import learn_periodically

LOG = logging.getLogger("ruview.service")


@contextlib.asynccontextmanager
async def running_service(config: ServiceConfig) -> AsyncIterator[tuple[RuViewService, int]]:
    """The service started (UDP bound, API listening); yields it and the API's bound port."""
    service = RuViewService(config)
    await service.start()
    app = create_app(service)
    # lingering_time: how long an unread body (a refused request's) is drained before the close
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0, keepalive_timeout=config.idle_timeout_s,
                           lingering_time=1.0)
    await runner.setup()
    learning = asyncio.create_task(learn_periodically(service, config.learn_every_s)) if config.learn_every_s > 0 else None
    guard = asyncio.create_task(app[GUARD].watch(runner), name="ruview-connection-guard")
    try:
        site = web.TCPSite(runner, config.host, config.port)
        await site.start()
        port = runner.addresses[0][1]
        yield service, port
    finally:
        guard.cancel()
        if learning is not None:
            learning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await learning
        await runner.cleanup()
        await service.stop()


async def serve(config: ServiceConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    async with running_service(config) as (service, port):
        LOG.info("RuView %s: API on http://%s:%d/api/v1, CSI on udp://%s:%d, data in %s",
                 __version__, config.host, port, config.host, service.receiver.port, config.data_dir)
        await stop.wait()
