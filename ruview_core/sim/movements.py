"""Plans of a person moving between postures: an ordinary day's sitting, lying and walking, or a fall.

Each plan is a time-ordered tuple of :class:`~.body.Move` in the activity's own clock, every move
starting from the pose the last one ended in. Places come from the room: one sits on the chair
(from standing just in front of it), lies on the bed (from standing beside it), stands at the
standing spot or anywhere clear of the walls. Every time a person settles, the exact spot and
heading are drawn afresh (``placement_jitter_m`` / ``facing_jitter_rad``): the re-seating
scatter that scrambles a static fingerprint. Durations are those of people doing it: sitting
down or standing up 1.2-3 s, lying down or getting up 2-3.5 s, walking at 0.6-1.1 m/s, a fall
0.5-1 s of accelerating descent to the floor.
"""

from __future__ import annotations

import numpy as np

from .body import Move, Pose
from .room import Room

MOVE_SECONDS = {"sit_down": (1.5, 3.0), "stand_up": (1.2, 2.5), "lie_down": (2.0, 3.5), "get_up": (2.0, 3.5),
                "fall": (0.5, 1.0)}
WALK_SPEED_MPS = (0.6, 1.1)
# Rest after reaching a posture (seconds): people sit and lie longer than they stand about.
REST_SECONDS = {"standing": (8.0, 40.0), "sitting": (25.0, 90.0), "lying": (30.0, 120.0)}
ARRIVE_PAUSE_S = (0.8, 2.5)  # from arriving at the chair or bed to starting to sit or lie
FIRST_MOVE_S = (20.0, 30.0)  # the node chain calibrates on the first still seconds
PLANNED_SECONDS = 4000.0
FALL_AT_S = (25.0, 45.0)
FLOOR_LIFT_M = -0.5  # lying on the floor, not on the bed
WALL_CLEARANCE_M = 0.6


def _forward(facing: float) -> np.ndarray:
    return np.array([np.cos(facing), np.sin(facing)])


class _Planner:
    def __init__(self, room: Room, rng: np.random.Generator, jitter_m: float, jitter_rad: float) -> None:
        self.room, self.rng, self.jitter_m, self.jitter_rad = room, rng, jitter_m, jitter_rad
        self.moves: list[Move] = []

    def settle(self, posture: str, xy: np.ndarray, facing: float, lift: float = 0.0) -> Pose:
        """A pose near ``xy`` / ``facing`` with this session's re-seating scatter."""
        xy = np.asarray(xy, dtype=np.float64) + self.rng.normal(0.0, self.jitter_m, 2)
        low, high = np.full(2, WALL_CLEARANCE_M), self.room.size[:2] - WALL_CLEARANCE_M
        return Pose(posture, np.clip(xy, low, high), float(facing + self.rng.normal(0.0, self.jitter_rad)), lift)

    def add(self, activity: str, start: float, before: Pose, after: Pose) -> float:
        if activity == "walk":
            distance = float(np.linalg.norm(after.anchor - before.anchor))
            duration = max(distance / self.rng.uniform(*WALK_SPEED_MPS), 1.0)
        else:
            duration = float(self.rng.uniform(*MOVE_SECONDS[activity]))
        self.moves.append(Move(activity, float(start), duration, before, after))
        return start + duration

    def walk_to(self, start: float, here: Pose, target: Pose) -> tuple[float, Pose]:
        """Walk from ``here`` to ``target`` (if it is not where one stands already)."""
        if np.linalg.norm(target.anchor - here.anchor) < 0.3:
            return start, here
        return self.add("walk", start, here, target) + self.rng.uniform(*ARRIVE_PAUSE_S), target

    def in_front_of_chair(self) -> Pose:
        chair = self.room.chair
        return self.settle("standing", chair[:2] + 0.4 * _forward(chair[2]), chair[2])

    def beside_bed(self) -> Pose:
        bed = self.room.bed
        side = bed[2] + np.pi / 2
        return self.settle("standing", bed[:2] + 0.7 * _forward(side), side)

    def anywhere(self) -> Pose:
        if self.rng.uniform() < 0.5:
            spot = self.room.stand_spot
            return self.settle("standing", spot[:2], spot[2])
        low, high = np.full(2, WALL_CLEARANCE_M), self.room.size[:2] - WALL_CLEARANCE_M
        return self.settle("standing", self.rng.uniform(low, high), self.rng.uniform(-np.pi, np.pi))

    def rest(self, posture: str) -> float:
        return float(self.rng.uniform(*REST_SECONDS[posture]))


def plan_postures(room: Room, rng: np.random.Generator, jitter_m: float, jitter_rad: float) -> tuple[Move, ...]:
    """Ordinary activity: from standing, sit down on the chair, lie down on the bed, walk about,
    and back up, resting in between, for ``PLANNED_SECONDS``."""
    plan = _Planner(room, rng, jitter_m, jitter_rad)
    spot = room.stand_spot
    here = plan.settle("standing", spot[:2], spot[2])
    t = float(rng.uniform(*FIRST_MOVE_S))
    while t < PLANNED_SECONDS:
        if here.posture == "sitting":
            target = plan.settle("standing", here.anchor + 0.4 * _forward(here.facing), here.facing)
            t, here = plan.add("stand_up", t, here, target), target
        elif here.posture == "lying":
            side = here.facing + np.pi / 2
            target = plan.settle("standing", here.anchor + 0.7 * _forward(side), side)
            t, here = plan.add("get_up", t, here, target), target
        else:
            choice = rng.choice(["sit", "lie", "walk"], p=[0.45, 0.25, 0.3])
            if choice == "sit":
                t, here = plan.walk_to(t, here, plan.in_front_of_chair())
                chair = room.chair
                target = plan.settle("sitting", chair[:2], chair[2])
                t, here = plan.add("sit_down", t, here, target), target
            elif choice == "lie":
                t, here = plan.walk_to(t, here, plan.beside_bed())
                bed = room.bed
                target = plan.settle("lying", bed[:2], bed[2] + (np.pi if rng.uniform() < 0.5 else 0.0))
                t, here = plan.add("lie_down", t, here, target), target
            else:
                target = plan.anywhere()
                t = plan.add("walk", t, here, target)
                here = target
        t += plan.rest(here.posture)
    return tuple(plan.moves)


def plan_fall(room: Room, rng: np.random.Generator, jitter_m: float, jitter_rad: float) -> tuple[Move, ...]:
    """Standing (and perhaps walking somewhere), then a fall to the floor, then lying still."""
    plan = _Planner(room, rng, jitter_m, jitter_rad)
    spot = room.stand_spot
    here = plan.settle("standing", spot[:2], spot[2])
    t = float(rng.uniform(*FALL_AT_S))
    if rng.uniform() < 0.5:  # falls while walking come right at the end of the walk
        target = plan.anywhere()
        walk_start = max(t - float(np.linalg.norm(target.anchor - here.anchor)) / 0.8 - 1.0, 15.0)
        t = plan.add("walk", walk_start, here, target) + rng.uniform(0.0, 0.5)
        here = target
    direction = here.facing + rng.uniform(-np.pi / 2, np.pi / 2)
    target = plan.settle("lying", here.anchor + 0.6 * _forward(direction), direction, FLOOR_LIFT_M)
    plan.add("fall", t, here, target)
    return tuple(plan.moves)
