"""The live simulator: what it sends over UDP, and the ground truth of what its person does now."""

from __future__ import annotations

import socket
import time

import pytest

from ruview_core.sim import SimConfig, simulate
from ruview_core.sim.live import LiveSimulator

ROOM_SEED = 3


@pytest.fixture
def receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10.0)
    yield sock
    sock.close()


def wait_for(condition, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the simulator sent too little in time"
        time.sleep(0.05)


def test_truth_is_unknown_before_anything_is_sent(receiver):
    live = LiveSimulator(receiver.getsockname(), scenario="sit", room_seed=ROOM_SEED)
    truth = live.truth()
    assert truth["presence"] is None and truth["breathing_bpm"] is None


def test_truth_follows_the_scenario_and_matches_the_simulation(receiver):
    with LiveSimulator(receiver.getsockname(), scenario="empty", room_seed=ROOM_SEED, nodes=1) as live:
        wait_for(lambda: live.sent[1] >= 50)
        empty = live.truth()
        assert empty["presence"] is False and empty["breathing_bpm"] is None

        live.set_scenario("sit")
        wait_for(lambda: live.truth()["presence"] is True and live.truth()["t"] >= empty["t"] + 2)
    truth = live.truth(seconds=1.0)  # stopped: the clock stands still
    assert truth["posture"] == "sitting" and truth["motion"] is False and truth["activity"] == "still"
    # The session of the switch is the simulation a fresh config of the same seed plays (session 1).
    started = live._playing[1]
    same = simulate(SimConfig(scenario="sit", seed=ROOM_SEED * 1000 + 1, room_seed=ROOM_SEED, nodes=1, duration=None))
    activity, _ = same.activity_at(0.0)
    local_end = live._clock - started
    expected = activity.truth(0, local_end - 1.0, local_end)
    assert truth["breathing_bpm"] == pytest.approx(expected["breathing_bpm"], abs=0.05)
    assert truth["scenario_s"] == pytest.approx(local_end)
    assert 10.0 <= truth["breathing_bpm"] <= 20.0  # a sitting person's natural rate


def test_a_walker_has_no_measurable_vitals(receiver):
    with LiveSimulator(receiver.getsockname(), scenario="walk", room_seed=ROOM_SEED, nodes=1) as live:
        wait_for(lambda: live.truth()["presence"] is True)
        truth = live.truth()
    assert truth["motion"] is True and truth["breathing_bpm"] is None
