"""Breathing rate, its confidence and breath-hold pauses on real recordings.

Run: ``.venv/bin/python benchmarks/real_breathing.py [--quick]`` (``--corpus`` defaults to
``../shared/data/real``). Prints tables; the last line is one JSON object.
``benchmarks/bench_real.py`` imports :func:`score_breathing`.

Protocol: every file is replayed the way the product sees it: packets with their own
timestamps, a window of the last ``WINDOW_S`` seconds (shorter at the start, from
``FIRST_S`` on) every ``HOP_S`` seconds, at the packet rate measured from the timestamps. The
estimator gets each window's packets, their times and the overall gain (mean amplitude, RSSI).

- ``nist_breathesmart``: a mechanical phantom at an exact rate (4-30 bpm), 3 antennas and
  antenna 0 alone (the same recording, so not independent cases). Scored per window from 30 s.
- ``esp32_resp_phuocan``: one seated person breathing at paced 12 / 17 / 26 bpm (nominal, not
  measured), plus Noise (17 bpm with disturbances) and Apnea (breath holds) takes. Scored by
  the per-take median of the committed rates; Apnea takes by whether a pause is reported.

The commit threshold is chosen on one source and checked on the other (both directions), so
no threshold is tuned to the files it is judged on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruview_core.frames import CsiFrame  # noqa: E402
from ruview_core.sources.replay import read_recording  # noqa: E402
from ruview_core.vitals import estimate_breathing, find_pauses  # noqa: E402
from ruview_core.vitals.breathing import MIN_CONFIDENCE  # noqa: E402

CORPUS = ROOT.parent / "shared" / "data" / "real"
WINDOW_S = 60.0
FIRST_S = 20.0
SCORED_FROM_S = 30.0
HOP_S = 2.0
QUICK_HOP_S = 5.0
CONFIDENCE_BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.01)
TARGET_WITHIN_2 = 0.9
PACED = ("Slow", "Normal", "Fast")


@dataclass
class Take:
    """One recording: packet ``times`` (s from the first), complex ``csi`` ``[N, antennas, S]``,
    ``gain`` ``[N, 2]`` (log mean amplitude, RSSI), the true rate (None if unknown)."""

    name: str
    source: str
    scenario: str
    truth_bpm: float | None
    times: np.ndarray
    csi: np.ndarray
    gain: np.ndarray
    apnea: bool = False

    @property
    def rate_hz(self) -> float:
        return float(1.0 / np.median(np.diff(self.times)))


@dataclass
class Window:
    end_s: float
    raw_bpm: float | None
    confidence: float


@dataclass
class TakeResult:
    take: Take
    windows: list[Window] = field(default_factory=list)
    pauses: list[tuple[float, float]] = field(default_factory=list)

    def committed(self, threshold: float, from_s: float = 0.0) -> list[float]:
        return [w.raw_bpm for w in self.windows
                if w.end_s >= from_s and w.raw_bpm is not None and w.confidence >= threshold]


def channel_bins(csi: np.ndarray) -> np.ndarray:
    """Subcarrier bins that carry channel: not null, and not the ESP32-CSI-Tool rows' leading
    non-CSI word (an outlier in level next to null bins). Stand-in until the source layout is
    known from the reader (issue 20 item 1)."""
    level = np.median(np.abs(csi).reshape(csi.shape[0], -1, csi.shape[-1]).mean(axis=1), axis=0)
    typical = np.median(level[level > 0.05 * level.max()])
    return (level > 0.25 * typical) & (level < 4.0 * typical)


def load_take(path: Path) -> Take:
    frames = [f for f in read_recording(path, Counter()) if isinstance(f, CsiFrame)]
    # One PPDU kind only: a 20 MHz legacy frame among HT40 ones has another bin layout.
    kind = Counter((f.flags, f.csi.shape) for f in frames).most_common(1)[0][0]
    frames = [f for f in frames if (f.flags, f.csi.shape) == kind]
    times = np.array([f.timestamp for f in frames])
    order = np.argsort(times, kind="stable")
    csi = np.array([frames[i].csi for i in order])
    csi = csi[:, :, channel_bins(csi)]
    rssi = np.array([frames[i].rssi for i in order], dtype=np.float64)
    gain = np.column_stack([np.log(np.maximum(np.abs(csi).mean(axis=(1, 2)), 1e-9)), rssi])
    stem = path.name.split(".")[0]
    labels = json.loads(path.with_name(stem + ".labels.json").read_text())
    first = labels["segments"][0]["labels"]
    source = labels["dataset"]
    if source == "nist_breathesmart":
        scenario = "phantom_1ant" if stem.endswith("_ant1") else "phantom_3ant"
    else:
        scenario = stem.split("_")[1]
    apnea = any(s["labels"].get("apnea") for s in labels["segments"])
    return Take(stem, source, scenario, first.get("breathing_bpm"), times[order] - times[order][0], csi, gain, apnea)


def run_take(take: Take, hop_s: float) -> TakeResult:
    result = TakeResult(take)
    rate = take.rate_hz
    for end in np.arange(FIRST_S, take.times[-1] + 1e-9, hop_s):
        rows = (take.times >= end - WINDOW_S) & (take.times < end)
        estimate = estimate_breathing(take.csi[rows], rate, times=take.times[rows], gain=take.gain[rows])
        result.windows.append(Window(float(end), estimate.raw_bpm, estimate.confidence))
    result.pauses = find_pauses(take.csi, take.times, rate, gain=take.gain)
    return result


def reliability(pairs: list[tuple[float, float | None, float]]) -> list[dict]:
    """Per confidence bin: windows, share within 1 / 2 bpm; and, committing from the bin's
    lower edge up, the coverage and the share within 2 bpm of what is committed."""
    conf = np.array([c for c, _, _ in pairs]) if pairs else np.zeros(0)
    error = np.array([np.inf if b is None else abs(b - t) for _, b, t in pairs]) if pairs else np.zeros(0)
    rows = []
    for low, high in zip(CONFIDENCE_BINS[:-1], CONFIDENCE_BINS[1:]):
        inside = (conf >= low) & (conf < high)
        above = conf >= low
        rows.append({
            "bin": f"{low:.1f}-{min(high, 1.0):.1f}", "low": low, "windows": int(inside.sum()),
            "within_1": _share(error[inside] <= 1.0), "within_2": _share(error[inside] <= 2.0),
            "coverage_from": _share(above), "within_2_from": _share(error[above] <= 2.0),
        })
    return rows


def _share(mask: np.ndarray) -> float | None:
    return round(float(np.mean(mask)), 3) if mask.size else None


def choose_threshold(table: list[dict], target: float = TARGET_WITHIN_2) -> float | None:
    """The lowest bin edge from which committed rates are within 2 bpm at least ``target`` of the time."""
    for row in table:
        if row["within_2_from"] is not None and row["within_2_from"] >= target and row["coverage_from"]:
            return row["low"]
    return None


def _window_pairs(results: list[TakeResult], from_s: float) -> list[tuple[float, float | None, float]]:
    return [(w.confidence, w.raw_bpm, r.take.truth_bpm) for r in results if r.take.truth_bpm is not None
            for w in r.windows if w.end_s >= from_s]


def phantom_scores(results: list[TakeResult], threshold: float) -> dict:
    pairs = _window_pairs(results, SCORED_FROM_S)
    committed = [abs(b - t) for c, b, t in pairs if b is not None and c >= threshold]
    # The best guess whatever its confidence: whether the rate is in the signal at all.
    guessed = [b is not None and abs(b - t) <= 2.0 for _, b, t in pairs]
    return {"windows": len(pairs), "coverage": round(len(committed) / max(len(pairs), 1), 3),
            "raw_within_2": _share(np.array(guessed)),
            "mae_bpm": round(float(np.mean(committed)), 3) if committed else None,
            "within_2": round(float(np.mean(np.array(committed) <= 2.0)), 3) if committed else None}


def esp32_scores(results: list[TakeResult], threshold: float) -> dict:
    per_take = []
    for r in results:
        if r.take.scenario not in PACED + ("Noise",):
            continue
        rates = r.committed(threshold)
        median = float(np.median(rates)) if rates else None
        per_take.append({"take": r.take.name, "scenario": r.take.scenario, "paced_bpm": r.take.truth_bpm,
                         "median_bpm": None if median is None else round(median, 1),
                         "coverage": round(len(rates) / max(len(r.windows), 1), 3)})
    paced = [t for t in per_take if t["scenario"] in PACED]
    hits = [t["median_bpm"] is not None and abs(t["median_bpm"] - t["paced_bpm"]) <= 2.0 for t in paced]
    by_pace = {s: [t["median_bpm"] for t in paced if t["scenario"] == s and t["median_bpm"] is not None] for s in PACED}
    medians = [float(np.median(v)) if v else None for v in by_pace.values()]
    ordered = all(m is not None for m in medians) and medians[0] < medians[1] < medians[2]
    return {"takes": per_take, "paced_within_2": round(float(np.mean(hits)), 3) if hits else None,
            "pace_medians_bpm": dict(zip(PACED, [None if m is None else round(m, 1) for m in medians])),
            "slow_lt_normal_lt_fast": ordered}


def pause_scores(results: list[TakeResult]) -> dict:
    apnea = [bool(r.pauses) for r in results if r.take.apnea]
    others = [bool(r.pauses) for r in results if not r.take.apnea]
    return {"apnea_takes": len(apnea), "apnea_flagged": _share(np.array(apnea)),
            "other_takes": len(others), "others_flagged": _share(np.array(others))}


def score_breathing(corpus_root: Path = CORPUS, quick: bool = False) -> dict:
    """Scores of :func:`~ruview_core.vitals.estimate_breathing` and pauses on the corpus."""
    paths = sorted((corpus_root / "nist_breathesmart").glob("*.csi.jsonl.gz"))
    paths += sorted((corpus_root / "esp32_resp_phuocan").glob("*.csv.gz"))
    if not paths:
        return {"available": False, "corpus": str(corpus_root)}
    hop = QUICK_HOP_S if quick else HOP_S
    results = [run_take(load_take(p), hop) for p in paths]
    phantom = [r for r in results if r.take.source == "nist_breathesmart"]
    esp32 = [r for r in results if r.take.source != "nist_breathesmart"]
    tables = {"phantom": reliability(_window_pairs(phantom, SCORED_FROM_S)),
              "esp32": reliability(_window_pairs([r for r in esp32 if r.take.scenario in PACED], FIRST_S))}
    chosen = {name: choose_threshold(table) for name, table in tables.items()}
    out: dict = {"available": True, "hop_s": hop, "window_s": WINDOW_S, "min_confidence": MIN_CONFIDENCE,
                 "threshold_chosen_on": chosen, "reliability": tables}
    for label, threshold in (("default", MIN_CONFIDENCE), ("chosen_on_esp32", chosen["esp32"]),
                             ("chosen_on_phantom", chosen["phantom"])):
        if threshold is None:
            continue
        out[label] = {
            "threshold": threshold,
            "phantom_3ant": phantom_scores([r for r in phantom if r.take.scenario == "phantom_3ant"], threshold),
            "phantom_1ant": phantom_scores([r for r in phantom if r.take.scenario == "phantom_1ant"], threshold),
            "esp32": esp32_scores(esp32, threshold),
        }
    out["pauses"] = pause_scores(esp32) | {"phantom_flagged": pause_scores(phantom)["others_flagged"]}
    return out


def print_reliability(name: str, table: list[dict]) -> None:
    """One :func:`reliability` table, readable."""
    print(f"\nreliability, {name} (confidence bin -> share within 1 / 2 bpm; committing from the bin up)")
    print(f"{'bin':>8} {'windows':>8} {'within1':>8} {'within2':>8} {'cov>=':>7} {'w2>=':>7}")
    for row in table:
        print(f"{row['bin']:>8} {row['windows']:>8} {_fmt(row['within_1']):>8} {_fmt(row['within_2']):>8} "
              f"{_fmt(row['coverage_from']):>7} {_fmt(row['within_2_from']):>7}")


def print_tables(scores: dict) -> None:
    for name, table in scores["reliability"].items():
        print_reliability(name, table)
    print(f"\nthreshold chosen (lowest edge with >= {TARGET_WITHIN_2:.0%} within 2 bpm): {scores['threshold_chosen_on']}")
    for label in ("default", "chosen_on_esp32", "chosen_on_phantom"):
        if label not in scores:
            continue
        s = scores[label]
        print(f"\n{label} (commit from {s['threshold']}):")
        for name in ("phantom_3ant", "phantom_1ant"):
            p = s[name]
            print(f"  {name}: MAE {_fmt(p['mae_bpm'])} bpm, coverage {_fmt(p['coverage'])} of {p['windows']} windows"
                  f" from {SCORED_FROM_S:.0f} s, within 2 bpm {_fmt(p['within_2'])}"
                  f" (best guess within 2 bpm, committed or not: {_fmt(p.get('raw_within_2'))})")
        e = s["esp32"]
        print(f"  esp32: paced takes with median within 2 bpm {_fmt(e['paced_within_2'])}; "
              f"medians {e['pace_medians_bpm']}; slow<normal<fast {e['slow_lt_normal_lt_fast']}")
    print(f"\npauses: {scores['pauses']}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"a window every {QUICK_HOP_S:.0f} s instead of {HOP_S:.0f} s")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    scores = score_breathing(args.corpus, args.quick)
    if scores["available"]:
        print_tables(scores)
        for take in scores.get("default", {}).get("esp32", {}).get("takes", []):
            print(f"  {take['take']}: median {_fmt(take['median_bpm'])} (paced {take['paced_bpm']}), coverage {take['coverage']}")
    print(json.dumps(scores, default=float))


if __name__ == "__main__":
    main()
