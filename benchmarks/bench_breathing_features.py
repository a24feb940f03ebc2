"""Which CSI feature recovers the simulator's breathing rate best?

For each SNR, scenario and seed, simulates a node with two antennas, cleans the last
``--window`` seconds into a uniform window (``ruview_core.node.window``), and runs the
breathing estimator with every feature and combiner. Prints per feature/combiner:

- ``mae``: mean absolute error of the best peak (``raw_bpm``) against the true mean rate,
  whatever the confidence (capped at 15 bpm per window so one wild miss does not dominate);
- ``within1``: share of windows whose peak is within 1 bpm;
- ``reported`` / ``reported_mae``: share of windows where the estimator gave a number
  (confidence above its threshold) and the MAE of those numbers;
- ``false_empty`` / ``false_walk``: numbers reported for an empty room / a walking person.

Heart-rate MAE (default feature) is reported too. The last line is one JSON object.
Run: ``python benchmarks/bench_breathing_features.py [--seeds 6] [--snrs 15,25,35]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ruview_core.node.window import prepare_window, stack_frames  # noqa: E402
from ruview_core.sim import SimConfig, simulate  # noqa: E402
from ruview_core.vitals import FEATURES, estimate_breathing, estimate_heart_rate  # noqa: E402
from ruview_core.vitals.periodicity import COMBINERS  # noqa: E402

VITAL_SCENARIOS = ("breathe_normal", "breathe_slow", "lie_down", "sit")
NULL_SCENARIOS = ("empty", "walk")
ERROR_CAP_BPM = 15.0


def _window(scenario: str, seed: int, snr: float, seconds: float, rate: float):
    sim = simulate(SimConfig(scenario=scenario, seed=seed, snr_db=snr, duration=seconds + 1,
                             n_antennas=2, rate_hz=rate))
    times, csi, _ = stack_frames(sim.frames())
    keep = times >= times[-1] - seconds
    window = prepare_window(times[keep], csi[keep], rate)
    truth = sim.truth()[-int(seconds):]
    breathing = [r["breathing_bpm"] for r in truth if r["breathing_bpm"] is not None]
    heart = [r["heart_bpm"] for r in truth if r["heart_bpm"] is not None]
    return window, (float(np.mean(breathing)) if breathing else None), (float(np.mean(heart)) if heart else None)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--snrs", default="15,25,35")
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args(argv)
    snrs = [float(s) for s in args.snrs.split(",")]
    started = time.perf_counter()
    results: dict[str, dict] = {}
    for snr in snrs:
        stats: dict[str, dict[str, list]] = {}
        heart_errors: list[float] = []
        for scenario in VITAL_SCENARIOS + NULL_SCENARIOS:
            for seed in range(args.seeds):
                window, breathing, heart = _window(scenario, seed, snr, args.window, args.rate)
                single = window.csi[:, :1, :]  # one antenna, as on most ESP32 boards
                for feature in FEATURES:
                    data = window.csi if feature == "antenna_ratio" else single
                    for combiner in COMBINERS:
                        est = estimate_breathing(data, args.rate, feature=feature, combiner=combiner,
                                                 frequency_index=window.frequency_index)
                        s = stats.setdefault(f"{feature}/{combiner}", {k: [] for k in
                                                                       ("err", "reported", "false_empty", "false_walk")})
                        if breathing is not None:
                            err = ERROR_CAP_BPM if est.raw_bpm is None else min(abs(est.raw_bpm - breathing), ERROR_CAP_BPM)
                            s["err"].append(err)
                            s["reported"].append(None if est.bpm is None else abs(est.bpm - breathing))
                        else:
                            s["false_" + scenario].append(est.bpm is not None)
                if heart is not None:
                    b = estimate_breathing(single, args.rate, frequency_index=window.frequency_index)
                    h = estimate_heart_rate(single[-int(30 * args.rate):], args.rate, breathing_bpm=b.raw_bpm,
                                            frequency_index=window.frequency_index)
                    heart_errors.append(ERROR_CAP_BPM if h.raw_bpm is None else min(abs(h.raw_bpm - heart), ERROR_CAP_BPM))
        table = {}
        for key, s in stats.items():
            err = np.array(s["err"])
            reported = [r for r in s["reported"] if r is not None]
            table[key] = {
                "mae": round(float(err.mean()), 2),
                "within1": round(float(np.mean(err < 1.0)), 2),
                "reported": round(len(reported) / max(len(s["reported"]), 1), 2),
                "reported_mae": round(float(np.mean(reported)), 2) if reported else None,
                "false_empty": int(sum(s["false_empty"])),
                "false_walk": int(sum(s["false_walk"])),
            }
        results[f"{snr:g}"] = {"breathing": table, "heart_mae_raw": round(float(np.mean(heart_errors)), 2)}
        print(f"SNR {snr:g} dB ({args.seeds} seeds x {len(VITAL_SCENARIOS)} scenarios, {args.window:g} s windows)")
        print(f"  {'feature/combiner':26s} {'mae':>6s} {'<1bpm':>6s} {'reported':>8s} {'rep.mae':>7s} {'false e/w':>9s}")
        for key, row in sorted(table.items(), key=lambda kv: kv[1]["mae"]):
            rep_mae = "-" if row["reported_mae"] is None else f"{row['reported_mae']:.2f}"
            print(f"  {key:26s} {row['mae']:6.2f} {row['within1']:6.2f} {row['reported']:8.2f} {rep_mae:>7s}"
                  f" {row['false_empty']:4d}/{row['false_walk']:<4d}")
        print(f"  heart (default feature, raw peak, 30 s) mae {results[f'{snr:g}']['heart_mae_raw']:.2f} bpm")
    summary = {
        "seeds": args.seeds, "window_s": args.window, "scenarios": list(VITAL_SCENARIOS),
        "breathing_mae": {snr: {k: v["mae"] for k, v in r["breathing"].items()} for snr, r in results.items()},
        "breathing_reported": {snr: {k: [v["reported"], v["reported_mae"]] for k, v in r["breathing"].items()}
                               for snr, r in results.items()},
        "false_reports": {snr: {k: v["false_empty"] + v["false_walk"] for k, v in r["breathing"].items()}
                          for snr, r in results.items()},
        "heart_mae": {snr: r["heart_mae_raw"] for snr, r in results.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
