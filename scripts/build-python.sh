#!/usr/bin/env bash
# Usage: scripts/build-python.sh PREFIX
#
# Builds CPython 3.13.5 into PREFIX once and prints PREFIX/bin/python3.13 on stdout.
#
# Home Assistant 2026.x refuses to start on a Python older than 3.13.2, and the only way to get a
# newer one here is to build it: the package registries are reachable, python.org is not. The
# source comes from Debian trixie's python3.13 source package, fetched with a private sources list
# and private apt state so the machine's own apt configuration is neither read nor changed. The
# upstream tarball is built without Debian's patches: they move site-packages to dist-packages and
# change the install schemes, which a plain --prefix build does not want.
#
# A second run reuses PREFIX when its python3.13 reports 3.13.5 and imports the modules Home
# Assistant needs. Build dependencies are installed with apt-get when missing (run as root).
set -euo pipefail

readonly VERSION=3.13.5
readonly PREFIX="${1:?usage: scripts/build-python.sh PREFIX}"
readonly PYTHON="$PREFIX/bin/python3.13"
readonly STAMP="$PREFIX/.ruview-built"
# Modules that exist only when their -dev package was present at configure time.
readonly NEEDED_MODULES="ssl, sqlite3, zlib, ctypes, bz2, lzma, readline, uuid, dbm.gnu, ensurepip"
readonly BUILD_DEPS=(build-essential dpkg-dev xz-utils libssl-dev zlib1g-dev libffi-dev libsqlite3-dev
  libbz2-dev liblzma-dev libreadline-dev uuid-dev libgdbm-dev libncurses-dev pkg-config)

log() { echo "build-python: $*" >&2; }

is_built() {
  [ -f "$STAMP" ] && [ -x "$PYTHON" ] \
    && [ "$("$PYTHON" -c 'import platform; print(platform.python_version())' 2>/dev/null)" = "$VERSION" ] \
    && "$PYTHON" -c "import $NEEDED_MODULES" 2>/dev/null
}

debian_mirror() {
  # The mirror this machine's apt already uses; deb.debian.org when none is configured.
  local uri pattern='(URIs:[[:space:]]*|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?)https?://[^[:space:]]+/debian/?([[:space:]]|$)'
  uri=$(grep -hoE "$pattern" /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list \
          2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -n 1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

install_build_deps() {
  local missing=() pkg
  for pkg in "${BUILD_DEPS[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  log "installing build dependencies: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The package lists may be absent or old on a fresh machine: update once, then install.
  apt-get install -y --no-install-recommends "${missing[@]}" >&2 2>/dev/null \
    || { apt-get update >&2 && apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}

fetch_source() {
  # Downloads the trixie source package into $1 and unpacks the upstream tree into $1/src.
  local workdir="$1" aptdir="$1/apt"
  mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/sources.list.d"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $(debian_mirror) trixie main" \
    >"$aptdir/sources.list"
  local apt_private=(-o "Dir::Etc::SourceList=$aptdir/sources.list"
    -o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
    -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache" -o "APT::Sandbox::User=root")
  log "fetching the python3.13 source package from trixie ($(debian_mirror))"
  apt-get "${apt_private[@]}" -q update >&2
  (cd "$workdir" && apt-get "${apt_private[@]}" -q source --download-only python3.13 >&2)
  local dsc
  dsc=$(ls "$workdir"/python3.13_*.dsc)
  case "$(basename "$dsc")" in
    python3.13_"$VERSION"-*) ;;
    *) log "trixie ships $(basename "$dsc"), not $VERSION: update VERSION in $0"; exit 1 ;;
  esac
  dpkg-source --skip-patches -x "$dsc" "$workdir/src" >&2
}

build() {
  local workdir="$1" jobs
  jobs=$(nproc)
  cd "$workdir/src"
  log "configure, make -j$jobs, make altinstall into $PREFIX (log: $workdir/build.log)"
  {
    ./configure --prefix="$PREFIX" --with-ensurepip=install \
      && make -j"$jobs" \
      && make altinstall
  } >"$workdir/build.log" 2>&1 || { tail -n 40 "$workdir/build.log" >&2; exit 1; }
}

main() {
  if is_built; then
    echo "$PYTHON"
    return
  fi
  mkdir -p "$(dirname "$PREFIX")"
  # Two make runs at once must not build into the same prefix.
  exec 9>"$PREFIX.lock"
  flock 9
  if is_built; then
    echo "$PYTHON"
    return
  fi
  local started workdir
  started=$(date +%s)
  install_build_deps
  workdir=$(mktemp -d "${TMPDIR:-/tmp}/ruview-python-build.XXXXXX")
  rm -rf "$PREFIX"
  fetch_source "$workdir"
  build "$workdir"
  if ! "$PYTHON" -c "import $NEEDED_MODULES"; then
    log "the built Python lacks one of: $NEEDED_MODULES (see $workdir/build.log)"
    exit 1
  fi
  touch "$STAMP"
  rm -rf "$workdir"
  log "built Python $VERSION in $(($(date +%s) - started)) s"
  echo "$PYTHON"
}

main
