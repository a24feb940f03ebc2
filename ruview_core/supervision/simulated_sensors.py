"""A room's ordinary sensors, simulated from the simulator's ground truth, flaws included.

What each one really does, and therefore what it is made to do here:

- **PIR** (motion sensor): sees bodies *moving*; a person sitting, lying or standing still is
  invisible to it. It holds "on" for ``pir_hold_s`` after the last detection (every motion
  sensor has such a cool-down) and now and then fires on nothing (sunlight, a pet).
- **Door contact** (reed switch): says nothing about the room, only that the door opened and
  closed, which happens when someone comes in or goes out.
- **Thermometer**: a person warms a room by about a degree over many minutes (first-order,
  ``temperature_tau_s``); it reads every ``temperature_period_s`` in 0.1 °C steps and, like a
  Home Assistant sensor, reports only when the reading changes.
- **Hygrometer**: breath moistens the air, just as slowly.
- **Vibration** sensor: footsteps, i.e. walking only.

Every draw comes from ``seed``, so the same truth and seed give the same events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..sim import Simulation
from .events import LabelEvent

_SENSOR_TAG = 0x5301


@dataclass(frozen=True)
class Timeline:
    """Per second of stream time: the scenario playing, presence and motion (the ground truth)."""

    seconds: np.ndarray
    scenarios: tuple[str, ...]
    presence: np.ndarray
    motion: np.ndarray

    @property
    def walking(self) -> np.ndarray:
        return np.array([s == "walk" for s in self.scenarios])

    @property
    def breathing(self) -> np.ndarray:
        return self.presence & ~self.walking


def timeline(sim: Simulation) -> Timeline:
    """The per-second truth of a finite simulation, with the scenario of each second."""
    rows = sim.truth()
    scenarios = tuple(sim.activity_at(r["t"] + 0.5)[0].scenario for r in rows)
    return Timeline(np.array([r["t"] for r in rows], dtype=np.float64), scenarios,
                    np.array([r["presence"] for r in rows], bool), np.array([r["motion"] for r in rows], bool))


@dataclass(frozen=True)
class SensorConfig:
    pir_hold_s: float = 10.0
    pir_detect_walking: float = 0.9  # chance per second of catching a walking person
    pir_detect_fidget: float = 0.35  # small movements in place
    pir_detect_still: float = 0.0  # the PIR's blind spot
    pir_doorway_s: float = 3.0  # crossing the doorway is motion whatever the scenario
    pir_false_per_hour: float = 0.5
    door_open_s: float = 3.0
    temperature_c: float = 21.0
    temperature_rise_c: float = 1.5
    temperature_tau_s: float = 600.0
    temperature_period_s: float = 60.0
    temperature_step_c: float = 0.1
    humidity_pct: float = 45.0
    humidity_rise_pct: float = 4.0
    humidity_tau_s: float = 900.0
    humidity_period_s: float = 60.0
    humidity_step_pct: float = 1.0
    vibration_detect_walking: float = 0.6
    sensor_noise: float = 0.02  # relative to a reading step


def _held_binary(detections: np.ndarray, seconds: np.ndarray, hold_s: float) -> np.ndarray:
    """On from each detection until ``hold_s`` after the last one."""
    state = np.zeros(detections.size, bool)
    last = -np.inf
    for i, (hit, t) in enumerate(zip(detections, seconds)):
        if hit:
            last = t
        state[i] = t - last < hold_s
    return state


def _edges(name: str, source: str, entity: str, seconds: np.ndarray, state: np.ndarray, t0: float) -> list[LabelEvent]:
    """An event at the start and for every change of a binary state."""
    events = [LabelEvent(t0 + float(seconds[0]), source, name, float(state[0]), entity)] if state.size else []
    for i in np.flatnonzero(np.diff(state.astype(int)) != 0) + 1:
        events.append(LabelEvent(t0 + float(seconds[i]), source, name, float(state[i]), entity))
    return events


def _first_order(target: np.ndarray, start: float, tau_s: float) -> np.ndarray:
    level, out = start, np.empty(target.size)
    alpha = 1.0 - np.exp(-1.0 / tau_s)
    for i, goal in enumerate(target):
        level += alpha * (goal - level)
        out[i] = level
    return out


def _readings(kind: str, source: str, entity: str, seconds: np.ndarray, level: np.ndarray, period_s: float,
              step: float, noise: float, rng: np.random.Generator, t0: float) -> list[LabelEvent]:
    """Quantized periodic readings, reported only when the reported value changes."""
    events, last = [], None
    phase = rng.uniform(0, period_s)
    for i in np.flatnonzero(((seconds - phase) % period_s) < 1.0):
        value = round(float(np.round((level[i] + rng.normal(0, noise * step)) / step) * step), 3)
        if value != last:
            events.append(LabelEvent(t0 + float(seconds[i]), source, kind, value, entity))
            last = value
    return events


def simulated_sensor_events(truth: Timeline, seed: int = 0, config: SensorConfig = SensorConfig(), *,
                            kinds: Sequence[str] = ("pir", "reed", "temperature", "humidity", "vibration"),
                            source: str = "simulated", entity_prefix: str = "sim", t0: float = 0.0) -> list[LabelEvent]:
    """The label events the room's sensors would have sent during ``truth`` (time order)."""
    rng = np.random.default_rng([seed, _SENSOR_TAG])
    s = truth.seconds
    n = s.size
    entries = np.flatnonzero(np.diff(truth.presence.astype(int)) == 1) + 1
    exits = np.flatnonzero(np.diff(truth.presence.astype(int)) == -1) + 1
    crossing = np.zeros(n, bool)
    for i in np.concatenate([entries, exits]):
        crossing[max(i - int(config.pir_doorway_s), 0):min(i + int(config.pir_doorway_s), n)] = True
    chance = np.where(truth.walking, config.pir_detect_walking,
                      np.where(truth.motion, config.pir_detect_fidget,
                               np.where(truth.presence, config.pir_detect_still, 0.0)))
    chance = np.where(crossing, np.maximum(chance, config.pir_detect_walking), chance)
    detections = (rng.uniform(size=n) < chance) | (rng.uniform(size=n) < config.pir_false_per_hour / 3600.0)
    events: list[LabelEvent] = []
    if "pir" in kinds:
        pir = _held_binary(detections, s, config.pir_hold_s)
        events += _edges("pir", source, f"binary_sensor.{entity_prefix}_motion", s, pir, t0)
    if "reed" in kinds:
        door = np.zeros(n, bool)
        for i in entries:  # the door opens just before the person appears
            door[max(i - 1, 0):min(i - 1 + int(config.door_open_s), n)] = True
        for i in exits:
            door[max(i - 1, 0):min(i + int(config.door_open_s), n)] = True
        events += _edges("reed", source, f"binary_sensor.{entity_prefix}_door", s, door, t0)
    if "vibration" in kinds:
        steps = truth.walking & (rng.uniform(size=n) < config.vibration_detect_walking)
        events += _edges("vibration", source, f"binary_sensor.{entity_prefix}_vibration", s,
                         _held_binary(steps, s, 1.0), t0)
    if "temperature" in kinds:
        level = _first_order(config.temperature_c + config.temperature_rise_c * truth.presence,
                             config.temperature_c, config.temperature_tau_s)
        events += _readings("temperature", source, f"sensor.{entity_prefix}_temperature", s, level,
                            config.temperature_period_s, config.temperature_step_c, config.sensor_noise, rng, t0)
    if "humidity" in kinds:
        level = _first_order(config.humidity_pct + config.humidity_rise_pct * truth.breathing,
                             config.humidity_pct, config.humidity_tau_s)
        events += _readings("humidity", source, f"sensor.{entity_prefix}_humidity", s, level,
                            config.humidity_period_s, config.humidity_step_pct, config.sensor_noise, rng, t0)
    return sorted(events, key=lambda e: (e.t, e.kind))


