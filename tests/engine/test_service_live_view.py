"""The live view's server side: the page served without data, the display stream decimated per
room over the WebSocket (only to a live view), the breathing picture, the next step, and the
placement helper's verdicts."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from yarl import URL

from ruview_core.calibration import RoomEnrollment
from ruview_core.node.motion import BASELINE_FACTOR
from ruview_core.service.display import COLUMN_HZ, DISPLAY_INTERVAL_S, HEATMAP_ROWS, WAVE_SECONDS, bands, \
    breathing_picture, next_step
from ruview_core.service.placement import node_verdict, placement
from ruview_core.sim.live import LiveSimulator
from ruview_core.vitals.breathing import estimate_breathing

from ._service import service_and_client


async def test_the_page_is_served_to_anyone_and_holds_no_data(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        base = f"http://127.0.0.1:{client.port}"
        async with client.session.get(f"{base}/") as response:
            assert response.status == 200 and response.content_type == "text/html"
            html = await response.text()
        # Relative URLs only: under ingress the page lives at /api/hassio_ingress/<token>/.
        assert 'src="static/live.js"' in html and 'src="/' not in html and "http" not in html
        async with client.session.get(f"{base}/static/live.js") as response:
            assert response.status == 200
        for escape in ("/static/%2E%2E/%2E%2E/%2E%2E/token", "/static/..%2F..%2F..%2Ftoken"):
            async with client.session.get(URL(f"{base}{escape}", encoded=True)) as response:
                assert response.status in (403, 404) and service.token not in await response.text()
        async with client.session.get(f"{base}/api/v1/rooms") as response:  # the data still wants the token
            assert response.status == 401


async def _display_messages(ws, count: int, timeout: float = 20.0) -> list[dict]:
    out: list[dict] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            message = await ws.receive_json()
            if message.get("type") == "display":
                out.append(message)
    return out


async def test_a_live_view_gets_a_decimated_display_stream_of_its_room(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Den", nodes=[1, 2])
        base = f"http://127.0.0.1:{client.port}/api/v1/ws"
        headers = {"Authorization": f"Bearer {service.token}"}
        with LiveSimulator(("127.0.0.1", service.receiver.port), scenario="empty", nodes=2, rate_hz=100.0):
            for _ in range(2):  # a person may retry, as the product offers
                job = await client.start_baseline("den", seconds=10)
                done = await client.wait_for_job(job["job_id"], poll_s=0.2, timeout_s=60)
                if done["result"]["accepted"]:
                    break
            assert done["result"]["accepted"] is True, done
            async with client.session.ws_connect(base, headers=headers) as view, \
                    client.session.ws_connect(base, headers=headers) as plain:
                await view.send_json({"type": "subscribe", "rooms": ["den"], "display": True})
                await plain.send_json({"type": "subscribe", "rooms": ["den"]})
                messages = await _display_messages(view, 8)
                while messages[-1]["state"] is None and len(messages) < 30:  # the monitor's first hops
                    messages += await _display_messages(view, 1)
                async with asyncio.timeout(3 * DISPLAY_INTERVAL_S):
                    while True:  # the plain subscriber gets states, never display messages
                        message = await plain.receive_json()
                        assert message["type"] != "display"
                        if message["type"] == "state":
                            break
        assert service.rooms["den"].watched
        last = messages[-1]
        assert last["room"] == "den" and last["status"] == "untrained" and "enroll" in last["next_step"]
        nodes = {n["node_id"]: n for n in last["nodes"]}
        assert set(nodes) == {1, 2}
        for node in nodes.values():
            assert node["rate_hz"] == pytest.approx(100.0, rel=0.2)
            assert node["threshold"] == pytest.approx(BASELINE_FACTOR) and math.isfinite(node["motion"])
        columns = [len(n["columns"]) for m in messages[2:] for n in m["nodes"]]
        # 100 frames/s per node arrive; the page gets COLUMN_HZ columns/s of at most HEATMAP_ROWS bands.
        assert 0 < np.mean(columns) <= 1.5 * COLUMN_HZ * DISPLAY_INTERVAL_S, columns
        assert all(len(c) <= HEATMAP_ROWS for m in messages for n in m["nodes"] for _, c in n["columns"])
        assert last["state"] is not None and {"presence", "motion"} <= set(last["state"])
        assert {r["node_id"] for r in last["node_readings"]} == {1, 2}


async def test_nobody_watching_costs_no_sampling(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Den", nodes=[1])
        with LiveSimulator(("127.0.0.1", service.receiver.port), scenario="empty", nodes=1):
            await asyncio.sleep(2.0)
        assert not service.rooms["den"].watched and not service.rooms["den"].display.traces


def test_the_breathing_picture_shows_the_rhythm_and_the_chosen_peak():
    rate, seconds, bpm = 100.0, 60.0, 15.0
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(0)
    profile = rng.uniform(0.5, 1.5, 52)
    # On some subcarriers only: a change common to all of them is the receiver's gain, not a body.
    window = np.ones((t.size, 1)) * profile[None, :]
    window[:, :20] *= (1.0 + 0.05 * np.sin(2 * np.pi * bpm / 60.0 * t))[:, None]
    window = window + rng.normal(0, 0.005, window.shape)
    picture = breathing_picture(window.astype(np.complex64), rate, 15.2, 0.8)
    assert len(picture["wave"]) == pytest.approx(WAVE_SECONDS * picture["rate_hz"], abs=1)
    peak = picture["spectrum_bpm"][int(np.argmax(picture["spectrum"]))]
    assert peak == pytest.approx(bpm, abs=1.0)
    assert picture["chosen_bpm"] == 15.2 and picture["confidence"] == 0.8
    assert breathing_picture(None, rate, None, None) is None
    assert breathing_picture(window[:100], rate, None, None) is None  # too short to show a rhythm


def test_the_breathing_picture_is_the_spectrum_the_estimator_chose_from():
    """The receiver's gain swinging at 25 bpm on every subcarrier, breathing at 12 bpm on a few:
    the picture's spectrum is the estimator's own statistic, so its peak is the estimator's rate."""
    rate, seconds = 50.0, 60.0
    t = np.arange(int(rate * seconds)) / rate
    rng = np.random.default_rng(3)
    window = np.ones((t.size, 52)) * rng.uniform(0.5, 1.5, 52)
    window[:, :6] *= (1.0 + 0.05 * np.sin(2 * np.pi * 12.0 / 60.0 * t))[:, None]
    window *= (1.0 + 0.2 * np.sin(2 * np.pi * 25.0 / 60.0 * t))[:, None]
    window = window + rng.normal(0, 0.004, window.shape)
    estimate = estimate_breathing(window.astype(np.complex64), rate)
    picture = breathing_picture(window.astype(np.complex64), rate, estimate.bpm, estimate.confidence)
    peak = picture["spectrum_bpm"][int(np.argmax(picture["spectrum"]))]
    assert estimate.raw_bpm == pytest.approx(12.0, abs=0.5)
    assert peak == pytest.approx(estimate.raw_bpm, abs=0.5)


