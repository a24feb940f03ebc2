"""RoomMonitor: frames of every node in, one fused room state per hop out (ADR-151 §2.5).

Per node, a :class:`~ruview_core.node.pipeline.NodePipeline` (the same chain ``ruview analyze``
runs) cleans the hop's frames as one block and adds them to running sums, so the shared window
features of a hop cost a few vector operations, whatever the window's length; every specialist
then reads them.
The breathing / heart estimates are the only expensive part: each node refreshes them every
``vitals_every`` seconds, after the hop's state, nodes staggered so that no hop pays for more
than one; states read the cached estimates. STALE comes from two places: the bank was trained against another
baseline (re-calibration), or a node's still profile stays far from every state the baseline
and the anchors showed (:func:`ruview_core.specialists.anomaly.drift`) for ``DRIFT_WINDOWS`` hops
in a row (furniture moved, the sensor turned): re-calibrate and re-enroll.

With an activity model, each node also cuts and names its movement episodes
(:class:`~ruview_core.activity.monitor.ActivityMonitor`); the room's ``activity`` is the most
confident one a node names at the hop, and the posture those movements led to (the tracker's)
is the posture reading's main evidence: it replaces the fingerprint specialist's whenever a node's
tracker holds one, and the fingerprint stays where none does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from ..activity.classify import ActivityModel
from ..activity.monitor import ActivityMonitor, HopActivity
from ..calibration.baseline import NodeBaseline, RoomBaseline
from ..calibration.features import BREATHING_SECONDS
from ..node.pipeline import NodeHop, NodePipeline
from ..frames import CsiFrame
from ..specialists import anomaly, breathing
from ..specialists.bank import MODULES, SpecialistBank, train_bank
from ..specialists.base import BACKBONE_REV, Reading, unknown
from ..vitals.settling import RecentMotion
from .fusion import fuse
from .events import ActivityEvents
from .pauses import PAUSE, NodePauses, PauseEvents
from .room_state import PERSON_READINGS, SPECIALIST_OF, NodeState, RoomState

DRIFT_WINDOWS = 20
# On the simulator an empty room (this one or a rearranged one) stays at or below ~1.0, and the node
# that sees a still person reads 1.9 and up.
LIVENESS_LIMIT = 1.4


class NodeMonitor:
    """One node of a room: its :class:`~ruview_core.node.pipeline.NodePipeline`, the specialists'
    readings, cached vitals and a drift counter.

    ``offset`` is how many seconds after its first hop the node first refreshes its vitals, so
    that the nodes of a room take turns.
    """

    def __init__(self, baseline: NodeBaseline, offset: float, vitals_every: float,
                 activity_model: ActivityModel | None = None, hop: float = 1.0) -> None:
        self.baseline = baseline
        self.activities = ActivityMonitor(activity_model, hop)
        self.last_activity: HopActivity | None = None
        self.pipeline = NodePipeline(baseline.node_id, baseline)
        self.vitals_every = vitals_every
        self.next_vitals: float | None = None
        self.offset = offset
        self.vitals = (None, None)
        self.drift_count = 0
        self.last_hop: NodeHop | None = None
        self.pauses = NodePauses(self.pipeline)
        self.still_person = False  # the last state saw someone present and not moving

    def push(self, frame: CsiFrame) -> None:
        """Queue one frame (cleaned with the others of its hop when the hop closes)."""
        self.pipeline.push(frame)

    def state(self, t: float, bank: SpecialistBank, hop: float = 1.0) -> NodeState:
        """Every specialist's reading for the window ending at ``t``."""
        node_hop = self.last_hop = self.pipeline.hop(t, hop, breathing=self.vitals[0], heart=self.vitals[1])
        features = node_hop.features
        node_id = self.baseline.node_id
        if features is None:
            if node_hop.received and node_hop.dropped / node_hop.received > anomaly.MAX_DROPPED:
                return NodeState(node_id, {"anomaly": Reading(1.0, 1.0, "corrupt frames")})
            return NodeState(node_id, {})
        readings = {name: _predict(bank, SPECIALIST_OF[name], features) for name in ("presence", "motion", "anomaly")}
        if readings["presence"].value is False:  # short-circuit: nobody to measure
            readings.update({k: unknown("nobody present") for k in PERSON_READINGS})
        else:
            readings.update({name: _predict(bank, SPECIALIST_OF[name], features) for name in PERSON_READINGS})
            if readings["motion"].value:
                readings.update({k: unknown("moving") for k in ("breathing_bpm", "heart_bpm")})
        self._track_activity(t, node_hop, readings)
        present, moving = readings["presence"].value, readings["motion"].value
        self.still_person = present is True and moving is False
        kept = {name: readings[name] for name in SPECIALIST_OF}
        kept[PAUSE] = self.pauses.reading(t, present, moving)
        return NodeState(node_id, kept, self._drift(features, bank, readings), features)

    def _track_activity(self, t: float, node_hop: NodeHop, readings: dict[str, Reading]) -> None:
        self.last_activity = self.activities.update(t, readings["motion"].value, node_hop.motion,
                                                    self.pipeline.buffer.recent)
        if readings["presence"].value is False:
            self.activities.tracker.absent(t)
        tracked = self.activities.tracker.state
        if tracked.posture is not None and readings["presence"].value is not False:
            readings["posture"] = Reading(tracked.posture, tracked.confidence, tracked.reason)

    def vitals_due(self, t: float) -> bool:
        if self.next_vitals is None:
            self.next_vitals = t + self.offset
        return t >= self.next_vitals

    def refresh_vitals(self, t: float, bank: SpecialistBank, moved_at: Iterable[float] = ()) -> None:
        """Re-estimate breathing and heart rate over the last ``BREATHING_SECONDS`` (the costly part),
        breathing after the last of the room's ``moved_at`` that changed the scene."""
        self.next_vitals = t + self.vitals_every
        node_id = self.baseline.node_id
        self.vitals = self.pipeline.vitals(t, breathing.feature_for(bank.get("breathing"), node_id),
                                           breathing.feature_for(bank.get("heartbeat"), node_id), moved_at)
        self.pauses.renew(t, self.vitals[0], self.still_person)

    def _drift(self, features, bank: SpecialistBank, readings: dict[str, Reading]) -> str | None:
        if readings["motion"].value:  # a moving scene is never judged as drift
            self.drift_count = 0
            return None
        distance = anomaly.drift(bank.get("anomaly"), features)
        if distance is None:
            return None
        # A still scene far from every enrolled state, with no body breathing in it, is a changed room.
        strayed = distance > 1.0 and features.liveness < LIVENESS_LIMIT
        self.drift_count = self.drift_count + 1 if strayed else 0
        if self.drift_count >= DRIFT_WINDOWS:
            return (f"node {self.baseline.node_id}: the room no longer matches its calibration (furniture or sensor "
                    "moved?): re-calibrate and re-enroll")
        return None


