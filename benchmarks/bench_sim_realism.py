"""Does the simulator look like the real recordings? The same statistics on both, side by side.

Run: ``.venv/bin/python benchmarks/bench_sim_realism.py [--quick] [--root DIR]`` (``--root``
defaults to ``../shared/data/real``, read in place, never copied). Prints, per statistic, the
real recordings' median and inter-quartile range (one value per file; ESP32-family datasets, plus
the NIST phantom for the breathing SNR), the simulator's value (the README's room: two nodes, one
antenna each, the default SNR, rate, loss, jitter and AGC) and whether it is inside the range or
within a factor 1.5 of the median; then the median per dataset. The last line is one JSON object.

What is measured (``realism_stats.py``; every stream cleaned by the engine's ``node.cleaning``):

- quiet seconds (label ``motion: false``; the simulator's empty room and seated person):
  per-subcarrier amplitude noise after per-packet gain normalisation, packet-to-packet phase
  scatter after the engine's phase sanitising (complex sources only), the overall gain's
  packet-to-packet scatter;
- whole files of at least ``MIN_GAIN_FILE_S``: gain steps per minute and their size;
- files with real per-packet timestamps: packet rate, loss and timestamp jitter;
- the motion statistic (``node.motion``) per second: quiet, moving, and moving over quiet per
  session and chip (the simulator: walking over the empty room and the seated person, per node);
- breathing takes (the ESP32 seated person at paced 12/17/26 bpm, the NIST phantom at 8-28 bpm;
  the simulator's breathe_normal and sit): breathing-band SNR around the spectrum's peak and at
  the true rate, median and best subcarrier (white noise's reading is printed for reference);
- walking (label ``activity: walk``): the turbulence's power share above 1 Hz and its peak.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import real_corpus  # noqa: E402
import realism_stats as rs  # noqa: E402

from ruview_core.node.cleaning import group_by_node  # noqa: E402
from ruview_core.node.motion import MOTION_WINDOW_SECONDS, UNTRUSTED_SECONDS  # noqa: E402
from ruview_core.sim import SimConfig, simulate  # noqa: E402

# Streams (spliced copies of other files) and the phantom's single-antenna copies are left out.
SKIP_FOLDERS = ("wifall/streams", "uji_localized_har/streams")
BREATHING_DATASETS = ("esp32_resp_phuocan", "nist_breathesmart")
NON_ESP32 = ("nist_breathesmart",)
PACED = ("Slow", "Normal", "Fast")
MIN_GAIN_FILE_S = 20.0
SIM_SCENARIOS = ("empty", "sit", "breathe_normal", "walk")
QUIET_SCENARIOS = ("empty", "sit")
BREATHING_SCENARIOS = ("sit", "breathe_normal")
# Statistic name, how it is printed, and what a reader needs to know about its unit.
STATISTICS = (
    ("amp_noise", "{:.3f}", "amplitude noise per subcarrier, quiet, share of level"),
    ("phase_scatter_rad", "{:.3f}", "phase scatter packet to packet, quiet, rad"),
    ("gain_jitter_db", "{:.2f}", "overall gain scatter packet to packet, quiet, dB"),
    ("gain_steps_per_min", "{:.2f}", "gain steps per minute"),
    ("gain_step_db", "{:.2f}", "gain step size, |dB|"),
    ("rate_hz", "{:.1f}", "packet rate, Hz"),
    ("loss", "{:.3f}", "packets lost, share"),
    ("jitter", "{:.3f}", "timestamp jitter, share of the period"),
    ("jitter_ms", "{:.2f}", "timestamp jitter, ms"),
    ("motion_quiet", "{:.2e}", "motion statistic, quiet seconds"),
    ("motion_moving", "{:.2e}", "motion statistic, moving seconds"),
    ("motion_ratio", "{:.1f}", "motion statistic, moving over quiet"),
    ("breath_snr_db", "{:.1f}", "breathing-band SNR, median subcarrier, dB"),
    ("breath_snr_best_db", "{:.1f}", "breathing-band SNR, best subcarrier, dB"),
    ("breath_snr_true_db", "{:.1f}", "breathing-band SNR at the true rate, median subcarrier, dB"),
    ("breath_snr_true_best_db", "{:.1f}", "breathing-band SNR at the true rate, best subcarrier, dB"),
    ("walk_share_above_1hz", "{:.2f}", "walking: turbulence power above 1 Hz, share"),
    ("walk_dominant_hz", "{:.2f}", "walking: turbulence peak, Hz"),
)


@dataclass
class Stream:
    """One node's stream with a label for each offset (seconds from its first packet)."""

    name: str
    dataset: str
    group: str
    arrays: rs.NodeArrays
    label: object  # (offsets [N], key) -> list of label values
    timed: bool = True
    breathing: bool = False
    true_bpm: float | None = None
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def measure(stream: Stream) -> dict:
    """Every statistic this stream can give: lists of values (one per file, or per piece)."""
    a, out = stream.arrays, defaultdict(list)
    start = a.times[0]
    offsets = a.times - start
    seconds = float(offsets[-1])
    trusted = offsets >= UNTRUSTED_SECONDS
    motion = np.asarray(stream.label(offsets, "motion"), dtype=object)
    quiet = trusted & np.array([m is False for m in motion])
    if quiet.sum() >= 20:
        part = a.select(quiet)
        out["amp_noise"].append(rs.amplitude_noise(part.clean))
        if not a.amplitude_only:
            out["phase_scatter_rad"].append(rs.phase_scatter(part.clean))
        out["gain_jitter_db"].append(rs.gain_jitter_db(part.gain))
    if seconds >= MIN_GAIN_FILE_S:
        per_minute, sizes = rs.gain_steps(a.raw, seconds)
        out["gain_steps_per_min"].append(per_minute)
        out["gain_step_db"].append(float(np.median(sizes)) if sizes else float("nan"))
    if stream.timed:
        for key, value in rs.timing(a.times).items():
            out[key].append(value)
    ends = np.arange(UNTRUSTED_SECONDS + MOTION_WINDOW_SECONDS, seconds + 1e-9, 1.0)
    if ends.size:
        statistic = rs.motion_per_second(a.times, a.raw, start + ends)
        first = stream.label(ends - MOTION_WINDOW_SECONDS + 1e-3, "motion")
        last = stream.label(ends - 1e-3, "motion")
        for key, value in (("motion_quiet", False), ("motion_moving", True)):
            chosen = np.array([f is value and g is value for f, g in zip(first, last, strict=True)])
            if chosen.any():
                out[key].append(float(np.nanmedian(statistic[chosen])))
    if stream.breathing:
        true_hz = stream.true_bpm / 60.0 if stream.true_bpm else None
        snr = rs.breathing_snr(a.times[trusted], a.clean[trusted], a.rate_hz, true_hz)
        for key, name in (("median", ""), ("best", "_best")):
            out[f"breath_snr{name}_db"].append(snr[key])
            out[f"breath_snr_true{name}_db"].append(snr["true_" + key])
    walking = np.array([v == "walk" for v in stream.label(offsets, "activity")])
    # No settling cut here: WiFall's walking clips are 3 s cut out of longer recordings.
    for run in _runs(walking):
        for share, peak in rs.walking_pieces(a.times[run], a.raw[run], a.rate_hz):
            out["walk_share_above_1hz"].append(share)
            out["walk_dominant_hz"].append(peak)
    return out


