"""ADR-018 binary packets, the ESP32 nodes' UDP protocol on port 5005 (all little-endian, packed).

Every packet starts with a u32 magic; :func:`parse_packet` dispatches on it. The raw CSI frame
(0xC5110001) has a 20-byte header followed by ``2 * n_antennas * n_subcarriers`` int8 bytes,
antenna-major, each subcarrier stored by ESP-IDF as (imaginary, real).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from ..frames import (
    MAX_ANTENNAS,
    MAX_SUBCARRIERS,
    CsiFrame,
    FeaturePacket,
    FeatureStatePacket,
    OpaquePacket,
    Packet,
    TimeSyncPacket,
    VitalsPacket,
)
from .errors import BadFieldError, LengthMismatchError, TruncatedError, UnknownMagicError

MAGIC_CSI = 0xC5110001
MAGIC_VITALS = 0xC5110002
MAGIC_FEATURES = 0xC5110003
MAGIC_FUSED_VITALS = 0xC5110004
MAGIC_COMPRESSED_CSI = 0xC5110005
MAGIC_FEATURE_STATE = 0xC5110006
MAGIC_TIME_SYNC = 0xC511A110

CSI_HEADER = struct.Struct("<IBBHIIbbBB")
VITALS = struct.Struct("<IBBHIbB2xffII")
FEATURES = struct.Struct("<IBxHq8f")
FEATURE_STATE = struct.Struct("<IBBHQ9fHHI")
TIME_SYNC = struct.Struct("<IBBBxQQII")
CSI_HEADER_SIZE = CSI_HEADER.size  # 20

KNOWN_MAGICS = frozenset(
    {
        MAGIC_CSI,
        MAGIC_VITALS,
        MAGIC_FEATURES,
        MAGIC_FUSED_VITALS,
        MAGIC_COMPRESSED_CSI,
        MAGIC_FEATURE_STATE,
        MAGIC_TIME_SYNC,
    }
)


def peek_magic(data: bytes) -> int:
    if len(data) < 4:
        raise TruncatedError(f"packet of {len(data)} bytes has no magic")
    return int.from_bytes(data[:4], "little")


def check_dimensions(n_antennas: int, n_subcarriers: int) -> None:
    if not 1 <= n_antennas <= MAX_ANTENNAS:
        raise BadFieldError(f"absurd antenna count {n_antennas} (1..{MAX_ANTENNAS})")
    if not 1 <= n_subcarriers <= MAX_SUBCARRIERS:
        raise BadFieldError(f"absurd subcarrier count {n_subcarriers} (1..{MAX_SUBCARRIERS})")


def iq_to_csi(iq: np.ndarray, n_antennas: int, n_subcarriers: int) -> np.ndarray:
    """int8 (imag, real) pairs -> complex64 ``[..., antennas, subcarriers]``."""
    pairs = iq.reshape(*iq.shape[:-1], n_antennas, n_subcarriers, 2)
    csi = np.empty(pairs.shape[:-1], dtype=np.complex64)
    csi.real = pairs[..., 1]
    csi.imag = pairs[..., 0]
    return csi


def csi_to_iq(csi: np.ndarray) -> np.ndarray:
    """complex ``[antennas, subcarriers]`` -> int8 (imag, real) bytes, rounded and clipped."""
    pairs = np.stack([csi.imag, csi.real], axis=-1)
    return np.clip(np.rint(pairs), -128, 127).astype(np.int8).reshape(-1)


def parse_csi_frame(data: bytes, timestamp: float = 0.0) -> CsiFrame:
    if len(data) < CSI_HEADER_SIZE:
        raise TruncatedError(f"CSI frame of {len(data)} bytes is shorter than its 20-byte header")
    magic, node_id, n_ant, n_sc, freq, seq, rssi, noise, ppdu, flags = CSI_HEADER.unpack_from(data)
    if magic != MAGIC_CSI:
        raise UnknownMagicError(magic)
    check_dimensions(n_ant, n_sc)
    expected = CSI_HEADER_SIZE + 2 * n_ant * n_sc
    if len(data) != expected:
        raise LengthMismatchError(
            f"CSI frame of {n_ant}x{n_sc} needs {expected} bytes, got {len(data)}"
        )
    iq = np.frombuffer(data, dtype=np.int8, offset=CSI_HEADER_SIZE)
    return CsiFrame(
        node_id=node_id,
        sequence=seq,
        timestamp=timestamp,
        csi=iq_to_csi(iq, n_ant, n_sc),
        freq_mhz=freq,
        rssi=rssi,
        noise_floor=noise,
        ppdu_type=ppdu,
        flags=flags,
    )


def encode_csi_frame(frame: CsiFrame) -> bytes:
    check_dimensions(frame.n_antennas, frame.n_subcarriers)
    header = CSI_HEADER.pack(
        MAGIC_CSI,
        frame.node_id & 0xFF,
        frame.n_antennas,
        frame.n_subcarriers,
        frame.freq_mhz,
        frame.sequence & 0xFFFFFFFF,
        int(np.clip(frame.rssi, -128, 127)),
        int(np.clip(frame.noise_floor, -128, 127)),
        frame.ppdu_type & 0xFF,
        frame.flags & 0xFF,
    )
    return header + csi_to_iq(frame.csi).tobytes()


def _exact(data: bytes, layout: struct.Struct, name: str) -> tuple:
    if len(data) < layout.size:
        raise TruncatedError(f"{name} packet of {len(data)} bytes, needs {layout.size}")
    if len(data) != layout.size:
        raise LengthMismatchError(f"{name} packet of {len(data)} bytes, needs {layout.size}")
    return layout.unpack(data)


def _finite(name: str, *values: float) -> None:
    if not all(np.isfinite(values)):
        raise BadFieldError(f"{name} packet holds a non-finite value")


def parse_vitals(data: bytes, timestamp: float = 0.0) -> VitalsPacket:
    _, node, flags, br, hr, rssi, persons, motion, presence, ts_ms, _ = _exact(data, VITALS, "vitals")
    _finite("vitals", motion, presence)
    return VitalsPacket(node, flags, br / 100, hr / 10000, rssi, persons, motion, presence, ts_ms, timestamp)


def encode_vitals(p: VitalsPacket) -> bytes:
    return VITALS.pack(
        MAGIC_VITALS, p.node_id, p.flags, round(p.breathing_bpm * 100), round(p.heart_bpm * 10000),
        p.rssi, p.n_persons, p.motion_energy, p.presence_score, p.timestamp_ms, 0,
    )


def parse_features(data: bytes, timestamp: float = 0.0) -> FeaturePacket:
    _, node, seq, ts_us, *features = _exact(data, FEATURES, "features")
    _finite("features", *features)
    return FeaturePacket(node, seq, ts_us, tuple(features), timestamp)


def encode_features(p: FeaturePacket) -> bytes:
    if len(p.features) != 8:
        raise BadFieldError(f"a feature packet carries 8 features, not {len(p.features)}")
    return FEATURES.pack(MAGIC_FEATURES, p.node_id, p.seq, p.timestamp_us, *p.features)


def parse_feature_state(data: bytes, timestamp: float = 0.0) -> FeatureStatePacket:
    fields = _exact(data, FEATURE_STATE, "feature state")
    crc = fields[-1]
    if zlib.crc32(data[:-4]) != crc:
        raise BadFieldError("feature state packet fails its CRC32")
    _, node, mode, seq, ts_us, *scores, quality, _reserved, _crc = fields
    _finite("feature state", *scores)
    return FeatureStatePacket(node, mode, seq, ts_us, *scores, quality, timestamp)


def encode_feature_state(p: FeatureStatePacket) -> bytes:
    body = FEATURE_STATE.pack(
        MAGIC_FEATURE_STATE, p.node_id, p.mode, p.seq, p.ts_us,
        p.motion_score, p.presence_score, p.respiration_bpm, p.respiration_conf,
        p.heartbeat_bpm, p.heartbeat_conf, p.anomaly_score, p.env_shift_score,
        p.node_coherence, p.quality_flags, 0, 0,
    )[:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def parse_time_sync(data: bytes, timestamp: float = 0.0) -> TimeSyncPacket:
    _, node, version, flags, local_us, epoch_us, seq, _ = _exact(data, TIME_SYNC, "time sync")
    return TimeSyncPacket(node, version, flags, local_us, epoch_us, seq, timestamp)


def encode_time_sync(p: TimeSyncPacket) -> bytes:
    return TIME_SYNC.pack(MAGIC_TIME_SYNC, p.node_id, p.version, p.flags, p.local_us, p.epoch_us, p.sequence, 0)


def parse_opaque(data: bytes, timestamp: float = 0.0) -> OpaquePacket:
    if len(data) < 5:
        raise TruncatedError(f"packet of {len(data)} bytes has no node id")
    return OpaquePacket(peek_magic(data), data[4], bytes(data[5:]), timestamp)


_PARSERS = {
    MAGIC_CSI: parse_csi_frame,
    MAGIC_VITALS: parse_vitals,
    MAGIC_FEATURES: parse_features,
    MAGIC_FEATURE_STATE: parse_feature_state,
    MAGIC_TIME_SYNC: parse_time_sync,
    # Fused vitals reuse their magic across firmware versions, compressed CSI needs a codec we
    # lack: keep both whole rather than guess.
    MAGIC_FUSED_VITALS: parse_opaque,
    MAGIC_COMPRESSED_CSI: parse_opaque,
}

_ENCODERS = {
    CsiFrame: encode_csi_frame,
    VitalsPacket: encode_vitals,
    FeaturePacket: encode_features,
    FeatureStatePacket: encode_feature_state,
    TimeSyncPacket: encode_time_sync,
}


def parse_packet(data: bytes, timestamp: float = 0.0) -> Packet:
    """Decode any packet that shares port 5005; raises a :class:`ParseError` subclass."""
    magic = peek_magic(data)
    parser = _PARSERS.get(magic)
    if parser is None:
        raise UnknownMagicError(magic)
    return parser(data, timestamp)


def encode_packet(packet: Packet) -> bytes:
    if isinstance(packet, OpaquePacket):
        return struct.pack("<IB", packet.magic, packet.node_id) + packet.payload
    return _ENCODERS[type(packet)](packet)
