""".csi.jsonl recordings: both RuView variants, the writer, and the shared real recordings."""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import pytest

from ruview_core.frames import CsiFrame, FeaturePacket, OpaquePacket, VitalsPacket
from ruview_core.wire import BadFieldError, encode_packet, iter_jsonl, parse_packet, read_jsonl, write_jsonl

from .conftest import frames_equal, make_frame


def test_real_recording_counts_match_meta(pretrain_path) -> None:
    meta = json.loads(pretrain_path.with_name("pretrain-1775182186.csi.meta.json").read_text())
    stats: Counter[str] = Counter()
    packets = list(read_jsonl(pretrain_path, stats))
    assert not stats
    assert len(packets) == meta["frame_count"]
    per_node = Counter(str(p.node_id) for p in packets)
    assert per_node == meta["nodes"]
    kinds = Counter(type(p).__name__ for p in packets)
    assert kinds == {"CsiFrame": 5309, "VitalsPacket": 236, "FeaturePacket": 236, "OpaquePacket": 2}
    frames = [p for p in packets if isinstance(p, CsiFrame)]
    assert {f.n_subcarriers for f in frames} == {64, 128, 192}
    assert all(f.n_antennas == 1 for f in frames)
    # Null subcarrier 0 reads as exactly zero in every frame; the rest carry signal.
    lltf = np.stack([f.csi[0, :64] for f in frames])
    assert np.all(lltf[:, 0] == 0)
    assert np.abs(lltf).mean() > 3


def test_recorder_variant_counts_match_meta(recorder_path) -> None:
    meta = json.loads(recorder_path.with_name("rec_1772470567081-20260302_165607.csi.meta.json").read_text())
    frames = list(read_jsonl(recorder_path))
    assert len(frames) == meta["frame_count"] == 253
    assert all(f.amplitude_only and f.csi.shape == (1, 56) for f in frames)
    assert [f.sequence for f in frames[:3]] == [0, 1, 2]
    assert np.all(np.imag(frames[0].csi) == 0) and np.abs(frames[0].csi).max() > 10


def test_writer_round_trip_and_replay_as_udp(pretrain_path) -> None:
    original = [p for _, p in zip(range(400), read_jsonl(pretrain_path))]
    buffer = io.StringIO()
    assert write_jsonl(original, buffer) == 400
    again = list(iter_jsonl(buffer.getvalue().splitlines()))
    assert len(again) == 400
    for a, b in zip(original, again):
        assert type(a) is type(b)
        if isinstance(a, CsiFrame):
            assert frames_equal(a, b) and b.timestamp == a.timestamp
            # What the writer produced replays as a byte-identical ADR-018 packet.
            assert frames_equal(parse_packet(encode_packet(b)), a)
        elif isinstance(a, (VitalsPacket, FeaturePacket)):
            assert a == b
        else:
            assert isinstance(b, OpaquePacket) and b.magic == a.magic


def test_writer_keeps_header_fields() -> None:
    frame = make_frame(node_id=3, sequence=41, n_antennas=2, freq_mhz=5180, rssi=-61, noise_floor=-92, flags=1, timestamp=12.5)
    buffer = io.StringIO()
    write_jsonl([frame], buffer)
    (decoded,) = iter_jsonl([buffer.getvalue()])
    assert frames_equal(decoded, frame) and decoded.n_antennas == 2 and decoded.bandwidth_mhz == 40


@pytest.mark.parametrize(
    "line",
    [
        "not json",
        "[1, 2]",
        '{"node_id": 1}',
        '{"timestamp": "soon", "type": "raw_csi"}',
        '{"timestamp": 1.0, "node_id": 1, "type": "raw_csi", "iq_hex": "zz", "subcarriers": 1}',
        '{"timestamp": 1.0, "node_id": 1, "type": "raw_csi", "iq_hex": "0102", "subcarriers": 2}',
        '{"timestamp": 1.0, "node_id": 1, "type": "raw_csi", "iq_hex": "' + "00" * 4000 + '", "subcarriers": 1000}',
        '{"timestamp": 1.0, "subcarriers": [1.0, NaN]}',
        '{"timestamp": 1.0, "subcarriers": []}',
        '{"timestamp": 1.0, "node_id": 1, "type": "feature", "features": [1, 2]}',
        '{"timestamp": 1.0, "type": "mystery"}',
    ],
)
def test_malformed_lines_raise_typed_errors(line: str) -> None:
    with pytest.raises(BadFieldError):
        list(iter_jsonl([line]))


def test_malformed_lines_are_counted_and_skipped() -> None:
    buffer = io.StringIO()
    write_jsonl([make_frame(sequence=i, seed=i) for i in range(3)], buffer)
    lines = buffer.getvalue().splitlines()
    lines.insert(1, "{broken")
    lines.insert(2, "")
    stats: Counter[str] = Counter()
    assert [f.sequence for f in iter_jsonl(lines, stats)] == [0, 1, 2]
    assert stats == {"bad_field": 1}
