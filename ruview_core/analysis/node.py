"""``ruview analyze``'s per-node rows: the node pipeline's hop and the room's own decisions.

A thin caller of :class:`~ruview_core.node.pipeline.NodePipeline`, the chain the room runtime
runs too. Each hop gives one row:

- ``motion``: the motion statistic over the quiet level (about 1 when still; null while the
  self-calibrated quiet level is still being learned), ``motion_detected`` its decision;
- ``presence``: with a baseline (``baseline_seconds`` of empty room at the start, fitted exactly
  as a room's baseline is), the presence specialist of a bank trained on that baseline alone, as
  a room without anchors runs it; without one, True only on evidence (motion in the last
  ``PRESENCE_HOLD_SECONDS`` or a confident breathing rhythm), otherwise unknown (None);
- breathing and heart rate: the vitals estimators over the last minute, refreshed every
  ``vitals_every`` seconds like the room runtime, withheld while moving or when the room is empty;
- ``breathing_pause``: true while the breathing rhythm a committed rate established has stopped
  for ``MIN_PAUSE_S`` or more (``breathing_pause_s`` so far), false while it goes on, null when
  it cannot be told (no rhythm established yet, moving, nobody there): :mod:`ruview_core.runtime.pauses`.
- ``activity`` and ``posture`` (:mod:`ruview_core.activity`): the movement an episode ending
  here was (``still`` on a still hop with none), and the posture the movements led to; with no
  activity model given, only ``still`` and a null posture (nothing is guessed).
"""

from __future__ import annotations

from ..activity.classify import ActivityModel
from ..activity.monitor import ActivityMonitor
from ..calibration.baseline import BaselineError, RoomBaseline, fit_node_baseline
from ..calibration.features import BREATHING_SECONDS
from ..frames import CsiFrame
from ..node.pipeline import NodeHop, NodePipeline
from ..runtime.pauses import PAUSE, NodePauses
from ..runtime.room_state import RoomState
from ..specialists.bank import MODULES, train_bank
from ..vitals import VitalSignEstimate
from ..vitals.settling import RecentMotion

RECORD_KEYS = (
    "t", "node_id", "motion", "motion_detected", "presence",
    "breathing_bpm", "breathing_confidence", "heart_bpm", "heart_confidence", "breathing_pause", "breathing_pause_s",
    "activity", "posture",
)
PRESENCE_HOLD_SECONDS = 10.0
VITALS_EVERY_SECONDS = 10.0
_NO_VITALS = (VitalSignEstimate(None, 0.0, "none"), VitalSignEstimate(None, 0.0, "none"))


