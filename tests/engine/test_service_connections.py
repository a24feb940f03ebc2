"""Connections that hold the API: silent, trickling a request head or a body, announcing a huge
body, idling after a request. Each is answered or closed within its bound, on a real socket."""

from __future__ import annotations

import asyncio
import time

import pytest

from ._service import service_and_client

BOUNDS = {"head_timeout_s": 0.5, "body_timeout_s": 0.5, "idle_timeout_s": 0.5}
CLOSED_WITHIN_S = 4.0  # far beyond the bounds (a loaded machine), far below "held forever"


async def closed_after(reader: asyncio.StreamReader, trickle=None) -> tuple[float, bytes]:
    """Seconds until the server closes the connection, and what it answered before."""
    start, answer = time.monotonic(), b""
    async with asyncio.timeout(CLOSED_WITHIN_S):
        while True:
            if trickle is not None:
                trickle()
            try:
                chunk = await asyncio.wait_for(reader.read(4096), 0.1)
            except TimeoutError:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return time.monotonic() - start, answer


@pytest.fixture
async def api(tmp_path):
    async with service_and_client(tmp_path, **BOUNDS) as (service, client):
        yield service, client.port


async def connect(port: int):
    return await asyncio.open_connection("127.0.0.1", port)


async def test_a_silent_connection_is_closed(api):
    service, port = api
    reader, writer = await connect(port)
    seconds, answer = await closed_after(reader)
    assert answer == b"" and seconds < CLOSED_WITHIN_S
    writer.close()


async def test_a_trickled_request_head_is_closed(api):
    service, port = api
    reader, writer = await connect(port)
    head = iter(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000)

    def trickle() -> None:
        writer.write(bytes([next(head, ord("a"))]))

    seconds, _ = await closed_after(reader, trickle)
    assert seconds < CLOSED_WITHIN_S
    writer.close()


async def test_a_body_announced_far_too_large_is_refused_before_it_arrives(api):
    service, port = api
    reader, writer = await connect(port)
    writer.write(b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + service.token.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n" + b"{" * 1024)
    seconds, answer = await closed_after(reader)
    assert answer.startswith(b"HTTP/1.1 413") and b"too_large" in answer
    writer.close()


async def test_a_trickled_body_times_out(api):
    service, port = api
    reader, writer = await connect(port)
    writer.write(b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + service.token.encode()
                 + b"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\": ")
    seconds, answer = await closed_after(reader)
    assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer
    assert not service.registry.rooms
    writer.close()


async def test_an_idle_keep_alive_connection_is_closed(api):
    service, port = api
    reader, writer = await connect(port)
    writer.write(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
    seconds, answer = await closed_after(reader)
    assert answer.startswith(b"HTTP/1.1 200") and seconds < CLOSED_WITHIN_S
    writer.close()


async def test_held_connections_do_not_stop_the_api(api):
    service, port = api
    held = [await connect(port) for _ in range(50)]
    for _, writer in held[::2]:
        writer.write(b"GET /api/v1/health HTTP/1.1\r\n")  # half a head
    reader, writer = await connect(port)
    writer.write(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    _, answer = await closed_after(reader)
    assert answer.startswith(b"HTTP/1.1 200")
    await asyncio.sleep(BOUNDS["head_timeout_s"] * 4)
    leftovers = [await asyncio.wait_for(r.read(), CLOSED_WITHIN_S) for r, _ in held]
    assert leftovers == [b""] * len(held)
    for _, writer in [*held, (reader, writer)]:
        writer.close()
