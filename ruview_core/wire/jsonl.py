"""``.csi.jsonl`` recordings, both RuView variants.

Raw variant (one packet per line, what :func:`write_jsonl` produces)::

    {"timestamp": 1775182186.95, "node_id": 2, "magic": "0xC5110001", "type": "raw_csi",
     "iq_hex": "<payload after the 20-byte header>", "subcarriers": 64, "rssi": 1, "size": 148}

plus ``vitals`` / ``feature`` lines. Upstream's lines carry no sequence, frequency or antenna
count; we write them as extra keys (``sequence``, ``freq_mhz``, ``n_antennas``, ``noise_floor``,
``ppdu_type``, ``flags``) so a recording replays as byte-identical UDP. The sensing-server
recorder variant has ``"subcarriers": [amplitudes]`` only: it becomes an amplitude-only frame.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..frames import CsiFrame, FeaturePacket, OpaquePacket, Packet, VitalsPacket
from .adr018 import CSI_HEADER_SIZE, MAGIC_CSI, MAGIC_FEATURES, MAGIC_VITALS, check_dimensions, csi_to_iq, iq_to_csi
from .errors import BadFieldError, ParseError
from .textfile import open_recording


def _number(record: dict[str, Any], key: str, default: float | None = None) -> float:
    value = record.get(key)
    if value is None:  # absent, or JSON null as recorders write for a field they do not have
        value = default
    if value is None:
        raise BadFieldError(f"line has no '{key}'")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadFieldError(f"'{key}' is not a finite number: {value!r}")
    return value


def _int(record: dict[str, Any], key: str, default: int | None = None) -> int:
    value = _number(record, key, default)
    if value != int(value):
        raise BadFieldError(f"'{key}' is not a whole number: {value!r}")
    return int(value)


def _magic(record: dict[str, Any]) -> int | None:
    magic = record.get("magic")
    if magic is None:
        return None
    try:
        return int(magic, 16) if isinstance(magic, str) else int(magic)
    except (TypeError, ValueError):
        raise BadFieldError(f"bad magic {magic!r}") from None


def _raw_csi(record: dict[str, Any], timestamp: float, sequence: int) -> CsiFrame:
    iq_hex = record.get("iq_hex")
    if not isinstance(iq_hex, str):
        raise BadFieldError("raw_csi line has no iq_hex string")
    try:
        iq = np.frombuffer(bytes.fromhex(iq_hex), dtype=np.int8)
    except ValueError:
        raise BadFieldError("iq_hex is not hexadecimal") from None
    n_sc = _int(record, "subcarriers")
    if n_sc < 1 or len(iq) % (2 * n_sc):
        raise BadFieldError(f"iq_hex of {len(iq)} bytes does not fit {n_sc} subcarriers")
    n_ant = _int(record, "n_antennas", len(iq) // (2 * n_sc))
    check_dimensions(n_ant, n_sc)
    if len(iq) != 2 * n_ant * n_sc:
        raise BadFieldError(f"iq_hex of {len(iq)} bytes does not fit {n_ant}x{n_sc}")
    return CsiFrame(
        node_id=_int(record, "node_id"),
        sequence=_int(record, "sequence", sequence),
        timestamp=timestamp,
        csi=iq_to_csi(iq, n_ant, n_sc),
        freq_mhz=_int(record, "freq_mhz", 0),
        rssi=_int(record, "rssi", 0),
        noise_floor=_int(record, "noise_floor", 0),
        ppdu_type=_int(record, "ppdu_type", 0),
        flags=_int(record, "flags", 0),
    )


def _amplitudes(record: dict[str, Any], timestamp: float, sequence: int) -> CsiFrame:
    values = record["subcarriers"]
    if not values or len(values) > 4 * 384 or not all(isinstance(v, (int, float)) for v in values):
        raise BadFieldError("'subcarriers' must be a non-empty list of numbers")
    amplitude = np.asarray(values, dtype=np.float32)
    if not np.isfinite(amplitude).all() or (amplitude < 0).any():
        raise BadFieldError("amplitudes must be finite and non-negative")
    return CsiFrame(
        node_id=_int(record, "node_id", 0),
        sequence=sequence,
        timestamp=timestamp,
        csi=amplitude.astype(np.complex64)[None, :],
        rssi=round(_number(record, "rssi", 0)),
        noise_floor=round(_number(record, "noise_floor", 0)),
        amplitude_only=True,
    )


def _vitals(record: dict[str, Any], timestamp: float) -> VitalsPacket:
    return VitalsPacket(
        node_id=_int(record, "node_id"),
        flags=_int(record, "flags", 0),
        breathing_bpm=_number(record, "breathing_bpm", 0.0),
        heart_bpm=_number(record, "heartrate_bpm", 0.0),
        rssi=_int(record, "rssi", 0),
        n_persons=_int(record, "n_persons", 0),
        motion_energy=_number(record, "motion_energy", 0.0),
        presence_score=_number(record, "presence_score", 0.0),
        timestamp_ms=_int(record, "timestamp_ms", 0),
        timestamp=timestamp,
    )


def _feature(record: dict[str, Any], timestamp: float) -> FeaturePacket:
    features = record.get("features")
    if not isinstance(features, list) or len(features) != 8:
        raise BadFieldError("feature line needs 8 features")
    values = tuple(_number({"f": f}, "f") for f in features)
    return FeaturePacket(_int(record, "node_id"), _int(record, "seq", 0), _int(record, "timestamp_us", 0), values, timestamp)


class JsonlDecoder:
    """Stateful line decoder: numbers frames per node where the recording has no sequence."""

    def __init__(self) -> None:
        self._next_sequence: Counter[int] = Counter()

    def decode(self, line: str) -> Packet:
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            raise BadFieldError("line is not JSON") from None
        if not isinstance(record, dict):
            raise BadFieldError("line is not a JSON object")
        timestamp = float(_number(record, "timestamp"))
        kind, magic = record.get("type"), _magic(record)
        node = record.get("node_id", 0)
        if kind == "raw_csi" or (kind is None and magic == MAGIC_CSI and "iq_hex" in record):
            return self._numbered(node, lambda seq: _raw_csi(record, timestamp, seq))
        if kind == "vitals" or magic == MAGIC_VITALS:
            return _vitals(record, timestamp)
        if kind == "feature" or magic == MAGIC_FEATURES:
            return _feature(record, timestamp)
        if isinstance(record.get("subcarriers"), list):
            return self._numbered(node, lambda seq: _amplitudes(record, timestamp, seq))
        if magic is not None:
            # Header-only markers (e.g. 0xC5110005 session markers) keep their place in the count.
            return OpaquePacket(magic, _int(record, "node_id", 0), b"", timestamp)
        raise BadFieldError(f"unrecognised line type {kind!r}")

    def _numbered(self, node: Any, build: Any) -> CsiFrame:
        key = node if isinstance(node, int) else -1
        frame = build(self._next_sequence[key])
        self._next_sequence[key] = frame.sequence + 1
        return frame


def iter_jsonl(lines: Iterable[str], stats: Counter[str] | None = None) -> Iterator[Packet]:
    """Decode lines, skipping blank ones; malformed lines are counted in ``stats`` and skipped."""
    decoder = JsonlDecoder()
    for line in lines:
        if not line.strip():
            continue
        try:
            yield decoder.decode(line)
        except ParseError as error:
            if stats is None:
                raise
            stats[error.reason] += 1


def read_jsonl(path: str | Path, stats: Counter[str] | None = None) -> Iterator[Packet]:
    """Packets of a ``.csi.jsonl`` file in file order. Without ``stats`` a bad line raises."""
    with open_recording(path) as handle:
        yield from iter_jsonl(handle, stats)


def packet_to_record(packet: Packet) -> dict[str, Any]:
    """The raw-variant JSON object of one packet."""
    if isinstance(packet, CsiFrame):
        if packet.amplitude_only:
            raise BadFieldError("an amplitude-only frame has no I/Q to write as raw_csi")
        return {
            "timestamp": packet.timestamp,
            "node_id": packet.node_id,
            "magic": f"0x{MAGIC_CSI:08X}",
            "size": CSI_HEADER_SIZE + 2 * packet.n_antennas * packet.n_subcarriers,
            "rssi": packet.rssi,
            "type": "raw_csi",
            "iq_hex": csi_to_iq(packet.csi).tobytes().hex(),
            "subcarriers": packet.n_subcarriers,
            "n_antennas": packet.n_antennas,
            "sequence": packet.sequence,
            "freq_mhz": packet.freq_mhz,
            "noise_floor": packet.noise_floor,
            "ppdu_type": packet.ppdu_type,
            "flags": packet.flags,
        }
    if isinstance(packet, VitalsPacket):
        return {
            "timestamp": packet.timestamp, "node_id": packet.node_id, "magic": f"0x{MAGIC_VITALS:08X}",
            "size": 32, "rssi": packet.rssi, "type": "vitals", "flags": packet.flags,
            "breathing_bpm": packet.breathing_bpm, "heartrate_bpm": packet.heart_bpm,
            "n_persons": packet.n_persons, "motion_energy": packet.motion_energy,
            "presence_score": packet.presence_score, "timestamp_ms": packet.timestamp_ms,
        }
    if isinstance(packet, FeaturePacket):
        return {
            "timestamp": packet.timestamp, "node_id": packet.node_id, "magic": f"0x{MAGIC_FEATURES:08X}",
            "size": 48, "type": "feature", "features": list(packet.features), "seq": packet.seq,
            "timestamp_us": packet.timestamp_us,
        }
    if isinstance(packet, OpaquePacket):
        return {"timestamp": packet.timestamp, "node_id": packet.node_id, "magic": f"0x{packet.magic:08X}"}
    raise BadFieldError(f"{type(packet).__name__} has no .csi.jsonl form")


def write_jsonl(packets: Iterable[Packet], out: IO[str]) -> int:
    """Write packets as raw-variant lines; returns how many were written."""
    count = 0
    for packet in packets:
        out.write(json.dumps(packet_to_record(packet), separators=(",", ":")) + "\n")
        count += 1
    return count
