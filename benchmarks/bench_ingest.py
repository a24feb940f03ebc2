"""Ingest speed: ADR-018 single and batch parsing, ESP-IDF CSV against csiread, live UDP CPU.

Run: ``.venv/bin/python benchmarks/bench_ingest.py`` (``make bench`` installs csiread first).
Figures are medians over repeats; the last line is one JSON object.
Targets: batch ADR-018 >= 1,000,000 packets/s on one core; CSV at least as fast as csiread on the
same file; the live UDP path holding 4 nodes x 100 Hz under 5% of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ruview_core.frames import CsiFrame  # noqa: E402
from ruview_core.sources import UdpReceiver  # noqa: E402
from ruview_core.wire import encode_csv_line, encode_packet, parse_csi_batch, parse_packet, read_csv, read_jsonl  # noqa: E402
from ruview_core.wire.esp_csv import read_csv_arrays  # noqa: E402

RECORDING = ROOT.parent / "shared" / "data" / "ruview-recordings" / "pretrain-1775182186.csi.jsonl"


def median_rate(work: Callable[[], object], items: int, repeats: int) -> float:
    """Items per second, median over repeats."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return items / statistics.median(times)


def real_frames() -> list[CsiFrame]:
    if RECORDING.is_file():
        frames = [p for p in read_jsonl(RECORDING) if isinstance(p, CsiFrame)]
        return [CsiFrame(f.node_id, f.sequence, f.timestamp, f.csi[:, :64], 2437) for f in frames]
    from ruview_core.sim import SimConfig, simulate

    return list(simulate(SimConfig(scenario="walk", nodes=2, duration=120)).frames())


def bench_adr018(frames: list[CsiFrame], batch_packets: int, repeats: int) -> dict[str, float]:
    packets = [encode_packet(f) for f in frames]
    single = packets[:20000]
    batch = (packets * (batch_packets // len(packets) + 1))[:batch_packets]
    return {
        "adr018_single_packets_per_s": median_rate(lambda: [parse_packet(p) for p in single], len(single), repeats),
        "adr018_batch_packets_per_s": median_rate(lambda: parse_csi_batch(batch), len(batch), repeats),
        "batch_packets": len(batch),
    }


def bench_csv(frames: list[CsiFrame], lines: int, repeats: int, folder: Path) -> dict[str, float | None | str]:
    # The ESP32-CSI-Tool layout, the one csiread reads: same file for both parsers.
    path = folder / "capture.csv"
    chosen = (frames * (lines // len(frames) + 1))[:lines]
    path.write_text("\n".join(encode_csv_line(f, layout="csi-tool") for f in chosen) + "\n")
    ours_arrays = median_rate(lambda: read_csv_arrays(path), lines, repeats)
    ours_frames = median_rate(lambda: sum(1 for _ in read_csv(path)), lines, repeats)
    result: dict[str, float | None | str] = {
        "csv_lines": lines,
        "csv_lines_per_s": ours_arrays,
        "csv_frames_lines_per_s": ours_frames,
        "csiread_lines_per_s": None,
        "csiread_csi_only_lines_per_s": None,
    }
    try:
        import csiread
    except ImportError:
        result["csiread"] = "not installed (make bench installs it)"
        return result
    result["csiread"] = getattr(csiread, "__version__", "installed")
    full = median_rate(lambda: csiread.ESP32(str(path), if_report=False).read(), lines, repeats)
    only = median_rate(lambda: csiread.ESP32(str(path), if_report=False, csi_only=True).read(), lines, repeats)
    result["csiread_lines_per_s"] = full
    result["csiread_csi_only_lines_per_s"] = only
    result["csv_vs_csiread"] = ours_arrays / full
    result["csv_frames_vs_csiread"] = ours_frames / full
    return result


async def _receive(seconds: float, nodes: int, rate_hz: float) -> dict[str, float]:
    async with UdpReceiver("127.0.0.1", 0) as receiver:
        sender = subprocess.Popen(
            [sys.executable, "-m", "ruview_core.cli", "simulate", "--scenario", "walk", "--nodes", str(nodes),
             "--rate-hz", str(rate_hz), "--duration", str(seconds + 2), "--realtime",
             "--udp", f"127.0.0.1:{receiver.port}"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        received = 0

        async def drain() -> None:
            nonlocal received
            async for _ in receiver:
                received += 1

        consumer = asyncio.create_task(drain())
        await asyncio.sleep(1.0)  # skip the simulator's start-up
        cpu_start, wall_start, count_start = time.process_time(), time.monotonic(), received
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu_start
        wall = time.monotonic() - wall_start
        packets = received - count_start
        consumer.cancel()
        sender.wait(timeout=30)
    return {
        "udp_nodes": nodes,
        "udp_rate_hz_per_node": rate_hz,
        "udp_packets_per_s": packets / wall,
        "udp_cpu_percent_of_one_core": 100 * cpu / wall,
        "udp_dropped": receiver.stats.total_dropped,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else 5
    frames = real_frames()
    figures: dict[str, object] = {"python": sys.version.split()[0], "cores": os.cpu_count()}
    figures.update(bench_adr018(frames, 100_000 if args.quick else 400_000, repeats))
    with tempfile.TemporaryDirectory() as folder:
        figures.update(bench_csv(frames, 20_000 if args.quick else 100_000, repeats, Path(folder)))
    figures.update(asyncio.run(_receive(5.0 if args.quick else 15.0, 4, 100.0)))
    for key, value in figures.items():
        print(f"{key:40s} {value:,.1f}" if isinstance(value, float) else f"{key:40s} {value}")
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}))


if __name__ == "__main__":
    main()
