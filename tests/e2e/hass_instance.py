"""A real Home Assistant for the journey: a fresh config dir, onboarded but for its one user.

The config is the smallest that gives a person the UI (``frontend:``, ``config:``) and not
``default_config``, whose integrations install packages and call the internet. Onboarding is
written as done except for the user, who is created over the onboarding API, so Home Assistant
starts none of the onboarding integrations either.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from .processes import LOOPBACK, ChildProcess, free_port, http_json, wait_until

HA_VERSION = "2026.2.3"
REPO = Path(__file__).resolve().parents[2]
# The integration under test; another checkout's (or a patched copy's) with RUVIEW_E2E_INTEGRATION.
INTEGRATION = Path(os.environ.get("RUVIEW_E2E_INTEGRATION", REPO / "custom_components" / "ruview")).resolve()
DEFAULT_VENV = Path(os.environ.get("RUVIEW_HASS_VENV", Path.home() / ".cache" / "ruview" / "hass-venv"))
VENV_STAMP = ".ruview-hass-stamp"  # written by scripts/e2e/make-hass-venv.sh when the venv is complete

CONFIGURATION_YAML = """\
homeassistant:
  name: RuView e2e
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
  language: en
http:
  server_host: {host}
  server_port: {port}
frontend:
config:
logger:
  default: warning
  logs:
    custom_components.ruview: debug
    homeassistant.setup: info
"""

# Every onboarding step but the user's: those steps would start integrations that fetch things.
ONBOARDING = {"version": 4, "minor_version": 1, "key": "onboarding",
              "data": {"done": ["core_config", "analytics", "integration"]}}


def venv_problem(venv: Path = DEFAULT_VENV) -> str | None:
    """Why the Home Assistant venv cannot be used, or None when it is ready."""
    if not (venv / "bin" / "hass").exists() or not (venv / VENV_STAMP).exists():
        return (f"the Home Assistant {HA_VERSION} venv is not built at {venv} "
                f"(make builds it: scripts/e2e/make-hass-venv.sh; or set RUVIEW_HASS_VENV)")
    return None


@dataclass
class HassInstance:
    """``hass -c config_dir --skip-pip`` on loopback, and the person who logs in to it."""

    config_dir: Path
    log: Path
    venv: Path = DEFAULT_VENV
    port: int = field(default_factory=free_port)
    username: str = "person"
    password: str = "enroll-the-room-1"
    display_name: str = "Test Person"
    child: ChildProcess | None = None
    access_token: str | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def write_config(self) -> None:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        (self.config_dir / "configuration.yaml").write_text(CONFIGURATION_YAML.format(host=LOOPBACK, port=self.port))
        storage = self.config_dir / ".storage"
        storage.mkdir(exist_ok=True)
        (storage / "onboarding").write_text(json.dumps(ONBOARDING))
        custom = self.config_dir / "custom_components"
        custom.mkdir(exist_ok=True)
        (custom / "ruview").symlink_to(INTEGRATION, target_is_directory=True)

    def start(self, timeout_s: float = 180.0) -> float:
        """Start Home Assistant and wait for its HTTP API; returns the seconds it took."""
        self.write_config()
        env = {key: value for key, value in os.environ.items() if key not in ("SUPERVISOR", "PYTHONPATH")}
        command = [str(self.venv / "bin" / "hass"), "-c", str(self.config_dir), "--skip-pip"]
        self.child = ChildProcess("hass", command, self.log, env=env).start()
        return wait_until("Home Assistant's HTTP API",
                          lambda: http_json("GET", f"{self.url}/api/onboarding")[0] == 200,
                          timeout_s, poll_s=0.5, child=self.child)

    def create_user(self) -> None:
        """The onboarding user step over the API, then a token for the test's own API checks."""
        client_id = f"{self.url}/"
        status, answer = http_json("POST", f"{self.url}/api/onboarding/users", {
            "client_id": client_id, "name": self.display_name, "username": self.username,
            "password": self.password, "language": "en"})
        assert status == 200, f"onboarding user: HTTP {status} {answer}"
        status, tokens = http_json("POST", f"{self.url}/auth/token", form={
            "grant_type": "authorization_code", "code": answer["auth_code"], "client_id": client_id})
        assert status == 200, f"token exchange: HTTP {status} {tokens}"
        self.access_token = tokens["access_token"]
        status, steps = http_json("GET", f"{self.url}/api/onboarding")
        assert status == 200 and all(step["done"] for step in steps), f"onboarding not finished: {steps}"

    def api(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        """Home Assistant's REST API as the onboarded user."""
        return http_json(method, f"{self.url}/api{path}", body, token=self.access_token)

    def states(self) -> list[dict]:
        status, answer = self.api("GET", "/states")
        assert status == 200 and isinstance(answer, list), f"/api/states: HTTP {status}"
        return answer

    def stop(self) -> int | None:
        return None if self.child is None else self.child.stop()
