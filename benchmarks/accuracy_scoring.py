"""Scores of the accuracy benchmark: per-window rows (truth next to the fused room state) in,
metrics out. Pure functions over lists of dicts; ``bench_accuracy.py`` produces the rows.

A row is one scored hop of one session: ``scenario``, ``fault`` (None for a normal session),
``t`` (seconds since the session start), ``truth_*`` from the simulator's per-second truth and
``pred_*`` from ``RoomState.to_dict()`` (``None`` where the runtime reported no value).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

STILL_SCENARIOS = ("stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal", "sleep_posture")
MOVING_SCENARIOS = ("walk", "small_move")
ANOMALY_FLAG = 0.5  # anomaly value at which the runtime vetoes (specialists.anomaly.VETO)
FAULT_GRACE_S = 2.0  # a fault window counts as missed only from this long after the fault began
RECOVERY_S = 10.0  # after the fault ends, windows this much later must be normal again


def share(hits: Iterable[bool]) -> float | None:
    hits = list(hits)
    return float(np.mean(hits)) if hits else None


def mean_abs_error(pairs: list[tuple[float, float]]) -> float | None:
    return float(np.mean([abs(p - t) for p, t in pairs])) if pairs else None


def ranking_auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a positive outranks a negative), ties counting half (Mann-Whitney U / n1 n2)."""
    if not positives or not negatives:
        return None
    pos, neg = np.asarray(positives, float), np.asarray(negatives, float)
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


def f1_score(truth: list[bool], predicted: list[bool]) -> float | None:
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None


def flagged(row: dict) -> bool:
    return bool(row["vetoed"]) or (row["pred_anomaly"] is not None and row["pred_anomaly"] >= ANOMALY_FLAG)


def _vital(rows: list[dict], name: str, within: float) -> dict:
    """MAE over windows with both values; coverage = share of truth seconds that got a value."""
    truthful = [r for r in rows if r[f"truth_{name}"] is not None]
    pairs = [(r[f"pred_{name}"], r[f"truth_{name}"]) for r in truthful if r[f"pred_{name}"] is not None]
    still = [r for r in truthful if r["scenario"] in STILL_SCENARIOS]
    return {
        f"{name}_mae": mean_abs_error(pairs),
        f"{name}_within_{within:g}": share(abs(p - t) <= within for p, t in pairs),
        f"{name}_coverage": share(r[f"pred_{name}"] is not None for r in truthful),
        f"{name}_coverage_still": share(r[f"pred_{name}"] is not None for r in still),
        f"{name}_n": len(pairs),
    }


def score_rows(rows: list[dict]) -> dict:
    """Every metric of the benchmark over one group of rows (normal and fault sessions)."""
    normal = [r for r in rows if r["fault"] is None]
    faulty = [r for r in rows if r["fault"] is not None]
    still = [r for r in normal if r["scenario"] in STILL_SCENARIOS]
    moving = [r for r in normal if r["scenario"] in MOVING_SCENARIOS]
    empty = [r for r in normal if r["scenario"] == "empty"]
    out: dict = {
        "windows": len(normal),
        "presence_accuracy": share(r["pred_presence"] == r["truth_presence"] for r in normal),
        "presence_still": share(r["pred_presence"] is True for r in still),
        "presence_moving": share(r["pred_presence"] is True for r in moving),
        "presence_empty": share(r["pred_presence"] is False for r in empty),
        "presence_coverage": share(r["pred_presence"] is not None for r in normal),
    }
    # Motion: walk / small_move against every still or empty window; no value counts as "not moving".
    out["motion_f1"] = f1_score([bool(r["truth_motion"]) for r in normal], [r["pred_motion"] is True for r in normal])
    out["motion_recall"] = share(r["pred_motion"] is True for r in moving)
    out["motion_false_rate"] = share(r["pred_motion"] is True for r in normal if not r["truth_motion"])
    posed_still = [r for r in still if r["truth_posture"] is not None]
    posed = [r for r in normal if r["truth_posture"] is not None]
    out["posture_accuracy"] = share(r["pred_posture"] == r["truth_posture"] for r in posed_still)
    out["posture_coverage"] = share(r["pred_posture"] is not None for r in posed_still)
    out["posture_accuracy_when_given"] = share(r["pred_posture"] == r["truth_posture"]
                                               for r in posed_still if r["pred_posture"] is not None)
    out["posture_accuracy_all"] = share(r["pred_posture"] == r["truth_posture"] for r in posed)
    out.update(_vital(normal, "breathing_bpm", 1.0))
    out.update(_vital(normal, "heart_bpm", 5.0))
    restless = [r["pred_restlessness"] for r in normal if r["scenario"] == "small_move" and r["pred_restlessness"] is not None]
    calm = [r["pred_restlessness"] for r in normal if r["scenario"] == "sleep_posture" and r["pred_restlessness"] is not None]
    out["restlessness_auc"] = ranking_auc(restless, calm)
    out["restlessness_coverage"] = share(r["pred_restlessness"] is not None for r in normal
                                         if r["scenario"] in ("small_move", "sleep_posture"))
    out["anomaly_false_alarm"] = share(flagged(r) for r in normal)
    out["stale_false_rate"] = share(bool(r["stale"]) for r in normal)
    out.update(score_faults(faulty))
    return out


