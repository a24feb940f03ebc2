"""The label endpoint on the running service, and ``ruview train-camera-free`` end to end."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp

from ruview_core.supervision.events import read_events

from ._service import service_and_client


async def test_label_events_are_validated_stored_and_counted(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Office", nodes=[1])
        base = f"http://127.0.0.1:{client.port}/api/v1/rooms/office/labels"
        auth = {"Authorization": f"Bearer {service.token}"}
        now = time.time()  # events are stamped on the add-on's clock
        batch = [{"t": now - 100.0, "source": "home_assistant", "kind": "pir", "value": "on",
                  "entity_id": "binary_sensor.office_motion"},
                 {"t": now - 99.0, "source": "home_assistant", "kind": "temperature", "value": 21.4}]
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.post(base, json=batch) as response:
                assert response.status == 200 and (await response.json())["stored"] == 2
            async with session.post(base, json={"events": batch[:1]}) as response:
                assert (await response.json())["received_since_start"] == 3
            async with session.post(base, json=[batch[0], {"t": 1, "kind": "smell"}]) as response:
                body = await response.json()
                assert response.status == 400 and body["invalid"][0]["index"] == 1 and "nothing" in body["message"]
            async with session.post(base, data=b"{oops") as response:
                assert response.status == 400 and (await response.json())["error"] == "bad_request"
            async with session.post(base.replace("office", "attic"), json=batch) as response:
                assert response.status == 404
            async with session.get(base + "/stats") as response:
                stats = await response.json()
            async with aiohttp.ClientSession() as anonymous, anonymous.post(base, json=batch) as response:
                assert response.status == 401
        assert stats["events"] == 3 and stats["kinds"] == {"pir": 2, "temperature": 1}
        assert stats["sources"] == {"home_assistant": 3} and stats["malformed_lines"] == 0
        stored = read_events(tmp_path / "rooms" / "office" / "labels.jsonl")
        assert [e.kind for e in stored] == ["pir", "pir", "temperature"] and stored[0].entity_id.endswith("motion")


def test_train_camera_free_writes_the_adr071_folder_plus_its_own_files(tmp_path):
    from ruview_core.cli import main
    from ruview_core.sim import SimConfig, simulate
    from ruview_core.supervision.events import write_events
    from ruview_core.supervision.simulated_sensors import simulated_sensor_events, timeline
    from ruview_core.training import load_model
    from ruview_core.wire.jsonl import write_jsonl

    sim = simulate(SimConfig("empty", seed=3, room_seed=3, nodes=2, duration=50), [(15, "walk"), (25, "sit")])
    recording, label_file, out = tmp_path / "rec.csi.jsonl", tmp_path / "labels.jsonl", tmp_path / "model"
    with open(recording, "w") as handle:
        write_jsonl(sim.frames(), handle)
    write_events(label_file, simulated_sensor_events(timeline(sim), seed=3))
    assert main(["train-camera-free", "--data", str(recording), "--ha-labels", str(label_file), "--no-seed",
                 "--output", str(out), "--epochs", "1", "--json"]) == 0
    load_model(out)  # every file still matches the manifest
    manifest = [json.loads(line)["path"] for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert {"pose-decoder.json", "camera-free-supervision.json", "training-metrics.json"} <= set(manifest)
    record = json.loads((out / "camera-free-supervision.json").read_text())
    assert record["record"] == "camera_free_supervision" and record["mode"] == "full" and "pir" in record["signals"]
    metrics = json.loads((out / "training-metrics.json").read_text())["camera_free"]
    assert metrics["weak_labels"]["presence"]["known"] > 0 and len(metrics["self_refinement"]) == 3
    assert json.loads((out / "pose-decoder.json").read_text())["kind"] == "estimate"


async def test_a_label_file_is_cut_back_once_it_passes_its_size(tmp_path, monkeypatch):
    from ruview_core.service import labels

    monkeypatch.setattr(labels, "LABELS_MAX_BYTES", 2000)
    async with service_and_client(tmp_path) as (service, client):
        await client.create_room("Office", nodes=[1])
        base = f"http://127.0.0.1:{client.port}/api/v1/rooms/office/labels"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {service.token}"}) as session:
            async def post(batch):
                async with session.post(base, json=batch) as response:
                    return response.status

            start = time.time() - 6 * 86400.0  # six days of events, each within the week the add-on takes
            for day in range(10):  # a batch of events in two halves sent at once: appends and cuts never interleave
                events = [{"t": start + day * 14 * 3600.0 + i * 60, "source": "home_assistant", "kind": "pir",
                           "value": i % 2} for i in range(12)]
                assert await asyncio.gather(post(events[:6]), post(events[6:])) == [200, 200]
        stored = read_events(tmp_path / "rooms" / "office" / "labels.jsonl")
        assert (tmp_path / "rooms" / "office" / "labels.jsonl").stat().st_size <= 2000
        assert stored[-1].t == start + 9 * 14 * 3600.0 + 11 * 60 and stored[0].t >= start + 3 * 14 * 3600.0
        assert [e.t for e in stored] == sorted(e.t for e in stored)