class NodeAnalyzer:
    """Incremental analysis of one node's CSI; :meth:`push` frames in time order.

    ``hop`` is the output period in stream seconds. With ``baseline_seconds`` the first that
    many seconds are taken as the empty room (presence is None meanwhile, and the analyzer stays
    self-calibrated if they cannot be a baseline); without, it is ``self_calibrated``.
    """

    def __init__(self, node_id: int, hop: float = 1.0, baseline_seconds: float | None = None, *,
                 vitals_every: float = VITALS_EVERY_SECONDS, activity_model: ActivityModel | None = None) -> None:
        if hop <= 0:
            raise ValueError("hop must be positive")
        self.node_id = node_id
        self.hop = float(hop)
        self.baseline_seconds = baseline_seconds
        self.pipeline = NodePipeline(node_id)
        self.pauses = NodePauses(self.pipeline)
        self.bank = None
        self.baseline_error: str | None = None
        self.vitals_every = vitals_every
        self._lead_in: list[CsiFrame] | None = [] if baseline_seconds is not None else None
        self._start: float | None = None
        self._next_emit = 0.0
        self._next_vitals: float | None = None
        self._vitals = _NO_VITALS
        self._last_motion: float | None = None
        self._moved_at = RecentMotion(BREATHING_SECONDS)  # motion hops over the vitals' window
        self.activities = ActivityMonitor(activity_model, hop)
        self._foreign = 0  # frames refused before the current pipeline: other nodes', the lead-in pipeline's

    @property
    def self_calibrated(self) -> bool:
        return self.baseline_seconds is None or self.baseline_error is not None

    @property
    def calibrating(self) -> bool:
        return self._lead_in is not None

    @property
    def dropped_frames(self) -> int:
        return self._foreign + self.pipeline.dropped_total

    @property
    def usable(self):
        return self.pipeline.usable

    def push(self, frame: CsiFrame) -> list[dict]:
        """Add one frame; returns the records of every hop that ended before it (often none)."""
        if frame.node_id != self.node_id:
            self._foreign += 1
            return []
        t = float(frame.timestamp)
        if self._start is None and t == t:
            self._start = t
            self._next_emit = t + self.hop
        records = []
        while t >= self._next_emit:
            records.append(self._emit(self._next_emit))
            self._next_emit += self.hop
        if self.pipeline.push(frame) and self._lead_in is not None:
            self._lead_in.append(frame)
        return records

    def _fit_baseline(self) -> None:
        frames, self._lead_in = self._lead_in, None
        try:
            node = fit_node_baseline(self.node_id, frames, min_seconds=min(self.baseline_seconds, 10.0))
        except BaselineError as error:
            self.baseline_error = str(error)
            return
        baseline = RoomBaseline("analyze", 0.0, {self.node_id: node})
        self.bank = train_bank("analyze", baseline, [], kinds=("presence", "motion", "anomaly"))
        self._foreign += self.pipeline.dropped_total
        self.pipeline = NodePipeline(self.node_id, node)
        self.pauses = NodePauses(self.pipeline)
        for frame in frames:  # the lead-in fills the new windows
            self.pipeline.push(frame)

    def _emit(self, end: float) -> dict:
        if self.calibrating and end - self._start > self.baseline_seconds + 1e-9:
            self._fit_baseline()
        node_hop = self.pipeline.hop(end, self.hop, *self._vitals)
        record = dict.fromkeys(RECORD_KEYS)
        record.update(t=round(end - self._start, 1), node_id=self.node_id, breathing_confidence=0.0,
                      heart_confidence=0.0)
        if not node_hop.has_data:
            return record  # no data for this hop: say nothing rather than repeat stale numbers
        moving = self._moving(node_hop)
        if moving:
            self._last_motion = end
        self._moved_at.note(end, moving)
        record.update(motion=None if node_hop.motion is None else round(node_hop.motion, 3), motion_detected=moving)
        presence = self._presence(node_hop, end, moving)
        refreshed = self._next_vitals is None or end >= self._next_vitals
        if refreshed:
            self._next_vitals = end + self.vitals_every
            self._vitals = self.pipeline.vitals(end, moved_at=self._moved_at)
        if presence is not False and not moving:
            self._add_vitals(record)
            if presence is None and self.self_calibrated and record["breathing_bpm"] is not None:
                presence = True
        if refreshed:
            self.pauses.renew(end, self._vitals[0], presence is True and moving is False)
        pause = self.pauses.reading(end, presence, moving)
        record.update(breathing_pause=pause.value, breathing_pause_s=_seconds(pause.duration_s))
        record["presence"] = None if self.calibrating else presence
        self._add_activity(record, end, node_hop, moving, presence)
        return record

    def _add_activity(self, record: dict, end: float, node_hop: NodeHop, moving: bool | None,
                      presence: bool | None) -> None:
        buffer = self.pipeline.buffer
        if buffer is None or self.calibrating:
            return
        hop_activity = self.activities.update(end, moving, node_hop.motion, buffer.recent)
        if presence is False:
            self.activities.tracker.absent(end)
        record["activity"] = hop_activity.activity
        record["posture"] = self.activities.tracker.state.posture

    def _moving(self, node_hop: NodeHop) -> bool | None:
        if self.bank is None or node_hop.features is None:
            return node_hop.moving
        return MODULES["motion"].predict(self.bank.get("motion"), node_hop.features).value

    def _presence(self, node_hop: NodeHop, end: float, moving: bool | None) -> bool | None:
        if self.bank is not None and node_hop.features is not None:
            return bool(moving or MODULES["presence"].predict(self.bank.get("presence"), node_hop.features).value)
        recently_moved = self._last_motion is not None and end - self._last_motion <= PRESENCE_HOLD_SECONDS
        return True if recently_moved else None

    def _add_vitals(self, record: dict) -> None:
        breathing, heart = self._vitals
        record["breathing_confidence"] = round(breathing.confidence, 2)
        record["heart_confidence"] = round(heart.confidence, 2)
        if breathing.bpm is not None:
            record["breathing_bpm"] = round(breathing.bpm, 1)
        if heart.bpm is not None:
            record["heart_bpm"] = round(heart.bpm, 1)


def room_records(state: RoomState, hops: dict[int, NodeHop | None], origin: float) -> list[dict]:
    """Per-node rows of a room's hop, from its monitor (``ruview analyze --room``): each node's
    motion statistic and the readings the room's own bank gave it."""
    records = []
    for node_id in sorted(hops):
        record = dict.fromkeys(RECORD_KEYS)
        record.update(t=round(state.t - origin, 1), node_id=node_id, breathing_confidence=0.0, heart_confidence=0.0)
        node_hop, node = hops[node_id], state.nodes.get(node_id)
        if node_hop is not None and node_hop.motion is not None:
            record["motion"] = round(node_hop.motion, 3)
        if node is not None and node.readings:
            readings = node.readings
            record.update(motion_detected=readings["motion"].value, presence=readings["presence"].value)
            pause = readings.get(PAUSE)
            if pause is not None:
                record.update(breathing_pause=pause.value, breathing_pause_s=_seconds(getattr(pause, "duration_s", None)))
            for key, name in (("breathing", "breathing_bpm"), ("heart", "heart_bpm")):
                reading = readings.get(name)
                if reading is not None:
                    record[name] = None if reading.value is None else round(float(reading.value), 1)
                    record[f"{key}_confidence"] = round(reading.confidence, 2)
        records.append(record)
    return records


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)
