"""Many ADR-018 CSI frames to arrays in one numpy pass per packet size.

Packets of one size share one layout, so a join plus ``np.frombuffer`` with a structured dtype
decodes thousands at once; validation is vectorised too. Anything that is not a well-formed CSI
frame is counted by reason, never raised.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..frames import MAX_ANTENNAS, MAX_SUBCARRIERS
from .adr018 import CSI_HEADER_SIZE, MAGIC_CSI, iq_to_csi

HEADER_DTYPE = np.dtype(
    [
        ("magic", "<u4"),
        ("node_id", "u1"),
        ("n_antennas", "u1"),
        ("n_subcarriers", "<u2"),
        ("freq_mhz", "<u4"),
        ("sequence", "<u4"),
        ("rssi", "i1"),
        ("noise_floor", "i1"),
        ("ppdu_type", "u1"),
        ("flags", "u1"),
    ]
)
assert HEADER_DTYPE.itemsize == CSI_HEADER_SIZE


@dataclass
class CsiBatch:
    """Frames of one shape: header fields as 1-D arrays, ``csi`` as ``[n, antennas, subcarriers]``."""

    node_id: np.ndarray
    sequence: np.ndarray
    freq_mhz: np.ndarray
    rssi: np.ndarray
    noise_floor: np.ndarray
    ppdu_type: np.ndarray
    flags: np.ndarray
    csi: np.ndarray
    index: np.ndarray  # position of each frame in the input sequence

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class BatchResult:
    batches: list[CsiBatch]
    rejected: Counter = field(default_factory=Counter)

    @property
    def n_frames(self) -> int:
        return sum(len(b) for b in self.batches)


def parse_csi_batch(packets: Sequence[bytes]) -> BatchResult:
    """Decode a sequence of UDP payloads; non-CSI or malformed ones end up in ``rejected``."""
    lengths = np.fromiter((len(p) for p in packets), dtype=np.int64, count=len(packets))
    result = BatchResult(batches=[])
    too_short = lengths < CSI_HEADER_SIZE
    if too_short.any():
        result.rejected["truncated"] += int(too_short.sum())
    for size in np.unique(lengths[~too_short]):
        index = np.flatnonzero(lengths == size)
        blob = b"".join([packets[i] for i in index])
        _decode_group(blob, int(size), index, result)
    result.rejected = +result.rejected  # drop reasons that counted nothing
    return result


def _decode_group(blob: bytes, size: int, index: np.ndarray, result: BatchResult) -> None:
    payload = size - CSI_HEADER_SIZE
    record = np.dtype([("header", HEADER_DTYPE), ("iq", "i1", (payload,))]) if payload else None
    if record is None:
        result.rejected["truncated"] += len(index)
        return
    rows = np.frombuffer(blob, dtype=record)
    header = rows["header"]
    ok = header["magic"] == MAGIC_CSI
    result.rejected["not_csi"] += int((~ok).sum())
    n_ant = header["n_antennas"].astype(np.int64)
    n_sc = header["n_subcarriers"].astype(np.int64)
    sane = (n_ant >= 1) & (n_ant <= MAX_ANTENNAS) & (n_sc >= 1) & (n_sc <= MAX_SUBCARRIERS)
    result.rejected["bad_field"] += int((ok & ~sane).sum())
    ok &= sane
    fits = 2 * n_ant * n_sc == payload
    result.rejected["wrong_length"] += int((ok & ~fits).sum())
    ok &= fits
    if not ok.any():
        return
    if not ok.all():
        header, iq, index = header[ok], rows["iq"][ok], index[ok]
    else:
        iq = rows["iq"]
    # One payload size can hold several shapes (1x128 vs 2x64): split on the shape.
    shape_key = header["n_antennas"].astype(np.int64) << 16 | header["n_subcarriers"]
    for key in np.unique(shape_key) if shape_key.min() != shape_key.max() else shape_key[:1]:
        same = shape_key == key
        everything = bool(same.all())
        h = header if everything else header[same]
        n_a, n_s = int(key >> 16), int(key & 0xFFFF)
        result.batches.append(
            CsiBatch(
                node_id=h["node_id"],
                sequence=h["sequence"],
                freq_mhz=h["freq_mhz"],
                rssi=h["rssi"],
                noise_floor=h["noise_floor"],
                ppdu_type=h["ppdu_type"],
                flags=h["flags"],
                csi=iq_to_csi(iq if everything else iq[same], n_a, n_s),
                index=index if everything else index[same],
            )
        )
