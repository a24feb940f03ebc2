"""What a person does in Home Assistant's frontend, as Playwright calls.

Playwright's CSS and ``get_by_*`` locators pierce the frontend's open shadow roots (XPath does
not), so everything here is found by role, label or visible text, as a person would find it.
Labels and titles of RuView's own dialogs come from its ``translations/en.json``, so a renamed
string changes the test with it. Every wait has a bound.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

UI_TIMEOUT_MS = 15_000
DIALOG_SETTLE_S = 0.6  # the 2026 dialogs animate in; text typed before that can be reset
FILL_ATTEMPTS = 5


class Strings:
    """RuView's English strings, looked up by their JSON path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, *keys: str) -> str:
        node: Any = self.data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                raise KeyError(f"{'.'.join(keys)} is not in {self.path}")
            node = node[key]
        return str(node)

    @staticmethod
    def pattern(text: str) -> re.Pattern[str]:
        """A regex of a translated string whose ``{placeholders}`` match anything (markdown stripped)."""
        plain = re.sub(r"[*_`]", "", text)
        parts = re.split(r"\{[a-z_]+\}", plain)
        return re.compile(".*?".join(re.escape(part.strip()) for part in parts if part.strip()), re.S)


def settle() -> None:
    time.sleep(DIALOG_SETTLE_S)


