"""Recorded and simulated sources: as fast as possible, or paced to their own timestamps."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from ..frames import Packet
from ..wire.esp_csv import read_csv
from ..wire.jsonl import read_jsonl
from ..wire.textfile import recording_stem
from .stats import IngestStats


def read_recording(path: Path, malformed: Counter[str]) -> Iterator[Packet]:
    """Packets of a .csi.jsonl or ESP-IDF .csv file; bad lines are counted in ``malformed``."""
    if recording_stem(path).endswith(".csv"):
        return read_csv(path, malformed)
    return read_jsonl(path, malformed)


def clip_to_window(packets: Iterable[Packet], start: float | None, end: float | None) -> Iterator[Packet]:
    """Packets whose time since the first packet lies in ``[start, end)`` seconds."""
    origin = None
    for packet in packets:
        if origin is None:
            origin = packet.timestamp
        offset = packet.timestamp - origin
        if start is not None and offset < start:
            continue
        if end is not None and offset >= end:
            return
        yield packet


class Pacer:
    """How long to wait so that stream time advances no faster than wall time."""

    def __init__(self) -> None:
        self._origin: tuple[float, float] | None = None

    def delay(self, timestamp: float) -> float:
        now = time.monotonic()
        if self._origin is None:
            self._origin = (now, timestamp)
            return 0.0
        wall_start, stream_start = self._origin
        return max(0.0, (timestamp - stream_start) - (now - wall_start))


class PacketStream:
    """An async source over any iterable of packets, counting them like the UDP receiver does."""

    def __init__(self, packets: Iterable[Packet], *, realtime: bool = False, description: str = "") -> None:
        self.stats = IngestStats()
        self.description = description
        self.realtime = realtime
        self._packets = packets
        self._closed = False

    def __iter__(self) -> Iterator[Packet]:
        """Synchronous iteration for batch work (``realtime`` is ignored)."""
        for packet in self._packets:
            if self._closed:
                return
            self.stats.observe(packet, packet.timestamp)
            yield packet

    async def __aiter__(self) -> AsyncIterator[Packet]:
        pacer = Pacer()
        for count, packet in enumerate(self):
            if self.realtime:
                if delay := pacer.delay(packet.timestamp):
                    await asyncio.sleep(delay)
            elif count % 256 == 0:
                await asyncio.sleep(0)  # let the rest of the program breathe
            yield packet

    def close(self) -> None:
        self._closed = True


class RecordingStream(PacketStream):
    def __init__(self, path: Path, *, realtime: bool = False, start: float | None = None, end: float | None = None) -> None:
        self.malformed: Counter[str] = Counter()
        super().__init__(clip_to_window(read_recording(path, self.malformed), start, end), realtime=realtime, description=str(path))

    def __iter__(self) -> Iterator[Packet]:
        yield from super().__iter__()
        self.stats.unattributed.update(self.malformed)


class SimulatedStream(PacketStream):
    """The simulated room as a source; ``truth()`` gives the simulator's per-second ground truth."""

    def __init__(self, scenario: str, params: dict[str, Any], *, realtime: bool = False, start: float | None = None, end: float | None = None) -> None:
        from ..sim import SimConfig, simulate

        self.simulation = simulate(SimConfig(scenario=scenario, **params))
        super().__init__(clip_to_window(self.simulation.frames(), start, end), realtime=realtime, description=f"sim://{scenario}")

    def truth(self) -> list[dict[str, Any]]:
        return self.simulation.truth()
