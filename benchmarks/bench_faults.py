"""``ruview serve`` under faults, as the add-on runs it: a separate process on loopback.

Two rooms: ``den`` (enrolled and trained, nodes 1-2) and ``kitchen`` (a baseline, node 3). Per
fault it prints what was tried (counts), whether the service stayed up and kept serving the
other room, what was lost (files of the other room changed, a bank that no longer loads, a job
still "running" after a restart; should be nothing), and the service's RSS before and after:

- a damaged file of each kind in ``den`` at start-up (session records, job records, instance
  id, baseline metadata, leftover temporaries, a planted giant tensors file);
- a malformed UDP flood, spoofed node ids, held HTTP connections, on one running service;
- ``kill -9`` during each kind of job (baseline, anchor, train, recalibrate, learn), then a restart.

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import numpy as np
from bench_service import free_port, rss_mb

from ruview_core.calibration import RoomEnrollment, StoredFileError
from ruview_core.calibration.persist import tensors_path
from ruview_core.calibration.simulated import enroll_simulated_room, simulated_frames
from ruview_core.frames import CsiFrame
from ruview_core.service.registry import RoomRegistry
from ruview_core.sim import DEFAULT_SNR_DB
from ruview_core.sim.live import LiveSimulator
from ruview_core.specialists import load_bank
from ruview_core.wire import encode_packet

TOKEN = "bench-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


class Service:
    """``ruview serve`` on a data directory, on free loopback ports."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.udp_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
        self.base = f"http://127.0.0.1:{self.port}/api/v1"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ruview_core.cli", "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1",
             "--port", str(self.port), "--udp-port", str(self.udp_port), "--token", TOKEN, "--log-level", "warning"],
            stderr=open(data_dir.with_suffix(".log"), "ab"))  # noqa: SIM115 -- the child holds it

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            if await self.answers(session):
                return True
            await asyncio.sleep(0.05)
        return False

    async def answers(self, session: aiohttp.ClientSession, timeout: float = 2.0) -> bool:
        try:
            async with session.get(f"{self.base}/health", timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def get(self, session: aiohttp.ClientSession, path: str) -> tuple[int, object]:
        async with session.get(f"{self.base}{path}", headers=HEADERS) as response:
            return response.status, await response.json(content_type=None)

    async def post(self, session: aiohttp.ClientSession, path: str, body: dict | None = None) -> tuple[int, object]:
        async with session.post(f"{self.base}{path}", headers=HEADERS, json=body or {}) as response:
            return response.status, await response.json(content_type=None)

    @property
    def rss(self) -> float:
        return round(rss_mb(self.process.pid), 1) if self.process.poll() is None else float("nan")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def folder_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def losses(data_dir: Path, kitchen_before: str) -> list[str]:
    """What a fault destroyed: the other room's files, den's bank."""
    lost = []
    if folder_digest(data_dir / "rooms" / "kitchen") != kitchen_before:
        lost.append("kitchen's files changed")
    try:
        load_bank(data_dir / "rooms" / "den" / "bank")
    except StoredFileError as error:
        lost.append(f"den's bank: {error}")
    return lost


def make_template(folder: Path) -> None:
    enroll_simulated_room(folder, "den", room_seed=6, nodes=2)
    registry = RoomRegistry(folder)
    registry.create({"room_id": "den", "name": "Den", "nodes": [1, 2]})
    registry.create({"room_id": "kitchen", "name": "Kitchen", "nodes": [3]})
    RoomEnrollment(folder, "kitchen").calibrate(
        simulated_frames("empty", 11.0, room_seed=7, seed=7, nodes=1, snr_db=DEFAULT_SNR_DB), seconds=11.0)


# -- damaged files at start-up -----------------------------------------------------------------

def append_session(record: dict) -> Callable[[Path], str]:
    def damage(data_dir: Path) -> str:
        with open(data_dir / "rooms" / "den" / "session.jsonl", "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        return f"session record {json.dumps(record)}"
    return damage


def job_record(progress: object, state: str) -> Callable[[Path], str]:
    def damage(data_dir: Path) -> str:
        (data_dir / "jobs").mkdir(exist_ok=True)
        record = {"job_id": "f" * 32, "room": "den", "kind": "train", "state": state, "progress": progress}
        (data_dir / "jobs" / f"{'f' * 32}.json").write_text(json.dumps(record))
        return f"job record with progress {progress!r} ({state})"
    return damage


def instance_id(data_dir: Path) -> str:
    (data_dir / "instance_id").write_bytes(b"\xff\xfe\x00not utf-8")
    return "instance id that is not UTF-8"


def baseline_meta(data_dir: Path) -> str:
    path = data_dir / "rooms" / "den" / "baseline.json"
    meta = json.loads(path.read_text())
    meta["nodes"] = list(meta["nodes"])
    path.write_text(json.dumps(meta))
    return "baseline metadata with a list for its nodes"


def temporaries(data_dir: Path) -> str:
    (data_dir / "jobs").mkdir(exist_ok=True)
    for index in range(50):
        (data_dir / "jobs" / f".{index}.json.abc.tmp").write_text("{")
    return "50 leftover *.tmp files in jobs/"


def giant_tensors(data_dir: Path) -> str:
    with open(tensors_path(data_dir / "rooms" / "den" / "bank"), "r+b") as handle:
        handle.truncate(512 * 1024 * 1024)  # sparse
    return "bank tensors file grown to 512 MB"


STARTUP_FAULTS: dict[str, Callable[[Path], str]] = {
    "none": lambda data_dir: "a clean start (the memory every other start is compared with)",
    "session_without_at": append_session({"event": "bank_trained", "baseline_id": None}),
    "session_list_anchor": append_session({"event": "anchor_skipped", "anchor": ["sit"], "at": 1.0}),
    "job_progress_null": job_record(None, "running"),
    "job_progress_text": job_record("abc", "succeeded"),
    "instance_id_not_utf8": instance_id,
    "baseline_meta_list": baseline_meta,
    "leftover_tmp": temporaries,
    "giant_tensors": giant_tensors,
}


async def startup_fault(template: Path, work: Path, name: str, damage: Callable[[Path], str],
                        clean_rss: float | None) -> dict:
    data_dir = work / name
    shutil.copytree(template, data_dir)
    tried = damage(data_dir)
    kitchen = folder_digest(data_dir / "rooms" / "kitchen")
    service = Service(data_dir)
    try:
        async with aiohttp.ClientSession() as session:
            up = await service.ready(session)
            rss = service.rss
            rooms = {}
            if up:
                _, listed = await service.get(session, "/rooms")
                rooms = {room["room_id"]: room for room in listed["rooms"]}
                if name.startswith("job_"):
                    status, answer = await service.get(session, f"/jobs/{'f' * 32}")
                    tried += f"; GET /jobs answered {status}"
            den = rooms.get("den", {})
            return {"fault": name, "tried": tried, "up": up,
                    "other_room_served": rooms.get("kitchen", {}).get("status") == "untrained",
                    "den": den.get("status"), "attention": den.get("attention"),
                    "lost": losses(data_dir, kitchen) if name != "giant_tensors" else [],
                    "rss_mb": {"before": clean_rss, "after": rss},
                    "tmp_left": len(list((data_dir / "jobs").glob("*.tmp"))) if (data_dir / "jobs").is_dir() else 0}
    finally:
        service.stop()


# -- live faults on one running service --------------------------------------------------------

async def served_while(service: Service, session: aiohttp.ClientSession, load: Callable[[], None],
                       seconds: float) -> tuple[int, int]:
    """Run ``load`` in a thread for ``seconds`` while polling health and kitchen's state."""
    answered = asked = 0
    task = asyncio.create_task(asyncio.to_thread(load))
    end = time.monotonic() + seconds
    while time.monotonic() < end or not task.done():
        asked += 1
        try:
            status, _ = await service.get(session, "/rooms/kitchen/state")
            answered += status == 200 and await service.answers(session)
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.2)
    await task
    return answered, asked


def malformed_flood(port: int, count: int, seconds: float) -> Callable[[], None]:
    def send() -> None:
        rng = random.Random(1)
        valid = frame_bytes(0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for index in range(count):
                garbage = bytearray(valid)
                garbage[4] = rng.randrange(256)
                cut = rng.randrange(5, len(garbage))
                out.sendto(bytes(garbage[:cut]) if index % 2 else rng.randbytes(rng.randrange(1, 300)), ("127.0.0.1", port))
                if index % 500 == 0:
                    time.sleep(seconds * 500 / count)
    return send


def frame_bytes(node_id: int, sequence: int = 0) -> bytes:
    return encode_packet(CsiFrame(node_id=node_id, sequence=sequence, timestamp=0.0, csi=np.ones((1, 64), np.complex64)))


def spoofed_ids(port: int, frames_per_id: int) -> Callable[[], None]:
    def send() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
            for node in range(256):
                for sequence in range(frames_per_id):
                    out.sendto(frame_bytes(node, sequence), ("127.0.0.1", port))
                time.sleep(0.005)
    return send


def held_connections(port: int, count: int, seconds: float, closed: dict[str, int]) -> Callable[[], None]:
    """``count`` connections held for ``seconds``; ``closed`` learns how many the server closed by then."""
    def hold() -> None:
        sockets = []
        for index in range(count):
            held = socket.create_connection(("127.0.0.1", port))
            if index % 3 == 1:
                held.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
            elif index % 3 == 2:
                held.sendall(b"POST /api/v1/rooms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                             + b"\r\nContent-Length: 5000000000\r\n\r\n" + b"x" * 1024)
            sockets.append(held)
        time.sleep(seconds)
        for held in sockets:
            held.settimeout(0.05)
            try:
                while held.recv(65536):
                    pass
                closed["by_server"] = closed.get("by_server", 0) + 1
            except ConnectionResetError:
                closed["by_server"] = closed.get("by_server", 0) + 1
            except TimeoutError:
                pass
            held.close()
    return hold


def dropped(answer: tuple[int, object]) -> int:
    """Packets the service counted as dropped (per source address), from ``GET /nodes``."""
    return sum(sum(counts.values()) for counts in answer[1]["dropped_by_address"].values())


async def open_connections(service: Service) -> int:
    proc = Path(f"/proc/{service.process.pid}/fd")
    return sum(1 for fd in proc.iterdir() if os.readlink(fd).startswith("socket:"))


async def live_faults(template: Path, work: Path, args: argparse.Namespace) -> list[dict]:
    data_dir = work / "live"
    shutil.copytree(template, data_dir)
    kitchen = folder_digest(data_dir / "rooms" / "kitchen")
    service = Service(data_dir)
    results = []
    try:
        async with aiohttp.ClientSession() as session:
            if not await service.ready(session):
                raise SystemExit(f"ruview serve did not start: {data_dir.with_suffix('.log').read_text()[-2000:]}")
            closed: dict[str, int] = {}
            faults = [
                ("malformed_udp_flood", f"{args.flood} malformed packets in {args.flood_seconds:g} s",
                 malformed_flood(service.udp_port, args.flood, args.flood_seconds), args.flood_seconds),
                ("spoofed_node_ids", "256 node ids x 5 valid frames each", spoofed_ids(service.udp_port, 5), 2.0),
                ("held_connections", f"{args.connections} connections: silent, a never-ending head, a 5 GB body "
                 "announced with 1 KB sent", held_connections(service.port, args.connections, 15.0, closed), 15.0),
            ]
            for name, tried, load, seconds in faults:
                before, sockets_before = service.rss, await open_connections(service)
                dropped_before = dropped(await service.get(session, "/nodes"))
                answered, asked = await served_while(service, session, load, seconds)
                _, nodes = await service.get(session, "/nodes")
                results.append({"fault": name, "tried": tried, "up": await service.answers(session),
                                "other_room_served": answered == asked, "answered": f"{answered}/{asked}",
                                "unlisted_nodes_registered": sum(n["node_id"] not in (1, 2, 3) for n in nodes["nodes"]),
                                "connections_closed_by_service": closed.get("by_server"),
                                "packets_counted_dropped": dropped((200, nodes)) - dropped_before,
                                "sockets": {"before": sockets_before, "after": await open_connections(service)},
                                "lost": losses(data_dir, kitchen), "rss_mb": {"before": before, "after": service.rss}})
    finally:
        service.stop()
    return results


# -- kill -9 during each kind of job -----------------------------------------------------------

JOBS = {"baseline": ("/rooms/den/baseline", {"seconds": 10}), "anchor": ("/rooms/den/anchors/sit", {"countdown": 0}),
        "train": ("/rooms/den/train", {}), "recalibrate": ("/rooms/den/recalibrate", {"seconds": 10}),
        "learn": ("/rooms/den/learn", {})}


async def prepare_learning(service: Service, session: aiohttp.ClientSession) -> None:
    """What a learn job needs: label events, and live windows of the room (a few hops)."""
    now = time.time()
    events = [{"t": now - 60 + i, "source": "binary_sensor.den_motion", "kind": "pir", "value": i % 20 < 10}
              for i in range(60)]
    status, answer = await service.post(session, "/rooms/den/labels", {"events": events})
    if status != 200:
        raise SystemExit(f"the label events were refused: {answer}")
    await asyncio.sleep(4.0)


async def kill_during(template: Path, work: Path, kind: str, delays: list[float]) -> dict:
    data_dir = work / f"kill-{kind}"
    shutil.copytree(template, data_dir)
    kitchen = folder_digest(data_dir / "rooms" / "kitchen")
    path, body = JOBS[kind]
    states, lost, up, served, rss = [], [], True, True, {}
    async with aiohttp.ClientSession() as session:
        for delay in delays:
            service = Service(data_dir)
            with LiveSimulator(("127.0.0.1", service.udp_port), scenario="empty", room_seed=6, nodes=2):
                await service.ready(session)
                rss.setdefault("before", service.rss)
                if kind == "learn":
                    await prepare_learning(service, session)
                status, job = await service.post(session, path, body)
                await asyncio.sleep(delay)
                os.kill(service.process.pid, signal.SIGKILL)
                service.process.wait(timeout=10)
            service = Service(data_dir)
            try:
                up &= await service.ready(session)
                if status == 202:
                    states.append((await service.get(session, f"/jobs/{job['job_id']}"))[1].get("state"))
                else:
                    states.append(f"not started ({status}: {job.get('message')})")
                _, rooms = await service.get(session, "/rooms")
                served &= {r["room_id"]: r for r in rooms["rooms"]}["kitchen"]["status"] == "untrained"
                rss["after"] = service.rss
            finally:
                service.stop()
            lost += losses(data_dir, kitchen)
    lost += [f"job left {state}" for state in states if state in ("running", "queued")]
    return {"fault": f"kill_9_during_{kind}", "tried": f"{len(delays)} kills, {min(delays):.2f}-{max(delays):.2f} s "
            "into the job", "up": up, "other_room_served": served, "job_states": sorted(set(states)),
            "lost": sorted(set(lost)), "rss_mb": rss}


async def run(args: argparse.Namespace) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="ruview-bench-faults-") as work_dir:
        work = Path(work_dir)
        template = Path(args.rooms) if args.rooms else work / "template"
        if not (template / "rooms" / "kitchen" / "room.json").exists():
            print("enrolling the simulated rooms...", file=sys.stderr)
            make_template(template)
        results: list[dict] = []
        for name, damage in STARTUP_FAULTS.items():
            results.append(await startup_fault(template, work, name, damage, results[0]["rss_mb"]["after"] if results else None))
        results += await live_faults(template, work, args)
        rng = random.Random(3)
        for kind in JOBS:
            results.append(await kill_during(template, work, kind, sorted(rng.uniform(0.05, 3.0) for _ in range(args.kills))))
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=100_000)
    parser.add_argument("--flood-seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=160)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--rooms", help="keep the enrolled rooms in this folder (made once, reused)")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    for result in results:
        print(f"{result['fault']:<24} up={result['up']!s:<5} other room served={result['other_room_served']!s:<5} "
              f"lost={result['lost'] or 'nothing'}  RSS {result['rss_mb'].get('before')} -> "
              f"{result['rss_mb'].get('after')} MB  | {result['tried']}")
    summary = {"faults": len(results), "service_up": sum(r["up"] for r in results),
               "other_room_served": sum(r["other_room_served"] for r in results),
               "with_losses": [r["fault"] for r in results if r["lost"]], "results": results}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
