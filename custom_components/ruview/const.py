"""Constants of the RuView integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "ruview"
LOGGER = logging.getLogger(__package__)

CONF_TOKEN: Final = "token"
CONF_ROOM_ID: Final = "room_id"
CONF_AREA_ID: Final = "area_id"
CONF_NODES: Final = "nodes"
CONF_SECONDS: Final = "seconds"
CONF_COUNTDOWN: Final = "countdown"
CONF_ACTION: Final = "action"
CONF_TARGET: Final = "target"
CONF_LABEL_SENSORS: Final = "label_sensors"  # a room's subentry: label kind -> the entity ids it streams

SUBENTRY_ROOM: Final = "room"
ADDON_SLUG_DISCOVERY: Final = "ruview"

# The add-on's capture limits (ruview_core.calibration): the empty room for at least 10 s, each
# anchor for one whole feature window (11 s); a countdown lets the person take position.
BASELINE_SECONDS: Final = 30
MIN_BASELINE_SECONDS: Final = 10
MIN_ANCHOR_SECONDS: Final = 11
MAX_CAPTURE_SECONDS: Final = 600
COUNTDOWN_SECONDS: Final = 3
MAX_COUNTDOWN_SECONDS: Final = 30

# The eight anchors of ADR-151 in the add-on's protocol order, with their default lengths (s);
# what to do for each is in translations (``anchor_<name>``), copied from the add-on.
ANCHOR_SECONDS: Final[dict[str, int]] = {
    "empty": 20,
    "stand_still": 20,
    "sit": 20,
    "lie_down": 20,
    "breathe_slow": 30,
    "breathe_normal": 30,
    "small_move": 20,
    "sleep_posture": 30,
}
ANCHORS: Final = tuple(ANCHOR_SECONDS)

SPECIALISTS: Final = ("presence", "motion", "posture", "breathing", "heartbeat", "restlessness", "anomaly")
ROOM_STATUSES: Final = ("untrained", "enrolling", "training", "ready", "stale", "needs_attention")
POSTURES: Final = ("standing", "sitting", "lying")
# ruview_core.specialists.anomaly.VETO: from this score on, the anomaly vetoes every other reading.
ANOMALY_VETO: Final = 0.5

# The home's own sensors as weak labels for the add-on (ruview_core.supervision.events): which
# entities may be picked for each label kind, and how often their state changes go out.
LABEL_DOMAINS: Final[dict[str, str]] = {
    "pir": "binary_sensor",
    "reed": "binary_sensor",
    "vibration": "binary_sensor",
    "temperature": "sensor",
    "humidity": "sensor",
}
LABEL_DEVICE_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    "pir": ("motion", "occupancy", "presence"),
    "reed": ("door", "window", "opening", "garage_door"),
    "vibration": ("vibration", "moving"),
    "temperature": ("temperature",),
    "humidity": ("humidity",),
}
LABEL_KINDS: Final = tuple(LABEL_DOMAINS)
# What the add-on accepts (BME280 ranges); a reading outside would make it refuse the whole batch.
LABEL_VALUE_RANGE: Final[dict[str, tuple[float, float]]] = {"temperature": (-40.0, 85.0), "humidity": (0.0, 100.0)}
LABEL_SOURCE: Final = "home_assistant"
LABEL_BATCH_SECONDS: Final = 5.0
LABEL_MAX_BATCH: Final = 200  # events a request: about 25 kB, well inside the add-on's 64 KiB body limit
LABEL_MAX_PENDING: Final = 5000  # per room, while the add-on cannot be reached: the oldest go first

JOB_POLL_SECONDS: Final = 0.5
RECONNECT_MIN_SECONDS: Final = 1.0
RECONNECT_MAX_SECONDS: Final = 60.0

SERVICE_TRAIN_ROOM: Final = "train_room"
SERVICE_RECALIBRATE: Final = "recalibrate"
ATTR_ROOM: Final = "room"
ATTR_SPECIALISTS: Final = "specialists"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
