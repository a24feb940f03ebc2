"""The service publishes its rooms through MQTT discovery to a real Mosquitto, and steps aside
once the Home Assistant integration has connected (until it is removed), so no entity ever
appears twice."""

from __future__ import annotations

import asyncio
import json

from ruview_core.service.mqtt import MqttSettings

from ._mosquitto import Broker, Listener, mosquitto  # noqa: F401  (fixture)
from ._service import service_and_client

PRESENCE_CONFIG = "homeassistant/binary_sensor/ruview_den/presence/config"


async def _until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.1)


async def test_rooms_appear_through_discovery_until_the_integration_connects(tmp_path, mosquitto: Broker):
    listener = Listener(mosquitto.port)
    try:
        settings = MqttSettings("127.0.0.1", mosquitto.port, client_id="ruview-test")
        async with service_and_client(tmp_path, mqtt=settings) as (service, client):
            await client.create_room("Den", nodes=[1])
            await _until(lambda: listener.latest().get(PRESENCE_CONFIG))
            config = json.loads(listener.latest()[PRESENCE_CONFIG])
            assert config["default_entity_id"] == "binary_sensor.ruview_den_presence"
            assert config["device"]["identifiers"] == ["ruview_den"]
            await _until(lambda: json.loads(listener.latest().get("ruview/den/state", b"{}") or b"{}").get("status"))
            assert json.loads(listener.latest()["ruview/den/state"])["status"] == "untrained"
            assert listener.latest()["ruview/status"] == b"online"
            assert (await client.health())["mqtt"] is True

            async def integration() -> None:
                async for _ in client.subscribe(integration=True):
                    pass

            connected = asyncio.create_task(integration())
            try:
                await _until(lambda: listener.latest().get(PRESENCE_CONFIG) == b"")  # withdrawn
            finally:
                connected.cancel()
                await asyncio.gather(connected, return_exceptions=True)
            # Gone (a Home Assistant restart, an integration reload): discovery stays off, or every
            # entity would exist twice until the integration is back.
            await asyncio.sleep(2.5)
            assert listener.latest().get(PRESENCE_CONFIG) == b""
            assert (tmp_path / "integration").exists()  # kept across restarts of the add-on
            await client.release_integration()  # the integration was removed: discovery comes back
            await _until(lambda: listener.latest().get(PRESENCE_CONFIG, b"") != b"")
        await _until(lambda: listener.latest().get("ruview/status") == b"offline")
    finally:
        listener.close()


async def test_the_service_runs_on_when_the_broker_is_away(tmp_path, mosquitto: Broker):
    mosquitto.stop()
    settings = MqttSettings("127.0.0.1", mosquitto.port, client_id="ruview-test")
    async with service_and_client(tmp_path, mqtt=settings) as (_, client):
        assert (await client.health())["mqtt"] is False
        room = await client.create_room("Den")
        assert room["room_id"] == "den"
        mosquitto.start()
        listener = Listener(mosquitto.port)
        try:
            await _until(lambda: listener.latest().get(PRESENCE_CONFIG), timeout=15.0)
        finally:
            listener.close()
