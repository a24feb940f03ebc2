"""Where to put the nodes: per node, how much a person at each enrolled spot changed its signal.

Each anchor capture's gate measured, per node, the window deviation from the empty room over the
empty room's own largest deviation (``shift``, :func:`ruview_core.calibration.quality.check_anchor`;
kept in the enrollment log with the capture, accepted or refused). A node that sees a person
reads well above ``PRESENCE_MARGIN`` wherever the person stands; one that hardly moves from 1
at every spot does not see the room.
"""

from __future__ import annotations

from statistics import median
from typing import Any

from ..calibration import RoomEnrollment
from ..calibration.anchors import get_anchor
from ..calibration.quality import PRESENCE_MARGIN
from ..calibration.session import SessionState

WEAK_SHIFT = 1.5  # under this at every spot a person stood: the node does not see the room


def node_verdict(shifts: dict[str, float]) -> tuple[str, str]:
    """``good`` / ``weak`` / ``not seeing the room`` from one node's shift per spot with a person."""
    if not shifts:
        return "unknown", "no capture with a person yet: enroll the steps where a person stands, sits or lies"
    seen = [spot for spot, shift in shifts.items() if shift > PRESENCE_MARGIN]
    if len(seen) * 2 >= len(shifts):
        return "good", f"a person changes its signal clearly at {len(seen)} of {len(shifts)} spots"
    if seen or median(shifts.values()) >= WEAK_SHIFT:
        return "weak", (f"a person changes its signal clearly at only {len(seen)} of {len(shifts)} spots: move it so "
                        "that the room lies between it and the router")
    return "not seeing the room", ("a person hardly changes its signal anywhere: it may face away, sit behind metal "
                                   "or be in another room; move it so that the room lies between it and the router")


def placement(enrollment: RoomEnrollment, state: SessionState | None = None) -> dict[str, Any]:
    """Per node: the shift at every captured spot, and its verdict (from the latest capture of each anchor)."""
    state = enrollment.state() if state is None else state
    spots: dict[str, dict[str, Any]] = {}
    for event in _captures(enrollment, state):
        shift = (event.get("metrics") or {}).get("shift")
        if isinstance(shift, dict) and isinstance(event.get("anchor"), str):
            spots[event["anchor"]] = {"shift": shift, "accepted": event["event"] == "anchor_accepted"}
    nodes: dict[int, dict[str, float]] = {}
    for anchor, spot in spots.items():
        for node, value in spot["shift"].items():
            if isinstance(value, int | float):
                nodes.setdefault(int(node), {})[anchor] = float(value)
    out = []
    for node_id, shifts in sorted(nodes.items()):
        with_person = {a: v for a, v in shifts.items() if get_anchor(a).presence}
        verdict, why = node_verdict(with_person)
        out.append({"node_id": node_id, "shift": shifts, "verdict": verdict, "why": why})
    return {"room": enrollment.room, "baseline_id": state.baseline_id, "presence_margin": PRESENCE_MARGIN,
            "spots": {a: s["accepted"] for a, s in spots.items()}, "nodes": out}


def _captures(enrollment: RoomEnrollment, state: SessionState) -> list[dict[str, Any]]:
    """Every anchor capture against the current baseline, accepted or refused, oldest first."""
    events, _, _ = enrollment.session.read()
    return [e for e in events if e["event"] in ("anchor_accepted", "anchor_rejected")
            and e.get("baseline_id") == state.baseline_id]
