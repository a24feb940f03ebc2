"""The MQTT bridge against a real Mosquitto: discovery, availability, states, suppression, reconnects.

The discovery configs are also checked against Home Assistant's own MQTT platform schemas and
their templates rendered by Home Assistant's template engine, when Home Assistant is installed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from ruview_core.runtime.room_state import READINGS, RoomState
from ruview_core.service.mqtt import (
    ENTITIES,
    STATUSES,
    MqttBridge,
    MqttSettings,
    discovery_configs,
    discovery_topic,
)
from ruview_core.specialists.base import Reading, unknown

from ._mosquitto import Broker, Listener, mosquitto  # noqa: F401  (fixture)

VERSION = "0.1.0-test"
WAIT_S = 5.0
PER_ROOM = 10  # entities of a room's device: eight read the state topic, two event entities its event topic



def configs_of(latest: dict[str, bytes], prefix: str = "homeassistant") -> dict[str, dict]:
    return {t: json.loads(p) for t, p in latest.items()
            if t.startswith(prefix + "/") and t.endswith("/config") and p}


@pytest.fixture
def bridge_factory(mosquitto: Broker):
    made: list[MqttBridge] = []

    def make(**kwargs) -> MqttBridge:
        settings = MqttSettings("127.0.0.1", mosquitto.port, client_id=f"ruview-test-{len(made)}", **kwargs)
        bridge = MqttBridge(settings, version=VERSION)
        made.append(bridge)
        return bridge

    yield make
    for bridge in made:
        bridge.stop()


def started(bridge: MqttBridge, rooms: dict[str, str]) -> MqttBridge:
    for room_id, name in rooms.items():
        bridge.set_room(room_id, name)
    bridge.start()
    assert bridge.wait_connected(WAIT_S)
    return bridge


def a_state(**readings: Reading) -> dict:
    return RoomState(t=12.5, readings=readings, baseline_id="b1").to_dict()


# -- configs and templates, no broker ------------------------------------------------------------


def test_configs_identify_each_room_and_entity():
    settings = MqttSettings("h")
    configs = {**discovery_configs(settings, "living-room", "Living room", VERSION),
               **discovery_configs(settings, "bedroom", "Bedroom", VERSION)}
    assert len(configs) == 2 * len(ENTITIES) == 2 * PER_ROOM
    unique_ids = [c["unique_id"] for c in configs.values()]
    entity_ids = [c["default_entity_id"] for c in configs.values()]
    assert len(set(unique_ids)) == len(set(entity_ids)) == 2 * PER_ROOM
    for topic, config in configs.items():
        component = topic.split("/")[1]
        assert "object_id" not in config
        domain, object_id = config["default_entity_id"].split(".")
        assert domain == component and object_id.replace("_", "").isalnum() and object_id.islower()
        assert config["availability"] == [{"topic": "ruview/status"}]
        assert config["device"]["manufacturer"] == "RuView" and config["device"]["sw_version"] == VERSION
    living = configs["homeassistant/binary_sensor/ruview_living-room/presence/config"]
    assert living["default_entity_id"] == "binary_sensor.ruview_living_room_presence"
    assert living["device"]["identifiers"] == ["ruview_living-room"]
    assert living["device"]["name"] == "Living room"
    assert living["state_topic"] == "ruview/living-room/state"
    assert "suggested_area" not in living["device"]
    upstairs = discovery_configs(settings, "bedroom", "Bedroom", VERSION, area="Upstairs")
    assert {c["device"]["suggested_area"] for c in upstairs.values()} == {"Upstairs"}
    calibration = configs["homeassistant/sensor/ruview_bedroom/calibration/config"]
    assert calibration["entity_category"] == "diagnostic" and calibration["options"] == list(STATUSES)


def test_room_ids_that_would_break_topics_are_refused():
    bridge = MqttBridge(MqttSettings("127.0.0.1", 1), version=VERSION)
    for bad in ("../etc", "a/b", "#", "room+1", "", "Living Room"):
        with pytest.raises(ValueError):
            bridge.set_room(bad, "x")


@pytest.fixture(scope="module")
def home_assistant_schemas():
    """Home Assistant's MQTT sensor and binary_sensor discovery schemas, and a way to render."""
    from homeassistant.components.mqtt import binary_sensor, event, sensor
    from homeassistant.core import HomeAssistant
    return {"sensor": sensor.DISCOVERY_SCHEMA, "binary_sensor": binary_sensor.DISCOVERY_SCHEMA,
            "event": event.DISCOVERY_SCHEMA}, HomeAssistant


