"""Where frames come from: live UDP, a recording, or the simulated room, behind one syntax."""

from __future__ import annotations

from collections.abc import Collection

from .replay import PacketStream, RecordingStream, SimulatedStream, read_recording
from .spec import SourceError, SourceSpec, parse_source
from .stats import IngestStats, NodeCounters
from .udp import UdpReceiver

Source = UdpReceiver | PacketStream


def open_source(
    spec: str | SourceSpec,
    *,
    realtime: bool = False,
    start: float | None = None,
    end: float | None = None,
    allow_nodes: Collection[int] | None = None,
    allow_addresses: Collection[str] | None = None,
) -> Source:
    """A source for ``--source`` text. A UDP receiver must still be started (``async with``)."""
    if isinstance(spec, str):
        spec = parse_source(spec)
    if start is not None and end is not None and end <= start:
        raise SourceError(f"--end ({end}) must come after --start ({start})")
    if spec.kind == "udp":
        return UdpReceiver(spec.host, spec.port, allow_nodes=allow_nodes, allow_addresses=allow_addresses)
    if spec.kind == "sim":
        return SimulatedStream(spec.scenario, dict(spec.params), realtime=realtime, start=start, end=end)
    assert spec.path is not None
    return RecordingStream(spec.path, realtime=realtime, start=start, end=end)


__all__ = [
    "IngestStats",
    "NodeCounters",
    "PacketStream",
    "RecordingStream",
    "SimulatedStream",
    "Source",
    "SourceError",
    "SourceSpec",
    "UdpReceiver",
    "open_source",
    "parse_source",
    "read_recording",
]