@dataclass
class FlowDialog:
    """Home Assistant's data entry flow dialog (config flows, subentry flows, repairs)."""

    page: Page

    @property
    def root(self) -> Locator:
        return self.page.locator("dialog-data-entry-flow")

    def wait_for_text(self, text: str | re.Pattern[str], timeout_s: float = UI_TIMEOUT_MS / 1000) -> Locator:
        locator = self.root.get_by_text(text).first
        locator.wait_for(state="visible", timeout=timeout_s * 1000)
        return locator

    def wait_for_form(self, title: str | re.Pattern[str], timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
        """Wait for a form step by its title, and for the dialog to stop animating."""
        self.root.locator("step-flow-form").wait_for(state="visible", timeout=timeout_s * 1000)
        self.wait_for_text(title, timeout_s)
        settle()

    def field(self, label: str) -> Locator:
        for role in ("textbox", "spinbutton", "combobox"):
            candidate = self.root.get_by_role(role, name=label, exact=True)
            if candidate.count():
                return candidate.first
        return self.root.get_by_label(label, exact=True).first

    def fill(self, label: str, value: str | int | float) -> None:
        """Type into a field until the value holds (a still-animating dialog can reset it)."""
        text = str(value)
        field = self.field(label)
        for _ in range(FILL_ATTEMPTS):
            field.fill(text)
            settle()
            if field.input_value() == text:
                return
        raise AssertionError(f"field {label!r} keeps {field.input_value()!r} instead of {text!r}")

    def choose(self, label: str) -> None:
        """Pick a radio option of a list selector by its label."""
        option = self.root.get_by_role("radio", name=label, exact=True)
        for _ in range(FILL_ATTEMPTS):
            option.check()
            settle()
            if option.is_checked():
                return
        raise AssertionError(f"option {label!r} does not stay checked")

    def dialog(self) -> Locator:
        """The dialog's visible box, without the dimmed page around it."""
        return self.root.locator(".mdc-dialog__surface").filter(visible=True).first

    def choose_menu(self, label: str) -> None:
        """Pick an option of a menu step by its label."""
        self.root.locator("step-flow-menu").get_by_text(label, exact=True).first.click()

    def submit(self) -> None:
        """Press the form's submit button (labelled Submit, or Next when more steps follow)."""
        self.root.get_by_role("button", name=re.compile(r"^(Submit|Next|OK)$")).first.click()

    def broken_translation(self) -> str | None:
        """The text of a string the frontend could not format (a placeholder it was not given)."""
        broken = self.root.get_by_text(re.compile(r"formatjs Error|MISSING_VALUE|^Translation \[")).first
        return broken.inner_text() if broken.count() else None

    def error_text(self) -> str:
        alert = self.root.locator("ha-alert[alert-type=error]")
        return alert.first.inner_text() if alert.count() else ""

    def wait_for_error(self, timeout_s: float) -> str:
        alert = self.root.locator("ha-alert[alert-type=error]").first
        alert.wait_for(state="visible", timeout=timeout_s * 1000)
        return alert.inner_text()

    def progress(self) -> Locator:
        return self.root.locator("step-flow-progress")

    def progress_percent(self) -> float | None:
        """The percentage the progress ring shows, or None while it shows a spinner."""
        ring = self.progress().locator("ha-progress-ring")
        if not ring.count():
            return None
        try:  # the step can end between the count and the read: then there is no percentage to read
            shown = ring.first.inner_text(timeout=1000)
        except PlaywrightTimeout:
            return None
        match = re.search(r"(\d+(?:[.,]\d+)?)\s*%", shown)
        return float(match.group(1).replace(",", ".")) if match else None

    def showing_progress(self, text: re.Pattern[str] | None = None) -> bool:
        """Whether a progress step is on screen (the one saying ``text``, when given)."""
        progress = self.progress()
        if not (progress.count() and progress.first.is_visible()):
            return False
        return text is None or bool(progress.get_by_text(text).count())

    def wait_while_progress(self, timeout_s: float, on_tick: Any = None,
                            text: re.Pattern[str] | None = None) -> float:
        """Wait for a progress step (the one saying ``text``) to end; ``on_tick(percent)`` sees each
        reading. Returns the seconds waited."""
        started = time.monotonic()
        while self.showing_progress(text):
            percent = self.progress_percent()
            if time.monotonic() - started > timeout_s:
                raise TimeoutError(f"the progress step did not end within {timeout_s:.0f} s (it shows {percent}%; "
                                   "at 100% the flow finished but never told the frontend to move on)")
            if on_tick is not None:
                on_tick(percent)
            time.sleep(0.25)
        return time.monotonic() - started

    def wait_for_next_step(self, timeout_s: float = UI_TIMEOUT_MS / 1000) -> None:
        """After a progress step: wait until the dialog shows what came next (a form, another
        progress step, or the flow's end), so nothing is read from a half-drawn dialog."""
        steps = self.root.locator("step-flow-form, step-flow-progress, step-flow-create-entry, step-flow-abort")
        steps.first.wait_for(state="visible", timeout=timeout_s * 1000)
        settle()

    def finish_button(self) -> Locator:
        """The button that closes a flow's last (create entry / abort) step."""
        return self.root.get_by_role("button", name=re.compile(r"^(Finish|Skip and finish|Close)$")).first

    def finish(self) -> None:
        self.finish_button().click()
        self.root.wait_for(state="hidden", timeout=UI_TIMEOUT_MS)


@dataclass
class HomeAssistantUI:
    """Logging in and finding one's way around Home Assistant's frontend."""

    page: Page
    url: str

    def login(self, username: str, password: str) -> None:
        self.page.goto(self.url)
        self.page.get_by_role("textbox", name="Username").fill(username)
        self.page.get_by_role("textbox", name="Password").fill(password)
        self.page.get_by_role("button", name="Log in").click()
        # Navigating before the auth callback is consumed lands back on the login page.
        self.page.wait_for_url(lambda url: "auth_callback" not in url and "/auth/" not in url, timeout=UI_TIMEOUT_MS)
        self.page.locator("ha-sidebar").wait_for(state="visible", timeout=UI_TIMEOUT_MS)

    def sidebar(self, item: str) -> None:
        self.page.locator("ha-sidebar").get_by_text(item, exact=True).first.click()

    def open_settings_entry(self, name: str, url_part: str) -> None:
        """Settings → an entry of its dashboard (Devices & services, Repairs, ...)."""
        self.sidebar("Settings")
        self.page.wait_for_url("**/config/dashboard", timeout=UI_TIMEOUT_MS)
        self.page.locator("ha-config-dashboard").get_by_text(name, exact=True).first.click()
        self.page.wait_for_url(f"**{url_part}**", timeout=UI_TIMEOUT_MS)

    def add_integration(self, name: str) -> FlowDialog:
        self.page.get_by_role("button", name="Add integration").click()
        search = self.page.get_by_role("textbox", name=re.compile("Search for a brand name", re.I))
        search.wait_for(state="visible", timeout=UI_TIMEOUT_MS)
        settle()
        search.fill(name)
        self.page.locator("dialog-add-integration").get_by_text(name, exact=True).first.click()
        return FlowDialog(self.page)

    def visit(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")
        self.page.locator("ha-sidebar").wait_for(state="visible", timeout=UI_TIMEOUT_MS)

    def wait_for_text(self, text: str | re.Pattern[str], timeout_s: float = UI_TIMEOUT_MS / 1000) -> Locator:
        locator = self.page.get_by_text(text).first
        try:
            locator.wait_for(state="visible", timeout=timeout_s * 1000)
        except PlaywrightTimeout as error:
            raise AssertionError(f"{text!r} did not appear on {self.page.url} within {timeout_s:.0f} s") from error
        return locator
