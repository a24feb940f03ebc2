"""What the live view draws, decimated here so that a page never has to keep up with the radio.

Four nodes at 100 Hz are 400 frames a second; the page gets, per room and per ``DISPLAY_INTERVAL_S``,
one message: each node's packet rate and loss, the new heatmap columns (``COLUMN_HZ`` per node,
at most ``HEATMAP_ROWS`` subcarrier bands), its latest motion index against the threshold the
runtime applies, and every ``WAVE_EVERY_S`` its breathing waveform and spectrum with the peak the
runtime chose. The cost is nothing while no page watches: frames are only sampled for the
heatmap while a display subscriber exists.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..calibration.anchors import get_anchor
from ..calibration.quality import (
    MAX_MOVING_SHARE,
    MAX_SATURATION,
    MIN_FRAME_SHARE,
    MIN_RHYTHM_CONFIDENCE,
    PRESENCE_MARGIN,
    SMALL_MOVE_LIMIT,
    STILL_MOTION_LIMIT,
    REASON_CLIPPING,
    REASON_NOT_EMPTY,
    REASON_NOT_MOVING,
    REASON_TOO_MOVING,
    REASON_UNCHANGED,
    no_rhythm_reason,
)
from ..frames import CsiFrame
from ..node.window import frame_csi
from ..vitals.breathing import BREATHING_BAND_BPM, breathing_columns
from ..vitals.rhythm import TOP_K, band_filter, filtered_spectra

if TYPE_CHECKING:
    from ..runtime.monitor import NodeMonitor
    from .jobs import Job
    from .live import LiveRoom

DISPLAY_INTERVAL_S = 0.5
COLUMN_HZ = 10.0  # heatmap columns per node per second
HEATMAP_ROWS = 32  # subcarriers are averaged into at most this many bands
MAX_PENDING_COLUMNS = 64  # per node: a room nobody reads keeps no more than this
WAVE_EVERY_S = 2.0  # the breathing waveform and spectrum of a node are recomputed this often
WAVE_HZ = 5.0  # the waveform is shown at this rate
WAVE_SECONDS = 30.0


@dataclass
class NodeTrace:
    """One node's heatmap columns not yet sent, and its last breathing picture."""

    last_column_t: float = -math.inf
    columns: deque[tuple[float, list[float]]] = field(default_factory=lambda: deque(maxlen=MAX_PENDING_COLUMNS))
    wave_at: float = -math.inf
    wave: dict[str, Any] | None = None


