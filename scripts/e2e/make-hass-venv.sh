#!/usr/bin/env bash
# Usage: scripts/e2e/make-hass-venv.sh PYTHON VENV
#
# Makes the Home Assistant venv the browser journey (tests/e2e) runs `hass` from: Home Assistant
# 2026.2.3 with the versions its wheel pins (homeassistant/package_constraints.txt, used as pip
# constraints so the frontend and every shared dependency match a real install), plus the
# requirements of each integration the test's Home Assistant loads, since `hass --skip-pip`
# installs nothing. PYTHON must be 3.13.2 or newer (scripts/build-python.sh makes one).
#
# Idempotent: VENV/.ruview-hass-stamp records what was installed; a run whose Home Assistant
# version and requirement list match it does nothing.
set -euo pipefail

readonly HA_VERSION=2026.2.3
readonly PYTHON="${1:?usage: make-hass-venv.sh PYTHON VENV}"
readonly VENV="${2:?usage: make-hass-venv.sh PYTHON VENV}"
readonly HERE="$(cd "$(dirname "$0")" && pwd)"
readonly REPO="$(cd "$HERE/../.." && pwd)"
readonly STAMP="$VENV/.ruview-hass-stamp"
readonly CONSTRAINTS="$VENV/ha-package-constraints.txt"

log() { echo "make-hass-venv: $*" >&2; }

custom_manifests() {
  local manifest="$REPO/custom_components/ruview/manifest.json"
  [ -f "$manifest" ] && echo "$manifest"
  return 0
}

wanted() {
  # What the stamp must say for this venv to be reusable.
  echo "homeassistant==$HA_VERSION"
  # shellcheck disable=SC2046
  "$VENV/bin/python" "$HERE/ha_requirements.py" $(custom_manifests)
}

quiet_pip() {
  # Machines with a local find-links/extra index that lacks a package warn for each one: noise.
  { grep -v 'is ignored: it is neither a file nor a directory' || true; } >&2
}

pip_install() {
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$CONSTRAINTS" "$@" 2>&1 | quiet_pip
}

main() {
  if [ -f "$STAMP" ] && [ -x "$VENV/bin/hass" ] && [ "$(wanted 2>/dev/null)" = "$(cat "$STAMP")" ]; then
    log "reusing $VENV"
    touch "$STAMP"  # newer than its inputs, so make does not ask again
    return
  fi
  local started
  started=$(date +%s)
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -f "$CONSTRAINTS" ]; then
    local wheel_dir
    wheel_dir=$(mktemp -d)
    "$VENV/bin/python" -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" \
      "homeassistant==$HA_VERSION" 2>&1 | quiet_pip
    "$VENV/bin/python" - "$wheel_dir"/homeassistant-*.whl "$CONSTRAINTS" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    constraints = wheel.read("homeassistant/package_constraints.txt").decode()
open(sys.argv[2], "w").write(constraints)
PY
    rm -rf "$wheel_dir"
  fi
  log "installing homeassistant==$HA_VERSION with its package constraints"
  pip_install "homeassistant==$HA_VERSION"
  local requirements
  requirements=$(wanted | tail -n +2)
  log "installing what the loaded integrations need: $(echo $requirements)"
  # shellcheck disable=SC2086
  pip_install $requirements
  wanted >"$STAMP"
  log "Home Assistant venv ready in $(($(date +%s) - started)) s"
}

main