def rendered(schemas, home_assistant, tmp_path, states: list[dict]) -> dict[str, list[str]]:
    """Validate every config with Home Assistant's schema, then render its templates per state."""
    configs = discovery_configs(MqttSettings("h"), "den", "Den", VERSION, area="Ground floor")

    async def run() -> dict[str, list[str]]:
        hass = home_assistant(str(tmp_path))
        out = {}
        try:
            for topic, config in configs.items():
                component, key = topic.split("/")[1], topic.split("/")[3]
                if component == "event":
                    continue  # fired by the event topic, not rendered from states (test_event_entity_...)
                valid = schemas[component](dict(config, platform="mqtt"))
                assert set(config) <= set(valid), f"{key}: Home Assistant dropped {set(config) - set(valid)}"
                assert valid["default_entity_id"] == config["default_entity_id"]
                out[key] = []
                for state in states:
                    for name in ("value_template", "json_attributes_template"):
                        valid[name].hass = hass
                    value = valid["value_template"].async_render({"value_json": state}, parse_result=False)
                    attributes = json.loads(valid["json_attributes_template"].async_render(
                        {"value_json": state}, parse_result=False))
                    assert isinstance(attributes, dict)
                    out[key].append(value)
        finally:
            await hass.async_stop(force=True)
        return out

    return asyncio.run(run())


def test_templates_render_known_readings(home_assistant_schemas, tmp_path):
    schemas, home_assistant = home_assistant_schemas
    occupied = a_state(presence=Reading(True, 0.9, "present"), motion=Reading(False, 0.8, "still"),
                       posture=Reading("lying", 0.7, "lying"),
                       breathing_bpm=Reading(np.float64(14.25), 0.8, "measured"),
                       heart_bpm=Reading(61.0, 0.6, "measured"), restlessness=Reading(0.25, 0.6, "calm"),
                       anomaly=Reading(0.1, 0.9, "normal")) | {"status": "ready"}
    vetoed = a_state(anomaly=Reading(0.8, 0.8, "clipping")) | {"status": "ready", "vetoed": True}
    values = rendered(schemas, home_assistant, tmp_path, [json.loads(json.dumps(occupied)), vetoed])
    assert {k: v[0] for k, v in values.items()} == {
        "presence": "ON", "motion": "OFF", "posture": "lying", "breathing_rate": "14.2", "heart_rate": "61.0",
        "restlessness": "25.0", "anomaly": "OFF", "calibration": "ready"}
    assert values["anomaly"][1] == "ON" and values["presence"][1] == "None"


def test_templates_render_unknown_for_null_readings(home_assistant_schemas, tmp_path):
    schemas, home_assistant = home_assistant_schemas
    stale = RoomState(t=1.0, readings={k: unknown("stale") for k in READINGS}, stale=True,
                      stale_reason="baseline changed").to_dict()
    person_readings = ("posture", "breathing_bpm", "heart_bpm", "restlessness")
    nobody = a_state(presence=Reading(False, 0.9, "absent"), motion=Reading(False, 0.9, "still"),
                     anomaly=Reading(0.0, 1.0, "normal"),
                     **{k: unknown("nobody present") for k in person_readings})
    values = rendered(schemas, home_assistant, tmp_path,
                      [stale, nobody | {"status": "ready"}, {"status": "training"}])
    # Stale: every reading unknown, and the calibration status says why without a "status" key.
    assert {k: v[0] for k, v in values.items()} == {k: "None" for k in values} | {"calibration": "stale"}
    assert values["presence"][1] == "OFF" and values["motion"][1] == "OFF" and values["anomaly"][1] == "OFF"
    assert [values[k][1] for k in ("posture", "breathing_rate", "heart_rate", "restlessness")] == ["None"] * 4
    # No state yet, only the room's status.
    assert {k: v[2] for k, v in values.items()} == {k: "None" for k in values} | {"calibration": "training"}


