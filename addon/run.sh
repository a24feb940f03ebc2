#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# ==============================================================================
# Starts `ruview serve` (bashio runs this with errexit, nounset and pipefail).
#
# Under the Supervisor: options from the add-on's configuration, the MQTT broker from the
# options or the Supervisor's services API, and, once the API answers, an announcement to
# Home Assistant through the Supervisor's discovery API so the RuView integration finds it.
#
# Standalone (`docker run`, no SUPERVISOR_TOKEN): configured by RUVIEW_* variables, which
# `ruview serve` reads itself (RUVIEW_TOKEN, RUVIEW_UDP_PORT, RUVIEW_PORT, RUVIEW_MQTT_HOST,
# RUVIEW_MQTT_PORT, RUVIEW_MQTT_USERNAME, RUVIEW_MQTT_PASSWORD, RUVIEW_LOG_LEVEL), plus
# RUVIEW_ALLOW_NODES (comma-separated node ids), which this script turns into --allow-node.
# ==============================================================================

DATA_DIR="${RUVIEW_DATA_DIR:-/data}"
API_PORT="${RUVIEW_PORT:-8099}"
UDP_PORT=5005  # inside the container; the host side is the add-on's Network setting
STARTUP_TIMEOUT_S=60

args=()

add_allowed_nodes() {
    local node
    for node in "$@"; do
        args+=(--allow-node "${node}")
    done
}

if [[ -z "${SUPERVISOR_TOKEN:-}" ]]; then
    echo "[ruview] No Supervisor: running standalone, configured by RUVIEW_* environment variables"
    nodes="${RUVIEW_ALLOW_NODES:-}"
    # shellcheck disable=SC2086  # split "1,2,3" into words on purpose
    add_allowed_nodes ${nodes//,/ }
    exec ruview serve --data-dir "${DATA_DIR}" "${args[@]}"
fi

# ---------------------------------------------------------------- Home Assistant add-on
# Options the user left empty read as "null" from bashio::config.
option() {
    if bashio::config.has_value "$1"; then bashio::config "$1"; else printf '%s' "${2:-}"; fi
}

# shellcheck disable=SC2046  # one node id per line
add_allowed_nodes $(option 'allowed_nodes')
args=(serve --data-dir "${DATA_DIR}" --udp-port "${UDP_PORT}" --port "${API_PORT}"
      --log-level "$(option 'log_level' 'info')" "${args[@]}")

# Credentials travel in the environment, not on the command line where `ps` would show them.
use_broker() {  # host port username password
    export RUVIEW_MQTT_HOST="$1" RUVIEW_MQTT_PORT="$2" RUVIEW_MQTT_USERNAME="$3" RUVIEW_MQTT_PASSWORD="$4"
}
if bashio::config.true 'mqtt'; then
    if bashio::config.has_value 'mqtt_host'; then
        bashio::log.info "MQTT: the broker set in the options"
        use_broker "$(option 'mqtt_host')" "$(option 'mqtt_port' '1883')" "$(option 'mqtt_username')" \
            "$(option 'mqtt_password')"
    elif bashio::services.available 'mqtt'; then
        bashio::log.info "MQTT: the broker the Supervisor provides"
        use_broker "$(bashio::services 'mqtt' 'host')" "$(bashio::services 'mqtt' 'port')" \
            "$(bashio::services 'mqtt' 'username')" "$(bashio::services 'mqtt' 'password')"
    else
        bashio::log.info "MQTT: no broker (install the Mosquitto broker add-on or set mqtt_host); running without"
    fi
fi

ruview "${args[@]}" &
pid=$!
interrupted=false
trap 'interrupted=true; kill -TERM "${pid}" 2>/dev/null || true' TERM INT

# Announce only once the API answers: the integration connects as soon as it hears of it.
api_up=false
for ((tries = 0; tries < STARTUP_TIMEOUT_S * 4; tries++)); do
    kill -0 "${pid}" 2>/dev/null || break
    if curl -fsS -o /dev/null "http://127.0.0.1:${API_PORT}/api/v1/health" 2>/dev/null; then
        api_up=true
        break
    fi
    sleep 0.25
done

if [[ "${api_up}" == true ]]; then
    token="$(cat "${DATA_DIR}/token" 2>/dev/null || true)"
    if [[ -z "${token}" ]]; then
        bashio::log.warning "No API token in ${DATA_DIR}/token: not announcing RuView to Home Assistant"
    elif bashio::discovery "ruview" \
            "$(bashio::var.json host "${HOSTNAME}" port "^${API_PORT}" token "${token}")" > /dev/null; then
        bashio::log.info "Announced RuView to Home Assistant (${HOSTNAME}:${API_PORT})"
    else
        bashio::log.warning "Announcing to Home Assistant failed: add the RuView integration by hand"
    fi
elif kill -0 "${pid}" 2>/dev/null; then
    bashio::log.warning "The API did not answer within ${STARTUP_TIMEOUT_S} s: not announced to Home Assistant"
fi

# A signal makes `wait` return at once (after the trap passed it on): wait again for ruview's
# own exit status, so a clean stop exits 0.
while true; do
    interrupted=false
    status=0
    wait "${pid}" || status=$?
    [[ "${interrupted}" == true ]] || break
done
exit "${status}"