def _runs(mask: np.ndarray) -> list[slice]:
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return [slice(int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)]


# -- the real corpus ---------------------------------------------------------------------------

def corpus_files(root: Path, per_folder: int | None) -> list[Path]:
    """Every data file, or ``per_folder`` spread evenly over each folder's sorted files."""
    folders = defaultdict(list)
    for path in real_corpus.find(root):
        relative = path.parent.relative_to(root).as_posix()
        if relative.startswith(SKIP_FOLDERS) or re.search(r"_ant\d", path.name):
            continue
        folders[relative].append(path)
    chosen = []
    for paths in folders.values():
        if per_folder is not None and len(paths) > per_folder:
            paths = [paths[i] for i in np.linspace(0, len(paths) - 1, per_folder).round().astype(int)]
        chosen += paths
    return chosen


def true_bpm(recording: real_corpus.Recording) -> float | None:
    rates = [s["labels"].get("breathing_bpm") for s in recording.labels["segments"]]
    rates = [r for r in rates if r]
    return float(np.median(rates)) if rates else None


def is_breathing_take(recording: real_corpus.Recording) -> bool:
    if recording.dataset == "esp32_resp_phuocan":
        return any(f"_{pace}_" in recording.name for pace in PACED)
    if recording.dataset == "nist_breathesmart":
        bpm = recording.labels["segments"][0]["labels"].get("breathing_bpm") or 0
        return 8 <= bpm <= 28
    return False


def real_streams(root: Path, per_folder: int | None) -> list[Stream]:
    streams = []
    for path in corpus_files(root, per_folder):
        recording = real_corpus.load(path)
        arrays = rs.node_arrays(recording.frames)
        if arrays is None:
            continue
        timestamps = str(recording.labels.get("hardware", {}).get("timestamps", ""))

        def label(offsets, key, recording=recording):
            return [recording.label_at(float(o), key) for o in offsets]

        streams.append(Stream(recording.name, recording.dataset, f"{recording.dataset}/{recording.session}/{recording.chip}",
                              arrays, label, timed=not timestamps.startswith("none"),
                              breathing=is_breathing_take(recording), true_bpm=true_bpm(recording)))
    return streams


