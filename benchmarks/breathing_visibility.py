"""Is a person's breathing visible at all in the ESP32 breathing takes? (issue 13)

Run: ``.venv/bin/python benchmarks/breathing_visibility.py [--corpus ../shared/data/real]``.
Prints per feature how the paced takes' spectra stand at their own paced rate against the
other paces' rates, and whether the protocol's breath holds lower the breathing band; the last
line is one JSON object.

No estimator is involved, so nothing here can be tuned to the answer:
- every paced take (Slow 12 / Normal 17 / Fast 26 bpm, one seated person) is cut to a 5 Hz grid
  per feature and its Welch spectrum taken per column (40 s segments, 1.5 bpm resolution);
- ``level(r)``: the mean over the 5 columns most periodic at rate ``r`` (+-1 bpm) of their power
  there over their own 6-40 bpm median. Breathing that shows makes ``level(own pace)`` stand out
  from ``level(other paces)``: the 3-way choice of the highest level should beat chance (1/3),
  and a permutation test of the pace labels says how likely the difference is by chance;
- leave one take out: the 10 columns most periodic at the paced rate in the other takes are
  the chosen subcarriers; the left-out take's peak over them (6-40 bpm) should be within 2 bpm;
- breath holds: the Apnea protocol holds at 20-40 s and 60-80 s; the breathing band's power in
  the holds over that between them, against the same times in the paced takes (no holds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy import signal

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import real_breathing  # noqa: E402

from ruview_core.vitals.breathing import on_uniform_grid  # noqa: E402
from ruview_core.vitals.features import extract_feature  # noqa: E402

GRID_HZ = 5.0
FEATURES = ("amplitude_norm", "phase", "ratio", "conj_ref")
PACES = {"Slow": 12.0, "Normal": 17.0, "Fast": 26.0}
BAND_BPM = (6.0, 40.0)
PERMUTATIONS = 5000


def feature_grid(take: real_breathing.Take, feature: str) -> np.ndarray:
    """The take's feature columns on a ``GRID_HZ`` grid, detrended and band-passed 5-48 bpm."""
    columns = extract_feature(take.csi[:, 0, :], feature, None)
    grid = signal.detrend(on_uniform_grid(take.times, columns, GRID_HZ), axis=0)
    sos = signal.butter(3, [0.08, 0.8], "bandpass", fs=GRID_HZ, output="sos")
    return signal.sosfiltfilt(sos, grid, axis=0)


def column_ratios(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(bpm, power over the column's in-band median)`` per frequency and column."""
    freqs, power = signal.welch(grid, GRID_HZ, nperseg=min(grid.shape[0], int(40 * GRID_HZ)), axis=0)
    bpm = 60.0 * freqs
    band = (bpm >= BAND_BPM[0]) & (bpm <= BAND_BPM[1])
    return bpm, power / np.maximum(np.median(power[band], axis=0), 1e-300)


def level(bpm: np.ndarray, ratios: np.ndarray, rate: float, top: int = 5) -> float:
    at_rate = ratios[np.abs(bpm - rate) <= 1.0].max(axis=0)
    return float(np.sort(at_rate)[::-1][:top].mean())


def pace_test(takes: list[tuple[str, np.ndarray, np.ndarray]], seed: int = 0) -> dict:
    rates = list(PACES.values())
    levels = np.log([[level(bpm, r, rate) for rate in rates] for _, bpm, r in takes])
    labels = np.array([rates.index(PACES[pace]) for pace, _, _ in takes])

    def own_minus_other(lab: np.ndarray) -> float:
        return float(np.mean([levels[i, lab[i]] - np.delete(levels[i], lab[i]).mean() for i in range(lab.size)]))

    observed = own_minus_other(labels)
    rng = np.random.default_rng(seed)
    null = np.array([own_minus_other(rng.permutation(labels)) for _ in range(PERMUTATIONS)])
    loto_hits, peaks = 0, {pace: [] for pace in PACES}
    for i, (pace, bpm, ratios) in enumerate(takes):
        m = min(r.shape[1] for _, _, r in takes)
        others = np.mean([r[np.abs(b - PACES[p]) <= 1.0].max(axis=0)[:m] for j, (p, b, r) in enumerate(takes) if j != i], axis=0)
        chosen = np.argsort(others)[::-1][:10]
        band = (bpm >= BAND_BPM[0]) & (bpm <= BAND_BPM[1])
        peak = bpm[band][np.argmax(ratios[band][:, chosen].mean(axis=1))]
        loto_hits += abs(peak - PACES[pace]) <= 2.0
        peaks[pace].append(float(peak))
    return {"own_minus_other_log_level": round(observed, 3), "permutation_p": round(float(np.mean(null >= observed)), 4),
            "three_way_hits": int(np.sum(levels.argmax(axis=1) == labels)), "takes": len(takes),
            "leave_one_take_out_within_2": int(loto_hits),
            "leave_one_take_out_median_bpm": {pace: round(float(np.median(v)), 1) for pace, v in peaks.items()}}


def hold_ratio(grid: np.ndarray) -> float:
    """log(band power in the protocol's holds / band power between them)."""
    t = np.arange(grid.shape[0]) / GRID_HZ
    power = (grid**2).mean(axis=1)
    holds = ((t >= 22) & (t < 38)) | ((t >= 62) & (t < 78))
    breathing = ((t >= 2) & (t < 18)) | ((t >= 42) & (t < 58))
    return float(np.log(power[holds].mean() / power[breathing].mean()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=real_breathing.CORPUS)
    args = parser.parse_args()
    paths = sorted((args.corpus / "esp32_resp_phuocan").glob("*.csv.gz"))
    if not paths:
        print(json.dumps({"available": False}))
        return
    takes = [real_breathing.load_take(p) for p in paths]
    out: dict = {"available": True, "features": {}}
    print(f"{'feature':15s} {'own-other':>9s} {'perm p':>7s} {'3-way':>6s} {'LOTO<=2':>8s} {'LOTO median slow/normal/fast':>29s} "
          f"{'holds: apnea':>13s} {'paced':>7s}")
    for feature in FEATURES:
        grids = {t.name: feature_grid(t, feature) for t in takes}
        paced = [(t.scenario, *column_ratios(grids[t.name])) for t in takes if t.scenario in PACES]
        test = pace_test(paced)
        apnea = [hold_ratio(grids[t.name]) for t in takes if t.apnea]
        others = [hold_ratio(grids[t.name]) for t in takes if t.scenario in PACES]
        test |= {"apnea_hold_log_ratio": [round(v, 2) for v in apnea],
                 "paced_same_times_log_ratio": [round(v, 2) for v in others]}
        out["features"][feature] = test
        print(f"{feature:15s} {test['own_minus_other_log_level']:9.3f} {test['permutation_p']:7.3f} "
              f"{test['three_way_hits']:3d}/{test['takes']:<2d} {test['leave_one_take_out_within_2']:5d}/{test['takes']:<2d} "
              f"{'/'.join(str(v) for v in test['leave_one_take_out_median_bpm'].values()):>29s} "
              f"{np.median(apnea):13.2f} {np.median(others):7.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
