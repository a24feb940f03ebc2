"""The asyncio UDP receiver for ESP32 nodes (default 0.0.0.0:5005).

It never dies from a packet: anything it cannot decode is counted (per source address, and per
node when it comes from that node's address) and dropped; with a warm-up (see
:class:`~ruview_core.sources.stats.IngestStats`) only nodes that keep sending valid frames count. Decoding happens in the datagram callback, so a slow consumer
only ever loses the oldest queued packets, and says so in the counters.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection

from ..frames import Packet
from ..wire.adr018 import parse_packet
from ..wire.errors import ParseError
from .spec import DEFAULT_UDP_HOST, DEFAULT_UDP_PORT
from .stats import IngestStats

PacketCallback = Callable[[Packet], None]


class UdpReceiver(asyncio.DatagramProtocol):
    """Receives, decodes and counts; hands packets to ``on_packet`` or an internal queue."""

    def __init__(
        self,
        host: str = DEFAULT_UDP_HOST,
        port: int = DEFAULT_UDP_PORT,
        *,
        allow_nodes: Collection[int] | None = None,
        allow_addresses: Collection[str] | None = None,
        on_packet: PacketCallback | None = None,
        queue_size: int = 8192,
        clock: Callable[[], float] = time.time,
        warmup_frames: int = 0,
        warmup_s: float = 2.0,
        expected_node: Callable[[int], bool] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.allow_nodes = frozenset(allow_nodes) if allow_nodes else None
        self.allow_addresses = frozenset(allow_addresses) if allow_addresses else None
        self.stats = IngestStats(warmup_frames=warmup_frames, warmup_s=warmup_s, expected=expected_node)
        self._on_packet = on_packet
        self._queue: asyncio.Queue[Packet | None] = asyncio.Queue(maxsize=queue_size)
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> tuple[str, int]:
        """Bind the socket; returns the bound address (useful with port 0)."""
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.host, self.port))
        except OSError as error:
            raise OSError(error.errno, f"cannot listen on udp://{self.host}:{self.port}: {error.strerror}") from None
        self._transport = transport
        self.host, self.port = transport.get_extra_info("sockname")[:2]
        return self.host, self.port

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._push(None)

    async def __aenter__(self) -> UdpReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        address = addr[0]
        if self.allow_addresses is not None and address not in self.allow_addresses:
            self.stats.unattributed["address_not_allowed"] += 1
            return
        node_id = data[4] if len(data) >= 5 else None
        if self.allow_nodes is not None and node_id not in self.allow_nodes:
            self.stats.unattributed["node_not_allowed"] += 1
            return
        now = self._clock()
        try:
            packet = parse_packet(data, timestamp=now)
        except ParseError as error:
            self.stats.reject(error.reason, node_id, address)
            return
        if not self.stats.observe(packet, now, address):
            return
        if self._on_packet is not None:
            self._on_packet(packet)
        else:
            self._push(packet)

    def drain(self) -> int:
        """Forget queued packets (e.g. what arrived between two captures); returns how many."""
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            dropped += 1
        return dropped

    def error_received(self, exc: Exception) -> None:
        self.stats.unattributed["socket_error"] += 1

    def _push(self, packet: Packet | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.stats.unattributed["queue_overflow"] += 1
        self._queue.put_nowait(packet)

    async def __aiter__(self) -> AsyncIterator[Packet]:
        while True:
            packet = await self._queue.get()
            if packet is None:
                return
            yield packet
