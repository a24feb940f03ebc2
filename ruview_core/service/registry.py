"""The rooms the service knows: a name and the nodes that belong to each, kept in ``room.json``.

A room's folder (``DATA/rooms/ROOM``) also holds its baseline, session log, anchors and bank
(see :mod:`ruview_core.calibration`); this module only owns the room's own settings. A node
belongs to at most one room, so every frame has one place to go.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..storage import atomic_write_json, room_dir, validate_room_id

LOG = logging.getLogger("ruview.service")
MAX_NAME_LENGTH = 100
MAX_NODES_PER_ROOM = 16


class RegistryError(ValueError):
    """A request the registry refuses; ``status`` is the HTTP status it maps to."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class RoomConfig:
    room_id: str
    name: str
    nodes: list[int] = field(default_factory=list)
    area: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def slugify(name: str) -> str:
    """A room id from a display name: 'Living Room' -> 'living-room'."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    return slug or "room"


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_LENGTH:
        raise RegistryError(f"name must be a non-empty text of at most {MAX_NAME_LENGTH} characters")
    return value.strip()


def _nodes(value: Any) -> list[int]:
    if (not isinstance(value, list) or len(value) > MAX_NODES_PER_ROOM
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 255 for n in value)):
        raise RegistryError(f"nodes must be a list of at most {MAX_NODES_PER_ROOM} node ids (0-255)")
    return sorted(set(value))


def _area(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME_LENGTH):
        raise RegistryError("area must be a text or null")
    return value


class RoomRegistry:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.rooms: dict[str, RoomConfig] = {}
        root = self.data_dir / "rooms"
        for path in sorted(root.glob("*/room.json")) if root.is_dir() else ():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                room = RoomConfig(validate_room_id(raw["room_id"]), _name(raw["name"]), _nodes(raw.get("nodes", [])),
                                  _area(raw.get("area")))
            except (OSError, ValueError, KeyError, TypeError) as error:
                # The folder is left alone (and its id stays taken, see create): a person decides.
                LOG.warning("room settings %s are unreadable (%s): the room is not served until it is fixed",
                            path, error)
                continue
            self.rooms[room.room_id] = room
        self._index()

    def get(self, room_id: str) -> RoomConfig:
        validate_room_id(room_id)
        if room_id not in self.rooms:
            raise RegistryError(f"no room {room_id!r}", status=404)
        return self.rooms[room_id]

    def create(self, body: dict[str, Any]) -> RoomConfig:
        name = _name(body.get("name"))
        room_id = validate_room_id(body.get("room_id") or slugify(name))
        if room_id in self.rooms:
            raise RegistryError(f"room {room_id!r} exists already", status=409)
        settings = room_dir(self.data_dir, room_id) / "room.json"
        if settings.exists():  # a room whose settings could not be read; a folder without any (the CLI's) is adopted
            raise RegistryError(f"room {room_id!r} has an unreadable {settings}: fix or remove it, or choose "
                                "another id", status=409)
        room = RoomConfig(room_id, name, _nodes(body.get("nodes", [])), _area(body.get("area")))
        self._check_nodes(room)
        self._save(room)
        return room

    def update(self, room_id: str, body: dict[str, Any]) -> RoomConfig:
        room = self.get(room_id)
        unknown = set(body) - {"name", "nodes", "area"}
        if unknown:
            raise RegistryError(f"cannot change {', '.join(sorted(unknown))}: only name, nodes and area")
        changed = RoomConfig(room.room_id, _name(body.get("name", room.name)), _nodes(body.get("nodes", room.nodes)),
                             _area(body.get("area", room.area)))
        self._check_nodes(changed)
        self._save(changed)
        return changed

    def delete(self, room_id: str) -> None:
        self.get(room_id)
        shutil.rmtree(room_dir(self.data_dir, room_id),
                      onexc=lambda _, path, error: LOG.warning("could not remove %s: %s", path, error))
        del self.rooms[room_id]
        self._index()

    def room_of_node(self, node_id: int) -> str | None:
        return self._owners.get(node_id)

    @property
    def open_rooms(self) -> tuple[str, ...]:
        """Rooms that list no nodes: each takes every node no room claims."""
        return self._open

    def _index(self) -> None:
        # The service asks for every frame and every room each second: a lookup, not a scan of the rooms.
        self._owners = {node: room.room_id for room in self.rooms.values() for node in room.nodes}
        self._open = tuple(room.room_id for room in self.rooms.values() if not room.nodes)

    def _check_nodes(self, room: RoomConfig) -> None:
        for node in room.nodes:
            owner = self.room_of_node(node)
            if owner is not None and owner != room.room_id:
                raise RegistryError(f"node {node} belongs to room {owner!r} already", status=409)

    def _save(self, room: RoomConfig) -> None:
        atomic_write_json(room_dir(self.data_dir, room.room_id) / "room.json", room.to_dict())
        self.rooms[room.room_id] = room
        self._index()
