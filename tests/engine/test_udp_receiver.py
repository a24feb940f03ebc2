"""The UDP receiver on a real loopback socket: decoding, counters, allowlists, garbage."""

from __future__ import annotations

import asyncio
import socket

from ruview_core.frames import CsiFrame, VitalsPacket
from ruview_core.sources import UdpReceiver, open_source
from ruview_core.wire import encode_packet

from .conftest import make_frame


async def _collect(receiver: UdpReceiver, count: int, timeout: float = 5.0) -> list:
    packets = []

    async def drain() -> None:
        async for packet in receiver:
            packets.append(packet)
            if len(packets) == count:
                return

    await asyncio.wait_for(drain(), timeout)
    return packets


async def test_receives_counts_and_survives_garbage() -> None:
    async with UdpReceiver("127.0.0.1", 0) as receiver:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = (receiver.host, receiver.port)
        sequences = [0, 1, 2, 5, 4, 6, 6, 7]  # 3 and 4 late: one gap of two, one reordered, one duplicate
        for seq in sequences:
            sender.sendto(encode_packet(make_frame(node_id=2, sequence=seq, seed=seq)), target)
        sender.sendto(b"\x01\x00", target)  # too short to name a node
        sender.sendto(b"\xde\xad\xbe\xef\x02rest", target)  # unknown magic from node 2
        sender.sendto(encode_packet(make_frame(node_id=2))[:-3], target)  # truncated payload
        sender.sendto(encode_packet(VitalsPacket(2, 1, 14.0, 60.0, -40, 1, 0.5, 0.5, 10)), target)
        sender.sendto(encode_packet(make_frame(node_id=3, sequence=1)), target)
        sender.close()
        packets = await _collect(receiver, len(sequences) + 2)
    frames = [p for p in packets if isinstance(p, CsiFrame)]
    assert [f.sequence for f in frames if f.node_id == 2] == sequences
    assert all(f.timestamp > 1e9 for f in frames)  # receive time stamps the frame
    node = receiver.stats.nodes[2]
    assert node.frames == 8 and node.received == 9
    assert node.sequence_gaps == 2 and node.reordered == 1 and node.duplicates == 1
    assert node.malformed == 1 and node.unknown_magic == 1
    assert node.source_address == "127.0.0.1"
    assert receiver.stats.unattributed == {"truncated": 1}
    assert receiver.stats.nodes[3].frames == 1
    assert receiver.stats.total_dropped == 3


async def test_allowlist_drops_other_nodes() -> None:
    async with UdpReceiver("127.0.0.1", 0, allow_nodes={1}) as receiver:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for node in (5, 1, 5):
            sender.sendto(encode_packet(make_frame(node_id=node)), (receiver.host, receiver.port))
        sender.close()
        (packet,) = await _collect(receiver, 1)
        await asyncio.sleep(0.05)
    assert packet.node_id == 1
    assert receiver.stats.unattributed["node_not_allowed"] == 2
    assert set(receiver.stats.nodes) == {1}


async def test_open_source_builds_udp_receiver() -> None:
    receiver = open_source("udp://127.0.0.1:0")
    assert isinstance(receiver, UdpReceiver)
    host, port = await receiver.start()
    try:
        assert host == "127.0.0.1" and port > 0
    finally:
        receiver.close()


async def test_address_allowlist_through_open_source() -> None:
    receiver = open_source("udp://127.0.0.1:0", allow_addresses=["192.0.2.1"])
    async with receiver:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(encode_packet(make_frame(node_id=1)), (receiver.host, receiver.port))
        sender.close()
        for _ in range(50):
            if receiver.stats.unattributed:
                break
            await asyncio.sleep(0.01)
    assert receiver.stats.unattributed == {"address_not_allowed": 1}
    assert not receiver.stats.nodes


async def _settle(receiver: UdpReceiver, predicate, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)


async def test_spoofed_and_garbage_node_ids_never_become_nodes() -> None:
    """With a warm-up, one-off frames under 256 node ids and malformed packets claiming them make
    no node; a node that keeps sending does. Drops are counted per source address."""
    async with UdpReceiver("127.0.0.1", 0, warmup_frames=20, warmup_s=0.5) as receiver:
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        target = (receiver.host, receiver.port)
        for node in range(256):
            for sequence in range(3):
                sender.sendto(encode_packet(make_frame(node_id=node, sequence=sequence)), target)
            sender.sendto(encode_packet(make_frame(node_id=node))[:-3], target)  # truncated, naming the node
            await asyncio.sleep(0.002)  # the receiver reads between bursts: nothing lost in the socket
        sent = 256 * 4
        await _settle(receiver, lambda: sum(receiver.stats.dropped_by_address.get("127.0.0.1", {}).values()) >= sent)
        assert receiver.stats.nodes == {}
        assert sum(receiver.stats.dropped_by_address["127.0.0.1"].values()) == sent
        await asyncio.sleep(0.6)  # the flood's half-warmed ids expire
        for sequence in range(25):
            sender.sendto(encode_packet(make_frame(node_id=77, sequence=sequence)), target)
        sender.close()
        packets = await _collect(receiver, 6)  # the frames from the 20th on
    assert set(receiver.stats.nodes) == {77} and {p.node_id for p in packets} == {77}
    assert receiver.stats.nodes[77].frames == 6 and receiver.stats.nodes[77].malformed == 0


def test_nodes_no_room_lists_are_capped_but_listed_ones_always_count() -> None:
    from ruview_core.sources.stats import MAX_UNEXPECTED_NODES, IngestStats

    stats = IngestStats(warmup_frames=5, warmup_s=2.0, expected=lambda node: node == 200)
    for node in [*range(MAX_UNEXPECTED_NODES + 10), 200]:
        for sequence in range(5):
            stats.observe(make_frame(node_id=node, sequence=sequence), seen_at=node + sequence * 0.1, address="10.0.0.9")
    assert len(stats.nodes) == MAX_UNEXPECTED_NODES + 1 and 200 in stats.nodes
    assert stats.unattributed["too_many_nodes"] == 10


def test_a_slow_trickle_never_completes_the_warm_up() -> None:
    from ruview_core.sources.stats import IngestStats

    stats = IngestStats(warmup_frames=20, warmup_s=2.0)
    admitted = [stats.observe(make_frame(node_id=9, sequence=i), seen_at=i * 0.5) for i in range(60)]  # 2 Hz
    assert not any(admitted) and stats.nodes == {}
