"""Where in the room the person is, coarsely: which node's link the body disturbs more.

:func:`coarse_zone` turns the difference between two nodes' evidence into a zone on a small grid
along the axis between them (``near node A`` ... ``near node B``). One node gives no position
at all. The pose-decoder artifact built on it lives in :mod:`ruview_core.supervision.zones`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

DEFAULT_ZONES = 5
SPREAD = 2.0  # log-deviation difference that puts a person most of the way to one node


@dataclass(frozen=True)
class Zone:
    index: int | None  # 0 = nearest the first node ... n_zones - 1 = nearest the last; None unknown
    n_zones: int
    confidence: float
    label: str


def coarse_zone(evidence: Mapping[int, float], n_zones: int = DEFAULT_ZONES, spread: float = SPREAD) -> Zone:
    """Zone from per-node log evidence of a present person (e.g. log deviation from the empty room).

    With nodes A (lowest id) and B (highest), ``d = e_A - e_B``: a body nearer A disturbs A's link
    more. ``d`` is squashed by ``tanh(d / spread)`` onto the grid; the confidence grows with
    ``|d|`` (a body midway, or seen equally by both, is an unsure middle zone).
    """
    known = {n: v for n, v in evidence.items() if v is not None and np.isfinite(v)}
    if len(known) < 2:
        return Zone(None, n_zones, 0.0, "needs two or more nodes")
    nodes = sorted(known)
    difference = known[nodes[0]] - known[nodes[-1]]
    position = 0.5 * (1.0 - np.tanh(difference / spread))  # 0 near the first node, 1 near the last
    index = int(min(np.floor(position * n_zones), n_zones - 1))
    return Zone(index, n_zones, float(abs(np.tanh(difference / spread))),
                f"zone {index + 1} of {n_zones} from node {nodes[0]} to node {nodes[-1]}")


