"""A simulated room streaming real ADR-018 UDP packets in real time, whose person can be re-cast.

Tests, benchmarks and demos of the service play a person through an enrollment with it: the
room (``room_seed``) stays, and :meth:`LiveSimulator.set_scenario` starts a fresh session of the
new scenario at once, as a person following a prompt would. Sequence numbers run on across a
switch, so the receiver sees one unbroken stream per node.
"""

from __future__ import annotations

import socket
import threading
from collections import Counter
from dataclasses import replace
from typing import Self

from ..sources.replay import Pacer
from ..wire.adr018 import encode_packet
from .simulation import DEFAULT_SNR_DB, SimConfig, Simulation, simulate


class LiveSimulator:
    """Streams ``nodes`` simulated ESP32 nodes to ``address`` from a background thread."""

    def __init__(self, address: tuple[str, int], *, scenario: str = "empty", room_seed: int = 0,
                 nodes: int = 2, snr_db: float = DEFAULT_SNR_DB, rate_hz: float = 100.0, antennas: int = 1,
                 person_seed: int | None = None) -> None:
        self.address = address
        self.room_seed, self.nodes, self.snr_db, self.rate_hz = room_seed, nodes, snr_db, rate_hz
        self.antennas = antennas
        # session n plays person seed ``person_seed + n`` (default room_seed * 1000 + n)
        self.person_seed = room_seed * 1000 if person_seed is None else person_seed
        self.sent: Counter[int] = Counter()  # per node, what left the socket
        self._scenario = scenario
        self._session = 0
        self._switch = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # The session playing now, the stream second it started at and the last second sent: the truth.
        self._playing: tuple[Simulation, float] | None = None
        self._clock = 0.0

    @property
    def scenario(self) -> str:
        return self._scenario

    def set_scenario(self, scenario: str) -> None:
        """Switch the person to ``scenario`` now (a new session, another person seed)."""
        with self._lock:
            self._scenario = scenario
            self._session += 1
        self._switch.set()

    def truth(self, seconds: float = 60.0) -> dict:
        """Ground truth of what the person does now, over the last ``seconds`` sent of this scenario.

        As :meth:`Activity.truth`: presence, posture (now), motion and activity (over the last
        second), and the mean breathing and heart rate over that stretch (None for an empty room,
        a walker or before anything was sent); and ``scenario_s``, how long this scenario has
        played (an estimate over a longer stretch also saw the person before it).
        """
        with self._lock:
            playing, now = self._playing, self._clock
        if playing is None or now <= playing[1]:
            return {"t": int(now), "presence": None, "posture": None, "motion": None,
                    "breathing_bpm": None, "heart_bpm": None, "activity": None, "scenario_s": 0.0}
        simulation, started = playing
        activity, _ = simulation.activity_at(0.0)
        local_end = now - started
        # The posture is the one held now; the activity the movement of the last second (if any).
        row = activity.truth(int(now), max(0.0, local_end - seconds), local_end, at=local_end)
        latest = activity.truth(int(now), max(0.0, local_end - 1.0), local_end, at=local_end)
        return {**row, "motion": latest["motion"], "activity": latest["activity"], "scenario_s": local_end}

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="ruview-live-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._switch.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        last_sequence: dict[int, int] = {}
        pacer = Pacer()
        clock_offset = 0.0  # stream time carried over a switch, so pacing never jumps back
        try:
            while not self._stop.is_set():
                with self._lock:
                    scenario, session = self._scenario, self._session
                    self._switch.clear()
                config = SimConfig(scenario=scenario, seed=self.person_seed + session, room_seed=self.room_seed,
                                   nodes=self.nodes, snr_db=self.snr_db, rate_hz=self.rate_hz, duration=None,
                                   start_time=clock_offset, n_antennas=self.antennas)
                simulation = simulate(config)
                with self._lock:
                    self._playing = (simulation, clock_offset)
                shift: dict[int, int] = {}  # per node, so that this session continues the last one's sequence
                for frame in simulation.frames():
                    if self._switch.is_set():
                        break
                    if (delay := pacer.delay(frame.timestamp)) and self._switch.wait(delay):
                        break
                    node = frame.node_id
                    if node not in shift:
                        shift[node] = last_sequence.get(node, -1) + 1 - frame.sequence
                    last_sequence[node] = frame.sequence + shift[node]
                    sock.sendto(encode_packet(replace(frame, sequence=last_sequence[node] % 2**32)), self.address)
                    self.sent[node] += 1
                    clock_offset = frame.timestamp
                    with self._lock:
                        self._clock = clock_offset
        finally:
            sock.close()
