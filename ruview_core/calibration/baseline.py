"""Stage 1: the empty-room fingerprint of every node (ADR-135 semantics, ADR-151 §2.1).

Per node: which subcarriers carry signal, per-subcarrier amplitude mean/variance, circular
phase mean/dispersion, the complex mean profile with its frame noise and slow drift, the
room's field eigenmodes (the directions in which the empty room's profile wanders, ADR-030),
and the floors of every score an empty room produces. Later stages measure a window's shift
away from this fingerprint in units of what the empty room itself does, so an empty room
scores about 1 whatever the node, and a still person scores by how much they change the field.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..dsp.motion import motion_energy
from ..dsp.subcarriers import signed_subcarrier_index, usable_subcarriers
from ..frames import CsiFrame
from ..node.cleaning import clean, dominant_kind, group_by_node, packet_rate, raw_arrays
from ..node.motion import (
    BASELINE_FACTOR, BURST_MIN_FRAMES, BURST_WINDOW_SECONDS, UNTRUSTED_SECONDS, come_and_go, quiet_level,
    slow_structure, turbulence, windowed_dispersion,
)
from ..vitals.breathing import BREATHING_BAND_BPM, on_uniform_grid
from ..vitals.interference import gain_lines

MIN_BASELINE_SECONDS = 10.0
SPAN_TOLERANCE_S = 0.5
DEFAULT_BASELINE_SECONDS = 30.0
MIN_FRAMES_PER_SECOND = 5.0
MIN_LINE_CYCLES = 4.0
# Window lengths shared by the baseline's own floors and the runtime features.
PROFILE_SECONDS = 10.0
ACTIVITY_SECONDS = 2.0
N_EIGENMODES = 3
# An empty room moves now and then (a curtain, a pet passing the door); a capture with more than
# this share of its motion windows above the motion threshold had someone moving in it.
BASELINE_MOVING_SHARE = 0.1
# Someone moving throughout: slow structure and coming and going (node.motion.slow_structure,
# come_and_go) both above these (measured on the real corpus and the simulator: see node.motion).
BASELINE_STRUCTURE_LIMIT = 8.0
BASELINE_COME_AND_GO_LIMIT = 5.0


class BaselineError(ValueError):
    """The baseline cannot be accepted; the message says what to do."""


@dataclass(frozen=True)
class NodeBaseline:
    """Empty-room statistics of one node (antenna 0, usable subcarriers in raw order)."""

    node_id: int
    rate_hz: float
    usable: np.ndarray  # [n_subcarriers] bool, over the LLTF
    amp_mean: np.ndarray  # [S]
    amp_var: np.ndarray  # [S]
    phase_mean: np.ndarray  # [S] circular mean of sanitised phase
    phase_dispersion: np.ndarray  # [S] 1 - resultant length
    mean: np.ndarray  # [S] complex mean profile
    scale: np.ndarray  # [S] expected spread of a PROFILE_SECONDS window mean in an empty room
    amp_scale: np.ndarray  # [S] the same for the amplitude profile
    eigenmodes: np.ndarray  # [k, 2S] orthonormal directions of the empty room's own wandering
    motion_level: float  # median turbulence dispersion of the empty room's motion windows (node.motion)
    motion_floor: float  # largest motion statistic of its windows, over motion_level
    activity_floor: float  # median motion energy of its ACTIVITY_SECONDS windows
    deviation_floor: float  # largest deviation of its own PROFILE_SECONDS windows
    residual_floor: float  # the same outside the eigenmodes
    n_frames: int
    seconds: float
    bandwidth_mhz: int = 20  # the channel width of the frames it was fitted on (node.cleaning.frame_kind)
    # [L, 2] frequency (Hz) and strength of the lines in the receiver's overall gain with nobody
    # there (vitals.interference); None for a baseline stored before they were measured.
    gain_lines: np.ndarray | None = None

    @property
    def frequency_index(self) -> np.ndarray:
        return signed_subcarrier_index(self.usable.size)[self.usable]

    def whitened_shift(self, window_mean: np.ndarray) -> np.ndarray:
        """``[2S]`` real/imag shift of a window's mean profile in units of the empty room's spread."""
        d = (np.asarray(window_mean) - self.mean) / self.scale
        return np.concatenate([d.real, d.imag])

    def deviation(self, window_mean: np.ndarray) -> tuple[float, float]:
        """Mean squared whitened shift (about 1 for an empty room) and its part outside the eigenmodes."""
        v = self.whitened_shift(window_mean)
        inside = self.eigenmodes @ v
        total = float(v @ v)
        outside = max(total - float(inside @ inside), 0.0)
        n = self.mean.size
        return total / n, outside / max(n - 0.5 * self.eigenmodes.shape[0], 1.0)

    def amplitude_shift(self, window_amp_mean: np.ndarray) -> np.ndarray:
        """``[S]`` shift of a window's mean amplitude profile in units of the empty room's spread."""
        return (np.asarray(window_amp_mean) - self.amp_mean) / self.amp_scale


@dataclass(frozen=True)
class RoomBaseline:
    """The fingerprint of a room: one :class:`NodeBaseline` per node, an id and a content hash."""

    baseline_id: str
    created_at: float
    nodes: dict[int, NodeBaseline] = field(default_factory=dict)
    content_hash: str = ""

    def node(self, node_id: int) -> NodeBaseline | None:
        return self.nodes.get(node_id)


def content_hash(nodes: dict[int, NodeBaseline]) -> str:
    """SHA-256 over every node's arrays and scalars, in a fixed order."""
    digest = hashlib.sha256()
    for node_id in sorted(nodes):
        for name, value in sorted(node_arrays(nodes[node_id]).items()):
            digest.update(f"{node_id}/{name}/{value.dtype.str}/{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    return digest.hexdigest()


def node_arrays(node: NodeBaseline) -> dict[str, np.ndarray]:
    """Every field of a node baseline as a named array (complex split into real/imag)."""
    arrays: dict[str, np.ndarray] = {}
    for name in NodeBaseline.__dataclass_fields__:
        value = getattr(node, name)
        if value is None:  # not measured (an older baseline): hashed and stored as before
            continue
        value = np.asarray(value)
        if np.iscomplexobj(value):
            arrays[f"{name}.real"] = np.ascontiguousarray(value.real, dtype=np.float64)
            arrays[f"{name}.imag"] = np.ascontiguousarray(value.imag, dtype=np.float64)
        elif value.dtype == bool:
            arrays[name] = value
        else:
            arrays[name] = np.asarray(value, dtype=np.float64)
    return arrays


def capture_baseline(
    frames: Iterable[CsiFrame],
    *,
    min_seconds: float = MIN_BASELINE_SECONDS,
    created_at: float | None = None,
    baseline_id: str | None = None,
) -> RoomBaseline:
    """Fit the empty-room fingerprint of every node in ``frames`` (all of them, one capture).

    Raises :class:`BaselineError` when a node covers less than ``min_seconds``, has too few
    frames, no usable subcarriers, or saw someone move during the capture.
    """
    import time

    per_node = group_by_node(frames)
    if not per_node:
        raise BaselineError("no CSI frames arrived: check that the sensors stream to this host")
    nodes = {node_id: fit_node_baseline(node_id, node_frames, min_seconds) for node_id, node_frames in sorted(per_node.items())}
    return RoomBaseline(baseline_id or str(uuid.uuid4()), time.time() if created_at is None else created_at,
                        nodes, content_hash(nodes))


def fit_node_baseline(node_id: int, frames: list[CsiFrame], min_seconds: float = MIN_BASELINE_SECONDS) -> NodeBaseline:
    kind = dominant_kind(frames)
    times, csi, dropped = raw_arrays(frames, *kind) if kind else (np.zeros(0), np.zeros((0, 1, 0)), len(frames))
    order = np.argsort(times, kind="stable")  # UDP may deliver a frame or two out of order
    times, csi = times[order], csi[order]
    span = float(times[-1] - times[0]) if times.size > 1 else 0.0
    if span < min_seconds - SPAN_TOLERANCE_S:  # first to last frame falls short of the clip by about a frame
        raise BaselineError(f"node {node_id}: only {span:.1f} s of empty room; capture at least {min_seconds:.0f} s")
    if times.size < MIN_FRAMES_PER_SECOND * span:
        raise BaselineError(f"node {node_id}: only {times.size} frames in {span:.0f} s "
                            f"({times.size / span:.1f}/s); the sensor must send at least {MIN_FRAMES_PER_SECOND:.0f} frames/s")
    usable = usable_subcarriers(np.abs(csi[:, 0, :]))
    if usable.sum() < 8:
        raise BaselineError(f"node {node_id}: almost no subcarrier carries signal; is the sensor connected to the router?")
    rate = packet_rate(times)
    cleaned = clean(times, csi, usable, signed_subcarrier_index(usable.size)[usable], dropped)
    t, z = cleaned.times - cleaned.times[0], cleaned.csi[:, 0, :]

    ends = np.arange(min(UNTRUSTED_SECONDS, t[-1] / 2) + 1.0, t[-1] + 1e-9, 1.0)
    turbulence_series = turbulence(np.abs(z))
    statistics = windowed_dispersion(t, turbulence_series, ends)
    level = quiet_level(statistics)
    if not level > 0:
        raise BaselineError(f"node {node_id}: the signal does not change at all; is the sensor sending real CSI?")
    motion = statistics[np.isfinite(statistics)] / level
    bursts = windowed_dispersion(t, turbulence_series, ends, BURST_WINDOW_SECONDS, BURST_MIN_FRAMES)
    finite = np.isfinite(bursts)
    moved = ends[finite][bursts[finite] / quiet_level(bursts) > BASELINE_FACTOR]
    if moved.size > BASELINE_MOVING_SHARE * finite.sum():
        raise BaselineError(f"node {node_id}: something moved during the capture (around {moved[0] - 1:.0f}-"
                            f"{moved[-1]:.0f} s): leave the room, close the door and start again")
    if (slow_structure(t, turbulence_series) > BASELINE_STRUCTURE_LIMIT
            and come_and_go(bursts) > BASELINE_COME_AND_GO_LIMIT):
        raise BaselineError(f"node {node_id}: something moved during the capture (the whole time): leave the room, "
                            "close the door and start again")

    amp = np.abs(z)
    mean = z.mean(axis=0)
    frame_var = np.mean(np.abs(z - mean) ** 2, axis=0)
    amp_mean, amp_var = amp.mean(axis=0), amp.var(axis=0)
    resultant = np.exp(1j * np.angle(z)).mean(axis=0)
    n_window = PROFILE_SECONDS * rate
    windows = _windows(z, t, PROFILE_SECONDS, min_frames=int(0.5 * n_window))
    if len(windows) < 2:  # a short capture: fall back to shorter windows for the drift estimate
        windows = _windows(z, t, min_seconds / 2, min_frames=int(0.25 * rate * min_seconds))
    if len(windows) < 2:
        raise BaselineError(f"node {node_id}: too few frames in the capture to measure how the empty room drifts; "
                            "capture for longer")
    window_means = np.array([w.mean(axis=0) for w in windows])
    window_amps = np.array([np.abs(w).mean(axis=0) for w in windows])
    sizes = np.array([w.shape[0] for w in windows], dtype=float)[:, np.newaxis]
    drift = np.maximum(np.mean(np.abs(window_means - mean) ** 2 - frame_var / sizes, axis=0), 0.0)
    amp_drift = np.maximum(np.mean((window_amps - amp_mean) ** 2 - amp_var / sizes, axis=0), 0.0)
    floor = 1e-3 * float(np.median(frame_var)) + 1e-15
    scale = np.sqrt(frame_var / n_window + drift + floor)
    amp_scale = np.sqrt(amp_var / n_window + amp_drift + 1e-3 * float(np.median(amp_var)) + 1e-15)

    shifts = (window_means - mean) / scale
    v = np.concatenate([shifts.real, shifts.imag], axis=1)
    k = min(N_EIGENMODES, max(v.shape[0] - 1, 0))
    eigenmodes = np.linalg.svd(v, full_matrices=False)[2][:k] if k else np.zeros((0, v.shape[1]))
    provisional = NodeBaseline(node_id, rate, usable, amp_mean, amp_var, np.angle(resultant), 1 - np.abs(resultant),
                               mean, scale, amp_scale, eigenmodes, level, 0.0, 0.0, 0.0, 0.0, int(t.size), float(t[-1]))
    own = np.array([provisional.deviation(m) for m in window_means])
    activity = [motion_energy(np.abs(w)) for w in _windows(z, t, ACTIVITY_SECONDS, min_frames=int(rate))]
    return NodeBaseline(
        node_id, rate, usable, amp_mean, amp_var, np.angle(resultant), 1 - np.abs(resultant), mean, scale,
        amp_scale, eigenmodes, level, float(max(motion, default=1.0)), float(np.median(activity)) if activity else 0.0,
        float(own[:, 0].max()), float(own[:, 1].max()), int(t.size), float(t[-1]), kind[1],
        None if cleaned.gain is None else empty_gain_lines(cleaned.times, cleaned.gain, rate),
    )


def empty_gain_lines(times: np.ndarray, gain: np.ndarray, rate_hz: float) -> np.ndarray:
    """``[L, 2]`` frequency (Hz) and strength of the lines in the empty room's overall gain in the
    breathing band: the receiver's own rhythms, which a person's breathing is not taken for.
    A line needs ``MIN_LINE_CYCLES`` periods in the capture: an AGC step's slope makes a hump
    at the band's low edge, not a rhythm."""
    span = float(np.ptp(times)) if len(times) else 0.0
    low = max(BREATHING_BAND_BPM[0] / 60.0, MIN_LINE_CYCLES / max(span, 1e-9))
    high = BREATHING_BAND_BPM[1] / 60.0
    log_gain = np.log(np.maximum(np.asarray(gain, dtype=np.float64), 1e-12))
    lines = gain_lines(on_uniform_grid(times, log_gain, rate_hz), rate_hz, low, high) if low < high else []
    return np.array([line for line in lines if line[0] >= low], dtype=np.float64).reshape(-1, 2)


def _windows(z: np.ndarray, t: np.ndarray, seconds: float, min_frames: int, hop: float = 1.0) -> list[np.ndarray]:
    """Sliding ``seconds`` windows of ``z`` every ``hop`` seconds (those with at least ``min_frames``)."""
    out = []
    for start in np.arange(0.0, max(t[-1] - seconds, 0.0) + 1e-9, hop):
        inside = (t >= start) & (t < start + seconds)
        if inside.sum() >= max(min_frames, 2):
            out.append(z[inside])
    return out


# -- storage ---------------------------------------------------------------------------------

_SCALARS = ("node_id", "rate_hz", "motion_level", "motion_floor", "bandwidth_mhz", "activity_floor", "deviation_floor", "residual_floor",
            "n_frames", "seconds")


def save_baseline(baseline: RoomBaseline, stem) -> None:
    """Store as ``stem.<sha>.safetensors`` (per-node arrays) + ``stem.json`` (id, hash, scalars)."""
    from .persist import write_artifact

    arrays: dict[str, np.ndarray] = {}
    for node_id, node in baseline.nodes.items():
        for name, value in node_arrays(node).items():
            if name not in _SCALARS:
                arrays[f"node{node_id}/{name}"] = value
    meta = {
        "kind": "baseline", "baseline_id": baseline.baseline_id, "created_at": baseline.created_at,
        "content_hash": baseline.content_hash,
        "nodes": {str(i): {s: getattr(n, s) for s in _SCALARS} for i, n in baseline.nodes.items()},
    }
    write_artifact(stem, arrays, meta)


def load_baseline(stem) -> RoomBaseline:
    """Read a stored baseline back, checking shapes, dtypes, finiteness and the content hash."""
    from .persist import StoredFileError, read_artifact, require

    arrays, meta = read_artifact(stem, "baseline")
    try:
        nodes = {}
        for key, scalars in meta["nodes"].items():
            node_id = int(key)
            what = f"baseline node {node_id}"
            usable = require(arrays, f"node{node_id}/usable", what, "b", (-1,))
            s = int(usable.sum())
            get = lambda name, shape=(s,): require(arrays, f"node{node_id}/{name}", what, "f", shape)  # noqa: E731
            nodes[node_id] = NodeBaseline(
                node_id=node_id, rate_hz=float(scalars["rate_hz"]), usable=usable, amp_mean=get("amp_mean"),
                amp_var=get("amp_var"), phase_mean=get("phase_mean"), phase_dispersion=get("phase_dispersion"),
                mean=get("mean.real") + 1j * get("mean.imag"), scale=get("scale"), amp_scale=get("amp_scale"),
                eigenmodes=get("eigenmodes", (-1, 2 * s)), motion_level=_motion_level(scalars, stem),
                motion_floor=float(scalars["motion_floor"]),
                activity_floor=float(scalars["activity_floor"]), deviation_floor=float(scalars["deviation_floor"]),
                residual_floor=float(scalars["residual_floor"]), n_frames=int(scalars["n_frames"]),
                seconds=float(scalars["seconds"]), bandwidth_mhz=int(scalars.get("bandwidth_mhz", 20)),
                gain_lines=require(arrays, f"node{node_id}/gain_lines", what, "f", (-1, 2))
                if f"node{node_id}/gain_lines" in arrays else None,
            )
        baseline = RoomBaseline(str(meta["baseline_id"]), float(meta["created_at"]), nodes, str(meta["content_hash"]))
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, StoredFileError):
            raise
        raise StoredFileError(f"baseline {stem} is inconsistent ({error!r}); capture a new one") from None
    if content_hash(nodes) != baseline.content_hash:
        raise StoredFileError(f"baseline {stem} does not match its content hash; capture a new one")
    return baseline


def _motion_level(scalars: dict, stem) -> float:
    """The stored quiet motion level; a baseline from before it existed cannot judge motion."""
    from .persist import StoredFileError

    if "motion_level" not in scalars:
        raise StoredFileError(f"baseline {stem} was recorded by an older RuView that measured motion differently: "
                              "record the empty room again (re-calibrate) and re-enroll the room")
    return float(scalars["motion_level"])
