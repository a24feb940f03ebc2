"""Stage 3 records: the labelled features of one accepted anchor on one node (ADR-151 §2.3).

An :class:`AnchorFeatures` holds the anchor's sliding-window summaries and amplitude shifts
(baseline-subtracted, in the baseline's units) and, per candidate vitals feature, what the
breathing and heart estimators found over the whole clip. Training reads only these records,
never raw CSI, so training a bank takes milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .baseline import NodeBaseline
from ..node.cleaning import last_gap_end
from .features import SUMMARY_NAMES, VITALS_FEATURES, estimate_vitals, sliding_features, vitals_window

VITALS_COLUMNS = ("breathing_bpm", "breathing_confidence", "heart_bpm", "heart_confidence")


@dataclass(frozen=True)
class AnchorFeatures:
    """``summary`` is ``[W, len(SUMMARY_NAMES)]``, ``shifts`` ``[W, S]``, ``vitals``
    ``[len(VITALS_FEATURES), 4]`` (raw bpm, NaN when no peak, and confidence)."""

    anchor: str
    node_id: int
    baseline_id: str
    summary: np.ndarray
    shifts: np.ndarray
    vitals: np.ndarray

    @property
    def n_windows(self) -> int:
        return int(self.summary.shape[0])


def extract_anchor_features(anchor: str, baseline: NodeBaseline, baseline_id: str, times: np.ndarray,
                            csi: np.ndarray, with_vitals: bool = True) -> AnchorFeatures:
    """Features of one node's cleaned anchor clip (``csi`` is ``[N, antennas, S]``)."""
    windows = sliding_features(baseline, times, csi)
    s = int(baseline.usable.sum())
    summary = np.array([w.summary() for w in windows]).reshape(-1, len(SUMMARY_NAMES))
    shifts = np.array([w.amplitude_shift for w in windows]).reshape(-1, s)
    vitals = np.full((len(VITALS_FEATURES), 4), np.nan)
    window = vitals_window(baseline.rate_hz, times, csi) if with_vitals and times.size else None
    # The packets themselves, as the runtime gives them (node.pipeline): the clip's gain is not kept.
    start = last_gap_end(times)
    packets = (times[start:], csi[start:], np.full(times.size - start, np.nan))
    for i, feature in enumerate(VITALS_FEATURES):
        if window is None:
            vitals[i, [1, 3]] = 0.0
            continue
        breathing, heart = estimate_vitals(baseline.rate_hz, baseline.frequency_index, window, feature, feature,
                                           packets=packets)
        vitals[i] = [np.nan if breathing.raw_bpm is None else breathing.raw_bpm, breathing.confidence,
                     np.nan if heart.raw_bpm is None else heart.raw_bpm, heart.confidence]
    return AnchorFeatures(anchor, baseline.node_id, baseline_id, summary, shifts, vitals)


def anchor_arrays(record: AnchorFeatures) -> dict[str, np.ndarray]:
    prefix = f"node{record.node_id}"
    # NaN marks "no peak" in vitals; stored as -1 so that the finiteness check on load holds.
    return {f"{prefix}/summary": record.summary, f"{prefix}/shifts": record.shifts,
            f"{prefix}/vitals": np.nan_to_num(record.vitals, nan=-1.0)}


def records_from_arrays(anchor: str, baseline_id: str, arrays: dict[str, np.ndarray]) -> list[AnchorFeatures]:
    nodes = sorted({int(name.split("/")[0][4:]) for name in arrays if name.startswith("node")})
    out = []
    for node in nodes:
        vitals = arrays[f"node{node}/vitals"].astype(float)
        vitals[:, [0, 2]] = np.where(vitals[:, [0, 2]] < 0, np.nan, vitals[:, [0, 2]])
        out.append(AnchorFeatures(anchor, node, baseline_id, arrays[f"node{node}/summary"],
                                  arrays[f"node{node}/shifts"], vitals))
    return out


def anchor_set_hash(records: list[AnchorFeatures]) -> str:
    """SHA-256 over the records a specialist was trained from (order-independent)."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: (r.anchor, r.node_id)):
        digest.update(f"{record.anchor}/{record.node_id}/{record.baseline_id}".encode())
        for array in (record.summary, record.shifts, np.nan_to_num(record.vitals, nan=-1.0)):
            digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
    return digest.hexdigest()
