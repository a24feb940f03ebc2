"""Heart rate: like breathing, the room teaches which feature hears the heartbeat best.

Trained from the quiescent anchors (no band is known for the heart, so the feature's mean
confidence decides). Heartbeat is near the ESP32 noise floor: expect low, honest confidence.
"""

from __future__ import annotations

from ..calibration.baseline import RoomBaseline
from ..calibration.features import WindowFeatures
from ..calibration.records import AnchorFeatures
from .base import Reading, Specialist
from .breathing import rate_reading, train_rate

KIND = "heartbeat"
QUIESCENT = ("sleep_posture", "lie_down", "sit", "stand_still", "breathe_slow", "breathe_normal")


def train(records: list[AnchorFeatures], baseline: RoomBaseline, trained_at: float) -> Specialist | None:
    return train_rate(records, baseline, trained_at, KIND, QUIESCENT, (), 2, 3)


def predict(specialist: Specialist, features: WindowFeatures) -> Reading:
    return rate_reading(specialist, features.heart)