@dataclass
class RoomDisplay:
    """The display side of one :class:`~ruview_core.service.live.LiveRoom`."""

    traces: dict[int, NodeTrace] = field(default_factory=dict)
    # The anchor capture being shown: its job id, [moving, judged] hops so far, each node's latest gates.
    capture: str | None = None
    moving: dict[int, list[int]] = field(default_factory=dict)
    gates: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_hop_t: dict[int, float] = field(default_factory=dict)

    def sample(self, frame: CsiFrame, usable: np.ndarray | None) -> None:
        """Keep one heatmap column per node every ``1 / COLUMN_HZ`` s of frame time."""
        trace = self.traces.setdefault(frame.node_id, NodeTrace())
        t = float(frame.timestamp)
        if t - trace.last_column_t < 1.0 / COLUMN_HZ and t >= trace.last_column_t:
            return
        csi = frame_csi(frame)
        if csi is None:
            return
        amplitude = np.abs(csi[0])
        if usable is not None and usable.size == amplitude.size:
            amplitude = amplitude[usable]
        trace.last_column_t = t
        trace.columns.append((round(t, 2), bands(amplitude)))

    def message(self, room: str, live: LiveRoom, node_stats: dict[int, dict[str, Any]], job: Job | None,
                summary: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
        """The room's display message; takes the heatmap columns gathered since the last one.

        ``summary`` is the room's (GET /rooms/{room}), ``state`` its published fused state (GET
        /rooms/{room}/state), so the page shows what the API says."""
        monitor = live.monitor
        nodes = []
        node_ids = sorted(set(self.traces) | set(monitor.nodes if monitor else ()))
        for node_id in node_ids:
            trace = self.traces.setdefault(node_id, NodeTrace())
            stats = node_stats.get(node_id, {})
            entry: dict[str, Any] = {"node_id": node_id, "rate_hz": stats.get("rate_hz"),
                                     "loss_ratio": stats.get("loss_ratio"), "frames": stats.get("frames"),
                                     "columns": list(trace.columns)}
            trace.columns.clear()
            node_monitor = monitor.nodes.get(node_id) if monitor is not None else None
            if node_monitor is not None:
                entry.update(motion_entry(node_monitor))
                entry["breathing"] = self._breathing(trace, node_monitor)
            nodes.append(entry)
        readings = live.last_state.nodes.values() if state is not None and live.last_state is not None else ()
        return {"type": "display", "room": room, "sent_at": round(time.time(), 3), "status": summary.get("status"),
                "next_step": next_step(summary), "attention": summary.get("attention"),
                "stale_reason": summary.get("stale_reason"), "anchors": summary.get("anchors"),
                "nodes": nodes,
                "state": state, "node_readings": [n.to_dict() for n in readings],
                "enrollment": self._enrollment(live, job)}

    def _breathing(self, trace: NodeTrace, node: NodeMonitor) -> dict[str, Any] | None:
        hop = node.last_hop
        if hop is None:
            return trace.wave
        if hop.t - trace.wave_at >= WAVE_EVERY_S:
            trace.wave_at = hop.t
            estimate = node.vitals[0]
            trace.wave = breathing_picture(node.pipeline.vitals_window(hop.t), node.pipeline.rate_hz or 0.0,
                                           None if estimate is None else (estimate.bpm or estimate.raw_bpm),
                                           None if estimate is None else estimate.confidence,
                                           None if node.pipeline.amplitude_only else node.pipeline.frequency_index)
            if trace.wave is not None:  # the estimator's best peak, trusted or below its confidence
                trace.wave["trusted"] = estimate is not None and estimate.bpm is not None
        return trace.wave

    def _enrollment(self, live: LiveRoom, job: Job | None) -> dict[str, Any] | None:
        """During an anchor capture: the anchor and its quality gates judged on the hops so far
        (a preview; the capture's own verdict comes in its job result)."""
        if job is None or job.kind != "anchor" or job.anchor is None or live.monitor is None:
            self.capture = None
            return None
        if job.job_id != self.capture:
            self.capture, self.moving, self.gates = job.job_id, {}, {}
        spec = get_anchor(job.anchor)
        for node_id, node in sorted(live.monitor.nodes.items()):
            hop, baseline = node.last_hop, node.baseline
            features = None if hop is None else hop.features
            if features is None or self.last_hop_t.get(node_id) == hop.t:
                continue
            self.last_hop_t[node_id] = hop.t
            limit = SMALL_MOVE_LIMIT if spec.moving else STILL_MOTION_LIMIT
            moving = features.motion > max(limit, limit * baseline.motion_floor)
            counts = self.moving.setdefault(node_id, [0, 0])
            counts[0] += int(moving)
            counts[1] += 1
            self.gates[node_id] = node_gates(node_id, spec, features, baseline, counts, hop.received)
        return {"job_id": job.job_id, "anchor": spec.name, "instruction": spec.instruction,
                "progress": job.progress, "seconds_left": job.seconds_left, "state": job.state,
                "gates": [self.gates[n] for n in sorted(self.gates)]}


def motion_entry(node: NodeMonitor) -> dict[str, Any]:
    hop = node.last_hop
    motion = None if hop is None or hop.motion is None else round(float(hop.motion), 3)
    return {"t": None if hop is None else round(hop.t, 3), "motion": motion,
            "threshold": round(node.pipeline.factor, 3), "moving": None if hop is None else hop.moving}


def node_gates(node_id: int, spec, features, baseline, counts: list[int], received: int) -> dict[str, Any]:
    """The anchor gate's checks (:func:`ruview_core.calibration.quality.check_anchor`) on one node's
    latest window: each with its value, its limit, and the refusal it would bring."""
    shift = features.deviation / max(baseline.deviation_floor, 1.0)
    moving_share = counts[0] / max(counts[1], 1)
    checks = [
        _check("frames", features.coverage, MIN_FRAME_SHARE, features.coverage >= MIN_FRAME_SHARE,
               "too few frames arrive: check that the sensor is powered and streaming"),
        _check("clipping", features.saturation, MAX_SATURATION, features.saturation <= MAX_SATURATION,
               REASON_CLIPPING),
        _check("change from the empty room", shift, PRESENCE_MARGIN,
               shift > PRESENCE_MARGIN if spec.presence else shift <= PRESENCE_MARGIN,
               REASON_UNCHANGED if spec.presence else REASON_NOT_EMPTY),
        _check("moving share", moving_share, MAX_MOVING_SHARE,
               moving_share >= MAX_MOVING_SHARE if spec.moving else moving_share <= MAX_MOVING_SHARE,
               REASON_NOT_MOVING if spec.moving else REASON_TOO_MOVING),
    ]
    if spec.breathing_band_bpm is not None:
        low, high = spec.breathing_band_bpm
        estimate = features.breathing
        bpm = estimate.bpm if estimate.bpm is not None else estimate.raw_bpm
        inside = bpm is not None and low <= bpm <= high and estimate.confidence >= MIN_RHYTHM_CONFIDENCE
        checks.append(_check("breathing rhythm", bpm, f"{low:g}-{high:g}", inside, no_rhythm_reason(low, high)))
    return {"node_id": node_id, "received": received, "checks": checks}


def _check(name: str, value, limit, ok: bool, refusal: str) -> dict[str, Any]:
    shown = round(float(value), 3) if isinstance(value, int | float) and math.isfinite(value) else None
    return {"name": name, "value": shown, "limit": limit, "ok": bool(ok), "reason": None if ok else refusal}


def bands(amplitude: np.ndarray, rows: int = HEATMAP_ROWS) -> list[float]:
    """``amplitude`` averaged into at most ``rows`` adjacent bands, rounded for the wire."""
    if amplitude.size > rows:
        edges = np.linspace(0, amplitude.size, rows + 1).astype(int)
        amplitude = np.add.reduceat(amplitude, edges[:-1]) / np.diff(edges)
    return [round(float(a), 2) for a in amplitude]


def breathing_picture(window: np.ndarray | None, rate_hz: float, chosen_bpm: float | None,
                      confidence: float | None, frequency_index: np.ndarray | None = None) -> dict[str, Any] | None:
    """What the breathing estimator looked at: the spectrum it scans (the mean in-band spectrum
    of the ``TOP_K`` most periodic of its feature columns, :func:`find_rhythm`'s statistic) with
    the peak the runtime chose, and the waveform those columns share (their first principal
    component, band-passed, the last ``WAVE_SECONDS`` at about ``WAVE_HZ``)."""
    if window is None or rate_hz <= 0:
        return None
    columns = breathing_columns(window, rate_hz, frequency_index=frequency_index)
    low, high = BREATHING_BAND_BPM[0] / 60.0, BREATHING_BAND_BPM[1] / 60.0
    prepared = band_filter(columns, rate_hz, low, high)
    spectra = None if prepared is None else filtered_spectra(*prepared, low, high)
    if prepared is None or spectra is None:
        return None
    filtered, rate = prepared
    statistic = spectra.top_k(slice(None), TOP_K)
    peak = spectra.freqs[int(np.argmax(statistic))] if chosen_bpm is None else chosen_bpm / 60.0
    at_peak = spectra.spectra[int(np.argmin(np.abs(spectra.freqs - peak)))]
    strongest = np.argsort(at_peak)[-TOP_K:]
    live = np.flatnonzero(filtered.std(axis=0) > 0)  # filtered_spectra dropped the dead columns too
    chosen = filtered[:, live[strongest]] if live.size == at_peak.size else filtered
    _, _, components = np.linalg.svd(chosen - chosen.mean(axis=0), full_matrices=False)
    wave = chosen @ components[0]
    step = max(int(round(rate / WAVE_HZ)), 1)
    wave = wave[::step][-int(WAVE_SECONDS * rate / step):]
    wave = wave / (wave.std() or 1.0)
    return {"rate_hz": rate / step, "wave": [round(float(v), 3) for v in wave],
            "spectrum_bpm": [round(float(v) * 60.0, 2) for v in spectra.freqs],
            "spectrum": [round(float(v), 3) for v in statistic / (statistic.max() or 1.0)],
            "chosen_bpm": None if chosen_bpm is None else round(float(chosen_bpm), 1),
            "confidence": None if confidence is None else round(float(confidence), 3)}


def next_step(summary: dict[str, Any]) -> str:
    """What a person does next with the room, from its summary."""
    status = summary.get("status")
    if summary.get("attention"):
        return str(summary["attention"])
    if status == "stale":
        return str(summary.get("stale_reason") or "re-calibrate: capture the empty room, enroll and train again")
    if status in ("enrolling", "training") and summary.get("job"):
        return "a capture or training is running: follow its progress below"
    if summary.get("baseline_id") is None:
        return "leave the room empty and capture the empty room (Home Assistant: the room's calibration)"
    pending = [name for name, state in (summary.get("anchors") or {}).items() if state == "pending"]
    if summary.get("bank") is None:
        if pending:
            return f"enroll the next step: {pending[0]} ({get_anchor(pending[0]).instruction})"
        return "train the room"
    if not summary.get("online"):
        return "no node of this room sends frames: check that they are powered and on the network"
    return "nothing to do: the room is calibrated and trained"
