"""A room's recent window features, kept to learn from: a bounded rolling day per room.

Every hop the runtime already computes each node's window features
(:class:`ruview_core.runtime.room_state.NodeState.features`); their six-number summaries are
all a weak-label update of the bank needs (:func:`ruview_core.supervision.bank_update.update_room_bank`
takes them as a :class:`~ruview_core.supervision.bank_update.WindowTable`). They go into ring
buffers of ``capacity`` hops (a day at a 1 s hop), float32 since they are logs of magnitudes,
allocated on a room's first state so that a room without frames costs nothing: a day is
0.7 MB of times plus 2.1 MB per node. The features are relative to the room's baseline, so a new
baseline empties the table. Nothing is written to disk: a restart starts a new day.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..runtime import RoomState
from ..supervision.bank_update import WindowTable

DAY_HOPS = 86_400
SUMMARY_WIDTH = 6


class RollingWindowTable:
    """The last ``capacity`` hops of one room: hop time and each node's window summary (NaN rows
    where a node had no full window)."""

    def __init__(self, capacity: int = DAY_HOPS, baseline_id: str | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least one hop")
        self.capacity = capacity
        self.baseline_id = baseline_id
        self.clear(baseline_id)

    def clear(self, baseline_id: str | None = None) -> None:
        self.baseline_id = baseline_id
        self.count = 0  # hops appended since the last clear (the ring holds the last ``capacity``)
        self._times: np.ndarray | None = None
        self._nodes: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    @property
    def nbytes(self) -> int:
        return (0 if self._times is None else self._times.nbytes) + sum(a.nbytes for a in self._nodes.values())

    def append(self, t: float, summaries: Mapping[int, np.ndarray]) -> None:
        """One hop: its time and the summaries of the nodes that had a window."""
        if self._times is None:
            self._times = np.full(self.capacity, np.nan)
        row = self.count % self.capacity
        self._times[row] = t
        for node, table in self._nodes.items():
            if node not in summaries:
                table[row] = np.nan
        for node, summary in summaries.items():
            table = self._nodes.get(node)
            if table is None:
                table = self._nodes[node] = np.full((self.capacity, SUMMARY_WIDTH), np.nan, dtype=np.float32)
            table[row] = summary
        self.count += 1

    def append_state(self, state: RoomState) -> None:
        """The summaries of a fused state's nodes (those whose window had features)."""
        self.append(state.t, {node: view.features.summary() for node, view in state.nodes.items()
                              if view.features is not None})

    def table(self, since: float | None = None) -> WindowTable:
        """A copy in time order (float64), optionally only the hops at or after ``since``."""
        size = len(self)
        if self._times is None or size == 0:
            return WindowTable(np.zeros(0), {})
        order = (np.arange(size) + (self.count - size)) % self.capacity
        times = self._times[order]
        keep = np.ones(size, bool) if since is None else times >= since
        # A node first seen after the table began has NaN rows before (np.full above), as it should.
        return WindowTable(times[keep].copy(), {node: table[order][keep].astype(np.float64)
                                                for node, table in self._nodes.items()})
