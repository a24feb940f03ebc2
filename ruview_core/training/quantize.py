"""Post-training 2/4/8-bit affine quantization with real bit packing, and its file format.

A tensor (or each channel of it) maps ``[lo, hi]`` onto the codes ``0 .. 2^bits - 1``::

    scale = (hi - lo) / (2^bits - 1),  zero = round(-lo / scale),  q = clip(round(x / scale) + zero)
    x' = (q - zero) * scale

``lo``/``hi`` are the min/max (``clip="minmax"``) or the shrunken range with the smallest
squared error (``clip="mse"``: outliers get clipped so the many small weights get finer
steps). Codes are packed little-end first: two 4-bit or four 2-bit codes per byte, code ``i``
in bits ``(i % per_byte) * bits`` of byte ``i // per_byte``, in C order of the tensor.

``model-q{bits}.bin`` layout (all little-endian)::

    b"RVQM"  u16 version=1  u16 n_tensors
    per tensor:
      u16 name length, name (UTF-8)
      u8 bits (2, 4, 8; or 32 = raw float32, for tensors that must stay exact)
      u8 ndim, u8 channel axis (255 = one scale for the whole tensor), u8 reserved
      u32 shape[ndim]
      u32 n_channels, f32 scale[n_channels], u8 zero_point[n_channels]     (absent for bits 32)
      u32 n_bytes, data (packed codes, or float32 values for bits 32)
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

MAGIC = b"RVQM"
VERSION = 1
RAW_BITS = 32
PER_TENSOR = 255
# ADR-071's quality targets: RMSE between fp32 and dequantized weights.
RMSE_TARGETS = {8: 0.001, 4: 0.01, 2: 0.05}
_CLIP_FACTORS = np.linspace(0.2, 1.0, 41)


class QuantizedFileError(ValueError):
    pass


@dataclass(frozen=True)
class QuantizedTensor:
    shape: tuple[int, ...]
    bits: int
    axis: int | None  # channel axis with its own scale, None for one scale per tensor
    scale: np.ndarray  # float32 [channels]
    zero_point: np.ndarray  # uint8 [channels]
    data: bytes  # packed codes (or raw float32 for bits 32)

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.scale.nbytes + self.zero_point.nbytes


def pack_codes(codes: np.ndarray, bits: int) -> bytes:
    """Pack unsigned codes (< 2^bits) into bytes, ``8 // bits`` per byte, lowest bits first."""
    codes = np.asarray(codes, dtype=np.uint8).ravel()
    per_byte = 8 // bits
    padded = np.zeros(-(-codes.size // per_byte) * per_byte, np.uint8)
    padded[: codes.size] = codes
    grouped = padded.reshape(-1, per_byte).astype(np.uint16)
    shifts = (np.arange(per_byte) * bits).astype(np.uint16)
    return (grouped << shifts).sum(axis=1).astype(np.uint8).tobytes()


def unpack_codes(data: bytes, bits: int, count: int) -> np.ndarray:
    per_byte = 8 // bits
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size * per_byte < count:
        raise QuantizedFileError("packed data shorter than the tensor")
    shifts = (np.arange(per_byte) * bits).astype(np.uint8)
    codes = (raw[:, None] >> shifts) & np.uint8((1 << bits) - 1)
    return codes.ravel()[:count]


def _affine(lo: np.ndarray, hi: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    levels = (1 << bits) - 1
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)  # keep 0 on the grid: a zero weight stays zero
    scale = np.where(hi > lo, (hi - lo) / levels, 1.0)
    zero = np.clip(np.round(-lo / scale), 0, levels)
    return scale.astype(np.float32), zero.astype(np.uint8)


def _codes(x: np.ndarray, scale: np.ndarray, zero: np.ndarray, bits: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zero, 0, (1 << bits) - 1).astype(np.uint8)


def _channel_view(x: np.ndarray, axis: int | None) -> np.ndarray:
    """``[channels, rest]`` view of a tensor (one channel for per-tensor)."""
    return x.reshape(1, -1) if axis is None else np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)


def quantize(x: np.ndarray, bits: int, axis: int | None = None, clip: str = "minmax") -> QuantizedTensor:
    """Quantize a float tensor to ``bits`` (2, 4 or 8), per tensor or per channel along ``axis``."""
    if bits not in RMSE_TARGETS:
        raise ValueError(f"bits must be one of {sorted(RMSE_TARGETS)}")
    x = np.asarray(x, dtype=np.float32)
    rows = _channel_view(x, axis).astype(np.float64)
    lo, hi = rows.min(axis=1), rows.max(axis=1)
    scale, zero = _affine(lo, hi, bits)
    if clip == "mse":
        best = np.full(rows.shape[0], np.inf)
        for factor in _CLIP_FACTORS:
            s, z = _affine(lo * factor, hi * factor, bits)
            approx = (_codes(rows, s[:, None], z[:, None], bits).astype(np.float64) - z[:, None]) * s[:, None]
            error = np.mean((approx - rows) ** 2, axis=1)
            better = error < best
            best, scale, zero = (
                np.where(better, error, best),
                np.where(better, s, scale),
                np.where(better, z, zero),
            )
    elif clip != "minmax":
        raise ValueError(f"unknown clip {clip!r}")
    codes = _codes(rows, scale[:, None].astype(np.float64), zero[:, None], bits)
    if axis is not None:  # back to the tensor's own C order
        codes = np.moveaxis(codes.reshape((x.shape[axis],) + tuple(np.delete(x.shape, axis))), 0, axis)
    return QuantizedTensor(
        x.shape, bits, axis, scale.astype(np.float32), zero.astype(np.uint8), pack_codes(codes, bits)
    )


def raw_tensor(x: np.ndarray) -> QuantizedTensor:
    """A tensor kept as float32 inside a quantized file."""
    x = np.ascontiguousarray(x, dtype="<f4")
    return QuantizedTensor(
        x.shape, RAW_BITS, None, np.zeros(0, np.float32), np.zeros(0, np.uint8), x.tobytes()
    )


def dequantize(q: QuantizedTensor) -> np.ndarray:
    count = int(np.prod(q.shape))
    if q.bits == RAW_BITS:
        return np.frombuffer(q.data, dtype="<f4", count=count).reshape(q.shape).astype(np.float32)
    codes = unpack_codes(q.data, q.bits, count).reshape(q.shape).astype(np.float32)
    if q.axis is None:
        return (codes - q.zero_point[0]) * q.scale[0]
    view = [1] * len(q.shape)
    view[q.axis] = -1
    return (codes - q.zero_point.astype(np.float32).reshape(view)) * q.scale.reshape(view)


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def quantize_auto(x: np.ndarray, bits: int, target: float | None = None) -> tuple[QuantizedTensor, str]:
    """Per-tensor min/max when it meets ``target``; otherwise the best of per-tensor and
    per-channel (output axis) with MSE-optimal clipping. Returns the tensor and the method."""
    target = RMSE_TARGETS[bits] if target is None else target
    x = np.asarray(x, dtype=np.float32)
    candidates = [("per_tensor", quantize(x, bits))]
    if rmse(dequantize(candidates[0][1]), x) > target:
        candidates.append(("per_tensor_mse", quantize(x, bits, clip="mse")))
        if x.ndim >= 2:
            candidates.append(("per_channel_mse", quantize(x, bits, axis=x.ndim - 1, clip="mse")))
    name, q = min(candidates, key=lambda c: rmse(dequantize(c[1]), x))
    return q, name


def encode_quantized(tensors: Mapping[str, QuantizedTensor]) -> bytes:
    parts = [MAGIC, struct.pack("<HH", VERSION, len(tensors))]
    for name, q in tensors.items():
        encoded = name.encode()
        axis = PER_TENSOR if q.axis is None else q.axis
        parts.append(struct.pack("<H", len(encoded)) + encoded)
        parts.append(
            struct.pack("<BBBB", q.bits, len(q.shape), axis, 0) + struct.pack(f"<{len(q.shape)}I", *q.shape)
        )
        if q.bits != RAW_BITS:
            parts.append(
                struct.pack("<I", q.scale.size) + q.scale.astype("<f4").tobytes() + q.zero_point.tobytes()
            )
        parts.append(struct.pack("<I", len(q.data)) + q.data)
    return b"".join(parts)


def decode_quantized(blob: bytes) -> dict[str, QuantizedTensor]:
    """Parse a ``model-q*.bin``; raises :class:`QuantizedFileError` on any inconsistency."""
    view = memoryview(blob)
    at = 0

    def take(n: int) -> bytes:
        nonlocal at
        if at + n > len(view):
            raise QuantizedFileError("file ends inside a tensor")
        chunk = bytes(view[at : at + n])
        at += n
        return chunk

    if take(4) != MAGIC:
        raise QuantizedFileError("not a RuView quantized model (bad magic)")
    version, n_tensors = struct.unpack("<HH", take(4))
    if version != VERSION:
        raise QuantizedFileError(f"unsupported version {version}")
    out: dict[str, QuantizedTensor] = {}
    for _ in range(n_tensors):
        (name_length,) = struct.unpack("<H", take(2))
        name = take(name_length).decode()
        bits, ndim, axis, _ = struct.unpack("<BBBB", take(4))
        shape = struct.unpack(f"<{ndim}I", take(4 * ndim))
        count = int(np.prod(shape))
        if bits == RAW_BITS:
            scale, zero = np.zeros(0, np.float32), np.zeros(0, np.uint8)
            expected = 4 * count
        elif bits in RMSE_TARGETS:
            (channels,) = struct.unpack("<I", take(4))
            if channels != (1 if axis == PER_TENSOR else (shape[axis] if axis < ndim else -1)):
                raise QuantizedFileError(f"{name}: {channels} scales do not fit shape {shape}")
            scale = np.frombuffer(take(4 * channels), dtype="<f4").astype(np.float32)
            zero = np.frombuffer(take(channels), dtype=np.uint8).copy()
            expected = -(-count // (8 // bits))
        else:
            raise QuantizedFileError(f"{name}: unsupported bit width {bits}")
        (n_bytes,) = struct.unpack("<I", take(4))
        if n_bytes != expected:
            raise QuantizedFileError(f"{name}: {n_bytes} data bytes, shape {shape} needs {expected}")
        out[name] = QuantizedTensor(
            tuple(shape), bits, None if axis == PER_TENSOR else axis, scale, zero, take(n_bytes)
        )
    if at != len(view):
        raise QuantizedFileError("trailing bytes after the last tensor")
    return out
