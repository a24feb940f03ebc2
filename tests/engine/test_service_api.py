"""The service's REST API: auth, rooms, persistence, and every kind of bad input refused cleanly."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from ._service import api, service_and_client


async def test_health_is_public_and_everything_else_wants_the_token(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        health = await client.health()
        assert health["status"] == "ok" and health["udp_port"] == service.receiver.port and health["rooms"] == 0
        doc = await client.openapi()
        assert doc["openapi"].startswith("3.") and "/api/v1/rooms/{room}/anchors/{anchor}" in doc["paths"]
        stranger = api.RuViewClient(client.session, client.host, client.port, "wrong-token")
        assert (await stranger.health())["status"] == "ok"
        with pytest.raises(api.RuViewAuthenticationError):
            await stranger.rooms()
        nobody = api.RuViewClient(client.session, client.host, client.port, "")
        with pytest.raises(api.RuViewAuthenticationError):
            await nobody.create_room("Kitchen")
        assert await client.rooms() == []


async def test_only_requests_through_the_ingress_proxy_are_trusted(tmp_path):
    async with service_and_client(tmp_path, trusted_addresses=("127.0.0.1",)) as (_, client):
        url = f"http://{client.host}:{client.port}/api/v1/rooms"
        ingress = {"X-Ingress-Path": "/api/hassio_ingress/abc123"}
        async with client.session.get(url, headers=ingress) as response:
            assert response.status == 200 and await response.json() == {"rooms": []}
        # from the proxy's address but not through ingress (the Supervisor's own calls): a token is needed
        async with client.session.get(url) as response:
            assert response.status == 401
        async with client.session.get(url, headers={"X-Ingress-Path": "/elsewhere"}) as response:
            assert response.status == 401
    async with service_and_client(tmp_path) as (_, client):  # the header from anywhere else is nothing
        async with client.session.get(f"http://{client.host}:{client.port}/api/v1/rooms",
                                      headers={"X-Ingress-Path": "/api/hassio_ingress/abc123"}) as response:
            assert response.status == 401


async def test_rooms_are_created_changed_deleted_and_survive_a_restart(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        room = await client.create_room("Living Room", nodes=[2, 1], area="living_room")
        assert room["room_id"] == "living-room" and room["nodes"] == [1, 2] and room["status"] == "untrained"
        assert room["anchors"]["stand_still"] == "pending" and room["online"] is False
        await client.create_room("Bedroom", room_id="bed", nodes=[3])
        changed = await client.update_room("bed", name="Main bedroom", nodes=[3, 4])
        assert changed["name"] == "Main bedroom" and changed["nodes"] == [3, 4]
    async with service_and_client(tmp_path) as (service, client):
        assert [r["room_id"] for r in await client.rooms()] == ["bed", "living-room"]
        assert (await client.room("bed"))["nodes"] == [3, 4]
        await client.delete_room("bed")
        with pytest.raises(api.RuViewNotFoundError):
            await client.room("bed")
        assert not (tmp_path / "rooms" / "bed").exists()


async def test_a_token_is_made_once_and_kept(tmp_path):
    async with service_and_client(tmp_path, token=None) as (service, _):
        first = service.token
    async with service_and_client(tmp_path, token=None) as (service, _):
        assert service.token == first and len(first) >= 32
    assert (tmp_path / "token").stat().st_mode & 0o077 == 0


async def _raw(client, method: str, path: str, data: bytes | None = None, token: bool = True):
    headers = {"Authorization": f"Bearer {client.token}"} if token else {}
    async with client.session.request(method, f"{client.base_url}{path}", data=data, headers=headers) as response:
        return response.status, json.loads(await response.text() or "null")


@pytest.mark.parametrize("method, path, body, status, words", [
    ("POST", "/rooms", b"{not json", 400, "not valid JSON"),
    ("POST", "/rooms", b"[1, 2]", 400, "JSON object"),
    ("POST", "/rooms", b'{"name": ""}', 400, "name"),
    ("POST", "/rooms", b'{"name": "X", "room_id": "../../etc"}', 400, "invalid room id"),
    ("POST", "/rooms", b'{"name": "X", "nodes": [1, "two"]}', 400, "nodes"),
    ("POST", "/rooms", b'{"name": "Kitchen", "nodes": [7]}', 409, "belongs to room"),
    ("POST", "/rooms", b'{"name": "Hall"}', 409, "exists already"),
    ("GET", "/rooms/..%2F..%2Fetc", None, 400, "invalid room id"),
    ("GET", "/rooms/nowhere", None, 404, "no room"),
    ("PATCH", "/rooms/hall", b'{"room_id": "other"}', 400, "only name, nodes and area"),
    ("POST", "/rooms/hall/anchors/dance", b"{}", 404, "no anchor"),
    ("POST", "/rooms/hall/anchors/sit", b"{}", 409, "no baseline"),
    ("POST", "/rooms/hall/train", b"{}", 409, "no baseline"),
    ("POST", "/rooms/hall/baseline", b'{"seconds": 3}', 400, "seconds must be"),
    ("POST", "/rooms/hall/baseline", b'{"seconds": 30, "extra": 1}', 400, "unknown field"),
    ("POST", "/rooms/hall/train", b'{"specialists": ["astrology"]}', 400, "specialists"),
    ("GET", "/jobs/123", None, 404, "no job"),
    ("POST", "/rooms", b'{"name": "' + b"x" * 70000 + b'"}', 413, "larger than"),
])
async def test_bad_requests_get_a_clear_4xx_and_change_nothing(tmp_path, method, path, body, status, words):
    async with service_and_client(tmp_path) as (_, client):
        await client.create_room("Hall", nodes=[7])
        before = await client.rooms()
        code, answer = await _raw(client, method, path, body)
        assert code == status, answer
        assert words in answer["message"] and answer["error"]
        assert await client.rooms() == before
        assert sorted(p.name for p in (tmp_path / "rooms").iterdir()) == ["hall"]


async def test_the_websocket_wants_the_token(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        stranger = api.RuViewClient(client.session, client.host, client.port, "nope")
        with pytest.raises(api.RuViewAuthenticationError):
            async for _ in stranger.subscribe():
                break
        async with client.session.ws_connect(f"{client.base_url}/ws", headers=client._headers()) as ws:
            await ws.send_str("hello")
            assert (await ws.receive_json())["type"] == "error"
            await ws.send_json({"type": "subscribe", "rooms": "all"})
            assert "rooms must be" in (await ws.receive_json())["message"]


async def test_an_interrupted_job_is_reported_failed_after_a_restart(tmp_path):
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "abc.json").write_text(json.dumps({"job_id": "abc", "room": "hall", "kind": "train", "state": "running",
                                               "progress": 0.4}))
    async with service_and_client(tmp_path) as (_, client):
        job = await client.job("abc")
        assert job["state"] == "failed" and "interrupted" in job["error"]


async def test_the_client_says_when_the_service_is_not_there():
    async with aiohttp.ClientSession() as session:
        client = api.RuViewClient(session, "127.0.0.1", 9, "t")  # discard port: nothing listens
        with pytest.raises(api.RuViewConnectionError):
            await client.health()


async def test_a_room_with_unreadable_settings_is_not_served_nor_taken_over(tmp_path, caplog):
    folder = tmp_path / "rooms" / "den"
    folder.mkdir(parents=True)
    (folder / "room.json").write_text("{torn")
    (folder / "session.jsonl").write_text('{"kind": "baseline_accepted"}\n')
    async with service_and_client(tmp_path) as (_, client):
        assert await client.rooms() == []
        assert any("den/room.json are unreadable" in r.getMessage() for r in caplog.records)
        with pytest.raises(api.RuViewConflictError, match="unreadable"):
            await client.create_room("Den")
    assert (folder / "session.jsonl").read_text() == '{"kind": "baseline_accepted"}\n'  # nothing lost


async def test_a_job_cancelled_before_it_starts_ends_cancelled_and_frees_the_room(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Attic", nodes=[9])

        async def never_runs(job):
            raise AssertionError("a job cancelled before it started must not run")

        job = service.jobs.start("attic", "train", never_runs)  # not awaited yet: still queued
        assert job.state == "queued"
        assert service.jobs.cancel(job.job_id).state == "cancelled"
        await asyncio.sleep(0)
        assert service.jobs.running("attic") is None
        again = await client.start_baseline("attic", seconds=10)  # the room is not left busy
        assert (await client.cancel_job(again["job_id"]))["state"] == "cancelled"
        await client.delete_room("attic")
