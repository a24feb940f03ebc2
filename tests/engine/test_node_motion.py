"""The motion statistic (ruview_core.node.motion): glitches of a few frames are not motion, bodies are.

Synthetic frames reproduce what the real ESP32 recording of a seated person shows (the ~10
packets/s ESP32-CSI-Tool takes of ``esp32_resp_phuocan``): every ~6 s four consecutive frames
whose amplitude profile is tilted, then back to normal. A plain moving variance read each one
as motion (about a third of the quiet hops flagged).
"""

from __future__ import annotations

import numpy as np

from ruview_core.calibration.baseline import fit_node_baseline
from ruview_core.calibration.features import WindowSums
from ruview_core.frames import CsiFrame
from ruview_core.node.motion import BASELINE_FACTOR, robust_dispersion, turbulence, windowed_dispersion
from ruview_core.node.pipeline import NodePipeline

RATE = 10.0
SUBCARRIERS = 64
USED = np.r_[6:32, 33:60]  # nulls, guards and DC stay zero, as an ESP32 reports them


def _amplitudes(seconds: float, seed: int, glitch_every: float | None = None, moving: tuple[float, float] | None = None):
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, seconds, 1.0 / RATE)
    profile = 20.0 + 6.0 * np.sin(np.linspace(0.0, 3.0 * np.pi, USED.size))
    tilt = np.linspace(0.8, -0.5, USED.size)
    amplitude = np.zeros((times.size, SUBCARRIERS))
    for i, t in enumerate(times):
        row = profile * (1.0 + 0.03 * rng.standard_normal(USED.size))
        if glitch_every is not None and (t % glitch_every) < 0.4:  # four frames with another profile shape
            row = row * (1.0 + tilt)
        if moving is not None and moving[0] <= t < moving[1]:  # a body reshapes the profile frame after frame
            row = row * (1.0 + 0.5 * np.sin(2.0 * np.pi * (0.7 * t + rng.uniform(0, 1)) + np.linspace(0, 6, USED.size)))
        amplitude[i, USED] = row
    return times, amplitude


def _frames(times, amplitude, start: float = 0.0) -> list[CsiFrame]:
    return [CsiFrame(1, i, start + t, row.astype(np.complex64)[np.newaxis]) for i, (t, row) in enumerate(zip(times, amplitude))]


def test_a_glitch_of_a_few_frames_is_not_a_burst_of_motion():
    times, amplitude = _amplitudes(30.0, 1, glitch_every=6.0)
    z = amplitude[:, USED] / amplitude[:, USED].mean(axis=1, keepdims=True)
    ends = np.arange(3.0, 30.0, 1.0)
    statistics = windowed_dispersion(times, turbulence(z), ends)
    assert np.all(statistics / np.median(statistics) < BASELINE_FACTOR)


def test_glitches_stay_quiet_and_movement_is_seen_through_the_node_chain():
    lead_times, lead = _amplitudes(20.0, 2, glitch_every=6.0)
    baseline = fit_node_baseline(1, _frames(lead_times, lead))
    times, amplitude = _amplitudes(40.0, 3, glitch_every=6.0, moving=(25.0, 35.0))
    pipeline = NodePipeline(1, baseline)
    hops = []
    next_hop = 21.0
    for frame in _frames(times, amplitude, start=20.0):
        while frame.timestamp >= next_hop:
            hops.append(pipeline.hop(next_hop))
            next_hop += 1.0
        pipeline.push(frame)
    quiet = [h for h in hops if h.t <= 44.0]
    moving = [h for h in hops if 47.0 <= h.t <= 55.0]
    assert quiet and moving
    assert not any(h.moving for h in quiet), [round(h.motion, 1) for h in quiet]
    assert all(h.moving for h in moving), [round(h.motion, 1) for h in moving]


def test_runtime_sums_give_the_clip_statistic():
    times, amplitude = _amplitudes(12.0, 4, glitch_every=6.0)
    z = (amplitude[:, USED] / amplitude[:, USED].mean(axis=1, keepdims=True)).astype(np.complex128)
    sums = WindowSums(USED.size, rate_hz=RATE)
    sums.extend(times, z)
    ends = np.arange(3.0, 12.0, 1.0)
    clip = windowed_dispersion(times, turbulence(np.abs(z)), ends)
    np.testing.assert_allclose([sums.motion_statistic(t) for t in ends], clip, rtol=1e-9)


def test_dispersion_of_normal_noise_is_its_variance_and_needs_three_values():
    values = np.random.default_rng(5).normal(0.0, 2.0, 20_000)
    assert abs(robust_dispersion(values) / 4.0 - 1.0) < 0.05
    assert np.isnan(robust_dispersion(values[:2]))
