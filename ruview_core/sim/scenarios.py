"""What happens in the room: one person (or nobody) doing one thing, and its ground truth.

Every scenario is drawn from a seed: the rates of breathing and heartbeat, how deep they are,
exactly where the person sits / lies / stands, the sway and fidget trajectories, the walking path.
Places come from the room (the chair, the bed, a standing spot), so a person who sits down in
the ``sit`` scenario and in ``breathe_normal`` uses the same chair of the same room.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .body import POSTURES, MovingPerson, Person, Rhythm, Wander
from .movements import plan_fall, plan_postures
from .room import Room

SCENARIOS = (
    "empty", "walk", "stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal", "small_move",
    "sleep_posture", "breath_hold", "postures", "fall",
)
PERSON_TAG = 0x5202

# Postural sway in metres rms per axis: standing people sway most, sleepers hardly at all. The band
# stays below the slowest breathing rate so sway drifts the baseline instead of faking a breath.
_SWAY_RMS = {"standing": 3e-3, "sitting": 1.5e-3, "lying": 0.5e-3}
_SWAY_BAND_HZ = (0.01, 0.06)
_NATURAL_BREATHING_BPM = (10.0, 20.0)
_BREATHING_BPM = {"breathe_slow": (6.0, 10.0), "breathe_normal": (12.0, 18.0), "breath_hold": (12.0, 18.0)}
_HEART_BPM = (55.0, 95.0)
# Slow rate variability (fraction of the rate), as in real breathing and heart-rate variability.
_BREATHING_DRIFT = 0.04
_HEART_DRIFT = 0.03
# Where exactly a person sits, lies or stands on a given place, session to session (metres per
# axis, and the heading in radians): a few centimetres scramble the body's fingerprint at 2.4 GHz.
PLACEMENT_JITTER_M = 0.08
FACING_JITTER_RAD = 0.15
# breath_hold: a seated person breathing normally holds their breath now and then; the first hold
# comes once a minute of rhythm could be established, each lasts 15-25 s, 35-50 s of breathing between.
_FIRST_HOLD_S = (35.0, 40.0)
_HOLD_S = (15.0, 25.0)
_BETWEEN_HOLDS_S = (35.0, 50.0)
_HOLDS_PLANNED = 40


@dataclass(frozen=True)
class HeldRhythm(Rhythm):
    """A rhythm that stops during ``holds`` (``(start_s, end_s)`` in the activity's clock): its
    phase stands still there, so the chest stays where it was and resumes from the same point."""

    holds: tuple[tuple[float, float], ...] = ()

    def phase(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        held = sum((np.clip(t - start, 0.0, end - start) for start, end in self.holds), np.zeros_like(t))
        return super().phase(t - held)


def _draw_holds(rng: np.random.Generator) -> tuple[tuple[float, float], ...]:
    holds, start = [], rng.uniform(*_FIRST_HOLD_S)
    for _ in range(_HOLDS_PLANNED):
        end = start + rng.uniform(*_HOLD_S)
        holds.append((float(start), float(end)))
        start = end + rng.uniform(*_BETWEEN_HOLDS_S)
    return tuple(holds)


@dataclass(frozen=True)
class Activity:
    """A scenario as played: the person (None for an empty room) and what the truth reports."""

    scenario: str
    person: Person | None
    motion: bool
    vitals_measurable: bool
    holds: tuple[tuple[float, float], ...] = field(default=())

    def truth(self, second: int, local_start: float, local_end: float, at: float | None = None) -> dict:
        """Ground truth for one second; ``local_*`` are the interval in the activity's own clock.

        ``activity`` is the movement under way (the one covering most of the interval: sit_down,
        stand_up, lie_down, get_up, fall, walk; ``other`` for fidgeting) or ``still``; ``posture``
        is the one held at ``at`` (default the interval's middle; during a movement the one being
        left until half way, then the one being reached).
        """
        person = self.person
        measurable = person is not None and self.vitals_measurable
        breathing = round(person.breathing.mean_rate(local_start, local_end), 2) if measurable else None
        heart = round(person.heartbeat.mean_rate(local_start, local_end), 2) if measurable else None
        at = (local_start + local_end) / 2 if at is None else at
        posture = person.posture if person is not None else None
        motion, activity = bool(self.motion), None
        if person is not None:
            activity = {"walk": "walk", "small_move": "other"}.get(self.scenario, "still")
        if isinstance(person, MovingPerson):
            posture = person.pose_at(at).posture
            overlaps = [(min(m.end, local_end) - max(m.start, local_start), m.activity) for m in person.moves]
            overlap, name = max(overlaps, default=(0.0, "still"))
            motion, activity = overlap > 0, name if overlap > 0 else "still"
        return {
            "t": int(second),
            "presence": person is not None,
            "posture": posture,
            "motion": motion,
            "breathing_bpm": breathing,
            "heart_bpm": heart,
            "breathing_pause": measurable and any(a <= (local_start + local_end) / 2 < b for a, b in self.holds),
            "activity": activity,
        }


def make_activity(scenario: str, room: Room, seed: int, segment: int = 0, *,
                  placement_jitter_m: float = PLACEMENT_JITTER_M, facing_jitter_rad: float = FACING_JITTER_RAD) -> Activity:
    """The seeded activity for ``scenario`` in ``room``; ``segment`` separates repeated scenarios."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
    if scenario == "empty":
        return Activity(scenario, None, motion=False, vitals_measurable=False)
    rng = np.random.default_rng([seed, PERSON_TAG, SCENARIOS.index(scenario), segment])
    # Base rates keep clear of the range ends by the drift, so the truth never leaves the range.
    low, high = _BREATHING_BPM.get(scenario, _NATURAL_BREATHING_BPM)
    breathing = Rhythm(
        rate_bpm=rng.uniform(low * (1 + _BREATHING_DRIFT), high * (1 - _BREATHING_DRIFT)),
        depth_m=rng.uniform(5e-3, 6e-3) if scenario == "breathe_slow" else rng.uniform(4e-3, 6e-3),
        variability=_BREATHING_DRIFT, drift_period_s=rng.uniform(40, 90),
        drift_phase=rng.uniform(0, 2 * np.pi), phase0=rng.uniform(0, 2 * np.pi),
    )
    heartbeat = Rhythm(
        rate_bpm=rng.uniform(_HEART_BPM[0] * (1 + _HEART_DRIFT), _HEART_BPM[1] * (1 - _HEART_DRIFT)),
        depth_m=rng.uniform(0.2e-3, 0.5e-3), variability=_HEART_DRIFT, drift_period_s=rng.uniform(20, 60),
        drift_phase=rng.uniform(0, 2 * np.pi), phase0=rng.uniform(0, 2 * np.pi), pulse=True,
    )
    if scenario == "walk":
        walker = _walker(room, rng, breathing, heartbeat)
        return Activity(scenario, walker, motion=True, vitals_measurable=False)
    if scenario in ("postures", "fall"):
        plan = plan_fall if scenario == "fall" else plan_postures
        moves = plan(room, rng, placement_jitter_m, facing_jitter_rad)
        start = moves[0].before
        sway = Wander.draw(rng, 1.0, *_SWAY_BAND_HZ)
        person = MovingPerson(start.posture, start.anchor, start.facing, np.array([1.0, 0.0, 0.0]), breathing,
                              heartbeat, sway, step_hz=float(rng.uniform(1.6, 2.0)), moves=moves,
                              sway_rms=tuple(_SWAY_RMS[p] for p in POSTURES))
        # Vitals are truth only while resting; the truth's breathing rate is the rhythm's regardless.
        return Activity(scenario, person, motion=False, vitals_measurable=True)

    if scenario in ("lie_down", "sleep_posture"):
        posture = "lying"
    elif scenario == "stand_still" or (scenario == "small_move" and rng.uniform() < 0.5):
        posture = "standing"
    else:
        posture = "sitting"
    place = {"standing": room.stand_spot, "sitting": room.chair, "lying": room.bed}[posture]
    anchor = place[:2] + rng.normal(0, placement_jitter_m, 2)
    facing = float(place[2] + rng.normal(0, facing_jitter_rad))
    if posture == "lying":
        on_side = scenario == "sleep_posture"
        chest_normal = np.array([0.0, 1.0, 0.0]) if on_side else np.array([0.0, 0.0, 1.0])
    else:
        chest_normal = np.array([1.0, 0.0, 0.0])
    stillness = 0.3 if scenario == "sleep_posture" else 1.0
    sway = Wander.draw(rng, _SWAY_RMS[posture] * stillness, *_SWAY_BAND_HZ)
    # Fidgeting: head and hands wander a few centimetres at gesture speed.
    fidget = Wander.draw(rng, 0.04, 0.2, 1.2, dims=9, components=5) if scenario == "small_move" else None
    holds = _draw_holds(rng) if scenario == "breath_hold" else ()
    if holds:
        breathing = HeldRhythm(**{f.name: getattr(breathing, f.name) for f in fields(Rhythm)}, holds=holds)
    person = Person(posture, anchor, facing, chest_normal, breathing, heartbeat, sway, fidget=fidget)
    return Activity(scenario, person, motion=scenario == "small_move", vitals_measurable=True, holds=holds)


def _walker(room: Room, rng: np.random.Generator, breathing: Rhythm, heartbeat: Rhythm) -> Person:
    """Someone walking a smooth closed-form path that stays 0.5 m clear of the walls."""
    half = room.size[:2] / 2 - 0.5
    freqs = rng.uniform(0.04, 0.10, 3)
    weights = rng.uniform(0.3, 1.0, (3, 2))
    amplitudes = weights / weights.sum(axis=0) * half  # sum of |amplitudes| <= half extent
    path = Wander(freqs, amplitudes, rng.uniform(0, 2 * np.pi, (3, 2)))
    sway = Wander.draw(rng, 2e-3, *_SWAY_BAND_HZ)
    return Person(
        "standing", room.size[:2] / 2, 0.0, np.array([1.0, 0.0, 0.0]), breathing, heartbeat, sway,
        walk=path, step_hz=float(rng.uniform(1.6, 2.0)),
    )
