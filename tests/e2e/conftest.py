"""Fixtures of the browser journey: artifacts, ``ruview serve`` fed by the simulator, Home Assistant, Chromium.

Run alone, without Home Assistant's pytest plugin (it blocks sockets):
``.venv/bin/python -m pytest -p no:homeassistant tests/e2e -q -s``. The journey skips, saying
why, only when the Home Assistant venv is not built (``make`` builds it first).

Environment: ``RUVIEW_HASS_VENV`` (the Home Assistant venv, default ``~/.cache/ruview/hass-venv``),
``RUVIEW_E2E_ARTIFACTS`` (keep screenshots and logs there, pass or fail),
``RUVIEW_E2E_INTEGRATION`` (test another copy of ``custom_components/ruview``),
``RUVIEW_E2E_REQUIRED`` (fail instead of skipping when the venv is missing: ``make test`` sets it),
``RUVIEW_E2E_README_SHOTS`` (write the README's small screenshots into that folder, e.g. ``docs/images``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from .browser import Confinement, launch
from .ha_ui import UI_TIMEOUT_MS
from .hass_instance import DEFAULT_VENV, HassInstance, venv_problem
from .processes import LOOPBACK, RuViewServe, SimulatedRoom

ARTIFACTS_ENV = "RUVIEW_E2E_ARTIFACTS"  # a folder to keep the screenshots in, pass or fail
REQUIRED_ENV = "RUVIEW_E2E_REQUIRED"
SIMULATED_NODES = 2


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"report_{when}", None), "failed", False) for when in ("setup", "call"))


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Screenshots and logs of this run: kept (and their path printed) on failure or when asked."""
    wanted = os.environ.get(ARTIFACTS_ENV)
    if wanted:
        folder = Path(wanted).expanduser().resolve()
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="ruview-e2e-"))
    yield folder
    if wanted or _failed(request.node):
        print(f"\nartifacts of the journey (screenshots, logs): {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def hass_venv(request: pytest.FixtureRequest) -> Path:
    if request.config.pluginmanager.has_plugin("homeassistant"):
        pytest.fail("Home Assistant's pytest plugin blocks the sockets this test needs: "
                    "run it with -p no:homeassistant")
    if problem := venv_problem():
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(problem)
        pytest.skip(problem)
    return DEFAULT_VENV


@pytest.fixture
def ruview_service(artifacts: Path) -> Iterator[RuViewServe]:
    service = RuViewServe(artifacts / "ruview-data", artifacts / "ruview-serve.log").start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def simulator(ruview_service: RuViewServe) -> Iterator[SimulatedRoom]:
    """The room's person, played in a child process and streamed to the service over UDP."""
    room = SimulatedRoom((LOOPBACK, ruview_service.udp_port), SIMULATED_NODES)
    try:
        yield room
    finally:
        room.stop()


@pytest.fixture
def hass(hass_venv: Path, artifacts: Path) -> Iterator[HassInstance]:
    instance = HassInstance(artifacts / "hass-config", artifacts / "hass.log", venv=hass_venv)
    try:
        instance.start()
        instance.create_user()
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def browser(artifacts: Path) -> Iterator[tuple[Page, Confinement]]:
    """A page of headless Chromium with a fresh profile, reaching nothing but loopback."""
    profile = Path(tempfile.mkdtemp(prefix="ruview-e2e-chromium-"))
    try:
        with sync_playwright() as playwright:
            context, confinement = launch(playwright, profile)
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(UI_TIMEOUT_MS)
                yield page, confinement
            finally:
                (artifacts / "blocked-requests.txt").write_text("".join(f"{url}\n" for url in confinement.blocked))
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
