"""The fused state of a room at one instant: its readings, plus whether they may be trusted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..specialists.base import Reading, unknown

if TYPE_CHECKING:
    from ..calibration.features import WindowFeatures
    from .events import RoomEvent

READINGS = ("presence", "motion", "posture", "breathing_bpm", "heart_bpm", "restlessness", "anomaly", "zone",
            "breathing_pause")
# Which specialist produces each reading.
SPECIALIST_OF = {"presence": "presence", "motion": "motion", "posture": "posture", "breathing_bpm": "breathing",
                 "heart_bpm": "heartbeat", "restlessness": "restlessness", "anomaly": "anomaly"}
# Readings that only exist with someone in the room (presence false short-circuits them to null).
PERSON_READINGS = ("posture", "breathing_bpm", "heart_bpm", "restlessness")
# ``zone`` has no specialist: the room computes it from the nodes' evidence (two or more nodes).
# ``breathing_pause`` neither: each node follows its committed rhythm (:mod:`.pauses`); it only
# exists with a still person in the room.


@dataclass(frozen=True)
class NodeState:
    """One node's readings for the hop (before fusion) and why it may not be trusted.

    ``features`` are the window features the readings came from (the service keeps their
    summaries to learn from); not part of the published state.
    """

    node_id: int
    readings: dict[str, Reading]
    stale_reason: str | None = None
    features: WindowFeatures | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"node_id": self.node_id, "stale_reason": self.stale_reason,
                **{k: r.to_dict() for k, r in self.readings.items()}}


@dataclass(frozen=True)
class RoomState:
    """``{value, confidence, label}`` per reading; ``stale``/``vetoed`` rooms carry no readings but why.

    ``events`` happened in this hop (a pause that ended): published once by whoever consumes the
    states, so they are not part of :meth:`to_dict` (a state may be re-sent, an event must not).
    """

    t: float
    readings: dict[str, Reading]
    vetoed: bool = False
    veto_reason: str | None = None
    stale: bool = False
    stale_reason: str | None = None
    baseline_id: str | None = None
    backbone_rev: str = "none"
    nodes: dict[int, NodeState] = field(default_factory=dict)
    # The movement named at this hop (ruview_core.activity): sit_down, stand_up, lie_down, get_up,
    # fall, walk, jump, other, or still; unknown while moving, undecided or without an activity model.
    activity: Reading = field(default_factory=lambda: unknown("no movement named"))
    events: tuple[RoomEvent, ...] = ()

    def __getattr__(self, name: str) -> Reading:
        if name in READINGS:
            return self.readings.get(name, unknown())
        raise AttributeError(name)

    def value(self, name: str):
        return self.readings.get(name, unknown()).value

    def to_dict(self, with_nodes: bool = False) -> dict:
        out = {"t": round(self.t, 3), **{k: self.readings.get(k, unknown()).to_dict() for k in READINGS},
               "vetoed": self.vetoed, "veto_reason": self.veto_reason, "stale": self.stale,
               "stale_reason": self.stale_reason, "baseline_id": self.baseline_id, "backbone_rev": self.backbone_rev,
               "activity": self.activity.to_dict()}
        if with_nodes:
            out["nodes"] = [n.to_dict() for n in self.nodes.values()]
        return out