def _predict(bank: SpecialistBank, kind: str, features) -> Reading:
    specialist = bank.get(kind)
    return unknown("not trained") if specialist is None else MODULES[kind].predict(specialist, features)


class RoomMonitor:
    """Consumes frames of several nodes in time order; emits a fused :class:`RoomState` every ``hop`` s.

    Without a ``bank`` (only a baseline) presence, motion and anomaly still work from the
    deviation against the baseline. A bank trained against another baseline makes every state
    STALE.
    """

    def __init__(self, baseline: RoomBaseline, bank: SpecialistBank | None = None, *, hop: float = 1.0,
                 vitals_every: float = 10.0, activity_model: ActivityModel | None = None) -> None:
        if hop <= 0 or vitals_every <= 0:
            raise ValueError("hop and vitals_every must be positive")
        self.baseline = baseline
        self.bank = bank if bank is not None else train_bank("baseline-only", baseline, [],
                                                             kinds=("presence", "motion", "anomaly"))
        self.hop = float(hop)
        every = max(int(round(vitals_every / hop)), 1)
        self.nodes = {node_id: NodeMonitor(node, (i % every) * self.hop, vitals_every, activity_model, self.hop)
                      for i, (node_id, node) in enumerate(sorted(baseline.nodes.items()))}
        self.unknown_nodes: set[int] = set()
        self.pause_events = PauseEvents()
        self.activity_events = ActivityEvents()
        # When the room saw motion (any node), over the vitals' window: a posture change on one
        # node's link restarts every node's breathing window where it changed that node's scene.
        self.moved_at = RecentMotion(BREATHING_SECONDS)
        self._next_emit: float | None = None
        self.stale_reason = None
        if self.bank.baseline_id != baseline.baseline_id:
            self.stale_reason = ("the specialists were trained against another baseline (the room was re-calibrated): "
                                 "re-enroll and train the room again")

    def push(self, frame: CsiFrame) -> list[RoomState]:
        """Add one frame; returns the state of the hop it closed, if any (missed hops are not replayed)."""
        if not isinstance(frame, CsiFrame) or not np.isfinite(frame.timestamp):
            return []
        states = []
        t = float(frame.timestamp)
        if self._next_emit is None:
            self._next_emit = t + self.hop
        elif t >= self._next_emit:
            end = self._next_emit
            self._next_emit = end + self.hop * (1 + int((t - end) // self.hop))
            states.append(self.state(end))
            self.refresh_vitals(end)
        node = self.nodes.get(frame.node_id)
        if node is None:
            self.unknown_nodes.add(frame.node_id)
        else:
            node.push(frame)
        return states

    def run(self, frames: Iterable) -> Iterator[RoomState]:
        for frame in frames:
            yield from self.push(frame)

    def refresh_vitals(self, t: float) -> None:
        """Refresh the cached breathing / heart estimates of the nodes whose turn it is at ``t``.

        Runs after the hop's state, so that state never waits for it; the nodes are staggered,
        so a hop refreshes at most one node while ``vitals_every / hop`` >= the number of nodes.
        """
        for node in self.nodes.values():
            if node.vitals_due(t):
                node.refresh_vitals(t, self.bank, self.moved_at)

    def state(self, t: float) -> RoomState:
        """The fused state for stream time ``t`` from every frame pushed so far (cheap: the
        frames were cleaned and summed as they arrived, the vitals are the cached ones)."""
        states = [node.state(t, self.bank, self.hop) for node in self.nodes.values()]
        room = fuse(t, [s for s in states if s.readings], baseline_id=self.baseline.baseline_id,
                    stale_reason=self.stale_reason, backbone_rev=BACKBONE_REV)
        said = [n.last_activity for n in self.nodes.values() if n.last_activity is not None and n.last_activity.activity]
        if said and not room.stale and not room.vetoed:
            best = max(said, key=lambda a: (a.activity != "still", a.confidence))
            room = replace(room, activity=Reading(best.activity, best.confidence,
                                                  best.decisions[-1].reason if best.decisions else "still"))
        self.moved_at.note(t, room.readings["motion"].value is True)
        events = self.pause_events.update(t, room.readings[PAUSE])
        if not room.stale and not room.vetoed:
            events += self.activity_events.update(t, [d for a in said for d in a.decisions])
        return replace(room, events=tuple(events)) if events else room
