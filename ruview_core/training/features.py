"""The 8-dim feature vector of ADR-071, per frame, computed from a node's raw CSI.

The firmware's feature packet (0xC5110003) defines the layout; training, the shipped backbone
and the runtime all use this one definition (:data:`FEATURE_NAMES`), so an embedding means the
same wherever it is computed. Every value lies in 0..1:

0. ``presence``: slow-over-fast amplitude variance over the last ``presence_s`` seconds
   (1 for pure noise; a body's sway, breathing and steps raise it), as ``(log10(ratio) + 0.5) / 2``.
1. ``motion``: motion energy (variance of frame-to-frame relative amplitude change) over the
   last ``motion_s`` seconds, as ``(log10(energy) + 4) / 4``: 1e-4 -> 0, 1 -> 1 (real ESP32
   legacy frames scatter about 15 % frame to frame, i.e. about 0.05 even when still).
2. ``breathing``: breathing rate best guess / 30 bpm (0 until ``MIN_VITALS_S`` of data).
3. ``heart``: heart rate best guess / 120 bpm (likewise).
4. ``phase_variance``: mean circular variance of the sanitised phase of the ``top_k`` most
   variable subcarriers over the motion window.
5. ``spread``: share of subcarriers whose slow-over-fast ratio exceeds 4. The firmware puts
   persons/4 here; counting people is not possible from one node's CSI, but how widely the
   disturbance spreads over the band grows with the number and size of moving bodies.
6. ``burst``: 1 when the motion energy jumps above ``BURST_FACTOR`` times its median over the
   last ``burst_history_s`` seconds (the firmware's fall flag is such a burst), else 0.
7. ``rssi``: ``(rssi + 100) / 100``; 0.5 when the node did not report a real (negative) RSSI.

Windows are trailing (causal), so a runtime computing the features of the newest frame gets
exactly the value training saw for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..node.window import frame_csi, sanitize_frames
from ..dsp.phase import sanitize_phase
from ..dsp.resample import resample_uniform
from ..dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ..frames import CsiFrame, FeaturePacket
from ..vitals import estimate_breathing, estimate_heart_rate

FEATURE_NAMES = ("presence", "motion", "breathing", "heart", "phase_variance", "spread", "burst", "rssi")
FEATURE_DIM = len(FEATURE_NAMES)
BREATHING_SCALE_BPM = 30.0
HEART_SCALE_BPM = 120.0
BURST_FACTOR = 8.0
SPREAD_RATIO = 4.0
MIN_VITALS_S = 15.0
VITALS_RATE_HZ = 20.0


@dataclass(frozen=True)
class NodeFeatures:
    """One node's per-frame features and the side results weak labels are made from.

    ``frame_index`` maps each row back to the frame list it was computed from (frames with
    no finite CSI get no row). Vital rates are NaN where there was no estimate; their
    ``*_confidence`` is the estimator's confidence (0 when it saw no clear rhythm).
    """

    node_id: int
    frame_index: np.ndarray
    times: np.ndarray
    features: np.ndarray  # [N, FEATURE_DIM] float32
    motion_energy: np.ndarray
    breathing_bpm: np.ndarray
    breathing_confidence: np.ndarray
    heart_bpm: np.ndarray
    heart_confidence: np.ndarray


def features_from_packet(packet: FeaturePacket) -> np.ndarray:
    """The firmware's own 8-dim vector of a feature packet, in the same layout."""
    return np.clip(np.asarray(packet.features, dtype=np.float32), 0.0, 1.0)


def _trailing_start(times: np.ndarray, seconds: float) -> np.ndarray:
    """Index of the first frame inside the trailing window ``(t - seconds, t]`` of every frame."""
    return np.searchsorted(times, times - seconds, side="right")


