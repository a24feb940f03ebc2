"""``ruview analyze``: per-node rows from the node pipeline (:mod:`ruview_core.node`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..activity.classify import ActivityModel
from ..frames import CsiFrame
from .node import RECORD_KEYS, NodeAnalyzer, room_records


class NodeAnalyzers:
    """One :class:`NodeAnalyzer` per node, made on the node's first frame."""

    def __init__(self, hop: float = 1.0, baseline_seconds: float | None = None,
                 activity_model: ActivityModel | None = None) -> None:
        self.hop, self.baseline_seconds, self.activity_model = hop, baseline_seconds, activity_model
        self.by_node: dict[int, NodeAnalyzer] = {}

    def push(self, frame: CsiFrame) -> list[dict]:
        analyzer = self.by_node.get(frame.node_id)
        if analyzer is None:
            analyzer = self.by_node[frame.node_id] = NodeAnalyzer(frame.node_id, self.hop, self.baseline_seconds,
                                                                 activity_model=self.activity_model)
        return analyzer.push(frame)


def analyze_frames(
    frames: Iterable[CsiFrame], hop: float = 1.0, baseline_seconds: float | None = None,
    activity_model: ActivityModel | None = None,
) -> list[dict]:
    """Run one :class:`NodeAnalyzer` per ``node_id`` over ``frames``; records in time order.

    Non-CSI packets in ``frames`` are ignored, so a recording's packet stream can be passed
    as it is. Records are sorted by ``t`` then ``node_id``.
    """
    analyzers = NodeAnalyzers(hop, baseline_seconds, activity_model)
    records: list[dict] = []
    for frame in frames:
        if isinstance(frame, CsiFrame):
            records.extend(analyzers.push(frame))
    records.sort(key=lambda r: (r["t"], r["node_id"]))
    return records


__all__ = ["RECORD_KEYS", "NodeAnalyzer", "NodeAnalyzers", "analyze_frames", "room_records"]
