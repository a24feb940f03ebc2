"""A physics-based simulated room that streams ESP32 CSI frames with per-second ground truth.

``simulate(SimConfig("sit", seed=3))`` builds a seeded room (walls, furniture, router, nodes), puts
a seeded person in it doing the scenario, and streams what each node's ESP32 would report:
multipath channel at the real subcarrier frequencies, breathing and heartbeat as millimetre path
length changes, and the receiver's noise, phase offsets, AGC steps, int8 quantization, packet loss
and timestamp jitter. ``room_seed`` fixes the room independently of the person, so scenarios of
the same room share one static channel (``Simulation.static_channel``).
"""

from .channel import NULL_SUBCARRIERS, subcarrier_frequencies, subcarrier_indices
from .room import Room, make_room
from .scenarios import SCENARIOS
from .simulation import (
    BLOCK_SECONDS, DEFAULT_LOSS_RATE, DEFAULT_QUANT_PEAK, DEFAULT_RATE_HZ, DEFAULT_SNR_DB, CsiBatch,
    SimConfig, Simulation, simulate,
)

__all__ = [
    "BLOCK_SECONDS", "DEFAULT_LOSS_RATE", "DEFAULT_QUANT_PEAK", "DEFAULT_RATE_HZ", "DEFAULT_SNR_DB",
    "NULL_SUBCARRIERS", "SCENARIOS", "CsiBatch", "Room", "SimConfig", "Simulation", "make_room", "simulate",
    "subcarrier_frequencies", "subcarrier_indices",
]
