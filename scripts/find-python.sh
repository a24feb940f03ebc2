#!/usr/bin/env bash
# Prints the path of a Python 3.13 to build .venv with: a working `python3.13` on PATH, else
# pyenv's 3.13.x. Exits 1 with a message when there is none.
set -euo pipefail
candidates=()
command -v python3.13 >/dev/null 2>&1 && candidates+=("$(command -v python3.13)")
for dir in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin; do
  [ -x "$dir/python3.13" ] && candidates+=("$dir/python3.13")
done
for python in "${candidates[@]}"; do
  # pyenv's shim exists even when it refuses to run: ask the interpreter itself.
  if "$python" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
    echo "$python"
    exit 0
  fi
done
echo "no Python 3.13 found: install python3.13 (or pyenv install 3.13)" >&2
exit 1