def score_faults(rows: list[dict]) -> dict:
    """Detection rate per fault kind (windows inside the fault, after the grace), recovery after it."""
    out: dict = {}
    inside_all, after_all = [], []
    for fault in sorted({r["fault"] for r in rows}):
        mine = [r for r in rows if r["fault"] == fault]
        inside = [flagged(r) for r in mine if r["fault_start"] + FAULT_GRACE_S <= r["t"] < r["fault_end"]]
        after = [flagged(r) for r in mine if r["t"] >= r["fault_end"] + RECOVERY_S]
        out[f"detect_{fault}"] = share(inside)
        inside_all += inside
        after_all += after
    if rows:
        out["anomaly_detection"] = share(inside_all)
        out["flagged_after_fault"] = share(after_all)
        out["fault_latency_s"] = _median_latency(rows)
    return out


def _median_latency(rows: list[dict]) -> float | None:
    """Median over fault sessions of the first flagged window's delay after the fault began."""
    latencies = []
    for key in sorted({r["session"] for r in rows}):
        mine = [r for r in rows if r["session"] == key and r["t"] >= r["fault_start"] and flagged(r)]
        if mine:
            latencies.append(min(r["t"] for r in mine) - mine[0]["fault_start"])
    return float(np.median(latencies)) if latencies else None


def by_scenario(rows: list[dict]) -> dict[str, dict]:
    """Presence, motion, posture and vitals per scenario of the normal sessions."""
    table = {}
    for scenario in sorted({r["scenario"] for r in rows if r["fault"] is None}):
        mine = [r for r in rows if r["fault"] is None and r["scenario"] == scenario]
        breathing = _vital(mine, "breathing_bpm", 1.0)
        heart = _vital(mine, "heart_bpm", 5.0)
        posed = [r for r in mine if r["truth_posture"] is not None]
        table[scenario] = {
            "windows": len(mine),
            "presence": share(r["pred_presence"] == r["truth_presence"] for r in mine),
            "motion_said": share(r["pred_motion"] is True for r in mine),
            "posture": share(r["pred_posture"] == r["truth_posture"] for r in posed),
            "posture_cov": share(r["pred_posture"] is not None for r in posed),
            "breath_mae": breathing["breathing_bpm_mae"], "breath_cov": breathing["breathing_bpm_coverage"],
            "heart_mae": heart["heart_bpm_mae"], "heart_cov": heart["heart_bpm_coverage"],
            "restless_mean": _mean([r["pred_restlessness"] for r in mine]),
            "flagged": share(flagged(r) for r in mine),
        }
    return table


def _mean(values: list) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def fmt(value, width: int = 8, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-".rjust(width)
    if isinstance(value, float):
        return f"{value:.{digits}f}".rjust(width)
    return (" " + str(value)).rjust(width)


def table(title: str, rows: dict[str, dict], columns: list[tuple[str, str]], key_width: int = 16) -> str:
    """A fixed-width text table: one line per key of ``rows``, ``columns`` as (metric, header)."""
    widths = [max(len(header), 7) + 1 for _, header in columns]
    lines = [title, "".ljust(key_width) + "".join(h.rjust(w) for (_, h), w in zip(columns, widths, strict=True))]
    for key, metrics in rows.items():
        lines.append(str(key).ljust(key_width) + "".join(fmt(metrics.get(m), w) for (m, _), w in zip(columns, widths, strict=True)))
    return "\n".join(lines)
