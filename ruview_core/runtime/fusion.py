"""Fusing the nodes' readings into one room state (ADR-151 §2.5).

Presence and motion: any node that sees someone (OR). Posture, heart rate, restlessness and a
breathing pause: the most confident node that has a value. Breathing rate: the most confident
node's, made surer by nodes that commit the same rate (within ``AGREE_BPM``) and less sure by
nodes that commit another, down to unknown (:func:`fuse_rates`). Anomaly and STALE: the worst node.
Then the room-level rules: a stale or vetoed room reports no readings but why, and a room
nobody is in has no posture, breathing, heart rate, restlessness or zone. The zone (a coarse
position between the first and last node, 1..5) comes from the nodes' deviation from the empty
room: a body nearer a node's link disturbs it more (:mod:`.zone`).
"""

from __future__ import annotations

import math

import numpy as np

from ..specialists.anomaly import VETO
from ..specialists.base import Reading, unknown
from ..specialists.breathing import MIN_CONFIDENCE
from .pauses import PAUSE
from .room_state import PERSON_READINGS, READINGS, NodeState, RoomState
from .zone import coarse_zone


def fuse_any(readings: list[Reading], yes: str, no: str) -> Reading:
    known = [r for r in readings if r.value is not None]
    if not known:
        return readings[0] if readings else unknown()
    positive = [r for r in known if r.value]
    if positive:
        return Reading(True, max(r.confidence for r in positive), yes)
    return Reading(False, min(r.confidence for r in known), no)


NOBODY = "nobody present"


def most_confident(readings: list[Reading]) -> Reading:
    """The most confident value; with none, the reason of a node that did see someone."""
    known = [r for r in readings if r.value is not None]
    if known:
        return max(known, key=lambda r: r.confidence)
    reasons = [r for r in readings if r.label != NOBODY] or readings
    return reasons[0] if reasons else unknown("not trained")


AGREE_BPM = 1.0


def fuse_rates(readings: list[Reading], agree_bpm: float = AGREE_BPM, min_confidence: float = MIN_CONFIDENCE) -> Reading:
    """One rate from the nodes' rates: the most confident node's and those within ``agree_bpm`` of it
    (confidence-weighted), as sure as independent evidence makes it (``1 - prod(1 - c)``), then
    scaled by ``1 - c`` of every node that committed another rate; unknown below ``min_confidence``."""
    known = [r for r in readings if r.value is not None]
    if len(known) < 2:
        return most_confident(readings)
    best = max(known, key=lambda r: r.confidence)
    agree = [r for r in known if abs(float(r.value) - float(best.value)) <= agree_bpm]
    others = [r for r in known if abs(float(r.value) - float(best.value)) > agree_bpm]
    weights = np.array([r.confidence for r in agree])
    value = float(np.dot(weights, [float(r.value) for r in agree]) / max(weights.sum(), 1e-12))
    confidence = (1.0 - float(np.prod(1.0 - weights))) * float(np.prod([1.0 - r.confidence for r in others]))
    if confidence < min_confidence:
        rates = ", ".join(f"{float(r.value):.1f}" for r in known)
        return unknown(f"the nodes disagree ({rates} br/min)")
    label = f"{len(agree)} nodes agree" if len(agree) > 1 else "measured"
    return Reading(value, confidence, label + (f", {len(others)} disagree" if others else ""))


def zone(nodes: list[NodeState]) -> Reading:
    """Where between the first and the last node the person is, 1..5 (unknown with fewer than two)."""
    evidence = {n.node_id: math.log(max(n.features.deviation, 1e-6)) for n in nodes if n.features is not None}
    found = coarse_zone(evidence)
    if found.index is None:
        return unknown(found.label)
    return Reading(found.index + 1, found.confidence, found.label)


def fuse(t: float, nodes: list[NodeState], *, baseline_id: str | None = None, stale_reason: str | None = None,
         backbone_rev: str = "none") -> RoomState:
    """One :class:`RoomState` from the per-node states of one hop."""
    column = {name: [n.readings[name] for n in nodes if name in n.readings] for name in READINGS}
    readings = {
        "presence": fuse_any(column["presence"], "present", "absent"),
        "motion": fuse_any(column["motion"], "moving", "still"),
        "anomaly": max((r for r in column["anomaly"] if r.value is not None), key=lambda r: r.value,
                       default=unknown("not trained")),
    }
    for name in (*PERSON_READINGS, PAUSE):
        readings[name] = most_confident(column[name])
    readings["breathing_bpm"] = fuse_rates(column["breathing_bpm"])
    readings["zone"] = zone(nodes)
    if stale_reason is None:
        stale_reason = next((n.stale_reason for n in nodes if n.stale_reason), None)
    anomaly = readings["anomaly"]
    vetoed = anomaly.value is not None and anomaly.value >= VETO
    veto_reason = f"anomaly: {anomaly.label}" if vetoed else None
    if stale_reason or vetoed:
        why = "stale" if stale_reason else "vetoed"
        readings = {k: (r if k == "anomaly" else unknown(why)) for k, r in readings.items()}
    elif readings["presence"].value is False:
        readings.update({k: unknown(NOBODY) for k in (*PERSON_READINGS, "zone", PAUSE)})
    if not nodes:
        readings = {k: unknown("no data") for k in READINGS}
    return RoomState(t, readings, vetoed, veto_reason, stale_reason is not None, stale_reason, baseline_id,
                     backbone_rev, {n.node_id: n for n in nodes})
