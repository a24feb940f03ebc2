"""One room's damaged file, a stale temporary, a planted giant tensors file: the service starts
anyway, the damaged room says what is wrong ("needs_attention"), the other rooms run."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import tracemalloc
from pathlib import Path

import aiohttp
import pytest

from ruview_core.calibration import RoomEnrollment, StoredFileError
from ruview_core.calibration.persist import MAX_TENSORS_BYTES, read_artifact, tensors_path
from ruview_core.calibration.simulated import simulated_frames
from ruview_core.service.registry import RoomRegistry
from ruview_core.sim import DEFAULT_SNR_DB
from ruview_core.wire import encode_packet

from ._service import service_and_client
from .conftest import make_frame

ROOMS = {"den": [1, 2], "kitchen": [3]}


@pytest.fixture(scope="module")
def two_rooms(tmp_path_factory) -> Path:
    """Two rooms with a baseline each (enough to be monitored); copied by every test that damages one."""
    data_dir = tmp_path_factory.mktemp("two-rooms")
    registry = RoomRegistry(data_dir)
    for seed, (room, nodes) in enumerate(ROOMS.items(), start=1):
        registry.create({"room_id": room, "name": room.title(), "nodes": nodes})
        RoomEnrollment(data_dir, room).calibrate(
            simulated_frames("empty", 11.0, room_seed=seed, seed=seed, nodes=2, snr_db=DEFAULT_SNR_DB), seconds=11.0)
    return data_dir


@pytest.fixture
def data_dir(two_rooms, tmp_path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(two_rooms, copy)
    return copy


async def rooms_by_id(client) -> dict[str, dict]:
    return {room["room_id"]: room for room in await client.rooms()}


def append_record(data_dir: Path, room: str, record: dict) -> None:
    with open(data_dir / "rooms" / room / "session.jsonl", "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


@pytest.mark.parametrize("record", [
    {"event": "bank_trained", "baseline_id": None},  # no "at"
    {"event": "anchor_skipped", "anchor": ["sit"], "at": 1.0},  # an anchor that is not a name
    {"event": "baseline_accepted", "baseline_id": {"id": 1}, "at": 1.0},
], ids=["no-at", "list-anchor", "dict-baseline-id"])
async def test_a_damaged_session_record_costs_only_its_room(data_dir, record):
    append_record(data_dir, "den", record)
    async with service_and_client(data_dir) as (service, client):
        rooms = await rooms_by_id(client)
        den, kitchen = rooms["den"], rooms["kitchen"]
        assert den["status"] == "needs_attention"
        assert "session.jsonl" in den["attention"] and f"({record['event']})" in den["attention"]
        assert den["baseline_id"] is not None  # the records before the damaged one still count
        assert kitchen["status"] == "untrained" and kitchen["attention"] is None
        assert service.rooms["kitchen"].monitor is not None and service.rooms["den"].monitor is not None


async def test_a_room_whose_files_cannot_be_read_at_all_needs_attention(data_dir):
    meta_path = _baseline_stem(data_dir).with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["nodes"] = list(meta["nodes"])  # a list where a mapping belongs: no loader expects this
    meta_path.write_text(json.dumps(meta))
    async with service_and_client(data_dir) as (service, client):
        rooms = await rooms_by_id(client)
        assert rooms["den"]["status"] == "needs_attention"
        assert "could not be read" in rooms["den"]["attention"]
        assert rooms["kitchen"]["status"] == "untrained" and service.rooms["kitchen"].monitor is not None
        state = await client.room_state("den")
        assert state["status"] == "needs_attention" and state["state"] is None


@pytest.mark.parametrize(("progress", "state"), [(None, "running"), ("abc", "succeeded")])
async def test_a_damaged_job_record_is_left_out_and_answered_404(data_dir, progress, state):
    jobs = data_dir / "jobs"
    jobs.mkdir()
    record = {"job_id": "0" * 32, "room": "den", "kind": "train", "state": state, "progress": progress}
    (jobs / f"{'0' * 32}.json").write_text(json.dumps(record))
    async with service_and_client(data_dir) as (service, client):
        async with aiohttp.ClientSession() as session:
            url = f"{client.base_url}/jobs/{'0' * 32}"
            async with session.get(url, headers={"Authorization": f"Bearer {service.token}"}) as response:
                body = await response.json()
        assert response.status == 404 and "damaged" in body["message"], body
        assert (await rooms_by_id(client))["den"]["job"] is None


async def test_a_damaged_instance_id_is_kept_aside_and_made_anew(data_dir):
    (data_dir / "instance_id").write_bytes(b"\xff\xfe\x00garbage")
    async with service_and_client(data_dir) as (service, client):
        health = await client.health()
    assert health["instance_id"] == (data_dir / "instance_id").read_text().strip() != ""
    assert (data_dir / "instance_id.damaged").read_bytes() == b"\xff\xfe\x00garbage"


async def test_leftover_temporaries_in_jobs_are_removed_at_start(data_dir):
    jobs = data_dir / "jobs"
    jobs.mkdir()
    leftovers = [jobs / ".abc.json.x1y2.tmp", jobs / "other.tmp"]
    for path in leftovers:
        path.write_text("{")
    async with service_and_client(data_dir):
        pass
    assert not any(path.exists() for path in leftovers)


def test_a_planted_giant_tensors_file_is_refused_before_it_is_read(data_dir):
    stem = _baseline_stem(data_dir)
    tensors = tensors_path(stem)
    with open(tensors, "r+b") as handle:  # sparse: the disk barely notices, a naive reader would
        handle.truncate(MAX_TENSORS_BYTES * 2)
    tracemalloc.start()
    try:
        with pytest.raises(StoredFileError, match="bytes"):
            read_artifact(stem, "baseline")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"read {peak} bytes of a file it should have refused"


def test_a_tampered_tensors_file_of_the_recorded_size_is_refused_on_its_checksum(data_dir):
    stem = _baseline_stem(data_dir)
    tensors = tensors_path(stem)
    blob = bytearray(tensors.read_bytes())
    blob[-1] ^= 0xFF
    tensors.write_bytes(bytes(blob))
    with pytest.raises(StoredFileError, match="checksum"):
        read_artifact(stem, "baseline")


async def test_a_damaged_bank_makes_its_room_need_attention(data_dir):
    (data_dir / "rooms" / "den" / "bank.json").write_text("{")
    async with service_and_client(data_dir) as (service, client):
        rooms = await rooms_by_id(client)
    assert rooms["den"]["status"] == "needs_attention" and "specialist bank" in rooms["den"]["attention"]
    assert rooms["den"]["bank_error"] == rooms["den"]["attention"]
    assert rooms["kitchen"]["attention"] is None


async def test_spoofed_node_ids_never_become_nodes_of_the_service(tmp_path):
    async with service_and_client(tmp_path) as (service, client):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for node in range(256):
                for sequence in range(3):
                    sender.sendto(encode_packet(make_frame(node_id=node, sequence=sequence)),
                                  ("127.0.0.1", service.receiver.port))
                await asyncio.sleep(0.002)
        for _ in range(200):
            if sum(sum(c.values()) for c in service.receiver.stats.dropped_by_address.values()) == 768:
                break
            await asyncio.sleep(0.01)
        assert await client.nodes() == [] and (await client.health())["nodes_seen"] == 0
        assert service.receiver.stats.dropped_by_address["127.0.0.1"]["unconfirmed_node"] > 0


def _baseline_stem(data_dir):
    """The den's baseline files: each baseline is stored under its own id (baseline-<id>.*)."""
    (meta,) = (data_dir / "rooms" / "den").glob("baseline-*.json")
    return meta.with_suffix("")
