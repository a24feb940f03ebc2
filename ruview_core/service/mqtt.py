"""Home Assistant MQTT discovery for the rooms the service runs (optional; paho-mqtt).

Each room is one Home Assistant device with eight entities read from one JSON state topic
``BASE/ROOM/state`` (the room state as the service serves it, plus ``status``), and event
entities (a breathing pause, with its ``duration_s``) fired by ``BASE/ROOM/event``, one message
per event (``{"event_type": ..., attributes}``), each entity keeping only its own event types.
Discovery configs are retained; states and events are not, so a restarted Home Assistant never
shows an old reading as new nor fires an old event.

Availability is the bridge's own ``BASE/status`` topic, which the broker sets to ``offline``
(last will) when the service dies. A reading that is not known (stale room, anomaly veto, nobody
present, not trained) renders as ``None``, which Home Assistant shows as unknown, never as a
value. While the Home Assistant integration is connected the bridge is *suppressed*: it removes
its discovery configs and publishes nothing, so no entity exists twice.

Every public method may be called from any thread; paho runs its own network thread, and one
lock keeps the callbacks and the callers from interleaving their publishes.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..rooms import STATUSES
from ..runtime.events import ACTIVITY_EVENT_TYPES
from ..specialists.anomaly import VETO
from ..specialists.posture import POSTURES
from ..storage import json_safe, validate_room_id

_LOGGER = logging.getLogger(__name__)

ONLINE, OFFLINE = "online", "offline"
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 30
KEEPALIVE_S = 30
STOP_FLUSH_S = 2.0


# A state may lack readings (the service publishes {"status": ...} before a room's first state):
# every lookup has a default, since Home Assistant fails a template on an undefined attribute.
def _known(field: str, then: str) -> str:
    """A template that renders ``then`` for a known reading and ``None`` (unknown) otherwise."""
    return (f"{{% set r = value_json.{field} | default({{}}) %}}{{% set v = r.value | default(none) %}}"
            f"{{{{ 'None' if v is none else {then} }}}}")


def _attributes(field: str) -> str:
    return (f"{{% set r = value_json.{field} | default({{}}) %}}"
            "{{ {'confidence': r.confidence | default(none), 'label': r.label | default(none)} | tojson }}")


def _reading(field: str, then: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The discovery fields of an entity showing one reading: ``then`` as its state, unknown when the
    reading is, and the reading's confidence and label as attributes."""
    return {**fields, "value_template": _known(field, then), "json_attributes_template": _attributes(field)}


def _events(*event_types: str) -> dict[str, Any]:
    """The discovery fields of an event entity: the events of ``event_types`` fire it (others on
    the topic render empty, which Home Assistant ignores)."""
    return {"event_types": list(event_types),
            "value_template": f"{{{{ value if value_json.event_type | default(none) in {list(event_types)!r} else '' }}}}"}


@dataclass(frozen=True)
class EntitySpec:
    """One entity of a room's device: its platform, key, the discovery fields of its own, and the
    room topic it reads (``state``; ``event`` for event entities)."""

    component: str
    key: str
    name: str
    fields: dict[str, Any]
    topic: str = "state"


# The room state's readings (see ruview_core.runtime.room_state) mapped onto Home Assistant.
ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec("binary_sensor", "presence", "Presence", _reading("presence", "('ON' if v else 'OFF')", {
        "device_class": "occupancy",
    })),
    EntitySpec("binary_sensor", "motion", "Motion", _reading("motion", "('ON' if v else 'OFF')", {
        "device_class": "motion",
    })),
    EntitySpec("sensor", "posture", "Posture", _reading("posture", "v", {
        "device_class": "enum", "options": list(POSTURES), "icon": "mdi:human-handsdown",
    })),
    EntitySpec("sensor", "breathing_rate", "Breathing rate", _reading("breathing_bpm", "(v | round(1))", {
        "unit_of_measurement": "br/min", "state_class": "measurement", "icon": "mdi:lungs",
        "suggested_display_precision": 1,
    })),
    EntitySpec("sensor", "heart_rate", "Heart rate", _reading("heart_bpm", "(v | round(1))", {
        "unit_of_measurement": "bpm", "state_class": "measurement", "icon": "mdi:heart-pulse",
        "suggested_display_precision": 0,
    })),
    # The specialist scores 0..1; Home Assistant shows percent.
    EntitySpec("sensor", "restlessness", "Restlessness", _reading("restlessness", "((v * 100) | round(1))", {
        "unit_of_measurement": "%", "state_class": "measurement", "icon": "mdi:bed",
        "suggested_display_precision": 0,
    })),
    # Same threshold as the runtime's veto: ON exactly when the room's readings are withheld.
    EntitySpec("binary_sensor", "anomaly", "Anomaly", _reading("anomaly", f"('ON' if v >= {VETO} else 'OFF')", {
        "device_class": "problem",
    })),
    EntitySpec("sensor", "calibration", "Calibration status", {
        "device_class": "enum", "options": list(STATUSES), "entity_category": "diagnostic",
        "icon": "mdi:tune-variant",
        "value_template": ("{% set s = value_json.status | default(none) %}"
                           "{{ s if s is not none else ('stale' if value_json.stale | default(false) "
                           "else 'None') }}"),
        "json_attributes_template": ("{{ {'stale_reason': value_json.stale_reason | default(none), "
                                     "'veto_reason': value_json.veto_reason | default(none), "
                                     "'baseline_id': value_json.baseline_id | default(none)} | tojson }}")}),
    EntitySpec("event", "breathing_pause", "Breathing pause", {**_events("breathing_pause"), "icon": "mdi:lungs"},
               topic="event"),
    EntitySpec("event", "activity", "Activity", {**_events(*ACTIVITY_EVENT_TYPES), "icon": "mdi:human-handsdown"},
               topic="event"),
)


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    discovery_prefix: str = "homeassistant"
    base_topic: str = "ruview"
    client_id: str = "ruview"


