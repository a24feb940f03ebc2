"""A simulated room streaming ESP32 CSI frames, with per-second ground truth.

The router transmits, every node (an ESP32 at its own place in the room) receives. Per node and
packet the true channel is the static multipath of the room (``room.py``), minus what the person's
body blocks, plus the echoes of the person's scatterers (``body.py``) and a faint drifting
curtain; then the receiver impairments of ``impairments.py`` apply. Stream time is generated in
blocks of ``BLOCK_SECONDS``; every block draws its randomness from its own seed (seed, node,
block), so results never depend on how a caller chunks the stream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..frames import CsiFrame
from .body import BODY_RADIUS, Wander
from .channel import (
    N_SUBCARRIERS, NULL_SUBCARRIERS, SUBCARRIER_SPACING_HZ, scatterer_response, segment_blockage,
    subcarrier_frequencies, subcarrier_indices, wavelength,
)
from .impairments import (
    DEFAULT_GAIN_JITTER_DB, DEFAULT_STO_STD_S, add_noise, agc_steps, jitter_times, quantize_int8, rssi_dbm,
    timing_phase,
)
from .room import Room, StaticPaths, image_sources, make_room, static_paths
from .scenarios import FACING_JITTER_RAD, PLACEMENT_JITTER_M, SCENARIOS, Activity, make_activity

# Per-subcarrier amplitude scatter of the recorded ESP32-S3 (shared/data) is about 10 % packet to
# packet on the LLTF of HT frames (17 % on legacy frames): that is what 17 dB gives here.
DEFAULT_SNR_DB = 17.0
DEFAULT_RATE_HZ = 20.0
DEFAULT_LOSS_RATE = 0.03
DEFAULT_JITTER_MS = 3.0
DEFAULT_AGC_STEP_INTERVAL_S = 60.0
# Typical largest |I| or |Q| of a packet on the recorded ESP32-S3 (shared/data: median 15).
DEFAULT_QUANT_PEAK = 16.0
# Router EIRP as seen through the node's PCB antenna: puts RSSI at -30..-70 dBm in a room.
TX_POWER_DBM = 6.0
NOISE_FLOOR_DBM = -95
BLOCK_SECONDS = 1.0
# A body in the way of a ray attenuates it by up to ~10 dB.
BLOCKAGE_DEPTH = 0.7

_IMPAIRMENT_TAG = 0x5203
_TIMING_TAG = 0x5204
_FLUTTER_TAG = 0x5205


@dataclass(frozen=True)
class SimConfig:
    """Everything that determines a simulated stream; equal configs give identical streams.

    ``seed`` draws the person and all receiver randomness, ``room_seed`` (default: ``seed``) the
    room, nodes and furniture. ``snr_db`` is per subcarrier relative to the node's mean static
    channel power (``None``: no noise); ``duration=None`` streams forever. The impairments can be
    tuned or switched off one by one: ``loss_rate``, ``jitter_ms``, ``agc_step_interval_s`` (mean
    time between AGC gain steps, ``None``: none), ``quantize``/``quant_peak`` (int8 rounding and
    the typical largest |I|/|Q| count), ``phase_offsets`` (per-packet CFO/STO phase),
    ``null_subcarriers`` (raw indices reported as zero). ``placement_jitter_m`` /
    ``facing_jitter_rad``: how far from the chair's, bed's or standing spot's centre and heading a
    person settles, per session.
    """

    scenario: str
    seed: int = 0
    snr_db: float | None = DEFAULT_SNR_DB
    nodes: int = 1
    rate_hz: float = DEFAULT_RATE_HZ
    duration: float | None = 30.0
    room_seed: int | None = None
    freq_mhz: int = 2437
    start_time: float = 0.0
    n_antennas: int = 1
    loss_rate: float = DEFAULT_LOSS_RATE
    jitter_ms: float = DEFAULT_JITTER_MS
    agc_step_interval_s: float | None = DEFAULT_AGC_STEP_INTERVAL_S
    quantize: bool = True
    quant_peak: float = DEFAULT_QUANT_PEAK
    phase_offsets: bool = True
    null_subcarriers: tuple[int, ...] = NULL_SUBCARRIERS
    placement_jitter_m: float = PLACEMENT_JITTER_M
    facing_jitter_rad: float = FACING_JITTER_RAD

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; choose one of {', '.join(SCENARIOS)}")
        if self.nodes < 1 or self.n_antennas < 1:
            raise ValueError("need at least one node and one antenna")
        if not self.rate_hz > 0 or (self.duration is not None and not self.duration > 0):
            raise ValueError("rate_hz and duration must be positive")
        if not 0 <= self.loss_rate < 1:
            raise ValueError("loss_rate must be in [0, 1)")
        if self.seed < 0 or (self.room_seed is not None and self.room_seed < 0):
            raise ValueError("seeds must be non-negative")

    @property
    def effective_room_seed(self) -> int:
        return self.seed if self.room_seed is None else self.room_seed


@dataclass(frozen=True)
class CsiBatch:
    """A time-ordered run of frames from all nodes as arrays; ``csi`` is ``[N, antennas, subcarriers]``."""

    node_id: np.ndarray
    sequence: np.ndarray
    timestamp: np.ndarray
    csi: np.ndarray
    rssi: np.ndarray
    noise_floor: np.ndarray
    freq_mhz: int

    def __len__(self) -> int:
        return int(self.timestamp.size)

    def frames(self) -> Iterator[CsiFrame]:
        rows = zip(self.node_id.tolist(), self.sequence.tolist(), self.timestamp.tolist(),
                   self.rssi.tolist(), self.noise_floor.tolist(), strict=True)
        for i, (node, seq, ts, rssi, floor) in enumerate(rows):
            yield CsiFrame(node_id=node, sequence=seq, timestamp=ts, csi=self.csi[i], freq_mhz=self.freq_mhz,
                           rssi=rssi, noise_floor=floor, ppdu_type=0, flags=0)


@dataclass(frozen=True)
class _Node:
    node_id: int
    antennas: np.ndarray
    antenna_images: np.ndarray  # [A, 7, 3]: each antenna and its first-order wall images
    paths: StaticPaths
    path_of_segment: np.ndarray  # [Q, P] 0/1: which path each blockable segment belongs to
    noise_power: float
    reference_peak: float
    time_offset: float


@dataclass
class _NodeState:
    agc_db: float = 0.0


class Simulation:
    """One room, one seed, a scenario schedule; stream it with ``frames()`` or ``batches()``.

    ``schedule`` lists ``(start_second, scenario)`` switches after ``config.scenario`` at 0; the
    room, nodes and static multipath stay the same across switches.
    """

    def __init__(self, config: SimConfig, schedule: Sequence[tuple[float, str]] = ()) -> None:
        self.config = cfg = config
        switches = sorted((float(start), name) for start, name in schedule)
        for _, name in switches:
            if name not in SCENARIOS:
                raise ValueError(f"unknown scenario {name!r} in schedule")
        self.schedule: list[tuple[float, str]] = [(0.0, cfg.scenario)]
        self.schedule += [(max(start, 0.0), name) for start, name in switches]
        self.room: Room = make_room(cfg.effective_room_seed)
        self.freqs_hz = subcarrier_frequencies(cfg.freq_mhz, N_SUBCARRIERS)
        self._used = np.setdiff1d(np.arange(N_SUBCARRIERS), np.asarray(cfg.null_subcarriers, dtype=int))
        self._flutter = Wander.draw(np.random.default_rng([cfg.effective_room_seed, _FLUTTER_TAG]),
                                    1e-3, 0.005, 0.05)
        self._activities: dict[tuple[int, float, str], Activity] = {}
        room = self.room
        self._tx_images, self._bounce_gains = image_sources(room.router, room.size, room.walls, 1)
        self._nodes = [self._make_node(node_id) for node_id in range(1, cfg.nodes + 1)]

    # -- scenario schedule -------------------------------------------------------------------

    def switch(self, scenario: str, at: float) -> None:
        """From stream second ``at`` on, play ``scenario`` (later switches are dropped).

        Blocks already generated by a running iterator keep what they had.
        """
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        at = max(float(at), 0.0)
        self.schedule = [(s, n) for s, n in self.schedule if s < at] + [(at, scenario)]

    def activity_at(self, t: float) -> tuple[Activity, float]:
        """The activity playing at stream second ``t`` and the second it started."""
        starts = [start for start, _ in self.schedule]
        return self._activity(max(int(np.searchsorted(starts, t, side="right")) - 1, 0))

    def _activity(self, index: int) -> tuple[Activity, float]:
        start, name = self.schedule[index]
        key = (index, start, name)
        if key not in self._activities:
            self._activities[key] = make_activity(name, self.room, self.config.seed, segment=index,
                                                  placement_jitter_m=self.config.placement_jitter_m,
                                                  facing_jitter_rad=self.config.facing_jitter_rad)
        return self._activities[key], start

    # -- physics -----------------------------------------------------------------------------

    def static_channel(self, node_id: int) -> np.ndarray:
        """Noise-free empty-room channel of a node, ``[antennas, subcarriers]`` (physical units).

        Walls, furniture and the curtain at rest; the empty room's channel only drifts around it.
        """
        return self._rest_channel(self._nodes[node_id - 1])

    def _rest_channel(self, node: _Node) -> np.ndarray:
        curtain = self._echo(node, self.room.flutter[None, None, :], np.array([self.room.flutter_rcs]))
        return node.paths.channel + curtain[0]

    def channel(self, node_id: int, times: np.ndarray, include_person: bool = True) -> np.ndarray:
        """Noise-free true channel ``[T, antennas, subcarriers]`` at stream ``times`` (seconds)."""
        node = self._nodes[node_id - 1]
        times = np.atleast_1d(np.asarray(times, dtype=float))
        flutter = self.room.flutter + self._flutter(times)
        total = self._echo(node, flutter[:, None, :], np.array([self.room.flutter_rcs]))
        shadow = np.ones((times.size, node.path_of_segment.shape[1]))
        if include_person:
            starts = np.array([start for start, _ in self.schedule])
            segment = np.maximum(np.searchsorted(starts, times, side="right") - 1, 0)
            for index in np.unique(segment):
                activity, start = self._activity(int(index))
                person = activity.person
                if person is None:
                    continue
                mask = segment == index
                local = times[mask] - start
                total[mask] += self._echo(node, person.scatterers(local), person.rcs_at(local))
                weights = segment_blockage(person.centre(local), person.heights(local),
                                           node.paths.shadow_starts, node.paths.shadow_ends, BODY_RADIUS)
                shadow[mask] = np.exp(np.log1p(-BLOCKAGE_DEPTH * weights) @ node.path_of_segment)
        return total + np.einsum("tp,apk->tak", shadow, node.paths.responses)

    def _echo(self, node: _Node, points: np.ndarray, rcs: np.ndarray) -> np.ndarray:
        return scatterer_response(points, rcs, self._tx_images, node.antenna_images, self.freqs_hz,
                                  self._bounce_gains, self._bounce_gains)

    # -- streaming ---------------------------------------------------------------------------

    def batches(self, seconds: float = BLOCK_SECONDS) -> Iterator[CsiBatch]:
        """Frames of all nodes in timestamp order, ``seconds`` of stream time per batch."""
        per_batch = max(1, round(seconds / BLOCK_SECONDS))
        states = [_NodeState() for _ in self._nodes]
        block = 0
        while self.config.duration is None or block * BLOCK_SECONDS < self.config.duration:
            parts = []
            for _ in range(per_batch):
                if self.config.duration is not None and block * BLOCK_SECONDS >= self.config.duration:
                    break
                parts += [self._node_block(node, state, block) for node, state in zip(self._nodes, states)]
                block += 1
            yield _merge(parts, self.config.freq_mhz, self.config.n_antennas)

    def frames(self) -> Iterator[CsiFrame]:
        """Every frame of every node, in timestamp order."""
        for batch in self.batches(seconds=10 * BLOCK_SECONDS):
            yield from batch.frames()

    def truth(self, seconds: int | None = None) -> list[dict]:
        """Ground truth per whole second of stream time (all of it unless ``seconds`` is given)."""
        duration = self.config.duration
        if seconds is None:
            if duration is None:
                raise ValueError("an endless simulation needs the number of seconds")
            seconds = math.ceil(duration - 1e-9)
        rows = []
        for second in range(seconds):
            end = second + 1.0 if duration is None else min(second + 1.0, duration)
            activity, start = self.activity_at(second + 0.5 * (end - second))
            rows.append(activity.truth(second, second - start, end - start))
        return rows

    # -- internals ---------------------------------------------------------------------------

    def _make_node(self, node_id: int) -> _Node:
        cfg = self.config
        antennas = self.room.antenna_positions(node_id, cfg.n_antennas, wavelength(cfg.freq_mhz))
        images = np.stack([image_sources(a, self.room.size, self.room.walls, 1)[0] for a in antennas])
        paths = static_paths(self.room, antennas, self.freqs_hz)
        n_paths = paths.responses.shape[1]
        membership = np.zeros((paths.shadow_paths.size, n_paths))
        membership[np.arange(paths.shadow_paths.size), paths.shadow_paths] = 1.0
        offset = np.random.default_rng([cfg.seed, _TIMING_TAG, node_id]).uniform(0, 1 / cfg.rate_hz)
        node = _Node(node_id, antennas, images, paths, membership, noise_power=0.0, reference_peak=1.0,
                     time_offset=offset)
        used = self._rest_channel(node)[:, self._used]
        mean_power = float(np.mean(np.abs(used) ** 2))
        return replace(node, noise_power=0.0 if cfg.snr_db is None else mean_power / 10 ** (cfg.snr_db / 10),
                       reference_peak=float(np.max(np.abs(used))))

    def _node_block(self, node: _Node, state: _NodeState, block: int) -> dict[str, np.ndarray]:
        cfg = self.config
        t0 = block * BLOCK_SECONDS
        t1 = t0 + BLOCK_SECONDS if cfg.duration is None else min(t0 + BLOCK_SECONDS, cfg.duration)
        first = math.ceil((t0 - node.time_offset) * cfg.rate_hz - 1e-9)
        last = math.ceil((t1 - node.time_offset) * cfg.rate_hz - 1e-9)
        index = np.arange(max(first, 0), max(last, 0))
        nominal = node.time_offset + index / cfg.rate_hz
        n = index.size
        # One stream per impairment, so that switching one off leaves the others' draws unchanged.
        seeds = np.random.SeedSequence([cfg.seed, _IMPAIRMENT_TAG, node.node_id, block]).spawn(6)
        loss_rng, time_rng, noise_rng, phase_rng, gain_rng, rssi_rng = map(np.random.default_rng, seeds)

        kept = loss_rng.uniform(size=n) >= cfg.loss_rate
        stamps = jitter_times(nominal, 1 / cfg.rate_hz, cfg.jitter_ms * 1e-3, (t0, t1), time_rng)
        clean = self.channel(node.node_id, nominal)
        received = add_noise(clean, node.noise_power, noise_rng) if node.noise_power > 0 else clean
        if cfg.phase_offsets:
            phasors = timing_phase(n, subcarrier_indices(N_SUBCARRIERS), SUBCARRIER_SPACING_HZ,
                                   DEFAULT_STO_STD_S, phase_rng)
            received = received * phasors[:, None, :]
        step_probability = 0.0 if not cfg.agc_step_interval_s else 1 / (cfg.agc_step_interval_s * cfg.rate_hz)
        agc_db, state.agc_db = agc_steps(n, state.agc_db, step_probability, gain_rng)
        gain_db = agc_db + gain_rng.normal(0.0, DEFAULT_GAIN_JITTER_DB, n)
        scale = cfg.quant_peak / node.reference_peak * 10 ** (gain_db / 20)
        if cfg.quantize:
            csi = quantize_int8(received, scale)
        else:
            csi = (received * scale[:, None, None]).astype(np.complex64)
        csi[:, :, list(cfg.null_subcarriers)] = 0
        rssi = rssi_dbm(clean[:, :, self._used], TX_POWER_DBM, rssi_rng)
        return {
            "node_id": np.full(int(kept.sum()), node.node_id, dtype=np.int16),
            "sequence": (index[kept] % 2**32).astype(np.int64),
            "timestamp": cfg.start_time + stamps[kept],
            "csi": csi[kept],
            "rssi": rssi[kept],
        }


def simulate(config: SimConfig, schedule: Sequence[tuple[float, str]] = ()) -> Simulation:
    """Set up the room of ``config`` playing ``config.scenario``, then each ``(start, scenario)``."""
    return Simulation(config, schedule)


def _merge(parts: list[dict[str, np.ndarray]], freq_mhz: int, n_antennas: int) -> CsiBatch:
    if not parts:
        parts = [{"node_id": np.zeros(0, np.int16), "sequence": np.zeros(0, np.int64),
                  "timestamp": np.zeros(0), "csi": np.zeros((0, n_antennas, N_SUBCARRIERS), np.complex64),
                  "rssi": np.zeros(0, np.int16)}]
    joined = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.lexsort((joined["node_id"], joined["timestamp"]))
    return CsiBatch(
        node_id=joined["node_id"][order], sequence=joined["sequence"][order],
        timestamp=joined["timestamp"][order], csi=joined["csi"][order], rssi=joined["rssi"][order],
        noise_floor=np.full(order.size, NOISE_FLOOR_DBM, dtype=np.int16), freq_mhz=freq_mhz,
    )
