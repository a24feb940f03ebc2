"""Records for everything an ESP32 node sends: CSI frames and the side packets on port 5005."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_ANTENNAS = 4
# 64 (LLTF) + 64 (HT-LTF) + 64 (STBC HT-LTF) doubled for 40 MHz: anything above is not an ESP32.
MAX_SUBCARRIERS = 384

FLAG_40MHZ = 0x01
FLAG_STBC = 0x04
FLAG_SYNC_VALID = 0x10


def channel_from_freq(freq_mhz: int) -> int | None:
    """WiFi channel number for a centre frequency, None when unknown (0) or off-grid."""
    if freq_mhz == 2484:
        return 14
    if 2412 <= freq_mhz <= 2472 and (freq_mhz - 2407) % 5 == 0:
        return (freq_mhz - 2407) // 5
    if 5000 < freq_mhz <= 5900 and freq_mhz % 5 == 0:
        return (freq_mhz - 5000) // 5
    if 5955 <= freq_mhz <= 7115 and (freq_mhz - 5950) % 5 == 0:
        return (freq_mhz - 5950) // 5
    return None


def freq_from_channel(channel: int) -> int:
    """Centre frequency in MHz of a 2.4 GHz or 5 GHz channel number."""
    if channel == 14:
        return 2484
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    if 32 <= channel <= 177:
        return 5000 + 5 * channel
    raise ValueError(f"unknown WiFi channel {channel}")


@dataclass(frozen=True, slots=True)
class CsiFrame:
    """One CSI measurement of one node; ``csi`` is complex64 ``[antennas, subcarriers]``.

    ``timestamp`` is seconds: host receive time for live and recorded data, stream time for
    the simulator. ``freq_mhz`` is 0 when the source did not say (amplitude-only recordings).
    """

    node_id: int
    sequence: int
    timestamp: float
    csi: np.ndarray
    freq_mhz: int = 0
    rssi: int = 0
    noise_floor: int = 0
    ppdu_type: int = 0
    flags: int = 0
    amplitude_only: bool = False

    @property
    def n_antennas(self) -> int:
        return int(self.csi.shape[0])

    @property
    def n_subcarriers(self) -> int:
        return int(self.csi.shape[1])

    @property
    def bandwidth_mhz(self) -> int:
        return 40 if self.flags & FLAG_40MHZ else 20

    @property
    def channel(self) -> int | None:
        return channel_from_freq(self.freq_mhz)


@dataclass(frozen=True, slots=True)
class VitalsPacket:
    """0xC5110002: the node's own on-device estimates (not ground truth)."""

    node_id: int
    flags: int
    breathing_bpm: float
    heart_bpm: float
    rssi: int
    n_persons: int
    motion_energy: float
    presence_score: float
    timestamp_ms: int
    timestamp: float = 0.0

    @property
    def presence(self) -> bool:
        return bool(self.flags & 0x01)

    @property
    def fall(self) -> bool:
        return bool(self.flags & 0x02)

    @property
    def motion(self) -> bool:
        return bool(self.flags & 0x04)


@dataclass(frozen=True, slots=True)
class FeaturePacket:
    """0xC5110003: the node's 8-dim feature vector (each value in 0..1)."""

    node_id: int
    seq: int
    timestamp_us: int
    features: tuple[float, ...]
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class FeatureStatePacket:
    """0xC5110006: the node's fused feature state, CRC32-protected."""

    node_id: int
    mode: int
    seq: int
    ts_us: int
    motion_score: float
    presence_score: float
    respiration_bpm: float
    respiration_conf: float
    heartbeat_bpm: float
    heartbeat_conf: float
    anomaly_score: float
    env_shift_score: float
    node_coherence: float
    quality_flags: int
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class TimeSyncPacket:
    """0xC511A110: maps node-local microseconds to epoch microseconds."""

    node_id: int
    version: int
    flags: int
    local_us: int
    epoch_us: int
    sequence: int
    timestamp: float = 0.0


@dataclass(frozen=True, slots=True)
class OpaquePacket:
    """A packet with a known magic whose payload we keep but do not decode (0xC5110004/5)."""

    magic: int
    node_id: int
    payload: bytes = field(repr=False)
    timestamp: float = 0.0


Packet = CsiFrame | VitalsPacket | FeaturePacket | FeatureStatePacket | TimeSyncPacket | OpaquePacket
