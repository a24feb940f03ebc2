"""Child processes of the journey (``ruview serve``, ``hass``): free ports, bounded waits, clean stops.

Each process is started in its own session with its output in a log file of the artifacts folder,
and stopped by its process id: SIGTERM, then SIGKILL if it has not ended in time.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ruview_core.sim.live import LiveSimulator

LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_S = 30.0


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port on loopback that nothing listens on right now (TCP, or UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} unreadable)"


@dataclass
class ChildProcess:
    """A started command whose output goes to ``log``."""

    name: str
    argv: Sequence[str]
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ChildProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(list(self.argv), stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd,
                                            start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_running(self) -> None:
        if not self.running():
            code = None if self.process is None else self.process.returncode
            raise RuntimeError(f"{self.name} exited (code {code}); last lines of {self.log}:\n{tail(self.log)}")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM by pid, then SIGKILL after ``timeout_s``; returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout=10)


def http_json(method: str, url: str, body: Any = None, *, token: str | None = None,
              form: dict[str, str] | None = None, timeout_s: float = 10.0) -> tuple[int, Any]:
    """(status, decoded JSON or text) of one request; HTTP errors are returned, not raised."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode(errors="replace")
    try:
        return status, json.loads(text) if text else None
    except json.JSONDecodeError:
        return status, text


def wait_until(what: str, ready: Callable[[], bool], timeout_s: float, *, poll_s: float = 0.25,
               child: ChildProcess | None = None) -> float:
    """Poll ``ready`` until true; fails after ``timeout_s`` or as soon as ``child`` exits.

    Returns the seconds waited.
    """
    started = time.monotonic()
    while True:
        if child is not None:
            child.check_running()
        try:
            if ready():
                return time.monotonic() - started
        except (OSError, urllib.error.URLError):
            pass  # not listening yet
        if time.monotonic() - started > timeout_s:
            detail = f"; last lines of {child.log}:\n{tail(child.log)}" if child is not None else ""
            raise TimeoutError(f"{what}: not ready after {timeout_s:.0f} s{detail}")
        time.sleep(poll_s)


@dataclass
class RuViewServe:
    """``ruview serve`` from the project's venv on loopback, with a known token."""

    data_dir: Path
    log: Path
    token: str = "e2e-token-not-secret"
    host: str = LOOPBACK
    port: int = field(default_factory=free_port)
    udp_port: int = field(default_factory=lambda: free_port(socket.SOCK_DGRAM))
    extra_args: tuple[str, ...] = ()  # more ``ruview serve`` options
    child: ChildProcess | None = None

    @property
    def api(self) -> str:
        return f"http://{self.host}:{self.port}/api/v1"

    def start(self, timeout_s: float = 60.0) -> RuViewServe:
        script = Path(sys.executable).with_name("ruview")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "ruview_core.cli"]
        self.child = ChildProcess("ruview serve", [
            *command, "serve", "--data-dir", str(self.data_dir), "--host", self.host, "--port", str(self.port),
            "--udp-port", str(self.udp_port), "--token", self.token, *self.extra_args], self.log).start()
        wait_until("ruview serve", lambda: self.request("GET", "/health")[0] == 200, timeout_s, child=self.child)
        return self

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return http_json(method, f"{self.api}{path}", body, token=self.token)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()


def _play(address: tuple[str, int], nodes: int, commands: Connection) -> None:
    """The simulated room in its own process: ``(verb, argument)`` commands, one answer each."""
    with LiveSimulator(address, scenario="empty", nodes=nodes) as live:
        while True:
            verb, argument = commands.recv()
            if verb == "stop":
                commands.send(None)
                return
            if verb == "scenario":
                live.set_scenario(argument)
                commands.send(None)
            elif verb == "truth":
                commands.send(live.truth(argument))


class SimulatedRoom:
    """A ``LiveSimulator`` in a child process, so that the test's own work (the browser, polling)
    never delays its packets: the add-on stamps frames on arrival, as it does a real node's."""

    def __init__(self, address: tuple[str, int], nodes: int) -> None:
        self._commands, theirs = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_play, args=(address, nodes, theirs), name="ruview-simulated-room", daemon=True)
        self._process.start()
        self.scenario = "empty"

    def _ask(self, verb: str, argument: object = None) -> Any:
        if not self._process.is_alive():
            raise RuntimeError(f"the simulated room's process exited (code {self._process.exitcode})")
        self._commands.send((verb, argument))
        if not self._commands.poll(STOP_TIMEOUT_S):
            raise TimeoutError(f"the simulated room did not answer {verb!r} in {STOP_TIMEOUT_S:.0f} s")
        return self._commands.recv()

    def set_scenario(self, scenario: str) -> None:
        self._ask("scenario", scenario)
        self.scenario = scenario

    def truth(self, seconds: float = 60.0) -> dict:
        """``LiveSimulator.truth`` of the person playing now."""
        return self._ask("truth", seconds)

    def stop(self) -> None:
        if self._process.is_alive():
            try:
                self._ask("stop")
            except (OSError, TimeoutError, RuntimeError):
                pass
            self._process.join(timeout=STOP_TIMEOUT_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=10)
