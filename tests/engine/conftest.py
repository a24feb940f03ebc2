"""Shared fixtures for the engine's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ruview_core.frames import CsiFrame

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ruview-recordings"
PRETRAIN = SHARED_DATA / "pretrain-1775182186.csi.jsonl"
RECORDER = SHARED_DATA / "rec_1772470567081-20260302_165607.csi.jsonl"


def require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"shared recording {path} is not present")
    return path


@pytest.fixture
def pretrain_path() -> Path:
    return require(PRETRAIN)


@pytest.fixture
def recorder_path() -> Path:
    return require(RECORDER)


def make_frame(node_id: int = 1, sequence: int = 0, n_antennas: int = 1, n_subcarriers: int = 64, seed: int = 0, **kwargs) -> CsiFrame:
    """A frame with int8-representable CSI, so it survives encoding unchanged."""
    rng = np.random.default_rng(seed)
    iq = rng.integers(-128, 128, size=(n_antennas, n_subcarriers, 2))
    csi = (iq[..., 1] + 1j * iq[..., 0]).astype(np.complex64)
    return CsiFrame(node_id=node_id, sequence=sequence, timestamp=kwargs.pop("timestamp", 0.0), csi=csi, **kwargs)


def frames_equal(a: CsiFrame, b: CsiFrame) -> bool:
    return (
        a.node_id == b.node_id
        and a.sequence == b.sequence
        and a.freq_mhz == b.freq_mhz
        and a.rssi == b.rssi
        and a.noise_floor == b.noise_floor
        and a.flags == b.flags
        and a.ppdu_type == b.ppdu_type
        and np.array_equal(a.csi, b.csi)
    )
