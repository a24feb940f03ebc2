"""The add-on's live view in Debian's chromium, through a loopback stand-in for the Supervisor's
ingress proxy (:mod:`.ingress_proxy`), while the simulator streams into ``ruview serve``.

The page must draw moving plots, show the numbers the API gives, show a capture's live gates and
its refusal with the reason, judge the nodes' placement as the API does, and fit a phone. No Home
Assistant here (the real ingress needs the Supervisor); ``RUVIEW_LIVE_VIEW_SCREENSHOTS=DIR`` keeps
the page's screenshots there (the add-on's documentation images come from it).
"""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from ruview_core.service.page import missing_vendor_files
from ruview_core.sim.live import LiveSimulator

from .browser import Confinement
from .ingress_proxy import PROXY_SOURCE, IngressProxy
from .processes import LOOPBACK, RuViewServe, http_json, wait_until

ROOM = "den"
SCREENSHOTS_ENV = "RUVIEW_LIVE_VIEW_SCREENSHOTS"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_service(artifacts: Path) -> Iterator[RuViewServe]:
    """``ruview serve`` trusting only the stand-in proxy's address, as the add-on trusts the Supervisor's."""
    if missing := missing_vendor_files():
        pytest.fail(f"the live view's vendor files are missing ({', '.join(missing)}): run `make live-view-assets`")
    service = RuViewServe(artifacts / "ruview-data", artifacts / "ruview-serve.log",
                          extra_args=("--trusted-proxy", PROXY_SOURCE)).start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def ingress(live_service: RuViewServe) -> Iterator[IngressProxy]:
    proxy = IngressProxy(f"{live_service.host}:{live_service.port}").start()
    try:
        yield proxy
    finally:
        proxy.stop()


def run_job(service: RuViewServe, path: str, body: dict) -> dict:
    status, job = service.request("POST", path, body)
    assert status == 202, job
    finished: dict = {}

    def done() -> bool:
        finished.update(service.request("GET", f"/jobs/{job['job_id']}")[1])
        return finished["state"] not in ("queued", "running")

    wait_until(f"job {path}", done, 120, poll_s=0.5)
    return finished


def canvases(page: Page, node: int) -> dict[str, str]:
    """The pixels of each plot of a node's card (as data URLs)."""
    return page.evaluate("""(node) => {
        const card = document.querySelector(`section.node[data-node="${node}"]`);
        const out = {};
        for (const cls of ["heatmap", "motion-plot", "wave-plot", "spectrum-plot"]) {
            const canvas = card.querySelector(`.${cls}`).tagName === "CANVAS" ? card.querySelector(`.${cls}`)
                : card.querySelector(`.${cls} canvas`);
            out[cls] = canvas ? canvas.toDataURL() : "";
        }
        return out;
    }""", node)


def shot(page: Page, artifacts: Path, name: str, selector: str | None = None) -> None:
    """A screenshot of the page (or of one of its cards) into the artifacts or ``$RUVIEW_LIVE_VIEW_SCREENSHOTS``."""
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or artifacts)
    folder.mkdir(parents=True, exist_ok=True)
    target = page.locator(selector).first if selector else page
    target.screenshot(path=str(folder / f"{name}.png"))


