"""Breathing's stillness gate on real packet timing: quiet vs moving windows of the real corpus.

The breathing estimator withholds a rate while the scene moves: :func:`stillness_factor` reads
the ratio of the amplitude shape's power at 0.7-2.5 Hz to that at 3.5-6 Hz (1 still, 0 moving).
The features are put on a uniform grid first, and on real receivers (lost packets, irregular
timing) the interpolation low-passes: white noise alone reads about 2 there. This prints, per
labelled window of the real corpus (15 s, streams of at least 12 packets/s, where the gate can
see its upper band), the gate as it was (``plain``) and judged against what white noise gets
from the same packet times (``sampled``, the product's since 2026-12-04).

    .venv/bin/python benchmarks/real_stillness.py [--root ../shared/data/real]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ruview_core.dsp.subcarriers import usable_subcarriers  # noqa: E402
from ruview_core.node.cleaning import raw_arrays  # noqa: E402
from ruview_core.vitals.breathing import on_uniform_grid, sampled_noise, stillness_columns  # noqa: E402
from ruview_core.vitals.periodicity import motion_ratio, stillness_factor  # noqa: E402

import real_corpus  # noqa: E402  (run as a script from benchmarks/)

WINDOW_S = 15.0
MIN_PACKETS = 64


def window_gates(path: Path) -> list[dict]:
    """Each labelled 15 s window of one recording: its motion label and both gates."""
    recording = real_corpus.load(path)
    times, csi, _ = raw_arrays(recording.frames)
    if times.size < MIN_PACKETS:
        return []
    order = np.argsort(times, kind="stable")
    times, csi = times[order], csi[order]
    csi = csi[:, :, usable_subcarriers(np.abs(csi[:, 0, :]))]
    rate = float(round(times.size / np.ptp(times)))
    found = []
    for segment in recording.labels["segments"]:
        moving = segment["labels"].get("motion")
        if moving is None:
            continue
        # The first second after a label change is not scored (as bench_real.py).
        for start in np.arange(times[0] + segment["start"] + 1.0, times[0] + segment["end"] - WINDOW_S + 1e-9, WINDOW_S):
            rows = (times >= start) & (times < start + WINDOW_S)
            if rows.sum() < MIN_PACKETS:
                continue
            grid = on_uniform_grid(times[rows], stillness_columns(csi[rows]), rate)
            noise = motion_ratio(sampled_noise(times[rows], rate), rate)
            if noise is None:  # below 12 packets/s the gate cannot see its upper band: it says still
                continue
            found.append({"file": path.name, "rate_hz": rate, "moving": bool(moving), "noise_ratio": round(noise, 3),
                          "plain": stillness_factor(grid, rate), "sampled": stillness_factor(grid, rate, noise)})
    return found


def summary(windows: list[dict]) -> dict:
    out = {}
    for moving in (False, True):
        mine = [w for w in windows if w["moving"] is moving]
        key = "moving" if moving else "quiet"
        out[key] = {"windows": len(mine), **{f"{gate}_open": round(float(np.mean([w[gate] > 0 for w in mine])), 3)
                                             if mine else None for gate in ("plain", "sampled")},
                    "noise_ratio_median": round(float(np.median([w["noise_ratio"] for w in mine])), 3) if mine else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=real_corpus.DEFAULT_ROOT)
    args = parser.parse_args()
    windows = [w for path in sorted(args.root.glob("*/**/*.csi.jsonl.gz")) for w in window_gates(path)]
    result = summary(windows)
    print(f"real windows of {WINDOW_S:.0f} s at >= 12 packets/s; share where the gate lets breathing through (> 0)")
    for key, row in result.items():
        print(f"  {key:7s} windows {row['windows']:4d}  plain {row['plain_open']}  sampled {row['sampled_open']}  "
              f"(white noise on the same packet times reads {row['noise_ratio_median']})")
    print(json.dumps({"benchmark": "real_stillness", "window_s": WINDOW_S, **result,
                      "files": sorted({w["file"] for w in windows})}))


if __name__ == "__main__":
    main()
