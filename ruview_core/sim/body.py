"""A person as a handful of point scatterers that breathe, beat, sway, fidget and walk.

Seven scatterers stand for chest, abdomen, head, arms and legs; their placement and radar cross
section depend on posture. Breathing moves the chest along the chest normal by a few millimetres
(the abdomen a little less), the heartbeat adds a fraction of a millimetre as a sharp pulse; the
bistatic path length changes by the displacement projected on the sum of the unit vectors
towards router and node, which is what turns into phase on every subcarrier. All motion is an
analytic function of time (sums of sinusoids with seeded frequencies and phases), so any time
array can be evaluated in one vectorised call and chunking never changes the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BODY_PARTS = ("chest", "abdomen", "head", "left_arm", "right_arm", "left_leg", "right_leg")
POSTURES = ("standing", "sitting", "lying")

# Local offsets (forward, left, up) in metres from the anchor: the feet for standing, the seat
# centre for sitting, the bed centre (forward = towards the head end) for lying.
_OFFSETS = {
    "standing": [(0.10, 0, 1.35), (0.10, 0, 1.05), (0, 0, 1.65), (0, 0.22, 1.10), (0, -0.22, 1.10),
                 (0, 0.10, 0.50), (0, -0.10, 0.50)],
    "sitting": [(0.05, 0, 0.95), (0.08, 0, 0.70), (0, 0, 1.25), (0.20, 0.22, 0.65), (0.20, -0.22, 0.65),
                (0.40, 0.10, 0.48), (0.40, -0.10, 0.48)],
    "lying": [(0.25, 0, 0.70), (0.0, 0, 0.68), (0.75, 0, 0.66), (0.15, 0.28, 0.62), (0.15, -0.28, 0.62),
              (-0.55, 0.12, 0.62), (-0.55, -0.12, 0.62)],
}
# Radar cross sections (m^2) at 2.4 GHz: a lying torso shows its broad side to ceiling-height
# antennas, a sitting person hides part of the legs.
_RCS = {
    "standing": [0.35, 0.25, 0.05, 0.04, 0.04, 0.08, 0.08],
    "sitting": [0.35, 0.20, 0.05, 0.04, 0.04, 0.10, 0.10],
    "lying": [0.50, 0.40, 0.06, 0.05, 0.05, 0.12, 0.12],
}
# Top of the body above the floor, for blocking rays.
BODY_HEIGHT = {"standing": 1.75, "sitting": 1.30, "lying": 0.80}
BODY_RADIUS = 0.25
_ABDOMEN_BREATHING_SHARE = 0.6


@dataclass(frozen=True)
class Wander:
    """A smooth random trajectory: ``sum_m amplitude_m * sin(2 pi f_m t + phase_m)`` per axis."""

    freqs: np.ndarray  # [M]
    amplitudes: np.ndarray  # [M, D]
    phases: np.ndarray  # [M, D]

    @classmethod
    def draw(cls, rng: np.random.Generator, rms: float, low_hz: float, high_hz: float,
             dims: int = 3, components: int = 4) -> Wander:
        """Random wander with roughly ``rms`` metres per axis in the band ``low_hz..high_hz``."""
        freqs = rng.uniform(low_hz, high_hz, components)
        weights = rng.uniform(0.5, 1.0, (components, dims))
        # A sinusoid of amplitude A has rms A / sqrt(2); independent phases add in power.
        amplitudes = weights * rms * np.sqrt(2) / np.linalg.norm(weights, axis=0)
        return cls(freqs, amplitudes, rng.uniform(0, 2 * np.pi, (components, dims)))

    def __call__(self, t: np.ndarray) -> np.ndarray:
        """Displacement ``[T, D]``."""
        return np.einsum("tmd,md->td", np.sin(self._angle(t)), self.amplitudes)

    def velocity(self, t: np.ndarray) -> np.ndarray:
        """Time derivative ``[T, D]``."""
        rates = self.amplitudes * 2 * np.pi * self.freqs[:, None]
        return np.einsum("tmd,md->td", np.cos(self._angle(t)), rates)

    def _angle(self, t: np.ndarray) -> np.ndarray:
        return 2 * np.pi * self.freqs[None, :, None] * t[:, None, None] + self.phases[None]


@dataclass(frozen=True)
class Rhythm:
    """A quasi-periodic vital sign whose rate drifts by +-``variability`` over ``drift_period_s``.

    The instantaneous rate is ``rate_bpm * (1 + variability * sin(2 pi t / P + drift_phase))``;
    its phase integral is closed-form, so the true mean rate over any interval is exact.
    ``pulse`` selects a heartbeat shape (sharp systolic pulse plus dicrotic bump) instead of a
    breathing shape (faster inhale than exhale).
    """

    rate_bpm: float
    depth_m: float
    variability: float
    drift_period_s: float
    drift_phase: float
    phase0: float
    pulse: bool = False

    def phase(self, t: np.ndarray) -> np.ndarray:
        omega = 2 * np.pi * self.rate_bpm / 60.0
        period = self.drift_period_s
        drift = np.cos(2 * np.pi * t / period + self.drift_phase) - np.cos(self.drift_phase)
        return self.phase0 + omega * (t - self.variability * period / (2 * np.pi) * drift)

    def mean_rate(self, t0: float, t1: float) -> float:
        """Average rate in breaths or beats per minute over ``[t0, t1)``."""
        turns = np.diff(self.phase(np.array([t0, t1])))[0] / (2 * np.pi)
        return float(turns / (t1 - t0) * 60.0)

    def displacement(self, t: np.ndarray) -> np.ndarray:
        """Surface displacement in metres, 0 at rest (end of exhale / diastole)."""
        phase = self.phase(t)
        if self.pulse:
            cycle = np.mod(phase / (2 * np.pi), 1.0)
            shape = np.exp(-(((cycle - 0.15) / 0.05) ** 2)) + 0.35 * np.exp(-(((cycle - 0.45) / 0.08) ** 2))
            return self.depth_m * shape
        shape = 0.5 * (1 - np.cos(phase + 0.5 * np.sin(phase)))
        breath_to_breath = 1 + 0.1 * np.sin(2 * np.pi * t / 17.0 + self.phase0)
        return self.depth_m * breath_to_breath * shape


@dataclass(frozen=True)
class Person:
    """One person: posture, where they are, and the motions that move their scatterers.

    ``anchor`` is ``(x, y)`` in the room and ``facing`` the heading of the body's forward axis;
    ``chest_normal`` is the breathing direction in body coordinates (forward, left, up).
    ``fidget`` wanders head and both arms (9 dims), ``walk`` moves the anchor (2 dims) with the
    body turned along the velocity and a gait of ``step_hz`` steps per second.
    """

    posture: str
    anchor: np.ndarray
    facing: float
    chest_normal: np.ndarray
    breathing: Rhythm
    heartbeat: Rhythm
    sway: Wander
    fidget: Wander | None = None
    walk: Wander | None = None
    step_hz: float = 1.8

    @property
    def rcs(self) -> np.ndarray:
        return np.array(_RCS[self.posture])

    @property
    def height(self) -> float:
        return BODY_HEIGHT[self.posture]

    def rcs_at(self, t: np.ndarray) -> np.ndarray:
        """Radar cross sections: ``[len(BODY_PARTS)]`` for a body that keeps its posture."""
        return self.rcs

    def heights(self, t: np.ndarray) -> np.ndarray:
        """Top of the body above the floor per time, ``[T]``."""
        return np.full(np.size(t), self.height)

    def centre(self, t: np.ndarray) -> np.ndarray:
        """Horizontal position of the body axis, ``[T, 2]``."""
        base = np.broadcast_to(self.anchor, (t.size, 2))
        if self.walk is not None:
            base = base + self.walk(t)
        return base + self.sway(t)[:, :2]

    def scatterers(self, t: np.ndarray) -> np.ndarray:
        """World positions of the body scatterers, ``[T, len(BODY_PARTS), 3]``."""
        local = np.broadcast_to(np.array(_OFFSETS[self.posture], dtype=float), (t.size, 7, 3)).copy()
        chest = self.breathing.displacement(t)
        local[:, 0] += (chest + self.heartbeat.displacement(t))[:, None] * self.chest_normal
        local[:, 1] += (_ABDOMEN_BREATHING_SHARE * chest)[:, None] * self.chest_normal
        if self.fidget is not None:
            local[:, 2:5] += self.fidget(t).reshape(t.size, 3, 3)
        if self.walk is not None:
            velocity = self.walk.velocity(t)
            heading = np.arctan2(velocity[:, 1], velocity[:, 0])
            stride = np.sin(np.pi * self.step_hz * t)
            local[:, 5:7, 0] += 0.3 * stride[:, None] * [1, -1]
            local[:, 3:5, 0] -= 0.2 * stride[:, None] * [1, -1]
            local[:, :, 2] += 0.02 * np.sin(2 * np.pi * self.step_hz * t)[:, None]
        else:
            heading = np.full(t.size, self.facing)
        forward = np.stack([np.cos(heading), np.sin(heading), np.zeros_like(heading)], axis=-1)
        left = np.stack([-np.sin(heading), np.cos(heading), np.zeros_like(heading)], axis=-1)
        sway = self.sway(t)
        origin = np.column_stack([np.broadcast_to(self.anchor, (t.size, 2)) + sway[:, :2], sway[:, 2]])
        if self.walk is not None:
            origin[:, :2] += self.walk(t)
        return (origin[:, None, :] + local[..., 0:1] * forward[:, None, :]
                + local[..., 1:2] * left[:, None, :] + local[..., 2:3] * np.array([0.0, 0.0, 1.0]))


# How a movement's progress runs from 0 to 1: a deliberate movement follows the minimum-jerk
# profile (slow start, slow landing); a fall accelerates under gravity and stops at the floor.
def _minimum_jerk(u: np.ndarray) -> np.ndarray:
    return u ** 3 * (10 - 15 * u + 6 * u ** 2)


def _falling(u: np.ndarray) -> np.ndarray:
    return u ** 2


@dataclass(frozen=True)
class Pose:
    """Where and how a body rests: posture, anchor ``(x, y)``, heading, and a vertical shift
    (negative for lying on the floor rather than on the bed)."""

    posture: str
    anchor: np.ndarray
    facing: float
    lift: float = 0.0


@dataclass(frozen=True)
class Move:
    """One movement from pose ``before`` to pose ``after`` over ``[start, start + duration)``
    (the activity's clock), named ``activity`` (sit_down, stand_up, lie_down, get_up, fall, walk)."""

    activity: str
    start: float
    duration: float
    before: Pose
    after: Pose

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class MovingPerson(Person):
    """A person going through ``moves`` (in time order, each starting from the last one's pose):
    posture, place, heading, radar cross section and height all follow the movement.

    Between moves the person rests in a pose with the sway and breathing of :class:`Person`;
    during one, every scatterer travels from its place in the old posture to its place in the
    new along the movement's progress curve, a walk with a gait. ``sway`` is drawn at unit rms
    and scaled by the posture's sway.
    """

    moves: tuple[Move, ...] = ()
    sway_rms: tuple[float, float, float] = (3e-3, 1.5e-3, 0.5e-3)  # standing, sitting, lying

    def progress(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per time: the index of the last move started (-1: none yet) and its progress 0..1."""
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        starts = np.array([m.start for m in self.moves])
        index = np.searchsorted(starts, t, side="right") - 1
        done = np.ones(t.size)
        for i, move in enumerate(self.moves):
            mask = index == i
            u = np.clip((t[mask] - move.start) / move.duration, 0.0, 1.0)
            done[mask] = (_falling if move.activity == "fall" else _minimum_jerk)(u)
        return index, done

    def pose_at(self, t: float) -> Pose:
        """The pose settled into (or being left, before a move's middle) at time ``t``."""
        index, done = self.progress(np.array([t]))
        if index[0] < 0:
            return self.moves[0].before if self.moves else Pose(self.posture, self.anchor, self.facing)
        move = self.moves[index[0]]
        return move.before if done[0] < 0.5 else move.after

    def move_at(self, t: float) -> Move | None:
        for move in self.moves:
            if move.start <= t < move.end:
                return move
        return None

    def _blend(self, t: np.ndarray, value) -> np.ndarray:
        """``value(pose)`` blended between each move's poses by its progress, ``[T, ...]``."""
        index, done = self.progress(t)
        first = np.asarray(value(self.moves[0].before if self.moves else
                                 Pose(self.posture, self.anchor, self.facing)), dtype=np.float64)
        out = np.broadcast_to(first, (t.size,) + first.shape).copy()
        weight = done.reshape((-1,) + (1,) * first.ndim)
        for i, move in enumerate(self.moves):
            mask = index == i
            if mask.any():
                a, b = np.asarray(value(move.before), float), np.asarray(value(move.after), float)
                out[mask] = a + weight[mask] * (b - a)
        return out

    def rcs_at(self, t: np.ndarray) -> np.ndarray:
        return self._blend(t, lambda p: _RCS[p.posture])

    def heights(self, t: np.ndarray) -> np.ndarray:
        return self._blend(t, lambda p: BODY_HEIGHT[p.posture] + p.lift)

    def _heading(self, t: np.ndarray) -> np.ndarray:
        def facing(p: Pose) -> float:
            return p.facing
        index, done = self.progress(t)
        heading = self._blend(t, facing)
        for i, move in enumerate(self.moves):  # turn the short way round
            mask = index == i
            turn = np.angle(np.exp(1j * (move.after.facing - move.before.facing)))
            heading[mask] = move.before.facing + done[mask] * turn
        return heading

    def centre(self, t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        return self._blend(t, lambda p: p.anchor) + self.sway(t)[:, :2] * self._sway_scale(t)[:, None]

    def _sway_scale(self, t: np.ndarray) -> np.ndarray:
        return self._blend(t, lambda p: self.sway_rms[POSTURES.index(p.posture)])

    def scatterers(self, t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(np.asarray(t, dtype=np.float64))
        local = self._blend(t, lambda p: np.array(_OFFSETS[p.posture]) + [0.0, 0.0, p.lift])
        normal = self._blend(t, lambda p: [0.0, 0.0, 1.0] if p.posture == "lying" else [1.0, 0.0, 0.0])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True)
        chest = self.breathing.displacement(t)
        local[:, 0] += (chest + self.heartbeat.displacement(t))[:, None] * normal
        local[:, 1] += (_ABDOMEN_BREATHING_SHARE * chest)[:, None] * normal
        index, done = self.progress(t)
        for i, move in enumerate(self.moves):
            mask = (index == i) & (done < 1.0)
            if move.activity == "walk" and mask.any():  # the gait while on the way
                stride = np.sin(np.pi * self.step_hz * (t[mask] - move.start))
                local[mask, 5:7, 0] += 0.3 * stride[:, None] * [1, -1]
                local[mask, 3:5, 0] -= 0.2 * stride[:, None] * [1, -1]
                local[mask, :, 2] += 0.02 * np.sin(2 * np.pi * self.step_hz * (t[mask] - move.start))[:, None]
        heading = self._heading(t)
        forward = np.stack([np.cos(heading), np.sin(heading), np.zeros_like(heading)], axis=-1)
        left = np.stack([-np.sin(heading), np.cos(heading), np.zeros_like(heading)], axis=-1)
        sway = self.sway(t) * self._sway_scale(t)[:, None]
        origin = np.column_stack([self._blend(t, lambda p: p.anchor) + sway[:, :2], sway[:, 2]])
        return (origin[:, None, :] + local[..., 0:1] * forward[:, None, :]
                + local[..., 1:2] * left[:, None, :] + local[..., 2:3] * np.array([0.0, 0.0, 1.0]))
