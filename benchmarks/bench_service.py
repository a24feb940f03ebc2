"""``ruview serve`` under load, as the add-on runs it: a separate process, fed over loopback UDP.

A simulated room (4 nodes by default) is enrolled into a fresh data directory, the service is
started on it, and the simulator streams every node at 100 Hz for ``--seconds``. Measured:

- start-up: from spawning the process to the first accepted packet (``/api/v1/health``);
- end-to-end latency: from the end of a hop (the stream time of the frame that closed it, sent
  at that instant) to its room state arriving on the WebSocket;
- RSS of the service at the start and the end of the load;
- every frame the sender sent against what the service counted, and states per second on the
  WebSocket (does it keep up for the whole run?).

The last line printed is one JSON object. ``--seconds 300`` is the five-minute reliability run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from ruview_core.calibration.simulated import enroll_simulated_room
from ruview_core.sim.live import LiveSimulator

ROOM = "bench-room"
TOKEN = "bench-token"


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_for_first_packet(session: aiohttp.ClientSession, base: str, process: subprocess.Popen,
                                started: float) -> float:
    while True:
        if process.poll() is not None:
            raise SystemExit(f"ruview serve exited with {process.returncode}")
        try:
            async with session.get(f"{base}/health") as response:
                if response.status == 200 and (await response.json())["nodes_seen"] > 0:
                    return time.monotonic() - started
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.01)


async def measure(args: argparse.Namespace, data_dir: str) -> dict:
    http_port, udp_port = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    base = f"http://127.0.0.1:{http_port}/api/v1"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    # A one-node probe streams from the moment the process is spawned, to time the start-up; the
    # load runs after it, so its frames can all be counted (none are sent before the port is bound).
    probe = LiveSimulator(("127.0.0.1", udp_port), scenario="sit", room_seed=args.seed, nodes=1)
    simulator = LiveSimulator(("127.0.0.1", udp_port), scenario="sit", room_seed=args.seed, nodes=args.nodes)
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "ruview_core.cli", "serve", "--data-dir", data_dir,
                                "--host", "127.0.0.1", "--port", str(http_port), "--udp-port", str(udp_port),
                                "--token", TOKEN, "--log-level", "warning"])
    probe.start()
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            startup_s = await wait_for_first_packet(session, base, process, started)
            probe.stop()
            await asyncio.sleep(0.5)
            async with session.get(f"{base}/nodes") as response:
                probe_frames = sum(n["frames"] for n in (await response.json())["nodes"])
            simulator.start()
            async with session.post(f"{base}/rooms", json={"room_id": ROOM, "name": "Bench room",
                                                           "nodes": list(range(1, args.nodes + 1))}) as response:
                assert response.status == 201, await response.text()
            latencies, states, per_second, rss_series, seen = [], 0, [], [], set()
            rss_start = rss_mb(process.pid)
            async with session.ws_connect(f"{base}/ws") as ws:
                await ws.send_json({"type": "subscribe", "rooms": [ROOM]})
                end = time.time() + args.seconds
                second, count = int(time.time()), 0
                while time.time() < end:
                    try:
                        message = await ws.receive_json(timeout=5.0)
                    except TimeoutError:
                        break
                    now = time.time()
                    if int(now) != second:
                        per_second.append(count)
                        second, count = int(now), 0
                        rss_series.append(rss_mb(process.pid))
                    if message.get("type") == "state" and message.get("state"):
                        states += 1
                        count += 1
                        if message["state"]["t"] not in seen:  # a quiet second repeats the last state
                            seen.add(message["state"]["t"])
                            latencies.append(1000 * (now - message["state"]["t"]))
            rss_end = rss_mb(process.pid)
            simulator.stop()
            await asyncio.sleep(0.5)  # the last datagrams in flight
            async with session.get(f"{base}/nodes") as response:
                nodes = (await response.json())["nodes"]
    finally:
        probe.stop()
        simulator.stop()
        process.terminate()
        process.wait(timeout=10)
    sent = sum(simulator.sent.values())
    received = sum(n["frames"] for n in nodes) - probe_frames
    latencies.sort()
    return {
        "nodes": args.nodes, "seconds": args.seconds,
        "startup_s": round(startup_s, 3),
        "latency_ms": {"median": round(statistics.median(latencies), 1) if latencies else None,
                       "p99": round(latencies[int(0.99 * (len(latencies) - 1))], 1) if latencies else None},
        "rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1), "peak": round(max(rss_series), 1),
                   "at_60s": round(rss_series[min(59, len(rss_series) - 1)], 1),
                   "every_30s": [round(x, 1) for x in rss_series[::30]]},
        "frames_sent": sent, "frames_received": received,
        "frames_lost": sent - received,
        "ws_states": states,
        "ws_states_per_s_min": min(per_second[1:-1]) if len(per_second) > 2 else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ruview-bench-service-") as data_dir:
        print(f"enrolling simulated room '{ROOM}' ({args.nodes} nodes)...", file=sys.stderr)
        enroll_simulated_room(data_dir, ROOM, room_seed=args.seed, nodes=args.nodes)
        result = asyncio.run(measure(args, data_dir))
    print(f"start-up to first packet {result['startup_s']} s; latency median {result['latency_ms']['median']} ms, "
          f"p99 {result['latency_ms']['p99']} ms beyond the hop; RSS {result['rss_mb']['start']} -> "
          f"{result['rss_mb']['end']} MB; frames sent {result['frames_sent']}, counted {result['frames_received']}; "
          f"{result['ws_states']} states on the WebSocket")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
