"""A whole enrollment played by the simulator: the demo's and the benchmarks' stand-in for a person.

The room (walls, furniture, nodes) comes from ``room_seed``; every capture is a fresh simulated
session of that room with the anchor's scenario, and a retry is a new session (another person
seed), as a person trying again would be.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..sim import DEFAULT_SNR_DB, SimConfig, simulate
from ..specialists import SpecialistBank, save_bank, train_bank
from .anchors import ANCHORS, COUNTDOWN_S
from .baseline import DEFAULT_BASELINE_SECONDS
from .enrollment import AnchorOutcome, RoomEnrollment

MAX_TRIES = 3


def simulated_frames(scenario: str, seconds: float, *, room_seed: int, seed: int, nodes: int, snr_db: float,
                     **sim_options):
    """A capture's frames (``seconds`` plus the countdown); ``sim_options`` go to :class:`SimConfig`."""
    config = SimConfig(scenario=scenario, seed=seed, room_seed=room_seed, nodes=nodes, snr_db=snr_db,
                       duration=seconds + COUNTDOWN_S + 2.0, **sim_options)
    return simulate(config).frames()


def enroll_simulated_room(
    data_dir: str | Path,
    room: str,
    *,
    room_seed: int,
    nodes: int = 2,
    snr_db: float = DEFAULT_SNR_DB,
    on_outcome: Callable[[AnchorOutcome, int], None] | None = None,
    **sim_options,
) -> tuple[RoomEnrollment, SpecialistBank]:
    """Baseline, the eight anchors (up to :data:`MAX_TRIES` each, then skipped) and a trained bank."""
    enrollment = RoomEnrollment(data_dir, room)
    frames = dict(room_seed=room_seed, nodes=nodes, snr_db=snr_db, **sim_options)
    enrollment.calibrate(simulated_frames("empty", DEFAULT_BASELINE_SECONDS, seed=room_seed, **frames))
    for index, anchor in enumerate(ANCHORS):
        for attempt in range(1, MAX_TRIES + 1):
            person = room_seed * 1000 + index * 10 + attempt
            outcome = enrollment.enroll(anchor.name, simulated_frames(anchor.name, anchor.duration_s, seed=person, **frames))
            if on_outcome is not None:
                on_outcome(outcome, attempt)
            if outcome.accepted:
                break
        else:
            enrollment.skip(anchor.name, reason=f"rejected {MAX_TRIES} times: {outcome.reason}")
    baseline = enrollment.baseline()
    bank = train_bank(room, baseline, enrollment.anchor_records())
    save_bank(bank, enrollment.folder / "bank")
    enrollment.session.append("bank_trained", baseline_id=baseline.baseline_id, specialists=bank.kinds)
    return enrollment, bank
