"""Per-node ingest counters: the answer to "my nodes send but nothing shows up"."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from ..frames import CsiFrame, Packet

SEQUENCE_MODULUS = 1 << 32
RATE_WINDOW_S = 5.0


@dataclass
class NodeCounters:
    node_id: int
    received: int = 0  # every decoded packet of this node
    frames: int = 0  # CSI frames among them
    malformed: int = 0
    unknown_magic: int = 0
    sequence_gaps: int = 0  # frames missing between consecutive sequence numbers
    reordered: int = 0
    duplicates: int = 0
    first_seen: float | None = None
    last_seen: float | None = None
    last_sequence: int | None = None
    n_subcarriers: int | None = None
    n_antennas: int | None = None
    bandwidth_mhz: int | None = None
    freq_mhz: int | None = None
    source_address: str | None = None
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=512), repr=False)

    def observe_frame(self, frame: CsiFrame) -> None:
        self.frames += 1
        self.n_subcarriers = frame.n_subcarriers
        self.n_antennas = frame.n_antennas
        self.bandwidth_mhz = frame.bandwidth_mhz
        if frame.freq_mhz:
            self.freq_mhz = frame.freq_mhz
        self._recent.append(frame.timestamp)
        self._observe_sequence(frame.sequence)

    def _observe_sequence(self, sequence: int) -> None:
        if self.last_sequence is None:
            self.last_sequence = sequence
            return
        step = (sequence - self.last_sequence) % SEQUENCE_MODULUS
        if step == 0:
            self.duplicates += 1
        elif step < SEQUENCE_MODULUS // 2:
            self.sequence_gaps += step - 1
            self.last_sequence = sequence
        else:
            self.reordered += 1  # an older frame arriving late; keep the newest as reference

    @property
    def rate_hz(self) -> float:
        """CSI frames per second over the last few seconds of frame time."""
        if len(self._recent) < 2:
            return 0.0
        newest = self._recent[-1]
        recent = [t for t in self._recent if newest - t <= RATE_WINDOW_S]
        span = recent[-1] - recent[0]
        return (len(recent) - 1) / span if span > 0 else 0.0

    @property
    def loss_ratio(self) -> float:
        expected = self.frames + self.sequence_gaps
        return self.sequence_gaps / expected if expected else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "received": self.received,
            "frames": self.frames,
            "malformed": self.malformed,
            "unknown_magic": self.unknown_magic,
            "sequence_gaps": self.sequence_gaps,
            "reordered": self.reordered,
            "duplicates": self.duplicates,
            "rate_hz": round(self.rate_hz, 2),
            "loss_ratio": round(self.loss_ratio, 4),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "n_subcarriers": self.n_subcarriers,
            "n_antennas": self.n_antennas,
            "bandwidth_mhz": self.bandwidth_mhz,
            "freq_mhz": self.freq_mhz,
            "source_address": self.source_address,
        }


@dataclass
class IngestStats:
    """Counters for one source: per node, plus what could not be attributed to any node."""

    nodes: dict[int, NodeCounters] = field(default_factory=dict)
    unattributed: Counter[str] = field(default_factory=Counter)

    def node(self, node_id: int) -> NodeCounters:
        if node_id not in self.nodes:
            self.nodes[node_id] = NodeCounters(node_id)
        return self.nodes[node_id]

    def observe(self, packet: Packet, seen_at: float, address: str | None = None) -> None:
        counters = self.node(packet.node_id)
        counters.received += 1
        if counters.first_seen is None:
            counters.first_seen = seen_at
        counters.last_seen = seen_at
        if address is not None:
            counters.source_address = address
        if isinstance(packet, CsiFrame):
            counters.observe_frame(packet)

    def reject(self, reason: str, node_id: int | None = None) -> None:
        """Count a packet that was dropped; ``reason`` is a ParseError reason or a policy."""
        if node_id is None:
            self.unattributed[reason] += 1
        elif reason == "unknown_magic":
            self.node(node_id).unknown_magic += 1
        else:
            self.node(node_id).malformed += 1

    @property
    def total_frames(self) -> int:
        return sum(n.frames for n in self.nodes.values())

    @property
    def total_dropped(self) -> int:
        per_node = sum(n.malformed + n.unknown_magic for n in self.nodes.values())
        return per_node + sum(self.unattributed.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": {str(k): v.as_dict() for k, v in sorted(self.nodes.items())},
            "unattributed": dict(self.unattributed),
        }
