"""Training examples from ``.csi.jsonl`` recordings: one row per CSI frame, every node.

A row holds the frame's 8-dim feature vector (:mod:`.features`), where and when it was
measured (node, session, time) and what weak labels are made from: the CSI's own motion
energy and vitals estimates, and the node's on-device vitals packet nearest in time (the
firmware's estimates, not ground truth). Each file is its own session, so temporal mining
never pairs frames of different recordings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..frames import CsiFrame, Packet, VitalsPacket
from ..sources.replay import read_recording
from .features import FEATURE_DIM, node_features

NODE_VITALS_NAMES = ("breathing_bpm", "heart_bpm", "presence_score", "motion_energy", "n_persons")
NODE_VITALS_MAX_AGE_S = 1.5


@dataclass(frozen=True)
class TrainingSet:
    """Rows in time order. ``csi_vitals`` is ``[N, 4]`` (breathing bpm, its confidence, heart bpm,
    its confidence; NaN rate = no estimate); ``node_vitals`` is ``[N, 5]`` in
    :data:`NODE_VITALS_NAMES` order, NaN where the node sent no vitals packet within
    ``NODE_VITALS_MAX_AGE_S``."""

    features: np.ndarray
    node_ids: np.ndarray
    sessions: np.ndarray
    times: np.ndarray
    motion_energy: np.ndarray
    csi_vitals: np.ndarray
    node_vitals: np.ndarray

    def __len__(self) -> int:
        return int(self.times.size)

    @property
    def nodes(self) -> tuple[int, ...]:
        return tuple(int(n) for n in np.unique(self.node_ids))

    def subset(self, rows: np.ndarray) -> TrainingSet:
        """The rows selected by a boolean mask or an index array (time order kept)."""
        rows = np.asarray(rows)
        if rows.dtype != bool:
            rows = np.sort(rows)
        return TrainingSet(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})


def _node_vitals(times: np.ndarray, packets: list[VitalsPacket]) -> np.ndarray:
    """The latest vitals packet at most ``NODE_VITALS_MAX_AGE_S`` old at each time, as rows."""
    out = np.full((times.size, len(NODE_VITALS_NAMES)), np.nan)
    if not packets:
        return out
    packets = sorted(packets, key=lambda p: p.timestamp)
    stamps = np.array([p.timestamp for p in packets])
    table = np.array(
        [[p.breathing_bpm, p.heart_bpm, p.presence_score, p.motion_energy, p.n_persons] for p in packets]
    )
    at = np.searchsorted(stamps, times, side="right") - 1
    fresh = (at >= 0) & (times - stamps[np.maximum(at, 0)] <= NODE_VITALS_MAX_AGE_S)
    out[fresh] = table[at[fresh]]
    return out


def _frame_rssi(frames: list[CsiFrame], vitals: list[VitalsPacket]) -> np.ndarray:
    """Each frame's RSSI; where the frame carries a placeholder (>= 0), the vitals packet's."""
    rssi = np.array([f.rssi for f in frames], dtype=np.float64)
    real = [v for v in vitals if v.rssi < 0]
    if real and (rssi >= 0).any():
        real.sort(key=lambda v: v.timestamp)
        stamps = np.array([v.timestamp for v in real])
        values = np.array([v.rssi for v in real], dtype=np.float64)
        times = np.array([f.timestamp for f in frames])
        at = np.clip(np.searchsorted(stamps, times), 0, stamps.size - 1)
        rssi = np.where(rssi >= 0, values[at], rssi)
    return np.where(rssi >= 0, np.nan, rssi)


def from_packets(packets: Iterable[Packet], session: int = 0, **feature_options) -> TrainingSet:
    """Rows of every node's CSI frames in ``packets`` (other packet types feed the labels)."""
    frames: dict[int, list[CsiFrame]] = defaultdict(list)
    vitals: dict[int, list[VitalsPacket]] = defaultdict(list)
    for packet in packets:
        if isinstance(packet, CsiFrame) and not packet.amplitude_only:
            frames[packet.node_id].append(packet)
        elif isinstance(packet, VitalsPacket):
            vitals[packet.node_id].append(packet)
    parts = []
    for node in sorted(frames):
        node_frames = sorted(frames[node], key=lambda f: f.timestamp)
        if len(node_frames) < 2:
            continue
        nf = node_features(node_frames, rssi=_frame_rssi(node_frames, vitals[node]), **feature_options)
        n = nf.times.size
        parts.append(
            TrainingSet(
                features=nf.features,
                node_ids=np.full(n, node, dtype=np.int64),
                sessions=np.full(n, session, dtype=np.int64),
                times=nf.times,
                motion_energy=nf.motion_energy,
                csi_vitals=np.column_stack(
                    [nf.breathing_bpm, nf.breathing_confidence, nf.heart_bpm, nf.heart_confidence]
                ),
                node_vitals=_node_vitals(nf.times, vitals[node]),
            )
        )
    return concatenate(parts)


def concatenate(parts: Sequence[TrainingSet]) -> TrainingSet:
    """Rows of several sets, ordered by (session, time)."""
    if not parts:
        return TrainingSet(
            np.zeros((0, FEATURE_DIM), np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0),
            np.zeros(0),
            np.zeros((0, 4)),
            np.zeros((0, len(NODE_VITALS_NAMES))),
        )
    joined = {f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(TrainingSet)}
    order = np.lexsort((joined["node_ids"], joined["times"], joined["sessions"]))
    return TrainingSet(**{name: value[order] for name, value in joined.items()})


def load_recordings(
    paths: Sequence[str | Path], malformed: Counter[str] | None = None, **feature_options
) -> TrainingSet:
    """Rows of one or more recordings; file ``i`` is session ``i``. Bad lines are counted, not fatal."""
    malformed = Counter() if malformed is None else malformed
    parts = [
        from_packets(read_recording(Path(p), malformed), session=i, **feature_options)
        for i, p in enumerate(paths)
    ]
    data = concatenate(parts)
    if len(data) == 0:
        raise ValueError("the recordings hold no usable CSI frames")
    return data
