"""What HACS and a core reviewer read besides the code: the licence, brand images for every Home
Assistant version hacs.json allows, and the quality_scale.yaml claims that files can prove."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import yaml
from awesomeversion import AwesomeVersion

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "ruview"
USER_GUIDE = ROOT / "docs" / "home-assistant.md"
LOCAL_BRANDS_SINCE = AwesomeVersion("2026.3.0")  # Home Assistant serves a custom integration's brand/ from here on
BOARDS = ("ESP32-S3", "ESP32-C3", "ESP32-C5", "ESP32-C6", "**ESP32** (the original)")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_licence_is_mit_like_upstream() -> None:
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License\n")
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_brand_images_for_every_version_hacs_allows() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    # The tests run on 2026.2.3 (pytest-homeassistant-custom-component's pin), so that is the oldest
    # version allowed; it shows no icon (custom integrations' brand/ is served from 2026.3 on, and
    # the brands repository no longer takes them), which the user guide says.
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion("2026.2.3") < LOCAL_BRANDS_SINCE
    assert "its icon shows from 2026.3 on" in USER_GUIDE.read_text(encoding="utf-8")
    brand = INTEGRATION / "brand"
    assert png_size(brand / "icon.png") == (256, 256) and png_size(brand / "icon@2x.png") == (512, 512)
    for prefix in ("", "dark_"):
        width, height = png_size(brand / f"{prefix}logo.png")
        assert height == 128 and width >= height  # shortest side 128-256
        assert png_size(brand / f"{prefix}logo@2x.png")[1] == 256


def test_quality_scale_claims_hold() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))["rules"]
    status = {name: rule if isinstance(rule, str) else rule["status"] for name, rule in rules.items()}
    assert set(status.values()) <= {"done", "exempt", "todo"}
    assert all(isinstance(rule, dict) and rule.get("comment") for name, rule in rules.items()
               if status[name] != "done"), "an exempt or todo rule says why"

    guide = USER_GUIDE.read_text(encoding="utf-8")
    if status["docs-supported-devices"] == "done":
        assert all(board in guide for board in BOARDS) and "esp32-csi-node" in guide
    if status["docs-actions"] == "done":
        assert "ruview.train_room" in guide and "ruview.recalibrate" in guide
    if status["config-flow"] == "done":  # every field a user fills in is explained
        strings = json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))
        steps = [*strings["config"]["step"].values(), *strings["config_subentries"]["room"]["step"].values(),
                 *(step for issue in strings["issues"].values() if "fix_flow" in issue  # fixable issues only
                   for step in issue["fix_flow"]["step"].values())]
        for step in steps:
            assert set(step.get("data", {})) <= set(step.get("data_description", {})), step.get("title")
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["documentation"].endswith("docs/home-assistant.md")
