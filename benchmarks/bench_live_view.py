"""The add-on's live view under load (issue 17, "Targets").

Run: ``.venv/bin/python benchmarks/bench_live_view.py`` (``--quick`` for a shorter pass); needs
Debian's chromium, Playwright (``pip install -e '.[e2e]'``) and the page's vendor files (``make
live-view-assets``). The last line is one JSON object.

``ruview serve`` runs as its own process on loopback, fed by the simulator (4 nodes x 100 Hz), its
room calibrated; the page is opened through the loopback stand-in for the Supervisor's ingress
proxy (tests/e2e/ingress_proxy.py) in headless chromium.

- first paint: the browser's first-contentful-paint and the first display message drawn, from
  navigation start, median over fresh page loads (target: under 1 s);
- keeping up: with the page open, how late each display message reaches the page (its lag: page
  clock minus the add-on's send time, same machine), how many arrived of those sent, the frames
  the add-on took in against those the simulator sent, and how long drawing one message takes;
- memory: the add-on's resident set once the room's buffers are full (its breathing window,
  ``BREATHING_SECONDS``, after the calibration), after as long again without the page (the
  control), and after the page loads and as long with it open (target: growth at most 10 MB).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from ruview_core.calibration.features import BREATHING_SECONDS  # noqa: E402
from ruview_core.service.display import DISPLAY_INTERVAL_S  # noqa: E402
from ruview_core.service.page import missing_vendor_files  # noqa: E402
from ruview_core.sim.live import LiveSimulator  # noqa: E402
from tests.e2e.browser import launch  # noqa: E402
from tests.e2e.ingress_proxy import PROXY_SOURCE, IngressProxy  # noqa: E402
from tests.e2e.processes import LOOPBACK, RuViewServe, wait_until  # noqa: E402

NODES, RATE_HZ = 4, 100.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for process {pid}")


def calibrate(service: RuViewServe) -> None:
    assert service.request("POST", "/rooms", {"name": "Den", "nodes": list(range(1, NODES + 1))})[0] == 201
    wait_until("nodes online", lambda: len(service.request("GET", "/nodes")[1]["nodes"]) == NODES, 30)
    for _ in range(3):
        job = service.request("POST", "/rooms/den/baseline", {"seconds": 10})[1]
        result: dict = {}
        wait_until("baseline", lambda: result.update(service.request("GET", f"/jobs/{job['job_id']}")[1])
                   or result["state"] not in ("queued", "running"), 90, poll_s=0.5)
        if result.get("result", {}).get("accepted"):
            return
    raise RuntimeError(f"the empty room was not accepted: {result}")


def first_paints(context, url: str, loads: int) -> tuple[list[float], list[float]]:
    paints, data = [], []
    for _ in range(loads):
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("window.ruviewLive && window.ruviewLive.firstDataAt !== null", timeout=20_000)
        paint = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        paints.append(paint / 1000.0 if paint is not None else float("nan"))
        data.append(page.evaluate("window.ruviewLive.firstDataAt") / 1000.0)
        page.close()
    return paints, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 s with the page open instead of 60")
    args = parser.parse_args()
    if missing := missing_vendor_files():
        print(f"missing {', '.join(missing)}: run `make live-view-assets`", file=sys.stderr)
        return 1
    seconds, loads = (20.0, 3) if args.quick else (60.0, 5)
    with tempfile.TemporaryDirectory(prefix="ruview-bench-live-") as folder:
        work = Path(folder)
        service = RuViewServe(work / "data", work / "serve.log", extra_args=("--trusted-proxy", PROXY_SOURCE)).start()
        proxy = IngressProxy(f"{service.host}:{service.port}").start()
        try:
            with LiveSimulator((LOOPBACK, service.udp_port), scenario="empty", nodes=NODES, rate_hz=RATE_HZ) as sim, \
                    sync_playwright() as playwright:
                calibrate(service)
                time.sleep(BREATHING_SECONDS + 5.0)  # the room's monitor fills its buffers
                rss_settled = rss_mb(service.child.pid)
                time.sleep(seconds)
                rss_before = rss_mb(service.child.pid)
                context, _ = launch(playwright, work / "chromium")
                paints, data = first_paints(context, proxy.url, loads)
                page = context.new_page()
                page.goto(proxy.url)
                page.wait_for_function("window.ruviewLive && window.ruviewLive.displays > 0", timeout=20_000)
                sent_before = sum(sim.sent.values())
                took_before = sum(n["frames"] for n in service.request("GET", "/nodes")[1]["nodes"])
                start_displays = page.evaluate("window.ruviewLive.displays")
                lags, draws = [], []
                started = time.monotonic()
                while time.monotonic() - started < seconds:
                    time.sleep(1.0)
                    lags.append(page.evaluate("window.ruviewLive.lastLagMs"))
                    draws.append(page.evaluate("window.ruviewLive.drawMs"))
                elapsed = time.monotonic() - started
                displays = page.evaluate("window.ruviewLive.displays") - start_displays
                sent = sum(sim.sent.values()) - sent_before
                took = sum(n["frames"] for n in service.request("GET", "/nodes")[1]["nodes"]) - took_before
                rss_after = rss_mb(service.child.pid)
                context.close()
        finally:
            proxy.stop()
            service.stop()
    figures = {
        "nodes": NODES, "rate_hz": RATE_HZ, "seconds_open": round(elapsed, 1),
        "first_contentful_paint_s_median": round(statistics.median(paints), 3),
        "first_data_drawn_s_median": round(statistics.median(data), 3),
        "display_lag_ms_median": round(statistics.median(lags), 1), "display_lag_ms_max": round(max(lags), 1),
        "displays_received_share": round(displays / (elapsed / DISPLAY_INTERVAL_S), 3),
        "frames_taken_share": round(took / max(sent, 1), 4),
        "draw_ms_median": round(statistics.median(draws), 2),
        "rss_mb_settled": round(rss_settled, 1), "rss_mb_before_page": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1), "rss_growth_mb_without_page": round(rss_before - rss_settled, 1),
        "rss_growth_mb": round(rss_after - rss_before, 1),
    }
    print(f"first paint (median of {loads} loads): {figures['first_contentful_paint_s_median']:.3f} s; first data "
          f"drawn {figures['first_data_drawn_s_median']:.3f} s (target < 1 s)")
    print(f"{NODES} nodes x {RATE_HZ:g} Hz, page open {elapsed:.0f} s: display lag median "
          f"{figures['display_lag_ms_median']} ms, max {figures['display_lag_ms_max']} ms; display messages "
          f"received {figures['displays_received_share']:.0%} of those due; frames taken in "
          f"{figures['frames_taken_share']:.1%} of those sent; drawing {figures['draw_ms_median']} ms per message")
    print(f"add-on memory: {rss_settled:.1f} MB settled, {rss_before:.1f} MB {seconds:.0f} s later without the "
          f"page (control), {rss_after:.1f} MB after {loads + 1} page loads and {elapsed:.0f} s with it open "
          f"(growth with the page {figures['rss_growth_mb']} MB, target <= 10 MB)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
