#!/usr/bin/env bash
# Prints the path of a Python to build .venv with: 3.13.2 or newer (Home Assistant's packages and
# its `hass` refuse anything older). A `python3.13` on PATH or one of pyenv's 3.13.x when new
# enough; otherwise CPython 3.13.5 built once from Debian trixie's source package into
# ${RUVIEW_CACHE:-~/.cache/ruview}/python-3.13.5 (scripts/build-python.sh, ~3.5 min on 2 cores).
set -euo pipefail
candidates=()
command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin; do
  [ -x "$dir/python3.13" ] && candidates+=("$dir/python3.13")
done
for python in "${candidates[@]}"; do
  # pyenv's shim exists even when it refuses to run: ask the interpreter itself.
  if "$python" -c 'import sys; assert sys.version_info[:2] == (3, 13) and sys.version_info >= (3, 13, 2)' \
      >/dev/null 2>&1; then
    echo "$python"
    exit 0
  fi
done
echo "find-python: no Python >= 3.13.2 here; building CPython 3.13.5 once" >&2
exec "$(dirname "$0")/build-python.sh" "${RUVIEW_CACHE:-$HOME/.cache/ruview}/python-3.13.5"