def test_the_live_view_through_ingress(live_service: RuViewServe, ingress: IngressProxy,
                                       browser: tuple[Page, Confinement], artifacts: Path) -> None:
    service = live_service
    status, _ = service.request("POST", "/rooms", {"name": "Den", "nodes": [1, 2]})
    assert status == 201
    with LiveSimulator((LOOPBACK, service.udp_port), scenario="empty", nodes=2) as simulator:
        wait_until("both nodes online", lambda: len(service.request("GET", "/nodes")[1]["nodes"]) == 2, 30)
        baseline = run_job(service, f"/rooms/{ROOM}/baseline", {"seconds": 10})
        assert baseline["result"]["accepted"] is True, baseline

        # Only the proxy's address is trusted with an ingress path; the same header from elsewhere is not.
        forged = urllib.request.Request(f"{service.api}/rooms", headers={"X-Ingress-Path": ingress.path})
        assert _status(forged) == 401
        assert http_json("GET", f"{ingress.url}api/v1/rooms")[0] == 200

        page, confinement = browser
        page.goto(ingress.url)
        page.wait_for_function("window.ruviewLive && window.ruviewLive.displays >= 3", timeout=20_000)
        page.wait_for_selector('section.node[data-node="1"] .wave-plot canvas')
        page.wait_for_function("window.ruviewLive.lastDisplay.nodes.every(n => n.breathing)", timeout=30_000)
        _plots_move(page, node=1, within_s=10.0)
        assert page.locator("#status").inner_text() == service.request("GET", f"/rooms/{ROOM}")[1]["status"]
        _state_matches_api(page, service)
        _node_rates_match_api(page, service)
        shot(page, artifacts, "live-view")
        shot(page, artifacts, "live-view-node", 'section.node[data-node="1"]')

        # A capture the room refuses: "stand still" in an empty room. Its gates show live, then its reason.
        simulator.set_scenario("empty")
        status, job = service.request("POST", f"/rooms/{ROOM}/anchors/stand_still", {"seconds": 11, "countdown": 0})
        assert status == 202, job
        page.wait_for_selector('#gates .gate.bad[data-check="change from the empty room"] .reason', timeout=20_000)
        live_reason = page.locator('#gates .gate.bad[data-check="change from the empty room"] .reason').first.inner_text()
        assert "hardly different from the empty room" in live_reason
        shot(page, artifacts, "live-view-capture", "#enrollment")
        wait_until("the capture ends", lambda: service.request("GET", f"/jobs/{job['job_id']}")[1]["state"]
                   not in ("queued", "running"), 60)
        result = service.request("GET", f"/jobs/{job['job_id']}")[1]["result"]
        assert result["accepted"] is False
        page.wait_for_function("document.querySelector('#capture-result').classList.contains('refused')")
        assert page.locator("#capture-result").inner_text() == f"refused: {result['reason']}"

        # Placement: the refused capture measured each node with nobody in the room.
        placement = service.request("GET", f"/rooms/{ROOM}/placement")[1]
        assert [n["node_id"] for n in placement["nodes"]] == [1, 2]
        for node in placement["nodes"]:
            cell = page.locator(f'#placement-table tr[data-node="{node["node_id"]}"] .verdict')
            cell.wait_for()
            assert cell.inner_text().startswith(node["verdict"])
            assert node["verdict"] == "not seeing the room", node

        page.set_viewport_size(PHONE)
        page.wait_for_timeout(500)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page overflows a phone"
        shot(page, artifacts, "live-view-phone")
    assert not confinement.blocked, f"the page asked for something beyond loopback: {confinement.blocked}"
    assert page.evaluate("window.ruviewLive.maxLagMs") < 5000


def _plots_move(page: Page, node: int, within_s: float) -> None:
    """Each plot of the node's card changes its pixels within ``within_s`` (the breathing picture
    is recomputed every 2 s of the stream, the heatmap and the motion index more often)."""
    before = canvases(page, node)
    assert all(before.values()), f"a plot of node {node} is not drawn"
    still = set(before)
    deadline = time.monotonic() + within_s
    while still and time.monotonic() < deadline:
        time.sleep(0.5)
        now = canvases(page, node)
        still = {plot for plot in still if now[plot] == before[plot]}
    assert not still, f"the {', '.join(sorted(still))} of node {node} did not move in {within_s:g} s"


def _status(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _state_matches_api(page: Page, service: RuViewServe) -> None:
    """The fused state the page shows is the API's, reading for reading (compared at the same hop)."""
    for _ in range(20):
        shown_t = page.locator("#state-t").get_attribute("data-t")
        state = service.request("GET", f"/rooms/{ROOM}/state")[1]["state"]
        if state is not None and shown_t and float(shown_t) == state["t"]:
            for name in ("presence", "motion", "anomaly"):
                row = page.locator(f'#readings tr[data-reading="{name}"]')
                expected, shown_value = state[name]["value"], row.locator(".value").inner_text()
                if isinstance(expected, int | float) and not isinstance(expected, bool):
                    assert float(shown_value) == pytest.approx(expected, abs=0.01), (name, shown_value, expected)
                else:
                    wanted = "unknown" if expected is None else str(expected).lower() if isinstance(expected, bool) \
                        else str(expected)
                    assert shown_value == wanted, (name, shown_value, expected)
                assert float(row.locator(".confidence").inner_text()) == state[name]["confidence"]
            return
        time.sleep(0.2)
    pytest.fail("the page's state never showed the API's hop")


def _node_rates_match_api(page: Page, service: RuViewServe) -> None:
    nodes = {n["node_id"]: n for n in service.request("GET", "/nodes")[1]["nodes"]}
    for node_id, node in nodes.items():
        shown = float(page.locator(f'section.node[data-node="{node_id}"] .rate').inner_text())
        assert shown == pytest.approx(node["rate_hz"], rel=0.15), (node_id, shown, node["rate_hz"])
