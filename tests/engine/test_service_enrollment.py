"""A room enrolled through the service's API end to end, fed by the simulator over real UDP:
a rejected baseline and its retry, anchors, a skip, training, live states on the WebSocket,
re-calibration making the room STALE, and the jobs' refusals and cancellation."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from ruview_core.sim.live import LiveSimulator

from ._enrolled_room import ROOM_SEED
from ._service import api, service_and_client

ANCHOR_SECONDS = 12.0


@contextlib.asynccontextmanager
async def collecting(client, rooms=None, integration=False):
    messages: list[dict] = []

    async def listen() -> None:
        with contextlib.suppress(api.RuViewConnectionError):
            async for message in client.subscribe(rooms, integration=integration):
                messages.append(message)

    task = asyncio.create_task(listen())
    try:
        while not messages:  # the subscription is confirmed before anything else is counted on
            await asyncio.sleep(0.05)
        yield messages
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_job(client, job) -> dict:
    assert job["state"] in ("queued", "running")
    return await client.wait_for_job(job["job_id"], poll_s=0.2, timeout_s=120)


async def test_a_room_is_enrolled_trained_and_watched_through_the_api(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Den", nodes=[1, 2])
        address = ("127.0.0.1", service.receiver.port)
        with LiveSimulator(address, scenario="walk", room_seed=ROOM_SEED, nodes=2) as simulator:
            async with collecting(client, ["den"]) as messages:
                walked = await run_job(client, await client.start_baseline("den", seconds=10))
                assert walked["state"] == "succeeded" and walked["result"]["accepted"] is False
                assert "moving" in walked["result"]["reason"] or "moved" in walked["result"]["reason"]
                assert (await client.room("den"))["status"] == "untrained"

                simulator.set_scenario("empty")
                await asyncio.sleep(2.0)  # the walker's last datagrams drain first, as a person leaves the room
                for _ in range(2):  # a person may retry, as the product offers; the reason says why it failed
                    empty = await run_job(client, await client.start_baseline("den", seconds=10))
                    if empty["result"]["accepted"]:
                        break
                assert empty["result"]["accepted"] is True, empty["result"]["reason"]
                assert empty["result"]["nodes"] == [1, 2]

                for anchor in ("stand_still", "sit"):
                    simulator.set_scenario(anchor)
                    job = await client.start_anchor("den", anchor, seconds=ANCHOR_SECONDS, countdown=1.0)
                    with pytest.raises(api.RuViewConflictError, match="busy"):
                        await client.start_anchor("den", "lie_down")
                    done = await run_job(client, job)
                    assert done["result"]["accepted"] is True, done["result"]["reason"]
                    assert done["result"]["next_anchor"] is not None
                skipped = await run_job(client, await client.start_anchor("den", "small_move", skip=True))
                assert skipped["result"]["skipped"] is True

                trained = await run_job(client, await client.start_training("den"))
                assert trained["state"] == "succeeded" and {"presence", "posture"} <= set(trained["result"]["specialists"])
                room = await client.room("den")
                assert room["status"] == "ready" and room["anchors"]["small_move"] == "skipped"
                assert room["anchors"]["sit"] == "accepted" and room["online"] is True

                simulator.set_scenario("sit")
                present = await _wait_for_state(client, "den", lambda s: s["presence"]["value"] is True)
                assert present["presence"]["confidence"] > 0 and present["stale"] is False
                simulator.set_scenario("empty")
                absent = await _wait_for_state(client, "den", lambda s: s["presence"]["value"] is False)
                assert absent["breathing_bpm"]["value"] is None and absent["posture"]["value"] is None

                again = await run_job(client, await client.recalibrate("den", seconds=10))
                assert again["kind"] == "recalibrate" and again["result"]["accepted"] is True
                room = await client.room("den")
                assert room["status"] == "stale" and "re-calibrated" in room["stale_reason"]
                stale = await _wait_for_state(client, "den", lambda s: s["stale"])
                assert stale["breathing_bpm"]["value"] is None and stale["presence"]["value"] is None
                await asyncio.sleep(1.2)

        kinds = {m["type"] for m in messages}
        assert {"subscribed", "state", "job", "node", "stale"} <= kinds
        progress = [m["job"]["progress"] for m in messages if m["type"] == "job" and m["job"]["kind"] == "anchor"]
        assert any(0 < p < 1 for p in progress) and max(progress) == 1.0
        assert any(m["type"] == "stale" and m["stale"] and m["room"] == "den" for m in messages)
        assert sum(1 for m in messages if m["type"] == "state" and m["state"]) >= 5
        assert all(m.get("room", "den") == "den" for m in messages if m["type"] in ("state", "job", "stale"))


async def _wait_for_state(client, room: str, condition, timeout: float = 30.0) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            message = await client.room_state(room)
            if message["state"] is not None and condition(message["state"]):
                return message["state"]
            await asyncio.sleep(0.5)


async def test_a_capture_without_frames_fails_with_a_reason_and_a_job_can_be_cancelled(tmp_path):
    async with service_and_client(tmp_path, no_data_timeout=1.0) as (_, client):
        await client.create_room("Attic", nodes=[9])
        silent = await run_job(client, await client.start_baseline("attic", seconds=10))
        assert silent["state"] == "failed" and "no CSI frames from node(s) 9" in silent["error"]

        job = await client.start_baseline("attic", seconds=10)
        cancelled = await client.cancel_job(job["job_id"])
        assert cancelled["state"] == "cancelled"
        room = await client.room("attic")
        assert room["job"] is None and room["baseline_id"] is None
