"""Every parser meets garbage with a typed ParseError, never anything else."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from ruview_core.frames import CsiFrame
from ruview_core.wire import ParseError, encode_packet, iter_csv, iter_jsonl, parse_csi_batch, parse_csv_line, parse_packet
from ruview_core.wire.adr018 import KNOWN_MAGICS

from .conftest import make_frame

GOOD = encode_packet(make_frame(n_subcarriers=16))
magic_prefixes = st.sampled_from(sorted(KNOWN_MAGICS)).map(lambda m: m.to_bytes(4, "little"))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.binary(max_size=600), st.tuples(magic_prefixes, st.binary(max_size=600)).map(b"".join)))
def test_udp_packets(data: bytes) -> None:
    try:
        parse_packet(data)
    except ParseError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(GOOD) - 1), st.integers(0, 255))
def test_single_byte_corruption_of_a_good_frame(position: int, value: int) -> None:
    data = bytearray(GOOD)
    data[position] = value
    try:
        packet = parse_packet(bytes(data))
    except ParseError:
        return
    if not isinstance(packet, CsiFrame):
        # A corrupted magic can name another known packet type (0x04 in byte 0 makes 0xC5110004,
        # kept opaque): a valid parse of another packet, not a corrupt CSI frame.
        assert data[:4] != GOOD[:4]
        return
    assert packet.csi.shape[0] * packet.csi.shape[1] * 2 + 20 == len(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=80), st.just(GOOD)), max_size=30))
def test_batch_never_raises(packets: list[bytes]) -> None:
    result = parse_csi_batch(packets)
    assert result.n_frames + sum(result.rejected.values()) == len(packets)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_csv_lines(text: str) -> None:
    try:
        parse_csv_line("CSI_DATA," + text)
    except ParseError:
        pass
    stats: Counter[str] = Counter()
    list(iter_csv([text, "CSI_DATA," + text], stats))


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
record_keys = st.sampled_from(["timestamp", "node_id", "type", "iq_hex", "subcarriers", "magic", "features", "n_antennas", "rssi"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(record_keys, json_values | st.sampled_from(["raw_csi", "vitals", "feature", "0102", "0xC5110001"]), max_size=9))
def test_jsonl_records(record: dict) -> None:
    import json

    line = json.dumps(record)
    stats: Counter[str] = Counter()
    list(iter_jsonl([line], stats))
    try:
        list(iter_jsonl([line]))
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_jsonl_text(text: str) -> None:
    stats: Counter[str] = Counter()
    list(iter_jsonl([text], stats))
