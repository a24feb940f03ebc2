"""RoomMonitor: frames of every node in, one fused room state per hop out (ADR-151 §2.5).

Per node it keeps the recent cleaned frames, computes the shared window features once per hop
and lets every specialist read them. The breathing / heart estimates are the only expensive
part: each node refreshes them every ``vitals_every`` seconds, nodes staggered so that no hop
pays for more than one. STALE comes from two places: the bank was trained against another
baseline (re-calibration), or a node's still profile stays far from every state the baseline
and the anchors showed (:func:`ruview_core.specialists.anomaly.drift`) for ``DRIFT_WINDOWS`` hops
in a row (furniture moved, the sensor turned): re-calibrate and re-enroll.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..calibration.baseline import MOTION_SECONDS, PROFILE_SECONDS, NodeBaseline, RoomBaseline
from ..calibration.cleaning import NodeBuffer, clean
from ..calibration.features import BREATHING_SECONDS, estimate_vitals, vitals_window, window_features
from ..analysis.window import frame_csi
from ..frames import CsiFrame
from ..specialists import anomaly, breathing, heartbeat
from ..specialists.bank import MODULES, SpecialistBank, train_bank
from ..specialists.base import BACKBONE_REV, Reading, unknown
from .fusion import fuse
from .room_state import PERSON_READINGS, SPECIALIST_OF, NodeState, RoomState

DRIFT_WINDOWS = 20
# On the simulator an empty room (this one or a rearranged one) stays at or below ~1.0, and the node
# that sees a still person reads 1.9 and up.
LIVENESS_LIMIT = 1.4
RATE_MEMORY_HOPS = 10  # dropped / clipped shares are judged over this many recent hops


class NodeMonitor:
    """One node's buffer, cached vitals and drift counter."""

    def __init__(self, baseline: NodeBaseline, offset: int, vitals_every: float) -> None:
        self.baseline = baseline
        self.buffer = NodeBuffer(BREATHING_SECONDS + 2.0)
        self.pending_t: list[float] = []
        self.pending_csi: list[np.ndarray] = []
        self.pending_dropped = 0
        self.vitals_every = vitals_every
        self.next_vitals: float | None = None
        self.offset = offset
        self.vitals = (None, None)
        self.drift_count = 0
        self.history: list[tuple[int, int, int]] = []  # (received, dropped, saturated) per hop

    def push(self, frame: CsiFrame) -> None:
        csi = frame_csi(frame)
        if csi is None or csi.shape[1] != self.baseline.usable.size or not np.isfinite(frame.timestamp):
            self.pending_dropped += 1
            return
        self.pending_t.append(float(frame.timestamp))
        self.pending_csi.append(csi)

    def absorb(self) -> None:
        if self.pending_t:
            chunk = clean(np.asarray(self.pending_t), np.stack(self.pending_csi), self.baseline.usable,
                          self.baseline.frequency_index, self.pending_dropped)
        else:
            chunk = clean(np.zeros(0), np.zeros((0, 1, self.baseline.usable.size)), self.baseline.usable,
                          self.baseline.frequency_index, self.pending_dropped)
        self.buffer.add(chunk)
        self.history = (self.history + [(len(chunk) + chunk.dropped, chunk.dropped, chunk.saturated)])[-RATE_MEMORY_HOPS:]
        self.pending_t, self.pending_csi, self.pending_dropped = [], [], 0

    def state(self, t: float, bank: SpecialistBank) -> NodeState:
        self.absorb()
        received, dropped, saturated = (sum(h[i] for h in self.history) for i in range(3))
        if self.next_vitals is None:
            self.next_vitals = t + self.offset
        if t >= self.next_vitals:
            self.next_vitals = t + self.vitals_every
            self.refresh_vitals(t, bank)
        times, csi = self.buffer.recent(max(PROFILE_SECONDS, MOTION_SECONDS), end=t)
        features = window_features(self.baseline, times, csi, t=t,
                                   dropped=dropped / max(received, 1), saturation=saturated / max(received - dropped, 1),
                                   breathing=self.vitals[0], heart=self.vitals[1])
        node_id = self.baseline.node_id
        if features is None:
            if received and dropped / received > anomaly.MAX_DROPPED:
                return NodeState(node_id, {"anomaly": Reading(1.0, 1.0, "corrupt frames")})
            return NodeState(node_id, {})
        readings: dict[str, Reading] = {}
        for name, kind in SPECIALIST_OF.items():
            specialist = bank.get(kind)
            readings[name] = unknown("not trained") if specialist is None else MODULES[kind].predict(specialist, features)
        if readings["presence"].value is False:
            readings.update({k: unknown("nobody present") for k in PERSON_READINGS})
        elif readings["motion"].value:
            readings.update({k: unknown("moving") for k in ("breathing_bpm", "heart_bpm")})
        return NodeState(node_id, readings, self._drift(features, bank, readings))

    def refresh_vitals(self, t: float, bank: SpecialistBank) -> None:
        """Re-estimate breathing and heart rate over the last ``BREATHING_SECONDS`` (the costly part)."""
        times, csi = self.buffer.recent(BREATHING_SECONDS, end=t)
        window = vitals_window(self.baseline, times, csi) if times.size else None
        node_id = self.baseline.node_id
        self.vitals = estimate_vitals(self.baseline, window, breathing.feature_for(bank.get("breathing"), node_id),
                                      breathing.feature_for(bank.get("heartbeat"), node_id))

    def _drift(self, features, bank: SpecialistBank, readings: dict[str, Reading]) -> str | None:
        distance = anomaly.drift(bank.get("anomaly"), features)
        if distance is None:
            return None
        # A still scene far from every enrolled state, with no body breathing in it, is a changed room.
        strayed = distance > 1.0 and features.liveness < LIVENESS_LIMIT
        self.drift_count = self.drift_count + 1 if strayed and not readings["motion"].value else 0
        if self.drift_count >= DRIFT_WINDOWS:
            return (f"node {self.baseline.node_id}: the room no longer matches its calibration (furniture or sensor "
                    "moved?): re-calibrate and re-enroll")
        return None


