#!/usr/bin/env bash
# Install the Debian packages the tests start for real (a Mosquitto broker, jq and curl for the
# add-on's run script) when their programs are missing. These machines run as root and reach
# Debian's package registry; elsewhere, say what to install and fail.
set -euo pipefail
missing=()
for pair in "$@"; do
    package=${pair%%:*} program=${pair#*:}
    command -v "$program" >/dev/null 2>&1 || [ -x "/usr/sbin/$program" ] || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "installing ${missing[*]}..." >&2
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
