"""A simulated room calibrated and enrolled once per test session (shared by the calibration,
specialist and runtime tests, which only read it)."""

from __future__ import annotations

import functools
import tempfile
from dataclasses import replace

import numpy as np

from ruview_core.calibration.anchors import ANCHORS
from ruview_core.calibration.enrollment import RoomEnrollment
from ruview_core.frames import CsiFrame
from ruview_core.sim import SimConfig, simulate

ROOM_SEED = 6
NODES = 2
BASELINE_SECONDS = 20.0
STATIC_SECONDS = 12.0
BREATHE_SECONDS = 20.0


def anchor_seconds(name: str) -> float:
    return BREATHE_SECONDS if name.startswith("breathe") else STATIC_SECONDS


def stream(scenario: str, seed: int, seconds: float, room_seed: int = ROOM_SEED, nodes: int = NODES, **kwargs):
    return simulate(SimConfig(scenario, seed=seed, room_seed=room_seed, nodes=nodes, duration=seconds, **kwargs)).frames()


@functools.lru_cache(maxsize=1)
def enrolled_room():
    """(enrollment, outcomes): every anchor tried once with its own scenario, rejected ones skipped."""
    folder = tempfile.mkdtemp(prefix="ruview-room-")
    enrollment = RoomEnrollment(folder, "test-room")
    enrollment.calibrate(stream("empty", 1000, BASELINE_SECONDS + 1), seconds=BASELINE_SECONDS)
    outcomes = {}
    for i, anchor in enumerate(ANCHORS):
        seconds = anchor_seconds(anchor.name)
        outcome = enrollment.enroll(anchor.name, stream(anchor.name, 2000 + i, seconds + 4), seconds=seconds)
        if not outcome.accepted:
            enrollment.skip(anchor.name, outcome.reason)
        outcomes[anchor.name] = outcome
    return enrollment, outcomes


def with_nan(frames, every: int = 7):
    """Every ``every``-th frame's CSI replaced by NaN / inf (a corrupt packet)."""
    for i, frame in enumerate(frames):
        if i % every == 3:
            csi = frame.csi.copy()
            csi[:, ::5] = np.nan if i % 2 else np.inf
            frame = replace(frame, csi=csi)
        yield frame


def jammed(frames, seed: int = 0):
    """The same frame times, but full-scale random CSI clipped at the int8 rails."""
    rng = np.random.default_rng(seed)
    for frame in frames:
        iq = np.clip(rng.normal(0, 90, frame.csi.shape + (2,)), -127, 127).round()
        yield CsiFrame(frame.node_id, frame.sequence, frame.timestamp, (iq[..., 0] + 1j * iq[..., 1]).astype(np.complex64))
