"""The anchor quality gate (ADR-151 §2.2): accept a clip only when it teaches what it should.

Bad anchors poison small models far more than big ones, so a clip is refused unless enough
frames arrived, nothing clipped, the room looks as the anchor says (changed by a person, or
still empty), the person was still (or moving, for ``small_move``), and a breathe_* anchor
shows a rhythm in its band. Every refusal says what the person can do about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .anchors import Anchor
from .baseline import RoomBaseline
from .records import AnchorFeatures

MIN_FRAME_SHARE = 0.6  # of duration x rate
MAX_SATURATION = 0.05
PRESENCE_MARGIN = 3.0  # x the empty room's own largest deviation (at least 1): sessions drift apart
STILL_MOTION_LIMIT = 1.3  # motion_index (x the baseline's floor, and at least this)
# small_move is accepted on a lower bar: at the default SNR fidgeting lifts motion_index only
# a little above the empty room's largest window, and the still anchors stay below it.
SMALL_MOVE_LIMIT = 1.06
MAX_MOVING_SHARE = 0.3
MIN_RHYTHM_CONFIDENCE = 0.2
AGREEMENT_BPM = 0.5
# The refusals, also shown live by the add-on's page while a capture runs.
REASON_CLIPPING = "the signal is clipping: move the sensor a little further from the router, then retry"
REASON_UNCHANGED = "hardly different from the empty room: stand between the router and the sensor, then retry"
REASON_NOT_EMPTY = ("the room does not look empty: leave the room and close the door, or re-calibrate "
                    "if furniture moved")
REASON_NOT_MOVING = "hardly any movement seen: keep shifting, moving your arms and fidgeting for the whole time"
REASON_TOO_MOVING = "too much movement: stay as still as you can for the whole time, then retry"


def no_rhythm_reason(low: float, high: float) -> str:
    pace = "slowly, about 4 s in and 4 s out" if high <= 12 else "normally and evenly"
    return (f"no clear breathing rhythm in {low:g}-{high:g} breaths/min: sit still facing the "
            f"sensor and breathe {pace}, then retry")


@dataclass(frozen=True)
class GateResult:
    accepted: bool
    reasons: tuple[str, ...] = ()
    metrics: dict = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def check_anchor(anchor: Anchor, baseline: RoomBaseline, records: list[AnchorFeatures],
                 frames: dict[int, int], saturated: dict[int, int], seconds: float) -> GateResult:
    """Gate one anchor clip: ``records`` per node, ``frames``/``saturated`` kept frame counts per node."""
    reasons: list[str] = []
    metrics: dict = {"frames": dict(frames)}
    expected = {n: MIN_FRAME_SHARE * seconds * b.rate_hz for n, b in baseline.nodes.items()}
    short = [n for n in baseline.nodes if frames.get(n, 0) < expected[n]]
    if len(short) == len(baseline.nodes):
        reasons.append(f"too few frames arrived ({sum(frames.values())} in {seconds:.0f} s): check that the sensors "
                       "are powered and streaming, then retry")
    records = [r for r in records if r.node_id not in short and r.n_windows]
    if not records:
        return GateResult(False, tuple(reasons) or ("no usable window in the clip: retry",), metrics)
    clipping = max(saturated.get(n, 0) / max(frames.get(n, 1), 1) for n in frames)
    metrics["saturation"] = round(clipping, 3)
    if clipping > MAX_SATURATION:
        reasons.append(REASON_CLIPPING)

    shift = {r.node_id: float(np.exp(np.median(r.summary[:, 0])) / max(baseline.nodes[r.node_id].deviation_floor, 1.0))
             for r in records}
    best_rhythm = float(np.nanmax(records_rhythm(records)))
    metrics.update(shift={n: round(v, 2) for n, v in shift.items()}, rhythm_confidence=round(best_rhythm, 2))
    changed = max(shift.values()) > PRESENCE_MARGIN or best_rhythm >= MIN_RHYTHM_CONFIDENCE
    if anchor.presence and not changed:
        reasons.append(REASON_UNCHANGED)
    if not anchor.presence and max(shift.values()) > PRESENCE_MARGIN:
        reasons.append(REASON_NOT_EMPTY)

    moving_share = max(_moving_share(r, baseline, SMALL_MOVE_LIMIT if anchor.moving else STILL_MOTION_LIMIT)
                       for r in records)
    metrics["moving_share"] = round(moving_share, 2)
    if anchor.moving and moving_share < MAX_MOVING_SHARE:
        reasons.append(REASON_NOT_MOVING)
    if not anchor.moving and moving_share > MAX_MOVING_SHARE:
        reasons.append(REASON_TOO_MOVING)

    if anchor.breathing_band_bpm is not None:
        low, high = anchor.breathing_band_bpm
        found = [float(bpm) for r in records for bpm in _rhythm_in_band(r.vitals, low, high)]
        metrics["breathing_bpm"] = round(float(np.median(found)), 1) if found else None
        if not found:
            reasons.append(no_rhythm_reason(low, high))
    return GateResult(not reasons, tuple(reasons), metrics)


def records_rhythm(records: list[AnchorFeatures]) -> np.ndarray:
    """Best breathing confidence of each record (over the candidate features)."""
    return np.array([np.nanmax(r.vitals[:, 1]) if r.vitals.size else 0.0 for r in records])


def _moving_share(record: AnchorFeatures, baseline: RoomBaseline, factor: float = STILL_MOTION_LIMIT) -> float:
    """Share of the record's windows whose motion_index exceeds ``factor`` x the empty room's floor."""
    limit = max(factor, factor * baseline.nodes[record.node_id].motion_floor)
    return float(np.mean(np.exp(record.summary[:, 2]) > limit))


def _rhythm_in_band(vitals: np.ndarray, low: float, high: float) -> list[float]:
    """Breathing rates inside the band that are confident, or found alike by two features.

    Two different features (amplitude shape, complex CSI) landing on the same peak within
    ``AGREEMENT_BPM`` is periodicity even when each alone is below the estimator's confidence.
    """
    bpm, confidence = vitals[:, 0], vitals[:, 1]
    inside = np.isfinite(bpm) & (bpm >= low) & (bpm <= high)
    sure = list(bpm[inside & (confidence >= MIN_RHYTHM_CONFIDENCE)])
    rates = bpm[inside]
    agreeing = [float(a) for i, a in enumerate(rates) for b in rates[i + 1:] if abs(a - b) <= AGREEMENT_BPM]
    return sure or agreeing