def entity_id_slug(room_id: str) -> str:
    """Room ids may hold '-', entity ids may not: 'living-room' -> 'living_room'."""
    return validate_room_id(room_id).replace("-", "_")


def discovery_topic(settings: MqttSettings, room_id: str, spec: EntitySpec) -> str:
    return f"{settings.discovery_prefix}/{spec.component}/ruview_{room_id}/{spec.key}/config"


def state_topic(settings: MqttSettings, room_id: str, kind: str = "state") -> str:
    return f"{settings.base_topic}/{room_id}/{kind}"


def status_topic(settings: MqttSettings) -> str:
    return f"{settings.base_topic}/status"


def discovery_configs(settings: MqttSettings, room_id: str, name: str, version: str,
                      area: str | None = None) -> dict[str, dict]:
    """Every discovery topic of a room with its config payload."""
    slug = entity_id_slug(room_id)
    device = {"identifiers": [f"ruview_{room_id}"], "name": name, "manufacturer": "RuView",
              "model": "CSI room", "sw_version": version}
    if area:
        device["suggested_area"] = area
    configs = {}
    for spec in ENTITIES:
        topic = state_topic(settings, room_id, spec.topic)
        attributes = {"json_attributes_topic": topic} if spec.topic == "state" else {}
        configs[discovery_topic(settings, room_id, spec)] = {
            "name": spec.name,
            "unique_id": f"ruview_{room_id}_{spec.key}",
            "default_entity_id": f"{spec.component}.ruview_{slug}_{spec.key}",
            "state_topic": topic,
            **attributes,
            "availability": [{"topic": status_topic(settings)}],
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": device,
            "origin": {"name": "RuView", "sw_version": version},
            **spec.fields,
        }
    return configs


