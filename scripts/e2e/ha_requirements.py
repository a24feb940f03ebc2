"""Prints the pip requirements of the integrations the e2e Home Assistant sets up.

``hass --skip-pip`` installs nothing, so the venv must already hold what every integration it
loads asks for: the always-loaded ones (bootstrap's core and default sets), those named in the
test's configuration.yaml, RuView's own manifest, and all of their dependencies. Run it with the
Home Assistant venv's python after ``homeassistant`` is installed.

Usage: python ha_requirements.py [CUSTOM_MANIFEST.json ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import homeassistant.bootstrap as bootstrap
import homeassistant.components

CONFIGURED = {"homeassistant", "http", "frontend", "config", "logger"}  # tests/e2e writes these


def manifests(custom: list[Path]) -> dict[str, dict]:
    components = Path(homeassistant.components.__path__[0])
    found = {path.parent.name: json.loads(path.read_text()) for path in components.glob("*/manifest.json")}
    for path in custom:
        manifest = json.loads(path.read_text())
        found[manifest["domain"]] = manifest
    return found


def closure(roots: set[str], known: dict[str, dict]) -> set[str]:
    seen: set[str] = set()
    todo = [domain for domain in roots if domain in known]
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        todo.extend(dep for dep in known[domain].get("dependencies", []) if dep in known)
    return seen


def main(argv: list[str]) -> None:
    custom = [Path(arg) for arg in argv if Path(arg).is_file()]
    known = manifests(custom)
    roots = CONFIGURED | bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS
    roots |= {json.loads(path.read_text())["domain"] for path in custom}
    requirements = sorted({req for domain in closure(roots, known) for req in known[domain].get("requirements", [])})
    print("\n".join(requirements))


if __name__ == "__main__":
    main(sys.argv[1:])