# -- the simulator -----------------------------------------------------------------------------

def sim_streams(seeds: list[int], seconds: float, overrides: dict | None = None) -> list[Stream]:
    """The README's room (two nodes, defaults otherwise) per seed and scenario, one stream per node;
    ``overrides`` replaces SimConfig fields (to see what a change of default would do)."""
    streams = []
    for seed in seeds:
        for scenario in SIM_SCENARIOS:
            sim = simulate(SimConfig(scenario, seed=seed, room_seed=seed, nodes=2, duration=seconds, **(overrides or {})))
            truth = sim.truth()
            for node, frames in sorted(group_by_node(sim.frames()).items()):
                arrays = rs.node_arrays(frames)
                if arrays is None:
                    continue
                start = arrays.times[0]

                def label(offsets, key, truth=truth, start=start):
                    rows = np.clip((np.asarray(offsets) + start).astype(int), 0, len(truth) - 1)
                    return [truth[r][key] for r in rows]

                rates = [row["breathing_bpm"] for row in truth if row["breathing_bpm"]]
                streams.append(Stream(f"{scenario}/seed{seed}/node{node}", f"sim:{scenario}", f"seed{seed}/node{node}",
                                      arrays, label, breathing=scenario in BREATHING_SCENARIOS,
                                      true_bpm=float(np.median(rates)) if rates else None))
    return streams


# -- putting it together -----------------------------------------------------------------------

def ratios(streams: list[Stream], quiet_from=None) -> tuple[list[float], list[str]]:
    """Moving over quiet motion statistic per group (median over the group's files of each), and
    each group's dataset."""
    quiet, moving, dataset = defaultdict(list), defaultdict(list), {}
    for s in streams:
        if quiet_from is None or s.dataset in quiet_from:
            quiet[s.group] += s.values.get("motion_quiet", [])
        moving[s.group] += s.values.get("motion_moving", [])
        dataset.setdefault(s.group, s.dataset)
    groups = [g for g in moving if moving[g] and quiet[g] and np.median(quiet[g]) > 0]
    return [float(np.median(moving[g]) / np.median(quiet[g])) for g in groups], [dataset[g] for g in groups]


def pooled(streams: list[Stream], name: str) -> tuple[list[float], list[str]]:
    """Every value of statistic ``name`` and the dataset it came from."""
    pairs = [(v, s.dataset) for s in streams for v in s.values.get(name, []) if np.isfinite(v)]
    return [v for v, _ in pairs], [d for _, d in pairs]


def dataset_weights(datasets: list[str]) -> list[float]:
    """One over the values of the same dataset: every dataset counts alike (WiFall's 768 clips
    would otherwise be the real range of every statistic they give)."""
    counts = Counter(datasets)
    return [1.0 / counts[d] for d in datasets]


def compare(real: list[Stream], sim: list[Stream]) -> dict:
    esp32 = [s for s in real if s.dataset not in NON_ESP32]
    breathing_real = [s for s in real if s.dataset in BREATHING_DATASETS]
    quiet_sim = [f"sim:{n}" for n in QUIET_SCENARIOS]
    table = {}
    for name, _, _ in STATISTICS:
        source = breathing_real if name.startswith("breath") else esp32
        real_values, datasets = ratios(source) if name == "motion_ratio" else pooled(source, name)
        if name in ("amp_noise", "phase_scatter_rad", "gain_jitter_db", "motion_quiet"):
            sim_values, _ = pooled([s for s in sim if s.dataset in quiet_sim], name)
        elif name == "motion_ratio":
            sim_values, _ = ratios(sim, quiet_from=quiet_sim + ["sim:walk"])
        else:
            sim_values, _ = pooled(sim, name)
        median, q1, q3, n = rs.summary(real_values, dataset_weights(datasets))
        sim_median, sim_q1, sim_q3, sim_n = rs.summary(sim_values)
        table[name] = {"median": median, "q1": q1, "q3": q3, "n": n, "datasets": len(set(datasets)),
                       "sim": sim_median, "sim_q1": sim_q1, "sim_q3": sim_q3, "sim_n": sim_n,
                       "inside": rs.inside(sim_median, median, q1, q3,
                                           decibels=name.endswith("_db") and name.startswith("breath"))}
    return table


def by_dataset(streams: list[Stream]) -> dict[str, dict[str, float]]:
    groups = defaultdict(list)
    for s in streams:
        groups[s.dataset].append(s)
    out = {}
    for dataset, members in sorted(groups.items()):
        row = {name: rs.summary(pooled(members, name)[0])[0] for name, _, _ in STATISTICS if name != "motion_ratio"}
        row["motion_ratio"] = rs.summary(ratios(members)[0])[0]
        out[dataset] = row
    return out


