"""The real RuView service (the add-on's process) on loopback, rooms enrolled offline for it, and
the simulator that plays a person in them over UDP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.rooms import train_room
from ruview_core.service import RuViewService, ServiceConfig, running_service
from ruview_core.service.registry import RoomRegistry
from ruview_core.sim import SimConfig, simulate
from ruview_core.sim.live import LiveSimulator

TOKEN = "test-token"
INSTANCE_ID = "5f0c0ffee0ddf00d5f0c0ffee0ddf00d"
ROOM_SEED = 6  # the simulated room of the engine's tests
NODES = 2


def stream(scenario: str, seed: int, seconds: float, **options: Any) -> Any:
    return simulate(SimConfig(scenario, seed=seed, room_seed=ROOM_SEED, nodes=NODES, duration=seconds,
                              **options)).frames()


def enroll_offline(data_dir: Path, room_id: str, name: str, *, nodes: tuple[int, ...] = (1, 2),
                   anchors: tuple[str, ...] = ("stand_still", "sit"), trained: bool = True,
                   recalibrated: bool = False, sim: dict[str, Any] | None = None) -> None:
    """A room made the way the add-on makes it, from simulated frames faster than real time
    (``sim``: SimConfig options of its nodes, e.g. their antennas)."""
    RoomRegistry(data_dir).create({"room_id": room_id, "name": name, "nodes": list(nodes)})
    enrollment = RoomEnrollment(data_dir, room_id)
    enrollment.calibrate(stream("empty", 1000, 21.0, **(sim or {})), seconds=20.0)
    for index, anchor in enumerate(anchors):
        seconds = 20.0 if anchor.startswith("breathe") else 12.0  # a rhythm needs a few breaths
        outcome = enrollment.enroll(anchor, stream(anchor, 2000 + index, seconds + 1, **(sim or {})), seconds=seconds,
                                    countdown=0.0)
        assert outcome.accepted, (anchor, outcome.reasons)
    if trained:
        train_room(enrollment)
    if recalibrated:  # a new empty-room fingerprint: the bank no longer matches it (STALE)
        enrollment.calibrate(stream("empty", 1001, 21.0), seconds=20.0)


class Addon:
    """Start, stop and restart the service (on the same API port), and play scenarios into it."""

    def __init__(self, data_dir: Path, instance_id: str = INSTANCE_ID, **overrides: Any) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / "instance_id").write_text(instance_id + "\n", encoding="utf-8")
        self.overrides = {"no_data_timeout": 5.0, "offline_after": 3.0, **overrides}
        self.port = 0
        self.service: RuViewService | None = None
        self._running: contextlib.AbstractAsyncContextManager[tuple[RuViewService, int]] | None = None
        self._simulator: LiveSimulator | None = None

    @property
    def config(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "token": TOKEN}

    async def start(self) -> Addon:
        self._running = running_service(ServiceConfig(data_dir=self.data_dir, host="127.0.0.1", port=self.port,
                                                      udp_port=0, token=TOKEN, **self.overrides))
        self.service, self.port = await self._running.__aenter__()
        return self

    async def stop(self) -> None:
        self.stop_simulator()
        if self._running is not None:
            running, self._running, self.service = self._running, None, None
            await running.__aexit__(None, None, None)

    def play(self, scenario: str, **options: Any) -> LiveSimulator:
        """Stream ``scenario`` from the room's two nodes (switching the running simulator if any)."""
        assert self.service is not None
        if self._simulator is not None and not options:
            self._simulator.set_scenario(scenario)
            return self._simulator
        self.stop_simulator()
        self._simulator = LiveSimulator(("127.0.0.1", self.service.receiver.port), scenario=scenario,
                                        room_seed=ROOM_SEED, **{"nodes": NODES, **options}).start()
        return self._simulator

    def stop_simulator(self) -> None:
        if self._simulator is not None:
            self._simulator.stop()
            self._simulator = None


async def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


@contextlib.asynccontextmanager
async def addon_running(data_dir: Path, instance_id: str = INSTANCE_ID, **overrides: Any) -> AsyncIterator[Addon]:
    addon = await Addon(data_dir, instance_id, **overrides).start()
    try:
        yield addon
    finally:
        await addon.stop()
