"""Per-node ingest counters: the answer to "my nodes send but nothing shows up".

A node id is only a byte in a packet, so anyone on the network can claim one. With a warm-up,
a node is only counted (and its packets passed on) once it has sent a run of valid CSI frames
in a short time, the way a real ESP32 does; garbage and one-off spoofed ids never become
nodes, and at most a few unexpected nodes are tracked. What is dropped is counted per source
address, which a packet cannot choose as freely as the node id it claims.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..frames import CsiFrame, Packet

SEQUENCE_MODULUS = 1 << 32
RATE_WINDOW_S = 5.0
MAX_CANDIDATES = 32  # node ids warming up at once
MAX_UNEXPECTED_NODES = 32  # nodes no room lists
MAX_ADDRESSES = 256  # source addresses with their own drop counters


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
    """Counters for one source: per node, plus what could not be attributed to any node.

    ``warmup_frames`` > 0: a node is counted once it sent that many CSI frames within
    ``warmup_s`` seconds; ``expected`` says which node ids a room lists (counted at once).
    """

    nodes: dict[int, NodeCounters] = field(default_factory=dict)
    unattributed: Counter[str] = field(default_factory=Counter)
    dropped_by_address: dict[str, Counter[str]] = field(default_factory=dict)
    warmup_frames: int = 0
    warmup_s: float = 2.0
    expected: Callable[[int], bool] | None = field(default=None, repr=False)
    _candidates: dict[int, deque[float]] = field(default_factory=dict, repr=False)

    def node(self, node_id: int) -> NodeCounters:
        if node_id not in self.nodes:
            self.nodes[node_id] = NodeCounters(node_id)
        return self.nodes[node_id]

    def observe(self, packet: Packet, seen_at: float, address: str | None = None) -> bool:
        """Count a decoded packet; False when its node is not (yet) a node, and it is dropped."""
        if packet.node_id not in self.nodes and not self._admit(packet, seen_at, address):
            return False
        counters = self.node(packet.node_id)
        counters.received += 1
        if counters.first_seen is None:
            counters.first_seen = seen_at
        counters.last_seen = seen_at
        if address is not None:
            counters.source_address = address
        if isinstance(packet, CsiFrame):
            counters.observe_frame(packet)
        return True

    def _admit(self, packet: Packet, seen_at: float, address: str | None) -> bool:
        """Whether this packet completes its node's warm-up (always, without a warm-up)."""
        if self.warmup_frames <= 0 or (self.expected is not None and self.expected(packet.node_id)):
            self._candidates.pop(packet.node_id, None)
            return True  # a node a room lists gets its frames routed to that room whatever the warm-up says
        if not isinstance(packet, CsiFrame):  # only CSI frames show a node is real
            return self._drop("unconfirmed_node", address)
        recent = self._candidates.get(packet.node_id)
        if recent is None:
            self._candidates = {n: r for n, r in self._candidates.items() if seen_at - r[-1] <= self.warmup_s}
            if len(self._candidates) >= MAX_CANDIDATES:
                return self._drop("too_many_new_nodes", address)
            recent = self._candidates[packet.node_id] = deque(maxlen=self.warmup_frames)
        recent.append(seen_at)
        if len(recent) < self.warmup_frames or seen_at - recent[0] > self.warmup_s:
            return self._drop("unconfirmed_node", address)
        del self._candidates[packet.node_id]
        if self._unexpected_nodes() >= MAX_UNEXPECTED_NODES:
            return self._drop("too_many_nodes", address)
        return True

    def _unexpected_nodes(self) -> int:
        return sum(1 for n in self.nodes if self.expected is None or not self.expected(n))

    def _drop(self, reason: str, address: str | None) -> bool:
        self.unattributed[reason] += 1
        self._count_address(address, reason)
        return False

    def _count_address(self, address: str | None, reason: str) -> None:
        if address is None:
            return
        if address not in self.dropped_by_address and len(self.dropped_by_address) >= MAX_ADDRESSES:
            address = "other"
        self.dropped_by_address.setdefault(address, Counter())[reason] += 1

    def reject(self, reason: str, node_id: int | None = None, address: str | None = None) -> None:
        """Count a packet that was dropped; ``reason`` is a ParseError reason or a policy.

        It counts against a node only when it came from that node's own address: a claimed
        node id alone never makes a node (nor blames one)."""
        self._count_address(address, reason)
        counters = self.nodes.get(node_id) if node_id is not None else None
        if counters is None or (address is not None and counters.source_address != address):
            self.unattributed[reason] += 1
        elif reason == "unknown_magic":
            counters.unknown_magic += 1
        else:
            counters.malformed += 1

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
            "dropped_by_address": {a: dict(c) for a, c in self.dropped_by_address.items()},
        }
