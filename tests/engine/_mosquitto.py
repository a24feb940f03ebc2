"""A real Mosquitto broker on a loopback port for tests (Debian package ``mosquitto``).

``start_mosquitto(tmp_path)`` starts one and returns ``(process, port)``; pass ``port=`` to start
it again on the same port after stopping it. The ``mosquitto`` fixture yields a :class:`Broker`
that can be stopped and restarted and is always killed at the end of the test.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
READY_TIMEOUT_S = 10.0
WAIT_S = 5.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start_mosquitto(tmp_path: Path, port: int | None = None) -> tuple[subprocess.Popen, int]:
    """Start a broker on 127.0.0.1 (a free port unless given); returns once it accepts connections."""
    if not Path(MOSQUITTO).is_file():
        pytest.fail("mosquitto is not installed: `make test` installs it (apt-get install mosquitto)")
    port = free_port() if port is None else port
    config = tmp_path / f"mosquitto-{port}.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                      "log_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n")
    log = (tmp_path / f"mosquitto-{port}.log").open("ab")
    process = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL)
    log.close()  # the child holds its own descriptor
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {process.returncode}: "
                               f"{(tmp_path / f'mosquitto-{port}.log').read_text(errors='replace')}")
        if _accepts(port):
            return process, port
        time.sleep(0.02)
    stop_mosquitto(process)
    raise RuntimeError(f"mosquitto did not listen on port {port} within {READY_TIMEOUT_S} s")


def stop_mosquitto(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@dataclass
class Broker:
    tmp_path: Path
    process: subprocess.Popen
    port: int
    host: str = "127.0.0.1"

    def stop(self) -> None:
        stop_mosquitto(self.process)

    def start(self) -> None:
        """Start again on the same port (after :meth:`stop`)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:  # the old socket may linger for a moment
            try:
                self.process, _ = start_mosquitto(self.tmp_path, self.port)
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@pytest.fixture
def mosquitto(tmp_path: Path):
    process, port = start_mosquitto(tmp_path)
    broker = Broker(tmp_path, process, port)
    try:
        yield broker
    finally:
        broker.stop()


class Listener:
    """A paho subscriber that records every message it receives, retained or live."""

    def __init__(self, port: int, topics: str | list[str] = "#") -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"listener-{id(self)}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in ([topics] if isinstance(topics, str) else topics)])
        assert self._subscribed.wait(WAIT_S)

    def _on_message(self, client, userdata, message) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[mqtt.MQTTMessage]], bool], timeout: float = WAIT_S) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.messages), timeout)

    def latest(self) -> dict[str, bytes]:
        with self._changed:
            return {m.topic: m.payload for m in self.messages}

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._changed:
            return [m for m in self.messages if m.topic == topic]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