class MqttBridge:
    """Publishes Home Assistant discovery, availability and room states to one broker."""

    def __init__(self, settings: MqttSettings, *, version: str) -> None:
        self.settings = settings
        self.version = version
        self._lock = threading.RLock()
        self._rooms: dict[str, tuple[str, str | None]] = {}  # room id -> (display name, area)
        self._last_state: dict[str, str] = {}  # room id -> last state payload, replayed for HA's birth
        self._removed: set[str] = set()  # cleared again on every connect, in case a clear was lost
        self._suppressed = False
        self._connected = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                                   protocol=mqtt.MQTTv311)
        if settings.username:
            self._client.username_pw_set(settings.username, settings.password)
        self._client.will_set(status_topic(settings), OFFLINE, qos=1, retain=True)
        self._client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho retries (1 s doubling to 30 s) until the broker answers."""
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()

    def stop(self) -> None:
        """Say ``offline`` (retained), disconnect and end the network thread."""
        with self._lock:
            if self._connected.is_set():
                info = self._client.publish(status_topic(self.settings), OFFLINE, qos=1, retain=True)
            else:
                info = None
        if info is not None:
            try:
                info.wait_for_publish(STOP_FLUSH_S)
            except (RuntimeError, ValueError):
                pass  # the connection went first; the broker's last will says offline instead
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    # -- rooms and states -----------------------------------------------------------------------

    def set_room(self, room_id: str, name: str, area: str | None = None) -> None:
        """Remember a room (again, after a rename) and announce its device; ``area`` is the
        Home Assistant area its device is suggested for."""
        validate_room_id(room_id)
        with self._lock:
            self._rooms[room_id] = (name, area)
            self._removed.discard(room_id)
            if self._connected.is_set() and not self._suppressed:
                self._publish_discovery(room_id)

    def remove_room(self, room_id: str) -> None:
        validate_room_id(room_id)
        with self._lock:
            self._rooms.pop(room_id, None)
            self._last_state.pop(room_id, None)
            self._removed.add(room_id)
            if self._connected.is_set():
                self._clear_discovery(room_id)

    def publish_state(self, room_id: str, state: dict) -> None:
        """Publish one room state (``RoomState.to_dict()`` plus the service's ``status``); states of
        rooms not given to :meth:`set_room` are dropped."""
        payload = json.dumps(json_safe(state), separators=(",", ":"), allow_nan=False)
        with self._lock:
            if room_id not in self._rooms:
                return  # no device for it: a state nobody discovered would only be noise
            self._last_state[room_id] = payload
            if self._connected.is_set() and not self._suppressed:
                self._client.publish(state_topic(self.settings, room_id), payload, qos=0, retain=False)

    def publish_event(self, room_id: str, event: dict) -> None:
        """Publish one event of a room (``{"event_type": ..., attributes}``) once, never retained nor
        replayed: an event missed while the broker or Home Assistant was away stays missed."""
        payload = json.dumps(json_safe(event), separators=(",", ":"), allow_nan=False)
        with self._lock:
            if room_id in self._rooms and self._connected.is_set() and not self._suppressed:
                self._client.publish(state_topic(self.settings, room_id, "event"), payload, qos=0, retain=False)

    def set_suppressed(self, suppressed: bool) -> None:
        """True while the integration serves the rooms: withdraw every entity; False: bring them back."""
        with self._lock:
            if suppressed == self._suppressed:
                return
            self._suppressed = suppressed
            if not self._connected.is_set():
                return  # on_connect publishes (or clears) what the flag now says
            for room_id in self._rooms:
                if suppressed:
                    self._clear_discovery(room_id)
                else:
                    self._publish_discovery(room_id)
                    self._publish_last_state(room_id)

    @property
    def suppressed(self) -> bool:
        return self._suppressed

    # -- publishing (callers hold the lock) ----------------------------------------------------------
    # Discovery and states go at QoS 0: every connect republishes all of them, while a QoS 1 message
    # caught in flight by a disconnect would be resent *after* that republish and could bring back
    # the config of a room removed in the meantime.

    def _publish_discovery(self, room_id: str) -> None:
        name, area = self._rooms[room_id]
        configs = discovery_configs(self.settings, room_id, name, self.version, area)
        for topic, config in configs.items():
            self._client.publish(topic, json.dumps(config, separators=(",", ":")), qos=0, retain=True)

    def _clear_discovery(self, room_id: str) -> None:
        for spec in ENTITIES:
            self._client.publish(discovery_topic(self.settings, room_id, spec), b"", qos=0, retain=True)

    def _publish_last_state(self, room_id: str) -> None:
        payload = self._last_state.get(room_id)
        if payload is not None:
            self._client.publish(state_topic(self.settings, room_id), payload, qos=0, retain=False)

    def _announce_all(self) -> None:
        for room_id in self._removed:
            self._clear_discovery(room_id)
        for room_id in self._rooms:
            if self._suppressed:
                self._clear_discovery(room_id)  # in case suppression began while the broker was away
            else:
                self._publish_discovery(room_id)
                self._publish_last_state(room_id)

    # -- paho callbacks (network thread) -------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                    properties: Any) -> None:
        if reason_code.is_failure:
            _LOGGER.warning("MQTT broker %s:%s refused the connection: %s", self.settings.host,
                            self.settings.port, reason_code)
            return
        _LOGGER.info("MQTT connected to %s:%s", self.settings.host, self.settings.port)
        with self._lock:
            client.publish(status_topic(self.settings), ONLINE, qos=1, retain=True)
            client.subscribe(f"{self.settings.discovery_prefix}/status", qos=1)
            self._connected.set()
            self._announce_all()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any,
                       properties: Any) -> None:
        self._connected.clear()
        if reason_code.is_failure:
            _LOGGER.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        # Home Assistant's birth message: it (re)started and may have lost non-retained state.
        if message.topic == f"{self.settings.discovery_prefix}/status" and message.payload == b"online":
            with self._lock:
                if self._connected.is_set():
                    _LOGGER.debug("Home Assistant came online: republishing discovery")
                    self._announce_all()