def _window_sums(values: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame trailing count, mean and variance of ``[N, S]`` values (prefix sums: O(N S))."""
    n = values.shape[0]
    first = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    second = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values**2, axis=0)])
    end = np.arange(1, n + 1)
    count = (end - start)[:, None].astype(np.float64)
    mean = (first[end] - first[start]) / count
    variance = np.maximum((second[end] - second[start]) / count - mean**2, 0.0)
    return count[:, 0], mean, variance


def _slow_fast(amplitude: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame, per-subcarrier relative variance of the amplitude and of its first difference."""
    _, mean, variance = _window_sums(amplitude, start)
    step = np.vstack([np.zeros((1, amplitude.shape[1])), np.diff(amplitude, axis=0)])
    # Differences pair frame j-1 with j, so a window starting at frame s owns steps s+1..i.
    _, _, step_variance = _window_sums(step, np.minimum(start + 1, np.arange(amplitude.shape[0])))
    scale = np.maximum(mean, 1e-12) ** 2
    return variance / scale, step_variance / scale


def _vitals(times: np.ndarray, csi: np.ndarray, usable: np.ndarray, window_s: float, hop_s: float):
    """Breathing and heart estimates every ``hop_s`` over the last ``window_s``, held to each frame."""
    n = times.size
    out = np.full((4, n), np.nan)
    out[1] = out[3] = 0.0
    if n < 2 or times[-1] - times[0] < MIN_VITALS_S:
        return out
    f = signed_subcarrier_index(csi.shape[2])[usable]
    clean = sanitize_frames(csi[:, :, usable], f)
    series = resample_uniform(times, clean, VITALS_RATE_HZ, max_gap=0.5)
    grid, values, valid = series.times, series.values, series.valid
    hops = np.arange(times[0] + MIN_VITALS_S, times[-1] + 1e-9, hop_s)
    estimates = []
    for t in hops:
        lo, hi = np.searchsorted(grid, [t - window_s, t], side="right")
        ok = valid[lo:hi]
        # The newest stretch without a gap: older data across a gap belongs to another scene.
        last_bad = np.flatnonzero(~ok)
        lo = lo + (last_bad[-1] + 1 if last_bad.size else 0)
        if (hi - lo) < MIN_VITALS_S * VITALS_RATE_HZ:
            estimates.append((np.nan, 0.0, np.nan, 0.0))
            continue
        window = values[lo:hi]
        breathing = estimate_breathing(window, VITALS_RATE_HZ, frequency_index=f)
        heart = estimate_heart_rate(window, VITALS_RATE_HZ, frequency_index=f)
        estimates.append(
            (
                np.nan if breathing.raw_bpm is None else breathing.raw_bpm,
                breathing.confidence,
                np.nan if heart.raw_bpm is None else heart.raw_bpm,
                heart.confidence,
            )
        )
    if not estimates:
        return out
    table = np.array(estimates).T
    at = np.searchsorted(hops, times, side="right") - 1
    has = at >= 0
    out[:, has] = table[:, at[has]]
    return out


def node_features(
    frames: Sequence[CsiFrame],
    *,
    rssi: np.ndarray | None = None,
    presence_s: float = 4.0,
    motion_s: float = 1.0,
    burst_history_s: float = 10.0,
    vitals_window_s: float = 30.0,
    vitals_hop_s: float = 2.0,
    top_k: int = 8,
) -> NodeFeatures:
    """Per-frame features of one node's time-ordered frames.

    ``rssi`` overrides the frames' RSSI (per frame, NaN = unknown); recordings whose frames
    carry a placeholder RSSI pass the one of the node's vitals packets here.
    """
    if not frames:
        raise ValueError("no frames")
    node = frames[0].node_id
    kept = [(i, c) for i, fr in enumerate(frames) if (c := frame_csi(fr)) is not None]
    if kept:
        width = max(c.shape for _, c in kept)  # LLTF of a mixed recording: all the same width
        kept = [(i, c) for i, c in kept if c.shape == width]
    if not kept:
        raise ValueError(f"node {node}: no finite CSI")
    index = np.array([i for i, _ in kept])
    csi = np.stack([c for _, c in kept])
    times = np.array([frames[i].timestamp for i in index], dtype=np.float64)
    order = np.argsort(times, kind="stable")
    index, csi, times = index[order], csi[order], times[order]

    amplitude_all = np.abs(csi[:, 0, :]).astype(np.float64)
    usable = usable_subcarriers(amplitude_all)
    amplitude = amplitude_all[:, usable]
    n, s = amplitude.shape

    slow, fast = _slow_fast(amplitude, _trailing_start(times, presence_s))
    presence_ratio = slow.sum(axis=1) / np.maximum(fast.sum(axis=1) / 2.0, 1e-12)
    presence_ratio = np.where(fast.sum(axis=1) > 0, presence_ratio, 1.0)
    spread = np.mean(slow > SPREAD_RATIO * np.maximum(fast / 2.0, 1e-12), axis=1)

    motion_start = _trailing_start(times, motion_s)
    _, motion_fast = _slow_fast(amplitude, motion_start)
    energy = motion_fast.mean(axis=1)

    f = signed_subcarrier_index(csi.shape[2])[usable]
    rotor = np.exp(1j * sanitize_phase(csi[:, 0, usable], f))
    count, _, _ = _window_sums(np.zeros((n, 1)), motion_start)
    prefix = np.vstack([np.zeros((1, s), complex), np.cumsum(rotor, axis=0)])
    circular = 1.0 - np.abs(prefix[np.arange(1, n + 1)] - prefix[motion_start]) / count[:, None]
    k = min(top_k, s)
    phase_variance = np.sort(circular, axis=1)[:, -k:].mean(axis=1)

    history = _trailing_start(times, burst_history_s)
    median = np.array([np.median(energy[history[i] : i + 1]) for i in range(n)])
    burst = (energy > BURST_FACTOR * np.maximum(median, 1e-12)).astype(np.float64)

    frame_rssi = np.array([frames[i].rssi for i in index], dtype=np.float64)
    if rssi is not None:
        frame_rssi = np.asarray(rssi, dtype=np.float64)[index]
    rssi_feature = np.where(frame_rssi < 0, (frame_rssi + 100.0) / 100.0, 0.5)

    vitals = _vitals(times, csi, usable, vitals_window_s, vitals_hop_s)
    features = np.column_stack(
        [
            (np.log10(np.maximum(presence_ratio, 1e-12)) + 0.5) / 2.0,
            (np.log10(np.maximum(energy, 1e-12)) + 4.0) / 4.0,
            np.nan_to_num(vitals[0] / BREATHING_SCALE_BPM),
            np.nan_to_num(vitals[2] / HEART_SCALE_BPM),
            phase_variance,
            spread,
            burst,
            rssi_feature,
        ]
    )
    return NodeFeatures(
        node_id=node,
        frame_index=index,
        times=times,
        features=np.clip(features, 0.0, 1.0).astype(np.float32),
        motion_energy=energy,
        breathing_bpm=vitals[0],
        breathing_confidence=vitals[1],
        heart_bpm=vitals[2],
        heart_confidence=vitals[3],
    )


def latest_features(frames: Sequence[CsiFrame], **options) -> np.ndarray:
    """The feature vector of the newest frame of one node's recent frames (for the runtime).

    Give at least ``vitals_window_s`` seconds of frames for the vitals slots to be filled.
    """
    return node_features(frames, **options).features[-1]
