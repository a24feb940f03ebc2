"""Learning from label events on the running service: the runtime's window features kept per room
(fed by the simulator over real UDP), ``POST .../learn`` keeping or refusing a bank update, the
bank's versions and ``POST .../bank/rollback``."""

from __future__ import annotations

import asyncio
import time
import shutil

import numpy as np
import pytest

from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.rooms import train_room
from ruview_core.service.registry import RoomRegistry
from ruview_core.service.rolling import RollingWindowTable
from ruview_core.sim.live import LiveSimulator
from ruview_core.specialists import load_bank

from ._enrolled_room import ROOM_SEED, enrolled_room
from ._service import api, service_and_client

ROOM = "test-room"


def enrolled_copy(data_dir) -> RoomEnrollment:
    """The session's enrolled room (every anchor), trained, as a room of this service."""
    enrollment, _ = enrolled_room()
    RoomRegistry(data_dir).create({"room_id": ROOM, "name": "Test room", "nodes": [1, 2]})
    copy = RoomEnrollment(data_dir, ROOM)
    shutil.copytree(enrollment.folder, copy.folder, dirs_exist_ok=True)
    train_room(copy)
    return copy


def anchor_hops(records, first: tuple[str, ...], second: tuple[str, ...]) -> list[dict[int, np.ndarray]]:
    """200 hops of each node's anchor windows: ``first`` for 100 s, then ``second``."""
    hops: list[dict[int, np.ndarray]] = [{} for _ in range(200)]
    for node in sorted({r.node_id for r in records}):
        for start, names in ((0, first), (100, second)):
            pool = np.concatenate([r.summary for r in records if r.node_id == node and r.anchor in names])
            for i in range(100):
                hops[start + i][node] = pool[i % len(pool)]
    return hops


def labels(t0: float) -> list[dict]:
    """Someone leaves at t0 + 6 (door), nobody until the PIR sees someone at t0 + 100, who stays."""
    timeline = [(0, "pir", 1), (0, "reed", 0), (6, "reed", 1), (8, "reed", 0), (15, "pir", 0), (100, "pir", 1),
                (130, "pir", 0)]
    return [{"t": t0 + t, "source": "home_assistant", "kind": kind, "value": value, "entity_id": f"binary_sensor.{kind}"}
            for t, kind, value in timeline]


async def wait_until(condition, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)


def test_the_rolling_table_keeps_the_last_hops_in_time_order():
    table = RollingWindowTable(capacity=4)
    assert table.table().times.size == 0 and table.nbytes == 0
    for t in range(6):
        table.append(float(t), {1: np.full(6, t)} if t != 4 else {2: np.full(6, -1.0)})
    out = table.table()
    assert out.times.tolist() == [2.0, 3.0, 4.0, 5.0] and len(table) == 4
    assert np.isnan(out.summaries[1][2]).all() and out.summaries[1][3].tolist() == [5.0] * 6
    assert np.isnan(out.summaries[2][[0, 1, 3]]).all() and out.summaries[2][2].tolist() == [-1.0] * 6
    assert table.table(since=4.0).times.tolist() == [4.0, 5.0]
    assert table.nbytes == 4 * 8 + 2 * 4 * 6 * 4  # float64 times, float32 summaries
    table.clear("new-baseline")
    assert len(table) == 0 and table.baseline_id == "new-baseline" and table.nbytes == 0
    with pytest.raises(ValueError):
        RollingWindowTable(capacity=0)