class RoomMonitor:
    """Consumes frames of several nodes in time order; emits a fused :class:`RoomState` every ``hop`` s.

    Without a ``bank`` (only a baseline) presence, motion and anomaly still work from the
    deviation against the baseline. A bank trained against another baseline makes every state
    STALE.
    """

    def __init__(self, baseline: RoomBaseline, bank: SpecialistBank | None = None, *, hop: float = 1.0,
                 vitals_every: float = 10.0) -> None:
        if hop <= 0 or vitals_every <= 0:
            raise ValueError("hop and vitals_every must be positive")
        self.baseline = baseline
        self.bank = bank if bank is not None else train_bank("baseline-only", baseline, [],
                                                             kinds=("presence", "motion", "anomaly"))
        self.hop = float(hop)
        every = max(int(round(vitals_every / hop)), 1)
        self.nodes = {node_id: NodeMonitor(node, i % every, vitals_every)
                      for i, (node_id, node) in enumerate(sorted(baseline.nodes.items()))}
        self.unknown_nodes: set[int] = set()
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
        node = self.nodes.get(frame.node_id)
        if node is None:
            self.unknown_nodes.add(frame.node_id)
        else:
            node.push(frame)
        return states

    def run(self, frames: Iterable) -> Iterator[RoomState]:
        for frame in frames:
            yield from self.push(frame)

    def state(self, t: float) -> RoomState:
        """The fused state for stream time ``t`` from every frame pushed so far."""
        states = [node.state(t, self.bank) for node in self.nodes.values()]
        return fuse(t, [s for s in states if s.readings], baseline_id=self.baseline.baseline_id,
                    stale_reason=self.stale_reason, backbone_rev=BACKBONE_REV)
