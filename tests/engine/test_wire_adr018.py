"""ADR-018 packets: round trips, (imag, real) order, dispatch, batch path, typed errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from ruview_core.frames import FeaturePacket, FeatureStatePacket, TimeSyncPacket, VitalsPacket
from ruview_core.wire import (
    BadFieldError,
    LengthMismatchError,
    TruncatedError,
    UnknownMagicError,
    encode_packet,
    parse_csi_batch,
    parse_packet,
)
from ruview_core.wire.adr018 import MAGIC_CSI

from .conftest import frames_equal, make_frame


@pytest.mark.parametrize(("n_antennas", "n_subcarriers"), [(1, 64), (1, 128), (1, 192), (2, 64), (4, 114)])
def test_csi_frame_round_trip(n_antennas: int, n_subcarriers: int) -> None:
    frame = make_frame(node_id=7, sequence=123456, n_antennas=n_antennas, n_subcarriers=n_subcarriers,
                       freq_mhz=2437, rssi=-52, noise_floor=-95, ppdu_type=1, flags=0x05)
    data = encode_packet(frame)
    assert len(data) == 20 + 2 * n_antennas * n_subcarriers
    assert frames_equal(parse_packet(data), frame)


def test_subcarriers_are_read_as_imaginary_then_real() -> None:
    header = struct.pack("<IBBHIIbbBB", MAGIC_CSI, 1, 1, 2, 2412, 9, -40, -90, 0, 0)
    frame = parse_packet(header + bytes([3, 4, 0xFF, 5]))  # (imag=3, real=4), (imag=-1, real=5)
    assert frame.csi[0, 0] == 4 + 3j
    assert frame.csi[0, 1] == 5 - 1j
    assert frame.channel == 1
    assert frame.bandwidth_mhz == 20


def test_side_packets_round_trip() -> None:
    packets = [
        VitalsPacket(3, 0b101, 15.25, 72.5, -44, 1, 0.5, 2.0, 123456),
        FeaturePacket(3, 77, 1_700_000_000_000_000, (0.125, 0.25, 0.375, 0.5, 0.5, 0.25, 0.0, 0.75)),
        FeatureStatePacket(3, 1, 5, 99, 0.5, 0.75, 14.0, 0.5, 60.0, 0.25, 0.0, 0.125, 1.0, 3),
        TimeSyncPacket(3, 1, 0, 123, 1_700_000_000_000_000, 20),
    ]
    for packet in packets:
        data = encode_packet(packet)
        decoded = parse_packet(data)
        assert decoded == packet
    assert [len(encode_packet(p)) for p in packets] == [32, 48, 60, 32]
    assert parse_packet(encode_packet(packets[0])).presence and parse_packet(encode_packet(packets[0])).motion


def test_feature_state_crc_is_checked() -> None:
    data = bytearray(encode_packet(FeatureStatePacket(1, 0, 1, 2, *([0.5] * 9), 0)))
    data[10] ^= 0xFF
    with pytest.raises(BadFieldError, match="CRC"):
        parse_packet(bytes(data))


def test_typed_errors() -> None:
    good = encode_packet(make_frame())
    with pytest.raises(TruncatedError):
        parse_packet(good[:3])
    with pytest.raises(TruncatedError):
        parse_packet(good[:12])
    with pytest.raises(LengthMismatchError):
        parse_packet(good[:-1])
    with pytest.raises(LengthMismatchError):
        parse_packet(good + b"\0")
    with pytest.raises(UnknownMagicError) as info:
        parse_packet(b"\xde\xad\xbe\xef" + good[4:])
    assert info.value.magic == 0xEFBEADDE
    absurd = bytearray(good)
    absurd[6:8] = (4000).to_bytes(2, "little")
    with pytest.raises(BadFieldError, match="subcarrier"):
        parse_packet(bytes(absurd))
    nan_vitals = bytearray(encode_packet(VitalsPacket(1, 0, 1, 1, 0, 0, 0.0, 0.0, 0)))
    nan_vitals[16:20] = struct.pack("<f", float("nan"))
    with pytest.raises(BadFieldError, match="non-finite"):
        parse_packet(bytes(nan_vitals))


def test_batch_matches_single_packet_parsing() -> None:
    frames = [make_frame(node_id=1 + i % 3, sequence=i, seed=i, n_subcarriers=64 if i % 4 else 128) for i in range(200)]
    frames += [make_frame(node_id=9, sequence=500 + i, seed=1000 + i, n_antennas=2, n_subcarriers=64) for i in range(20)]
    packets = [encode_packet(f) for f in frames]
    packets.insert(17, b"\x01\x02")  # truncated
    packets.insert(40, b"\xde\xad\xbe\xef" + packets[3][4:])  # unknown magic, same size as a CSI frame
    packets.insert(41, encode_packet(VitalsPacket(1, 0, 1, 1, 0, 0, 0.0, 0.0, 0)))
    result = parse_csi_batch(packets)
    assert result.n_frames == len(frames)
    assert result.rejected == {"truncated": 1, "not_csi": 2}
    # 2x64 and 1x128 share a payload size but must land in different batches.
    shapes = sorted(b.csi.shape[1:] for b in result.batches)
    assert shapes == [(1, 64), (1, 128), (2, 64)]
    for batch in result.batches:
        for row, position in enumerate(batch.index):
            single = parse_packet(packets[position])
            assert np.array_equal(batch.csi[row], single.csi)
            assert batch.sequence[row] == single.sequence and batch.node_id[row] == single.node_id


def test_batch_counts_bad_dimensions_and_lengths() -> None:
    good = encode_packet(make_frame())
    absurd = bytearray(good)
    absurd[5] = 9  # nine antennas
    wrong = bytearray(good)
    wrong[6:8] = (63).to_bytes(2, "little")  # header says 63 subcarriers, payload carries 64
    result = parse_csi_batch([good, bytes(absurd), bytes(wrong)])
    assert result.n_frames == 1
    assert result.rejected == {"bad_field": 1, "wrong_length": 1}
