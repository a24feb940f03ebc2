"""Input that looks valid but is not (issue 19): ids, request shapes and depths, label times, the
method and null rules of the API's spec, and the cost of the service's tick."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from ruview_core.service import RuViewService, ServiceConfig
from ruview_core.service.mqtt import entity_id_slug
from ruview_core.service.registry import RoomRegistry
from ruview_core.storage import InvalidRoomId, validate_room_id
from ruview_core.supervision.events import LabelEvent, append_events, compact_events, event_line, read_events

from ._service import service_and_client

DEEP = b"[" * 10_000 + b"]" * 10_000  # 20 KB, under the body limit


async def _raw(client, method: str, path: str, data: bytes | None = None):
    headers = {"Authorization": f"Bearer {client.token}"}
    async with client.session.request(method, f"{client.base_url}{path}", data=data, headers=headers) as response:
        return response.status, json.loads(await response.text() or "null"), response.headers


@pytest.mark.parametrize("room_id", ["nl\n", "a\n", "x" * 64 + "\n", "ok\r\n", "tab\t"])
def test_a_room_id_is_matched_whole(room_id):
    for check in (validate_room_id, entity_id_slug):
        with pytest.raises(InvalidRoomId):
            check(room_id)


async def test_a_room_id_ending_in_a_newline_is_refused_everywhere(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        code, answer, _ = await _raw(client, "POST", "/rooms", b'{"name": "NL", "room_id": "nl\\n"}')
        assert code == 400 and "invalid room id" in answer["message"]
        await client.create_room("NL", room_id="nl")
        code, answer, _ = await _raw(client, "GET", "/rooms/nl%0A")
        assert code == 400 and "invalid room id" in answer["message"]
    assert sorted(p.name for p in (tmp_path / "rooms").iterdir()) == ["nl"]
    (tmp_path / "rooms" / "nl" / "room.json").write_text('{"room_id": "nl\\n", "name": "NL"}')  # edited by hand
    assert RoomRegistry(tmp_path).rooms == {}


BODY_ROUTES = [("POST", "/rooms"), ("PATCH", "/rooms/hall"), ("POST", "/rooms/hall/baseline"),
               ("POST", "/rooms/hall/recalibrate"), ("POST", "/rooms/hall/anchors/sit"), ("POST", "/rooms/hall/train"),
               ("POST", "/rooms/hall/learn"), ("POST", "/rooms/hall/bank/rollback"), ("POST", "/rooms/hall/labels")]


async def test_deeply_nested_bodies_get_a_400_on_every_body_route_and_the_websocket(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        await client.create_room("Hall", nodes=[7])
        for method, path in BODY_ROUTES:
            objects = b'{"events": [' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"]}"
            just_past = b'{"name": ' + b"[" * 17 + b"]" * 17 + b"}"  # parses in Python, but past the limit
            for body in (DEEP, b'{"name": ' + DEEP + b"}", objects, just_past):
                code, answer, _ = await _raw(client, method, path, body)
                assert code == 400 and "deeper than" in answer["message"], (method, path, code, answer)
        async with client.session.ws_connect(f"{client.base_url}/ws", headers=client._headers()) as ws:
            await ws.send_str(DEEP.decode())
            reply = await ws.receive_json(timeout=10)
            assert reply["type"] == "error" and "deeper than" in reply["message"]
            await ws.send_json({"type": "subscribe", "rooms": ["hall"]})  # the connection is still there
            assert (await ws.receive_json(timeout=10))["type"] in ("subscribed", "state")
        assert [room["room_id"] for room in await client.rooms()] == ["hall"]


@pytest.mark.parametrize("path, body, words", [
    ("/rooms/hall/train", b'{"specialists": [{}]}', "specialists must be"),
    ("/rooms/hall/train", b'{"specialists": [["presence"]]}', "specialists must be"),
    ("/rooms/hall/train", b'{"specialists": null}', "specialists must be"),
    ("/rooms/hall/baseline", b'{"seconds": null}', "seconds must be"),
    ("/rooms/hall/recalibrate", b'{"seconds": null}', "seconds must be"),
    ("/rooms/hall/anchors/sit", b'{"seconds": null}', "seconds must be"),
    ("/rooms/hall/anchors/sit", b'{"countdown": null}', "countdown must be"),
    ("/rooms/hall/bank/rollback", b'{"version": null}', "version must be"),
])
async def test_request_fields_of_the_wrong_shape_or_null_get_a_400(tmp_path, path, body, words):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Hall", nodes=[7])
        service.rooms["hall"].status["baseline_id"] = "b1"  # past the "no baseline yet" check: the body is judged
        code, answer, _ = await _raw(client, "POST", path, body)
        assert code == 400 and words in answer["message"], answer
        assert service.jobs.running("hall") is None


async def test_a_405_says_which_methods_the_path_takes(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        code, answer, headers = await _raw(client, "PUT", "/rooms")
        assert code == 405 and answer["error"] == "method_not_allowed"
        assert set(headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
        code, _, headers = await _raw(client, "POST", "/health")
        assert code == 405 and "GET" in headers["Allow"]


@pytest.mark.parametrize("when, words", [
    ("1e308", "outside"), ("milliseconds", "outside"), ("a month ago", "outside"), ("a day ahead", "outside"),
    ("a 400-digit integer", "finite number"),
])
async def test_label_times_outside_a_window_around_now_are_refused(tmp_path, when, words):
    now = time.time()
    t = {"1e308": "1e308", "milliseconds": repr(now * 1000), "a month ago": repr(now - 30 * 86400),
         "a day ahead": repr(now + 86400), "a 400-digit integer": "1" + "0" * 400}[when]
    async with service_and_client(tmp_path) as (_, client):
        await client.create_room("Hall", nodes=[7])
        good = {"t": now, "source": "home_assistant", "kind": "pir", "value": 1}
        body = f'[{json.dumps(good)}, {{"t": {t}, "source": "s", "kind": "pir", "value": 1}}]'.encode()
        code, answer, _ = await _raw(client, "POST", "/rooms/hall/labels", body)
        assert code == 400 and words in answer["invalid"][-1]["error"], answer
        assert not (tmp_path / "rooms" / "hall" / "labels.jsonl").exists()  # all or nothing
        code, answer, _ = await _raw(client, "POST", "/rooms/hall/labels", json.dumps([good]).encode())
        assert code == 200 and answer["stored"] == 1


def test_compaction_never_drops_more_than_its_size_rule_allows(tmp_path):
    path = tmp_path / "labels.jsonl"
    now = time.time()
    events = [LabelEvent(now - 3600 + i * 0.5, "home_assistant", "pir", float(i % 2)) for i in range(4000)]
    append_events(path, events)
    append_events(path, [LabelEvent(1e308, "home_assistant", "pir", 1.0),  # written before times were checked
                         LabelEvent(now * 1000, "home_assistant", "pir", 0.0)])
    max_bytes = path.stat().st_size - 1
    fits = (max_bytes // 2) // (len(event_line(events[-1])) + 1)  # what the size rule keeps
    removed = compact_events(path, max_bytes, keep_seconds=7 * 86400, now=now)
    kept = read_events(path)
    assert len(kept) >= fits - 2 and removed <= 4002 - (fits - 2)
    assert kept[-3].t == events[-1].t  # the newest real events are among them


def test_a_tick_asks_for_each_node_s_room_once_not_once_per_room(tmp_path, monkeypatch):
    rooms, nodes = 40, 64
    for index in range(rooms):
        folder = tmp_path / "rooms" / f"room-{index}"
        folder.mkdir(parents=True)
        owned = [2 * index, 2 * index + 1] if index < 8 else []  # 8 rooms own nodes 0-15, 32 take the rest
        (folder / "room.json").write_text(json.dumps({"room_id": f"room-{index}", "name": "R", "nodes": owned}))
    service = RuViewService(ServiceConfig(tmp_path, token="t", udp_port=0))
    for node in range(nodes):
        service.receiver.stats.node(node).last_seen = time.time() - (0 if node < 16 else 3600)
    lookups = 0
    real = service.registry.room_of_node

    def counted(node_id):
        nonlocal lookups
        lookups += 1
        return real(node_id)

    monkeypatch.setattr(service.registry, "room_of_node", counted)
    for _ in range(3):
        service.tick()
    assert lookups <= 2 * (rooms + nodes), lookups  # it was rooms x nodes per tick
    assert service.room_summary("room-0")["online"] is True and service.room_summary("room-9")["online"] is False
    service.receiver.stats.node(40).last_seen = time.time()  # an unclaimed node comes back
    service.tick()
    assert service.room_summary("room-9")["online"] is True and service.room_summary("room-7")["online"] is True