def show(value: float, fmt: str) -> str:
    return "-" if value is None or not np.isfinite(value) else fmt.format(value)


def print_tables(table: dict, datasets: dict, files: int, sim_runs: int) -> None:
    print(f"real: {files} files (ESP32 family; breathing: + NIST phantom), every dataset weighted alike; "
          f"sim: {sim_runs} node streams (two nodes; SimConfig defaults unless overridden)")
    print(f"{'statistic':<22} {'real median':>11} {'real q1':>9} {'real q3':>9} {'n':>4} {'sets':>4} {'sim':>9} {'sim/med':>7}  inside")
    for name, fmt, _ in STATISTICS:
        r = table[name]
        ratio = r["sim"] / r["median"] if np.isfinite(r["sim"]) and r["median"] else float("nan")
        if name.startswith("breath"):  # dB: the difference, not the ratio
            ratio = r["sim"] - r["median"]
        print(f"{name:<22} {show(r['median'], fmt):>11} {show(r['q1'], fmt):>9} {show(r['q3'], fmt):>9} {r['n']:>4} {r['datasets']:>4} "
              f"{show(r['sim'], fmt):>9} {show(ratio, '{:.2f}'):>7}  {'yes' if r['inside'] else 'NO'}")
    print("sim/med: the simulator over the real median (breath_* rows, in dB: the difference); inside: within the "
          "real q1-q3 or a factor 1.5 of the median (1.76 dB for the breath_* rows)")
    print()
    print("what each is: " + "; ".join(f"{name}: {what}" for name, _, what in STATISTICS))
    print()
    short = {d: re.sub(r"^(sim:)?", lambda m: "s:" if m.group(1) else "", d)[:11] for d in datasets}
    print("median per dataset")
    print(f"{'statistic':<22} " + " ".join(f"{short[d]:>11}" for d in datasets))
    for name, fmt, _ in STATISTICS:
        print(f"{name:<22} " + " ".join(f"{show(datasets[d][name], fmt):>11}" for d in datasets))


def _value(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 files per folder, one 45 s simulation per scenario")
    parser.add_argument("--root", type=Path, default=real_corpus.DEFAULT_ROOT, help="the real corpus")
    parser.add_argument("--per-folder", type=int, default=None, help="files per folder (default: all; quick: 3)")
    parser.add_argument("--sim", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a SimConfig field, e.g. --sim snr_db=23 --sim loss_rate=0.08 (default: none)")
    args = parser.parse_args(argv)
    overrides = {key: _value(value) for key, value in (item.split("=", 1) for item in args.sim)}
    began = time.perf_counter()
    per_folder = args.per_folder if args.per_folder is not None else (3 if args.quick else None)
    seeds, seconds = ([0], 45.0) if args.quick else ([0, 1, 2], 120.0)
    real = real_streams(args.root, per_folder)
    for s in real:
        s.values = measure(s)
    real_s = time.perf_counter() - began
    sim = sim_streams(seeds, seconds, overrides)
    for s in sim:
        s.values = measure(s)
    table = compare(real, sim)
    if overrides:
        print("simulator overrides: " + ", ".join(f"{k}={v}" for k, v in overrides.items()))
    print_tables(table, by_dataset(real + sim), len(real), len(sim))
    # The floor the breathing SNRs must clear: white noise at the seated person's 10 packets/s.
    floor = rs.noise_reference(10.0, 52)
    print("\nbreathing SNR of white noise (10 packets/s, 52 subcarriers): "
          f"around the peak {floor['median']:.1f} dB (best subcarrier {floor['best']:.1f}), "
          f"at a given rate {floor['true_median']:.1f} dB (best {floor['true_best']:.1f})")
    elapsed = time.perf_counter() - began
    print(f"\nreal corpus {real_s:.1f} s, simulator {elapsed - real_s:.1f} s, total {elapsed:.1f} s")
    outside = [name for name, row in table.items() if not row["inside"]]
    print(json.dumps({"benchmark": "sim_realism", "quick": args.quick, "files": len(real), "sim_streams": len(sim),
                      "sim_seconds": seconds, "seeds": seeds, "sim_overrides": overrides, "outside": outside,
                      "breath_snr_noise_db": {k: round(v, 2) for k, v in floor.items()}, "statistics": {
                          name: {k: (round(v, 6) if isinstance(v, float) and np.isfinite(v) else
                                     (None if isinstance(v, float) else v)) for k, v in row.items()}
                          for name, row in table.items()}, "seconds": round(elapsed, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
