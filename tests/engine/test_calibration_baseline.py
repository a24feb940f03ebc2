"""Stage 1: the empty-room baseline, its refusals and its storage."""

from __future__ import annotations

import numpy as np
import pytest

from ._enrolled_room import stream, with_nan
from ruview_core.calibration.baseline import BaselineError, capture_baseline, load_baseline, save_baseline
from ruview_core.calibration.persist import StoredFileError, tensors_path


def test_baseline_fingerprints_every_node():
    baseline = capture_baseline(stream("empty", 11, 15, nodes=2))
    assert sorted(baseline.nodes) == [1, 2]
    assert len(baseline.baseline_id) == 36 and len(baseline.content_hash) == 64
    node = baseline.nodes[1]
    s = int(node.usable.sum())
    assert 40 <= s <= 60 and not node.usable[0]  # the null subcarrier 0 is found from the data
    assert node.amp_mean.shape == node.scale.shape == node.phase_dispersion.shape == (s,)
    assert node.eigenmodes.shape[1] == 2 * s
    np.testing.assert_allclose(node.eigenmodes @ node.eigenmodes.T, np.eye(node.eigenmodes.shape[0]), atol=1e-9)
    assert node.rate_hz == pytest.approx(20.0, rel=0.02) and 1.0 <= node.motion_floor < 4.0
    # the empty room's own windows score about 1 against it
    assert 0.1 < node.deviation_floor < 3


def test_baseline_refuses_short_or_moving_captures():
    with pytest.raises(BaselineError, match="at least 10 s"):
        capture_baseline(stream("empty", 11, 6))
    with pytest.raises(BaselineError, match="something moved"):
        capture_baseline(stream("walk", 12, 15))
    with pytest.raises(BaselineError, match="no CSI frames"):
        capture_baseline([])


def test_corrupt_frames_do_not_poison_the_baseline():
    clean = capture_baseline(stream("empty", 13, 15), baseline_id="x")
    dirty = capture_baseline(with_nan(stream("empty", 13, 15)), baseline_id="x")
    node = dirty.nodes[1]
    assert all(np.isfinite(getattr(node, f)).all() for f in ("amp_mean", "scale", "eigenmodes", "mean"))
    assert node.n_frames < clean.nodes[1].n_frames
    np.testing.assert_allclose(node.amp_mean, clean.nodes[1].amp_mean, rtol=0.05)


def test_baseline_round_trip_and_tamper_detection(tmp_path):
    baseline = capture_baseline(stream("empty", 14, 12))
    save_baseline(baseline, tmp_path / "baseline")
    loaded = load_baseline(tmp_path / "baseline")
    assert loaded.baseline_id == baseline.baseline_id and loaded.content_hash == baseline.content_hash
    np.testing.assert_array_equal(loaded.nodes[1].mean, baseline.nodes[1].mean)
    blob = bytearray(tensors_path(tmp_path / "baseline").read_bytes())
    blob[-5] ^= 0xFF
    tensors_path(tmp_path / "baseline").write_bytes(bytes(blob))
    with pytest.raises(StoredFileError, match="modified"):
        load_baseline(tmp_path / "baseline")
    with pytest.raises(StoredFileError, match="no baseline"):
        load_baseline(tmp_path / "elsewhere")


def _with_gain_pulses(frames, period_s: float = 6.1):
    """The frames with the receiver's gain pulsing every ``period_s`` (the ESP32 line)."""
    import dataclasses

    for frame in frames:
        pulse = 1.0 + 0.4 * (np.mod(frame.timestamp, period_s) < 0.4)
        yield dataclasses.replace(frame, csi=frame.csi * pulse)


def test_baseline_keeps_the_lines_of_the_empty_rooms_gain(tmp_path):
    plain = capture_baseline(stream("empty", 15, 31)).nodes[1]
    pulsed = capture_baseline(_with_gain_pulses(stream("empty", 15, 31))).nodes[1]
    assert not np.any(np.abs(plain.gain_lines[:, 0] - 1 / 6.1) < 0.02)
    assert np.any(np.abs(pulsed.gain_lines[:, 0] - 1 / 6.1) < 0.02), pulsed.gain_lines
    assert pulsed.gain_lines.shape[1] == 2
    baseline = capture_baseline(_with_gain_pulses(stream("empty", 15, 31)))
    save_baseline(baseline, tmp_path / "baseline")
    np.testing.assert_array_equal(load_baseline(tmp_path / "baseline").nodes[1].gain_lines, baseline.nodes[1].gain_lines)


def test_a_baseline_stored_before_gain_lines_loads_without_them(tmp_path):
    import dataclasses

    from ruview_core.calibration.baseline import RoomBaseline, content_hash

    baseline = capture_baseline(stream("empty", 14, 12))
    older = {i: dataclasses.replace(n, gain_lines=None) for i, n in baseline.nodes.items()}
    save_baseline(RoomBaseline("old", 0.0, older, content_hash(older)), tmp_path / "baseline")
    assert load_baseline(tmp_path / "baseline").nodes[1].gain_lines is None
