"""The posture carried from one movement to the next: a small state machine over activities.

A posture cannot be read reliably from a still channel (a person re-seated a few centimetres
away scrambles any static fingerprint), but the movement that led to it can: after ``sit_down``
the person sits until a movement says otherwise. Each recognised activity moves the state:

- ``sit_down`` -> sitting, ``lie_down`` / ``fall`` -> lying, ``stand_up`` / ``get_up`` / ``walk``
  / ``jump`` -> standing;
- ``other`` (shifting in a chair, a gesture) and stillness keep the posture;
- an activity that cannot follow the current posture (sitting down while already sitting,
  standing up while standing) is evidence that disagrees: the posture becomes unknown, with the
  reason, until the next movement settles it;
- nobody present: unknown.

The confidence is the recognising activity's, so a posture is never surer than the movement
that set it.
"""

from __future__ import annotations

from dataclasses import dataclass

POSTURES = ("standing", "sitting", "lying")
LEADS_TO = {
    "sit_down": "sitting", "lie_down": "lying", "fall": "lying",
    "stand_up": "standing", "get_up": "standing", "walk": "standing", "jump": "standing",
}
# A transition that needs another posture before it: the posture it cannot start from.
CANNOT_START_FROM = {"sit_down": ("sitting", "lying"), "stand_up": ("standing",), "lie_down": ("lying",),
                     "get_up": ("standing",)}


@dataclass(frozen=True)
class PostureState:
    posture: str | None
    confidence: float
    reason: str
    since: float | None


class PostureTracker:
    """Feed the activities in time order with :meth:`observe`; :attr:`state` is the posture now."""

    def __init__(self) -> None:
        self.state = PostureState(None, 0.0, "no movement seen yet", None)

    def observe(self, t: float, activity: str, confidence: float) -> PostureState:
        current = self.state.posture
        if activity in CANNOT_START_FROM and current in CANNOT_START_FROM[activity]:
            self.state = PostureState(None, 0.0, f"{activity} seen while {current}: the evidence disagrees", t)
        elif activity in LEADS_TO:
            self.state = PostureState(LEADS_TO[activity], float(confidence), f"after {activity}", t)
        return self.state

    def absent(self, t: float) -> PostureState:
        """Nobody is present: no posture."""
        if self.state.posture is not None or self.state.reason != "nobody present":
            self.state = PostureState(None, 0.0, "nobody present", t)
        return self.state