def test_event_entity_fires_only_for_its_own_events(home_assistant_schemas, tmp_path):
    """The breathing-pause entity reads the room's event topic: Home Assistant's event schema takes its
    config, its template passes a breathing_pause event through (event_type plus the duration) and
    renders any other event empty, which Home Assistant ignores."""
    schemas, home_assistant = home_assistant_schemas
    configs = discovery_configs(MqttSettings("h"), "den", "Den", VERSION)
    config = configs["homeassistant/event/ruview_den/breathing_pause/config"]
    assert config["state_topic"] == "ruview/den/event" and "json_attributes_topic" not in config
    pause = json.dumps({"event_type": "breathing_pause", "t": 80.0, "duration_s": 17.5, "confidence": 0.9})
    other = json.dumps({"event_type": "sat_down", "t": 81.0})
    valid, (fired, ignored) = _validated_and_rendered(schemas, home_assistant, tmp_path, config, pause, other)
    assert set(config) <= set(valid) and valid["event_types"] == ["breathing_pause"]
    assert json.loads(fired) == json.loads(pause) and ignored == ""


def test_activity_event_entity_fires_for_the_named_movements_only(home_assistant_schemas, tmp_path):
    schemas, home_assistant = home_assistant_schemas
    config = discovery_configs(MqttSettings("h"), "den", "Den", VERSION)["homeassistant/event/ruview_den/activity/config"]
    fall = json.dumps({"event_type": "fall", "t": 80.0, "confidence": 0.9, "reason": "fall rule"})
    pause = json.dumps({"event_type": "breathing_pause", "t": 81.0, "duration_s": 12.0})
    valid, (fired, ignored) = _validated_and_rendered(schemas, home_assistant, tmp_path, config, fall, pause)
    assert valid["event_types"] == ["fall", "sit_down", "stand_up", "lie_down", "get_up"]
    assert json.loads(fired) == json.loads(fall) and ignored == ""


def _validated_and_rendered(schemas, home_assistant, tmp_path, config: dict, *payloads: str) -> tuple[dict, list[str]]:
    """An event entity's discovery ``config`` validated by a running Home Assistant's MQTT event schema
    (its template check needs the instance, whatever ran before), and its template rendered per payload."""

    async def run() -> tuple[dict, list[str]]:
        hass = home_assistant(str(tmp_path))
        try:
            valid = schemas["event"](dict(config, platform="mqtt"))
            template = valid["value_template"]
            template.hass = hass
            return valid, [template.async_render({"value": p, "value_json": json.loads(p)}, parse_result=False)
                           for p in payloads]
        finally:
            await hass.async_stop(force=True)

    return asyncio.run(run())


# -- against Mosquitto ------------------------------------------------------------------------------


