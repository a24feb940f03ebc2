"""The RuView service (ADR-020: one process for everything): UDP ingest, every room's pipeline,
jobs, and what the API, the WebSocket and MQTT publish.

Frames are routed by node: a node listed by a room belongs to it; a room that lists no nodes
takes every node no room claims. Each frame feeds the room's running captures and its monitor,
whose fused states go out at once; a 1 s ticker keeps quiet rooms and node liveness current.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..calibration import RoomEnrollment
from ..frames import CsiFrame, Packet
from ..sources import UdpReceiver
from ..storage import atomic_write_bytes
from .clients import Subscribers
from .display import DISPLAY_INTERVAL_S
from .jobs import Job, JobManager
from .live import LiveRoom
from .registry import RoomConfig, RoomRegistry

if TYPE_CHECKING:
    from .mqtt import MqttSettings

LOG = logging.getLogger("ruview.service")
JOB_PUSH_INTERVAL_S = 0.25  # progress reaches WebSocket clients at most this often per job
INTEGRATION_CLAIM = "integration"  # in the data directory while the Home Assistant integration serves the rooms
MAX_ID_LENGTH = 256  # the instance id and the token kept in the data directory


@dataclass
class ServiceConfig:
    data_dir: Path
    host: str = "0.0.0.0"
    port: int = 8099
    udp_port: int = 5005
    token: str | None = None
    # The Supervisor's ingress proxy: requests through Home Assistant's ingress come from here.
    trusted_addresses: tuple[str, ...] = ("172.30.32.2",)
    mqtt: MqttSettings | None = None
    hop: float = 1.0
    no_data_timeout: float = 15.0
    offline_after: float = 5.0
    max_body_bytes: int = 64 * 1024
    head_timeout_s: float = 10.0  # a new connection's first request head must arrive within this
    body_timeout_s: float = 10.0  # a request body must arrive within this
    idle_timeout_s: float = 60.0  # an idle keep-alive connection is closed after this
    allow_nodes: tuple[int, ...] = field(default_factory=tuple)
    # A node counts (and becomes a device in Home Assistant) once it sent this many CSI frames
    # within node_warmup_s: garbage and spoofed node ids never do.
    node_warmup_frames: int = 20
    node_warmup_s: float = 2.0
    learn_every_s: float = 6 * 3600.0  # rooms learn from their sensors this often (0: only on request)


def load_or_create(path: Path, make: Callable[[], str], *, private: bool = False) -> tuple[str, bool]:
    """The text kept in ``path``, made with ``make`` and stored on first use; True when just made.

    A damaged file (not UTF-8, control characters, far too long) is kept as ``NAME.damaged`` and
    replaced: the service starts all the same, and says so."""
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            text, problem = "", str(error)
        else:
            problem = None if len(text) <= MAX_ID_LENGTH and text.isprintable() and " " not in text else "not an id"
        if text and problem is None:
            return text, False
        if problem is not None:
            LOG.warning("%s is damaged (%s): kept as %s.damaged and made anew", path, problem, path.name)
            path.replace(path.with_name(f"{path.name}.damaged"))
    text = make()
    atomic_write_bytes(path, text.encode() + b"\n")
    if private:
        path.chmod(0o600)
    return text, True


def load_or_create_token(data_dir: Path) -> str:
    """The API token kept in the data directory, made on first start (readable by its owner only)."""
    token, made = load_or_create(data_dir / "token", lambda: secrets.token_urlsafe(32), private=True)
    if made:  # said once: a Home Assistant Container user needs it to add the integration by hand
        LOG.warning("made the API token (kept in %s): %s", data_dir / "token", token)
    return token


class RuViewService:
    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.token = config.token or load_or_create_token(config.data_dir)
        # This installation's id: the integration's unique id for it, stable across restarts.
        self.instance_id, _ = load_or_create(config.data_dir / "instance_id", lambda: uuid.uuid4().hex)
        self.started = time.time()
        self.registry = RoomRegistry(config.data_dir)
        self.subscribers = Subscribers()
        self._job_pushed: dict[str, float] = {}
        self.jobs = JobManager(config.data_dir, on_change=self._job_changed)
        self.receiver = UdpReceiver(config.host, config.udp_port, on_packet=self._on_packet,
                                    allow_nodes=config.allow_nodes or None, warmup_frames=config.node_warmup_frames,
                                    warmup_s=config.node_warmup_s,
                                    expected_node=lambda node: self.registry.room_of_node(node) is not None)
        self.rooms: dict[str, LiveRoom] = {}
        self.first_packet_at: float | None = None
        self.processed = 0  # CSI frames routed to a room (or found no room): the load test's counter
        self._online: dict[int, bool] = {}
        self._unclaimed_online_cache: bool | None = None
        self._stale: dict[str, bool] = {}
        self._attention: dict[str, str | None] = {}
        self._ticker: asyncio.Task | None = None
        self._display: asyncio.Task | None = None
        # Once the integration has connected, it serves the rooms until it is removed, connected or
        # not: MQTT discovery coming back during a Home Assistant restart or an integration reload
        # would give every room twice.
        self._claim = config.data_dir / INTEGRATION_CLAIM
        self.integration_claimed = self._claim.exists()
        self.mqtt = None
        if config.mqtt is not None:
            from .mqtt import MqttBridge  # paho-mqtt is only loaded when MQTT is wanted

            self.mqtt = MqttBridge(config.mqtt, version=__version__)
        for room_id in self.registry.rooms:
            self._load_room(room_id)

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.receiver.start()
        self._ticker = asyncio.create_task(self._tick_forever(), name="ruview-ticker")
        self._display = asyncio.create_task(self._display_forever(), name="ruview-display")
        if self.mqtt is not None:
            self.mqtt.start()
            self._suppress_mqtt()  # before the first connect announces anything
            for room in self.registry.rooms.values():
                self.mqtt.set_room(room.room_id, room.name, room.area)

    async def stop(self) -> None:
        for task in (self._ticker, self._display):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.jobs.close()
        self.receiver.close()
        await self.subscribers.close()
        if self.mqtt is not None:
            await asyncio.to_thread(self.mqtt.stop)

    # -- rooms ---------------------------------------------------------------------------------

    def _load_room(self, room_id: str) -> LiveRoom:
        live = self.rooms.get(room_id) or LiveRoom(RoomEnrollment(self.config.data_dir, room_id))
        live.reload(self.config.hop)
        self.rooms[room_id] = live
        return live

    def reload_room(self, room_id: str) -> None:
        """After a capture or training: new monitor, new status, told to every listener."""
        self._load_room(room_id)
        self.publish_room(room_id)

    def room_summary(self, room_id: str) -> dict[str, Any]:
        config: RoomConfig = self.registry.get(room_id)
        live = self.rooms[room_id]
        status = dict(live.status)
        stale_reason = None
        if status.get("stale"):
            stale_reason = status.get("stale_reason") or "the room was re-calibrated: enroll it again and train"
        elif live.latest is not None and live.latest.get("stale"):
            status["status"], status["stale"], stale_reason = "stale", True, live.latest.get("stale_reason")
        job = self.jobs.running(room_id)
        if job is not None:
            status["status"] = "training" if job.kind in ("train", "learn") else "enrolling"
        return {**config.to_dict(), **status, "stale_reason": stale_reason, "online": self.room_online(room_id),
                "baseline_nodes": live.baseline_nodes, "job": job.job_id if job else None}

    def room_state(self, room_id: str) -> dict[str, Any]:
        summary = self.room_summary(room_id)
        live = self.rooms[room_id]
        fresh = live.latest is not None and time.time() - live.latest_at <= self.config.offline_after
        return {"room": room_id, "status": summary["status"], "online": summary["online"],
                "trained": summary.get("bank") is not None,
                "state": live.latest if fresh and summary["online"] else None}

    def publish_room(self, room_id: str) -> None:
        """Push a room's state to WebSocket clients and MQTT; announce a change into or out of STALE."""
        message = {"type": "state", **self.room_state(room_id)}
        self.subscribers.publish(message, room_id)
        stale = message["status"] == "stale"
        if stale != self._stale.get(room_id, False):
            self._stale[room_id] = stale
            reason = self.room_summary(room_id)["stale_reason"] if stale else None
            self.subscribers.publish({"type": "stale", "room": room_id, "stale": stale, "reason": reason}, room_id)
        attention = self.rooms[room_id].status.get("attention")
        if attention != self._attention.get(room_id):
            self._attention[room_id] = attention
            self.subscribers.publish({"type": "attention", "room": room_id, "reason": attention}, room_id)
        if self.mqtt is not None:
            self.mqtt.publish_state(room_id, {**(message["state"] or {}), "status": message["status"]})

    def publish_event(self, room_id: str, event: dict[str, Any]) -> None:
        """Push something that happened in a room (a breathing pause that ended) once: to WebSocket
        clients as ``{"type": "event", "room", "event"}`` and to MQTT's event topic."""
        self.subscribers.publish({"type": "event", "room": room_id, "event": event}, room_id)
        if self.mqtt is not None:
            self.mqtt.publish_event(room_id, event)

    def room_added(self, room: RoomConfig) -> None:
        self._unclaimed_online_cache = None  # its nodes may have been unclaimed until now
        self._load_room(room.room_id)
        if self.mqtt is not None:
            self.mqtt.set_room(room.room_id, room.name, room.area)
        self.publish_room(room.room_id)

    async def delete_room(self, room_id: str) -> None:
        job = self.jobs.running(room_id)
        if job is not None:
            self.jobs.cancel(job.job_id)
            with contextlib.suppress(asyncio.CancelledError):
                await self.jobs.wait(job.job_id)
        self.registry.delete(room_id)
        self._unclaimed_online_cache = None
        self.rooms.pop(room_id, None)
        self._attention.pop(room_id, None)
        if self.mqtt is not None:
            self.mqtt.remove_room(room_id)
        self.subscribers.publish({"type": "room_removed", "room": room_id}, room_id)

    # -- ingest --------------------------------------------------------------------------------

    def rooms_of_node(self, node_id: int) -> list[str]:
        owner = self.registry.room_of_node(node_id)
        return [owner] if owner is not None else list(self.registry.open_rooms)

    def room_online(self, room_id: str) -> bool:
        room = self.registry.rooms[room_id]
        if room.nodes:
            return any(self._online.get(node, False) for node in room.nodes)
        return self._unclaimed_online()

    def _unclaimed_online(self) -> bool:
        """Whether a node no room claims is online: what the rooms without nodes watch. Kept until a
        node comes or goes or the rooms change, so a tick stays linear in rooms + nodes."""
        if self._unclaimed_online_cache is None:
            self._unclaimed_online_cache = any(
                online and self.registry.room_of_node(node) is None for node, online in self._online.items())
        return self._unclaimed_online_cache

    def _on_packet(self, packet: Packet) -> None:
        if self.first_packet_at is None:
            self.first_packet_at = time.time()
        if not isinstance(packet, CsiFrame):
            return
        self.processed += 1
        if not self._online.get(packet.node_id):
            self._set_online(packet.node_id, True)
        for room_id in self.rooms_of_node(packet.node_id):
            live = self.rooms.get(room_id)
            if live is not None and live.push(packet):
                self.publish_room(room_id)
                for event in live.take_events():
                    self.publish_event(room_id, event)

    def _set_online(self, node_id: int, online: bool) -> None:
        self._online[node_id] = online
        self._unclaimed_online_cache = None
        LOG.info("node %d %s", node_id, "online" if online else "offline: no frames for a while")
        self.subscribers.publish({"type": "node", "node_id": node_id, "online": online,
                                  "rooms": self.rooms_of_node(node_id)})

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.tick()

    def tick(self) -> None:
        now = time.time()
        for node_id, counters in self.receiver.stats.nodes.items():
            online = counters.last_seen is not None and now - counters.last_seen <= self.config.offline_after
            if online != self._online.get(node_id, False):
                self._set_online(node_id, online)
        for room_id, live in self.rooms.items():
            if now - live.latest_at >= 1.0:  # rooms with live frames published with each state already
                self.publish_room(room_id)
        self._suppress_mqtt()

    async def _display_forever(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:  # at a fixed rate: a page counts on DISPLAY_INTERVAL_S
            due = max(due + DISPLAY_INTERVAL_S, loop.time())
            await asyncio.sleep(due - loop.time())
            self.publish_display()

    def publish_display(self) -> None:
        """Send each room a live view shows its display message (and sample only those rooms' frames)."""
        shown = self.subscribers.displayed(sorted(self.rooms))
        stats = None
        for room_id, live in self.rooms.items():
            live.watched = room_id in shown
            if not live.watched:
                continue
            if stats is None:
                stats = {node: counters.as_dict() for node, counters in self.receiver.stats.nodes.items()}
            message = live.display.message(room_id, live, stats, self.jobs.running(room_id), self.room_summary(room_id),
                                           self.room_state(room_id)["state"])
            self.subscribers.publish(message, room_id, display=True)

    def _suppress_mqtt(self) -> None:
        if self.mqtt is not None:
            self.mqtt.set_suppressed(self.integration_claimed or self.subscribers.integration_connected)

    def claim_for_integration(self) -> None:
        """The Home Assistant integration subscribed: it serves the rooms from now on (kept on disk)."""
        if not self.integration_claimed:
            atomic_write_bytes(self._claim, f"{time.time():.0f}\n".encode())
            self.integration_claimed = True
            LOG.info("the Home Assistant integration serves the rooms: MQTT discovery steps aside until it is removed")
        self._suppress_mqtt()

    def release_from_integration(self) -> None:
        """The integration was removed: MQTT discovery may serve the rooms again."""
        self._claim.unlink(missing_ok=True)
        self.integration_claimed = False
        self._suppress_mqtt()

    def nodes(self) -> list[dict[str, Any]]:
        now = time.time()
        out = []
        for node_id, counters in sorted(self.receiver.stats.nodes.items()):
            seen = counters.last_seen
            out.append({**counters.as_dict(), "online": self._online.get(node_id, False),
                        "seconds_since_seen": None if seen is None else round(now - seen, 1),
                        "rooms": self.rooms_of_node(node_id)})
        return out

    # -- jobs ----------------------------------------------------------------------------------

    def _job_changed(self, job: Job) -> None:
        now = time.monotonic()
        if job.state == "running" and now - self._job_pushed.get(job.job_id, 0.0) < JOB_PUSH_INTERVAL_S:
            return
        self._job_pushed[job.job_id] = now
        if job.done:
            self._job_pushed.pop(job.job_id, None)
        self.subscribers.publish({"type": "job", "job": job.to_dict()}, job.room)
