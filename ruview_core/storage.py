"""Safe names and crash-safe writes for everything RuView keeps on disk.

A write goes to a temporary file in the same folder, is fsynced, then renamed over the target,
so a crash mid-write leaves the previous version intact. Room ids are validated before they
become paths, so no id can climb out of the data directory.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

# Matched whole (fullmatch): with re.match, "$" also matches before a final newline.
ROOM_ID = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")


class InvalidRoomId(ValueError):
    pass


def validate_room_id(room: str) -> str:
    """A room id is 1-64 lowercase letters, digits, '-' or '_', starting and ending alphanumeric."""
    if not isinstance(room, str) or not ROOM_ID.fullmatch(room):
        raise InvalidRoomId(
            f"invalid room id {room!r}: use 1-64 lowercase letters, digits, '-' or '_' (e.g. 'living-room')"
        )
    return room


def room_dir(data_dir: str | Path, room: str) -> Path:
    """The folder of one room inside ``data_dir`` (not created)."""
    base = Path(data_dir).resolve()
    path = (base / "rooms" / validate_room_id(room)).resolve()
    if base not in path.parents:  # belt and braces: the pattern already forbids separators
        raise InvalidRoomId(f"room id {room!r} leaves the data directory")
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def remove_temporaries(folder: str | Path) -> int:
    """Delete the temporary files of writes a crash interrupted (call before anyone writes there)."""
    removed = 0
    for path in Path(folder).glob("*.tmp") if Path(folder).is_dir() else ():
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def atomic_write_json(path: str | Path, value: Any) -> None:
    atomic_write_bytes(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode())


def json_safe(value: Any) -> Any:
    """A copy with JSON types only: numpy scalars and arrays as Python numbers and lists, NaN and
    infinities as null (strict JSON readers, Home Assistant's among them, reject them)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def append_line(path: str | Path, line: str) -> None:
    """Append one line durably (event logs): a torn last line is the worst a crash can do."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(line.rstrip("\n") + "\n")
        out.flush()
        os.fsync(out.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