def test_events_are_published_once_not_retained(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den"})
    listener = Listener(mosquitto.port, "ruview/den/event")
    try:
        bridge.publish_event("den", {"event_type": "breathing_pause", "t": 80.0, "duration_s": 17.5})
        bridge.publish_event("unknown-room", {"event_type": "breathing_pause", "t": 80.0, "duration_s": 17.5})
        bridge.publish_state("den", a_state(presence=Reading(True, 0.9, "present")))
        assert listener.wait_for(lambda m: len(m) >= 1)
        time.sleep(0.2)
        assert len(listener.messages) == 1 and not listener.messages[0].retain
        assert json.loads(listener.messages[0].payload) == {"event_type": "breathing_pause", "t": 80.0,
                                                            "duration_s": 17.5}
    finally:
        listener.close()
    late = Listener(mosquitto.port, "ruview/+/event")
    try:
        assert not late.wait_for(lambda m: len(m) > 0, timeout=0.3)
    finally:
        late.close()


def test_discovery_is_retained_with_availability(mosquitto, bridge_factory):
    early = Listener(mosquitto.port)
    started(bridge_factory(), {"living-room": "Living room", "bedroom": "Bedroom"})
    try:  # everything reached the broker...
        assert early.wait_for(lambda m: len(configs_of(early.latest())) == 2 * PER_ROOM)
    finally:
        early.close()
    late = Listener(mosquitto.port)  # ...so a newcomer gets it all, from the broker's retained copies
    try:
        assert late.wait_for(lambda m: len(configs_of({x.topic: x.payload for x in m})) == 2 * PER_ROOM)
        assert late.wait_for(lambda m: any(x.topic == "ruview/status" for x in m))
        latest = late.latest()
        assert latest["ruview/status"] == b"online"
        assert all(m.retain for m in late.messages)
        configs = configs_of(latest)
        devices = {c["device"]["identifiers"][0] for c in configs.values()}
        assert devices == {"ruview_living-room", "ruview_bedroom"}
        assert len({c["unique_id"] for c in configs.values()}) == 2 * PER_ROOM
        assert all(c["default_entity_id"].startswith(("sensor.ruview_", "binary_sensor.ruview_", "event.ruview_"))
                   for c in configs.values())
    finally:
        late.close()


def test_states_are_published_live_not_retained(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den"})
    listener = Listener(mosquitto.port, "ruview/den/state")
    try:
        state = a_state(presence=Reading(True, 0.9, "present"),
                        restlessness=Reading(np.float32(0.5), 0.5, "x"))
        bridge.publish_state("den", state | {"status": "ready", "bad": float("nan")})
        bridge.publish_state("unknown-room", state)  # no device: nothing published
        assert listener.wait_for(lambda m: len(m) >= 1)
        payload = json.loads(listener.messages[0].payload)
        assert payload["presence"]["value"] is True and payload["status"] == "ready"
        assert payload["restlessness"]["value"] == 0.5 and payload["bad"] is None
        assert not listener.messages[0].retain
    finally:
        listener.close()
    late = Listener(mosquitto.port, "ruview/+/state")
    try:
        assert not late.wait_for(lambda m: len(m) > 0, timeout=0.3)
    finally:
        late.close()


def test_clean_stop_says_offline(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den"})
    bridge.stop()
    assert not bridge.connected
    late = Listener(mosquitto.port, "ruview/status")
    try:
        assert late.wait_for(lambda m: len(m) == 1) and late.messages[0].payload == b"offline"
    finally:
        late.close()


BRIDGE_PROCESS = textwrap.dedent("""
    import sys, time
    from ruview_core.service.mqtt import MqttBridge, MqttSettings
    bridge = MqttBridge(MqttSettings("127.0.0.1", int(sys.argv[1]), client_id="ruview-doomed"), version="x")
    bridge.set_room("den", "Den")
    bridge.start()
    assert bridge.wait_connected(10)
    print("connected", flush=True)
    time.sleep(60)
""")


def test_last_will_says_offline_when_the_process_dies(mosquitto):
    listener = Listener(mosquitto.port, "ruview/status")
    process = subprocess.Popen([sys.executable, "-c", BRIDGE_PROCESS, str(mosquitto.port)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "connected"
        assert listener.wait_for(lambda m: m and m[-1].payload == b"online")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT_S)
        assert listener.wait_for(lambda m: m[-1].payload == b"offline")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        listener.close()
    late = Listener(mosquitto.port, "ruview/status")  # the broker keeps it for newcomers
    try:
        assert late.wait_for(lambda m: len(m) == 1) and late.messages[0].payload == b"offline"
    finally:
        late.close()


def test_republishes_when_home_assistant_comes_online(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den"})
    bridge.publish_state("den", a_state(presence=Reading(True, 0.9, "present")))
    topic = discovery_topic(bridge.settings, "den", ENTITIES[0])
    listener = Listener(mosquitto.port, [topic, "ruview/den/state"])
    try:
        assert listener.wait_for(lambda m: len(listener.on(topic)) == 1)  # the retained copy
        listener.client.publish("homeassistant/status", "offline")
        time.sleep(0.2)
        assert len(listener.on(topic)) == 1  # only "online" is Home Assistant's birth
        listener.client.publish("homeassistant/status", "online")
        assert listener.wait_for(lambda m: len(listener.on(topic)) == 2)
        assert not listener.on(topic)[1].retain  # a live republish, not the stored copy
        # The last state is replayed too: Home Assistant forgot it when it restarted.
        assert listener.wait_for(lambda m: len(listener.on("ruview/den/state")) == 1)
    finally:
        listener.close()


def test_suppression_withdraws_entities_and_states(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den", "hall": "Hall"})
    listener = Listener(mosquitto.port)
    try:
        assert listener.wait_for(lambda m: len(configs_of(listener.latest())) == 2 * PER_ROOM)
        bridge.set_suppressed(True)
        assert listener.wait_for(lambda m: len(configs_of(listener.latest())) == 0)
        bridge.publish_state("den", a_state(presence=Reading(True, 0.9, "present")))
        bridge.set_room("attic", "Attic")  # added while suppressed: not announced either
        listener.client.publish("homeassistant/status", "online")  # nor on Home Assistant's birth
        time.sleep(0.3)
        assert not listener.on("ruview/den/state") and not configs_of(listener.latest())
        assert listener.latest()["ruview/status"] == b"online"  # the bridge itself stays available
    finally:
        listener.close()
    late = Listener(mosquitto.port, "homeassistant/#")
    try:
        assert not late.wait_for(lambda m: len(m) > 0, timeout=0.3)  # nothing retained is left
    finally:
        late.close()
    bridge.set_suppressed(False)
    late = Listener(mosquitto.port, "homeassistant/#")
    try:
        assert late.wait_for(lambda m: len(configs_of(late.latest())) == 3 * PER_ROOM)
    finally:
        late.close()


def test_removed_room_leaves_no_entities(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den", "hall": "Hall"})
    listener = Listener(mosquitto.port, "homeassistant/+/ruview_den/#")
    try:
        assert listener.wait_for(lambda m: len(configs_of(listener.latest())) == PER_ROOM)
        bridge.remove_room("den")
        assert listener.wait_for(lambda m: len(configs_of(listener.latest())) == 0)
        assert len(listener.latest()) == PER_ROOM  # an empty retained payload on each of the room's topics
    finally:
        listener.close()
    late = Listener(mosquitto.port, "homeassistant/#")
    try:
        assert late.wait_for(lambda m: len(m) == PER_ROOM)
        time.sleep(0.2)
        assert len(late.messages) == PER_ROOM
        assert {c["device"]["name"] for c in configs_of(late.latest()).values()} == {"Hall"}
    finally:
        late.close()


def test_connects_when_the_broker_comes_up_late(tmp_path):
    from ._mosquitto import free_port, start_mosquitto, stop_mosquitto

    port = free_port()
    bridge = MqttBridge(MqttSettings("127.0.0.1", port, client_id="ruview-early"), version=VERSION)
    bridge.set_room("den", "Den")
    bridge.start()
    process = None
    try:
        assert not bridge.wait_connected(0.5)
        process, _ = start_mosquitto(tmp_path, port)
        assert bridge.wait_connected(10)
    finally:
        bridge.stop()
        if process is not None:
            stop_mosquitto(process)


def test_reconnects_and_republishes_after_broker_restart(mosquitto, bridge_factory):
    bridge = started(bridge_factory(), {"den": "Den"})
    mosquitto.stop()
    deadline = time.monotonic() + WAIT_S
    while bridge.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not bridge.connected
    bridge.remove_room("den")  # while the broker is away: cleared once it is back
    bridge.set_room("hall", "Hall")
    mosquitto.start()  # persistence is off: the broker forgot every retained message
    late = Listener(mosquitto.port)
    try:
        assert late.wait_for(lambda m: len(configs_of(late.latest())) == PER_ROOM
                             and late.latest().get("ruview/status") == b"online", timeout=10)
        assert {c["device"]["name"] for c in configs_of(late.latest()).values()} == {"Hall"}
    finally:
        late.close()
