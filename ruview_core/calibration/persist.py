"""Arrays in safetensors, metadata in JSON, written atomically and checked on the way back in.

Every stored artefact (baseline, anchor features, specialist bank) is a pair
``NAME.<sha>.safetensors`` + ``NAME.json``. The tensors file is named by its content and written
first; the JSON, written last, names it and carries its SHA-256; older tensors files go after
that. So a crash at any point leaves the previous pair whole and loadable, and a truncated copy
or an edited file is refused on load with a clear :class:`StoredFileError`, never a crash or a
silently wrong model.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_tensors
from safetensors.numpy import save as save_tensors

from ..storage import atomic_write_bytes, atomic_write_json

FORMAT_VERSION = 1
SHA256 = re.compile(r"[0-9a-f]{64}")
# Far more than any baseline, anchor or bank holds (they are kilobytes to a few megabytes): a
# larger tensors file is refused before it is read, so a planted giant cannot exhaust memory.
MAX_TENSORS_BYTES = 64 * 1024 * 1024


class StoredFileError(ValueError):
    """A stored artefact is missing, truncated, tampered with or inconsistent."""


def tensors_path(stem: str | Path, meta: dict[str, Any] | None = None) -> Path:
    """The tensors file the metadata of ``stem`` names (``stem.safetensors`` for older artefacts)."""
    stem = Path(stem)
    if meta is None:
        try:
            meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
    name = meta.get("tensors_file") if isinstance(meta, dict) else None
    if not isinstance(name, str) or Path(name).name != name or not name.startswith(stem.name + "."):
        return stem.with_suffix(".safetensors")
    return stem.with_name(name)


def write_artifact(stem: str | Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], *,
                   by_content: bool = False) -> str:
    """Write ``stem.<sha>.safetensors`` then ``stem.json``; returns the tensors' SHA-256.

    ``by_content`` writes a pair of its own, ``stem-<sha16>`` (see :func:`content_stem`), next to
    the one in use, which a record naming the SHA (a session log) then switches to."""
    stem = Path(stem)
    clean = {name: np.ascontiguousarray(value) for name, value in arrays.items()}
    for name, value in clean.items():
        if value.dtype.kind == "c":
            raise TypeError(f"{name}: store complex arrays as real and imaginary parts")
    blob = save_tensors(clean) if clean else save_tensors({"_empty": np.zeros(0, np.float32)})
    digest = hashlib.sha256(blob).hexdigest()
    if by_content:
        stem = content_stem(stem, digest)
    tensors = stem.with_name(f"{stem.name}.{digest[:16]}.safetensors")
    atomic_write_bytes(tensors, blob)
    atomic_write_json(stem.with_suffix(".json"), {**meta, "format_version": FORMAT_VERSION, "tensors_sha256": digest,
                                                 "tensors_file": tensors.name, "tensors_bytes": len(blob)})
    for old in artifact_files(stem):
        if old.suffix == ".safetensors" and old != tensors:
            old.unlink(missing_ok=True)
    return digest


def content_stem(stem: str | Path, sha256: str) -> Path:
    """The stem of the pair ``write_artifact(stem, ..., by_content=True)`` wrote for ``sha256``."""
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise StoredFileError(f"{Path(stem).name}: {sha256!r} is not a SHA-256; re-create it")
    return Path(stem).with_name(f"{Path(stem).name}-{sha256[:16]}")


def artifact_files(stem: str | Path) -> list[Path]:
    """The files of the pair at ``stem`` that exist (its metadata and any tensors file)."""
    stem = Path(stem)
    return [path for path in (stem.with_suffix(".json"), stem.with_suffix(".safetensors"),
                              *stem.parent.glob(f"{stem.name}.*.safetensors")) if path.is_file()]


def read_artifact(stem: str | Path, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays and metadata of ``stem``; ``what`` names it in error messages ("baseline", ...)."""
    stem = Path(stem)
    meta_path = stem.with_suffix(".json")
    if not meta_path.is_file():
        raise StoredFileError(f"no {what} stored at {stem} (missing {meta_path.name})")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise StoredFileError(f"{what} metadata {meta_path} is unreadable ({error}); re-create it") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise StoredFileError(f"{what} metadata {meta_path} has an unknown format; re-create it")
    tensor_path = tensors_path(stem, meta)
    if not tensor_path.is_file():
        raise StoredFileError(f"no {what} stored at {stem} (missing {tensor_path.name})")
    size, recorded = tensor_path.stat().st_size, meta.get("tensors_bytes")
    if size > MAX_TENSORS_BYTES:
        raise StoredFileError(f"{what} file {tensor_path} is {size} bytes, far more than any {what} holds (at most "
                              f"{MAX_TENSORS_BYTES}): refused unread; re-create it")
    if isinstance(recorded, int) and size != recorded:
        raise StoredFileError(f"{what} file {tensor_path} is truncated or was modified ({size} bytes, written with "
                              f"{recorded}); re-create it")
    blob = tensor_path.read_bytes()  # at most MAX_TENSORS_BYTES: read once, hashed and parsed from memory
    if hashlib.sha256(blob).hexdigest() != meta.get("tensors_sha256"):
        raise StoredFileError(f"{what} file {tensor_path} is truncated or was modified (checksum mismatch); re-create it")
    try:
        arrays = dict(load_tensors(blob))
    except (SafetensorError, ValueError, TypeError) as error:
        raise StoredFileError(f"{what} file {tensor_path} is not valid safetensors ({error}); re-create it") from None
    arrays.pop("_empty", None)
    for name, value in arrays.items():
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            raise StoredFileError(f"{what} file {tensor_path}: array {name!r} holds NaN or infinity; re-create it")
    return arrays, meta


def require(arrays: dict[str, np.ndarray], name: str, what: str, kind: str = "f", shape: tuple | None = None) -> np.ndarray:
    """``arrays[name]`` checked for dtype kind and (where given, -1 = any) shape."""
    if name not in arrays:
        raise StoredFileError(f"{what}: array {name!r} is missing")
    value = arrays[name]
    if value.dtype.kind != kind:
        raise StoredFileError(f"{what}: array {name!r} has dtype {value.dtype}, expected kind {kind!r}")
    if shape is not None and (len(shape) != value.ndim or any(s not in (-1, v) for s, v in zip(shape, value.shape))):
        raise StoredFileError(f"{what}: array {name!r} has shape {value.shape}, expected {shape}")
    return value
