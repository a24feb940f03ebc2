"""Stateless per-node analysis: CsiFrames in, per-hop motion / presence / vital-sign records out."""

from __future__ import annotations

from collections.abc import Iterable

from ..frames import CsiFrame
from .baseline import Baseline, fit_baseline
from .node import RECORD_KEYS, NodeAnalyzer
from .window import CsiWindow, frame_csi, prepare_window, sanitize_frames, stack_frames


def analyze_frames(
    frames: Iterable[CsiFrame], hop: float = 1.0, baseline_seconds: float | None = None
) -> list[dict]:
    """Run one :class:`NodeAnalyzer` per ``node_id`` over ``frames``; records in time order.

    Non-CSI packets in ``frames`` are ignored, so a recording's packet stream can be passed
    as it is. Records are sorted by ``t`` then ``node_id``.
    """
    analyzers: dict[int, NodeAnalyzer] = {}
    records: list[dict] = []
    for frame in frames:
        if not isinstance(frame, CsiFrame):
            continue
        analyzer = analyzers.get(frame.node_id)
        if analyzer is None:
            analyzer = analyzers[frame.node_id] = NodeAnalyzer(frame.node_id, hop, baseline_seconds)
        records.extend(analyzer.push(frame))
    records.sort(key=lambda r: (r["t"], r["node_id"]))
    return records


__all__ = [
    "RECORD_KEYS",
    "Baseline",
    "CsiWindow",
    "NodeAnalyzer",
    "analyze_frames",
    "fit_baseline",
    "frame_csi",
    "prepare_window",
    "sanitize_frames",
    "stack_frames",
]
