"""``ruview serve`` as a process: it starts from the command line, and a ``kill -9`` in the middle
of training leaves a bank that loads and a job that says how it ended, never "running"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ruview_core.calibration.simulated import enroll_simulated_room
from ruview_core.specialists import load_bank

from ._mosquitto import free_port

TOKEN = "process-token"


def call(port: int, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def start(data_dir: Path, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "ruview_core.cli", "serve", "--data-dir", str(data_dir),
                                "--host", "127.0.0.1", "--port", str(port), "--udp-port", "0", "--token", TOKEN,
                                "--log-level", "warning"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"ruview serve exited with {process.returncode}"
        try:
            call(port, "GET", "/health")
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("ruview serve did not answer within 30 s")


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("serve")
    enroll_simulated_room(data_dir, "den", room_seed=6, nodes=2)
    return data_dir


@pytest.mark.parametrize("delay_s", [0.0, 0.004, 0.015])
def test_kill_9_during_training_leaves_the_previous_bank_intact(enrolled, delay_s):
    port = free_port()
    process = start(enrolled, port)
    try:
        if not (enrolled / "rooms" / "den" / "room.json").exists():
            call(port, "POST", "/rooms", {"room_id": "den", "name": "Den", "nodes": [1, 2]})
        assert call(port, "GET", "/rooms/den")["status"] == "ready"
        job = call(port, "POST", "/rooms/den/train")
        time.sleep(delay_s)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    load_bank(enrolled / "rooms" / "den" / "bank")  # raises if the kill left it damaged
    process = start(enrolled, port)
    try:
        after = call(port, "GET", f"/jobs/{job['job_id']}")
        print(f"kill after {delay_s * 1000:.0f} ms: job {after['state']}")
        assert after["state"] in ("succeeded", "failed"), after
        if after["state"] == "failed":
            assert "interrupted" in after["error"]
        room = call(port, "GET", "/rooms/den")
        assert room["status"] == "ready" and room["job"] is None and "bank_error" not in room
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
