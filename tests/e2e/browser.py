"""Headless Debian Chromium under Playwright, confined to loopback, and a journal of screenshots.

Playwright drives the system's ``/usr/bin/chromium`` (a Playwright browser download fails here),
in a fresh profile, and aborts every request that is not to 127.0.0.1: Home Assistant's frontend
would otherwise fetch brand icons from the internet. Service workers are blocked so that no
request escapes the routing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Locator, Page, Playwright, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")
ALLOWED_HOST = "127.0.0.1"
VIEWPORT = {"width": 1280, "height": 900}


# The visible text pieces of each element named ``tag``, in the order a person reads them: through
# open shadow roots and slotted children alike (``innerText`` stops at a shadow root).
_DEEP_TEXTS_JS = """
(tag) => {
  const texts = (node) => {
    const out = [];
    const walk = (n) => {
      if (n.nodeType === Node.TEXT_NODE) { const t = n.textContent.trim(); if (t) out.push(t); return; }
      if (n.nodeType === Node.ELEMENT_NODE) {
        const style = getComputedStyle(n);
        if (style.display === "none" || style.visibility === "hidden") return;
        if (n.tagName === "STYLE" || n.tagName === "SCRIPT") return;
        if (n.tagName === "SLOT") { const given = n.assignedNodes({flatten: true}); for (const k of (given.length ? given : n.childNodes)) walk(k); return; }
        if (n.shadowRoot) { walk(n.shadowRoot); return; }
      }
      for (const k of n.childNodes) walk(k);
    };
    walk(node);
    return out;
  };
  const rows = [];
  const find = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName.toLowerCase() === tag) rows.push(texts(el));
      if (el.shadowRoot) find(el.shadowRoot);
    }
  };
  find(document);
  return rows;
}
"""


def deep_texts(page: Page, tag: str) -> list[list[str]]:
    """Each ``tag`` element's visible text pieces, read in one go (one instant of the page)."""
    return page.evaluate(_DEEP_TEXTS_JS, tag.lower())


@dataclass
class Confinement:
    """What the routing let through and what it aborted."""

    allowed: int = 0
    blocked: list[str] = field(default_factory=list)

    def route(self, route: Route) -> None:
        if urlsplit(route.request.url).hostname == ALLOWED_HOST:
            self.allowed += 1
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()


def launch(playwright: Playwright, profile_dir: Path) -> tuple[BrowserContext, Confinement]:
    """Chromium, headless, with a new profile in ``profile_dir`` and only loopback reachable."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium (make does it)")
    context = playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_FLAGS),
        viewport=VIEWPORT, locale="en-US", timezone_id="UTC", service_workers="block")
    confinement = Confinement()
    context.route(re.compile(r".*"), confinement.route)
    return context, confinement


@dataclass
class StepRecord:
    name: str
    seconds: float
    screenshot: Path | None
    waited_s: float = 0.0  # of it, how long the person waited on a capture or training


@dataclass
class Journal:
    """Numbered screenshots of each step of the journey, and how long each took."""

    page: Page
    folder: Path
    steps: list[StepRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # seen on the way, failed at the end
    _count: int = 0

    def shot(self, name: str) -> Path:
        self._count += 1
        path = self.folder / f"{self._count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def element_shot(self, element: Locator, path: Path) -> Path:
        """A screenshot of one element only (a dialog, a card) at ``path``: small enough to publish."""
        path.parent.mkdir(parents=True, exist_ok=True)
        element.screenshot(path=str(path), animations="disabled")
        return path

    @contextmanager
    def step(self, name: str) -> Iterator[StepRecord]:
        """Time a step; screenshot its end (or, if it fails, the page as it failed)."""
        record = StepRecord(name, 0.0, None)
        started = time.monotonic()
        try:
            yield record
        except BaseException:
            record.seconds = time.monotonic() - started
            try:
                record.screenshot = self.shot(f"{name}-FAILED")
            except Exception:  # the page itself may be gone; keep the original error
                pass
            self.steps.append(record)
            raise
        record.seconds = time.monotonic() - started
        record.screenshot = self.shot(name)
        self.steps.append(record)

    @property
    def waited_s(self) -> float:
        return sum(step.waited_s for step in self.steps)

    def summary(self) -> str:
        lines = [f"  {step.name:<34} {step.seconds:6.1f} s" + (f"  (person waited {step.waited_s:.1f} s)"
                                                                   if step.waited_s else "")
                 for step in self.steps]
        return "\n".join(lines)
