"""The eight guided enrollment anchors of ADR-151 §2.2: what to do, for how long, what it teaches."""

from __future__ import annotations

from dataclasses import dataclass

COUNTDOWN_S = 3.0


@dataclass(frozen=True)
class Anchor:
    name: str
    instruction: str
    duration_s: float
    presence: bool
    posture: str | None  # "standing" | "sitting" | "lying" | None
    moving: bool  # the anchor expects motion (small_move) rather than stillness
    breathing_band_bpm: tuple[float, float] | None = None  # breathe_* must show a rhythm here
    restless: bool | None = None


ANCHORS: tuple[Anchor, ...] = (
    Anchor("empty", "Leave the room empty and keep the door closed.", 20.0, False, None, False),
    Anchor("stand_still", "Stand still between the router and the sensor, arms relaxed.", 20.0, True, "standing", False),
    Anchor("sit", "Sit down on a chair where you usually sit, and stay still.", 20.0, True, "sitting", False),
    Anchor("lie_down", "Lie down where you usually lie (bed or sofa), and stay still.", 20.0, True, "lying", False),
    Anchor("breathe_slow", "Sit still and breathe slowly: about 4 s in, 4 s out.", 30.0, True, "sitting", False, (5.0, 10.5)),
    Anchor("breathe_normal", "Sit still and breathe normally.", 30.0, True, "sitting", False, (10.0, 24.0)),
    Anchor("small_move", "Stay in place and make small movements: shift, move your arms, fidget.", 20.0, True, None, True, None, True),
    Anchor("sleep_posture", "Lie in your sleeping position and stay as still as you can.", 30.0, True, "lying", False, None, False),
)
ANCHORS_BY_NAME = {anchor.name: anchor for anchor in ANCHORS}
ANCHOR_NAMES = tuple(ANCHORS_BY_NAME)


def get_anchor(name: str) -> Anchor:
    try:
        return ANCHORS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown anchor {name!r}; anchors are {', '.join(ANCHOR_NAMES)}") from None
