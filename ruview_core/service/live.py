"""One room at run time: its monitor, its latest state, the captures listening to its frames, and
its recent window features (to learn from)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ..calibration import RoomEnrollment, StoredFileError
from ..frames import CsiFrame
from ..rooms import open_monitor, read_room_bank, room_status
from ..runtime import RoomMonitor
from ..runtime.room_state import RoomState
from .display import RoomDisplay
from .jobs import JobFailed
from .rolling import RollingWindowTable

LOG = logging.getLogger("ruview.service")
CAPTURE_QUEUE = 4096  # frames; about 10 s of four nodes at 100 Hz


@dataclass
class LiveRoom:
    """What the service knows of a room between requests (rebuilt by :meth:`reload`)."""

    enrollment: RoomEnrollment
    monitor: RoomMonitor | None = None
    bank_note: str | None = None  # why the monitor runs without a bank
    status: dict[str, Any] = field(default_factory=dict)
    latest: dict[str, Any] | None = None  # the last fused state, RoomState.to_dict()
    latest_at: float = 0.0  # wall clock of ``latest``
    last_state: RoomState | None = None  # ``latest`` with its per-node readings
    captures: set[asyncio.Queue] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)  # closed states' events not yet published
    windows: RollingWindowTable = field(default_factory=RollingWindowTable)
    display: RoomDisplay = field(default_factory=RoomDisplay)
    watched: bool = False  # a live view shows the room: its frames are sampled for display

    def reload(self, hop: float) -> None:
        """Re-read the baseline and bank from disk (after a capture or a training); the recent
        windows stay unless the baseline they were measured against changed.

        Damaged files make the room "needs_attention" with the reason, never an exception: one
        room's bad data must not stop the service or the other rooms."""
        try:
            self._open(hop)
        except Exception as error:  # noqa: BLE001 -- whatever a damaged file raises, it stays in this room
            LOG.exception("room %s cannot be loaded", self.enrollment.room)
            self.monitor, self.bank_note = None, "the room's files could not be read"
            self.status = {"room": self.enrollment.room, "baseline_id": None, "bank": None, "stale": False,
                           "status": "needs_attention",
                           "attention": f"the room's files in {self.enrollment.folder} could not be read "
                                        f"({type(error).__name__}: {error}): capture the empty room again or "
                                        "fix the file"}
        if "baseline_error" in self.status:
            LOG.warning("room %s cannot sense: %s", self.enrollment.room, self.status["stale_reason"])
        self.latest = self.last_state = None
        baseline_id = self.monitor.baseline.baseline_id if self.monitor is not None else None
        if baseline_id != self.windows.baseline_id:
            self.windows.clear(baseline_id)

    def _open(self, hop: float) -> None:
        bank_read = read_room_bank(self.enrollment)  # once for the status and the monitor
        self.status = room_status(self.enrollment, bank_read)
        try:
            self.monitor, self.bank_note = open_monitor(self.enrollment, hop=hop, bank_read=bank_read)
        except StoredFileError as error:
            self.monitor, self.bank_note = None, str(error)
            # A damaged baseline is STALE with its repair (room_status); anything else that stops the
            # monitor of an enrolled room needs a person.
            if self.status["baseline_id"] is not None and "baseline_error" not in self.status:
                self.status.update(status="needs_attention", attention=f"{error}")

    @property
    def baseline_nodes(self) -> list[int]:
        return sorted(self.monitor.nodes) if self.monitor is not None else []

    def push(self, frame: CsiFrame) -> list[dict[str, Any]]:
        """Feed one frame to the captures and the monitor; returns the room states it closed (their
        events wait in ``events`` for :meth:`take_events`)."""
        for queue in self.captures:
            if queue.full():
                queue.get_nowait()  # a capture that fell behind loses its oldest frame, never the newest
            queue.put_nowait(frame)
        if self.watched:
            node = self.monitor.nodes.get(frame.node_id) if self.monitor is not None else None
            self.display.sample(frame, None if node is None else node.baseline.usable)
        if self.monitor is None:
            return []
        closed = self.monitor.push(frame)
        for state in closed:
            self.windows.append_state(state)
            self.last_state = state
            self.events.extend(event.to_dict() for event in state.events)
        states = [state.to_dict() for state in closed]
        if states:
            self.latest, self.latest_at = states[-1], time.time()
        return states

    def take_events(self) -> list[dict[str, Any]]:
        """The events of the states closed since the last call, each handed out once."""
        events, self.events = self.events, []
        return events

    async def frames(self, no_data_timeout: float, nodes_hint: str) -> AsyncIterator[CsiFrame]:
        """The room's frames from now on, for one capture; fails when none come for a while."""
        queue: asyncio.Queue[CsiFrame] = asyncio.Queue(maxsize=CAPTURE_QUEUE)
        self.captures.add(queue)
        try:
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), timeout=no_data_timeout)
                except TimeoutError:
                    raise JobFailed(f"no CSI frames from {nodes_hint} for {no_data_timeout:.0f} s: check that the "
                                    "ESP32 nodes are powered and send to this host's UDP port "
                                    "(GET /api/v1/nodes shows what arrives)") from None
        finally:
            self.captures.discard(queue)