async def test_a_room_learns_from_its_label_events_and_the_update_can_be_rolled_back(tmp_path):
    enrollment = enrolled_copy(tmp_path)
    records = enrollment.anchor_records()
    async with service_and_client(tmp_path) as (service, client):
        live = service.rooms[ROOM]
        with pytest.raises(api.RuViewConflictError, match="no label events"):
            await client.start_learning(ROOM)

        # The runtime's window features of every hop land in the room's rolling table.
        with LiveSimulator(("127.0.0.1", service.receiver.port), scenario="sit", room_seed=ROOM_SEED, nodes=2):
            await wait_until(lambda: any(np.isfinite(s).all(axis=1).sum() >= 2 for s in live.windows.table().summaries.values()))
        seen = live.windows.table()
        assert set(seen.summaries) <= {1, 2} and np.allclose(np.diff(seen.times), 1.0)
        state = live.monitor.state(seen.times[-1] + 1.0)
        assert all(view.features is not None for view in state.nodes.values())

        # A day of windows, here 200 s of the room's own anchor windows, and its sensors' events.
        before = (enrollment.folder / "bank.json").read_bytes()
        t0 = float(seen.times[-1]) + 10.0
        live.windows.clear(live.windows.baseline_id)
        for i, hop in enumerate(anchor_hops(records, ("sit", "stand_still", "lie_down"), ("empty",))):
            live.windows.append(t0 + i + 0.5, hop)  # the sensors lie: "nobody" while people sat there
        await client.post_labels(ROOM, labels(t0))
        refused = await client.wait_for_job((await client.start_learning(ROOM))["job_id"], poll_s=0.1, timeout_s=60)
        assert refused["state"] == "succeeded" and refused["kind"] == "learn"
        report = refused["result"]
        assert report["kept"] is False and "worse on the enrollment anchors" in report["reason"]
        assert report["windows"] == 200 and "presence" in report["metrics"]["refused"]
        assert (enrollment.folder / "bank.json").read_bytes() == before  # never silently

        live.windows.clear(live.windows.baseline_id)
        for i, hop in enumerate(anchor_hops(records, ("empty",), ("sit", "stand_still", "lie_down"))):
            live.windows.append(t0 + i + 0.5, hop)
        job = await client.start_learning(ROOM)
        with pytest.raises(api.RuViewConflictError, match="busy"):
            await client.rollback_bank(ROOM)
        kept = (await client.wait_for_job(job["job_id"], poll_s=0.1, timeout_s=60))["result"]
        assert kept["kept"] is True and kept["version"] == 3 and kept["parent"] == 1, kept["reason"]
        assert kept["metrics"]["labelled_windows"]["present"] >= 90
        assert live.monitor.bank.get("presence").config["weak_label_update"] is True  # live at once
        assert len(live.windows) == 200  # the same baseline: the table stays

        versions = await client._request("GET", f"/rooms/{ROOM}/bank/versions")
        assert versions["active"] == 3
        assert [(r["event"], r.get("kept")) for r in versions["history"]] == [
            ("snapshot", None), ("update", False), ("update", True)]

        with pytest.raises(api.RuViewNotFoundError):
            await client.rollback_bank(ROOM, version=9)
        with pytest.raises(api.RuViewRequestError, match="whole number"):
            await client.rollback_bank(ROOM, version=0)
        record = await client.rollback_bank(ROOM)
        assert record["from"] == 3 and record["to"] == 1
        assert "weak_label_update" not in live.monitor.bank.get("presence").config
        assert load_bank(enrollment.folder / "bank").get("presence").config == \
            load_bank(enrollment.folder / "bank-versions" / "v0001").get("presence").config
        with pytest.raises(api.RuViewConflictError, match="nothing to roll back to"):
            await client.rollback_bank(ROOM)
        assert (await client.rollback_bank(ROOM, version=3))["to"] == 3  # forward again, by number


async def test_learning_needs_a_trained_room(tmp_path):
    async with service_and_client(tmp_path) as (_, client):
        await client.create_room("Attic", nodes=[9])
        with pytest.raises(api.RuViewConflictError, match="no baseline"):
            await client.start_learning("attic")
        with pytest.raises(api.RuViewRequestError, match="unknown field"):
            await client._request("POST", "/rooms/attic/learn", {"days": 1})
        with pytest.raises(api.RuViewNotFoundError):
            await client.start_learning("cellar")
        versions = await client._request("GET", "/rooms/attic/bank/versions")
        assert versions == {"room": "attic", "active": None, "stored": [], "history": []}


async def test_rooms_learn_on_their_own_every_few_hours(tmp_path):
    enrollment = enrolled_copy(tmp_path)
    records = enrollment.anchor_records()
    async with service_and_client(tmp_path, learn_every_s=0.5) as (service, client):
        await client.create_room("Attic", nodes=[9])  # untrained: nothing to learn from, left alone
        live = service.rooms[ROOM]
        t0 = time.time()  # label events are stamped on the add-on's clock
        for i, hop in enumerate(anchor_hops(records, ("empty",), ("sit", "stand_still", "lie_down"))):
            live.windows.append(t0 + i + 0.5, hop)
        await client.post_labels(ROOM, labels(t0))

        def learned() -> list:
            return [job for job in service.jobs.jobs.values() if job.kind == "learn" and job.done]

        await wait_until(lambda: learned(), timeout=30)
        job = learned()[0]
        assert job.room == ROOM and job.state == "succeeded" and job.result["windows"] == 200
        assert not [job for job in service.jobs.jobs.values() if job.room == "attic"]