def test_heatmap_bands_average_adjacent_subcarriers():
    assert bands(np.arange(64.0), rows=32)[:2] == [0.5, 2.5]
    assert bands(np.arange(10.0), rows=32) == [float(v) for v in range(10)]


def test_the_next_step_follows_the_calibration():
    assert "empty room" in next_step({"status": "untrained", "baseline_id": None})
    pending = {"status": "enrolling", "baseline_id": "b", "bank": None, "anchors": {"empty": "accepted", "sit": "pending"}}
    assert next_step(pending).startswith("enroll the next step: sit")
    done = {"status": "enrolling", "baseline_id": "b", "bank": None, "anchors": {"sit": "accepted"}}
    assert next_step(done) == "train the room"
    assert "nothing to do" in next_step({"status": "ready", "baseline_id": "b", "bank": {}, "online": True})
    assert next_step({"status": "needs_attention", "attention": "fix the file"}) == "fix the file"


def test_placement_verdicts():
    assert node_verdict({"stand_still": 9.0, "sit": 5.0, "lie_down": 1.2})[0] == "good"
    assert node_verdict({"stand_still": 4.0, "sit": 1.6, "lie_down": 1.7})[0] == "weak"
    assert node_verdict({"stand_still": 1.1, "sit": 1.0})[0] == "not seeing the room"
    assert node_verdict({})[0] == "unknown"


def test_placement_reads_the_captures_of_the_current_baseline(tmp_path):
    enrollment = RoomEnrollment(tmp_path, "den")
    log = enrollment.session
    log.append("baseline_accepted", baseline_id="old")
    log.append("anchor_accepted", anchor="sit", baseline_id="old", metrics={"shift": {"1": 1.0}})
    log.append("baseline_accepted", baseline_id="new")
    log.append("anchor_accepted", anchor="stand_still", baseline_id="new", metrics={"shift": {"1": 8.0, "2": 1.1}})
    log.append("anchor_rejected", anchor="sit", baseline_id="new", reason="r", metrics={"shift": {"1": 6.0, "2": 1.0}})
    log.append("anchor_accepted", anchor="empty", baseline_id="new", metrics={"shift": {"1": 1.0, "2": 0.9}})
    report = placement(enrollment)
    assert report["spots"] == {"stand_still": True, "sit": False, "empty": True}
    nodes = {n["node_id"]: n for n in report["nodes"]}
    assert nodes[1]["verdict"] == "good" and nodes[1]["shift"] == {"stand_still": 8.0, "sit": 6.0, "empty": 1.0}
    assert nodes[2]["verdict"] == "not seeing the room"