STILL_SCENARIOS = ("sit", "lie_down", "stand_still", "sleep_posture", "breathe_normal")


def simulated_day(seed: int, minutes: float = 20.0, *, still_share: float = 0.8) -> list[tuple[float, str]]:
    """A day of one room compressed to ``minutes``: ``(start_second, scenario)`` switches.

    Visits (walk in, stay mostly still with the odd fidget or walk about, walk out) alternate
    with an empty room; ``still_share`` of a visit's time is spent still.
    """
    rng = np.random.default_rng([seed, _SENSOR_TAG, 1])
    schedule, t, end = [], 0.0, minutes * 60.0
    schedule.append((t, "empty"))
    t += rng.uniform(40, 90)
    while t < end - 60:
        schedule.append((t, "walk"))
        t += rng.uniform(8, 15)
        stay = rng.uniform(120, 300)
        stop = t + stay
        while t < min(stop, end - 30):
            if rng.uniform() < still_share:
                schedule.append((t, str(rng.choice(STILL_SCENARIOS))))
                t += rng.uniform(45, 120)
            else:
                schedule.append((t, str(rng.choice(("small_move", "walk")))))
                t += rng.uniform(10, 25)
        schedule.append((t, "walk"))
        t += rng.uniform(6, 12)
        schedule.append((t, "empty"))
        t += rng.uniform(40, 120)
    return [(round(s, 1), name) for s, name in schedule if s < end]
