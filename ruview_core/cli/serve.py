"""``ruview serve``: the add-on's service (UDP ingest, REST + WebSocket API, optional MQTT)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from .common import fail
from .rooms import DEFAULT_DATA_DIR


def _env_number[T: (int, float)](name: str, default: T) -> T:
    """``$name`` as a number of the default's type (the default when unset)."""
    value = os.environ.get(name)
    try:
        return type(default)(value) if value else default
    except ValueError:
        fail(f"{name}={value!r}: expected a number")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("serve", help="run the service: UDP ingest, REST + WebSocket API, MQTT")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"rooms, banks, jobs and the token (default $RUVIEW_DATA_DIR or {DEFAULT_DATA_DIR})")
    parser.add_argument("--host", default=os.environ.get("RUVIEW_HOST", "0.0.0.0"), help="address of the API and UDP")
    parser.add_argument("--udp-port", type=int, default=_env_number("RUVIEW_UDP_PORT", 5005))
    parser.add_argument("--port", type=int, default=_env_number("RUVIEW_PORT", 8099), help="API port")
    parser.add_argument("--token", default=os.environ.get("RUVIEW_TOKEN"),
                        help="API bearer token (default $RUVIEW_TOKEN, else made once and kept in the data dir)")
    parser.add_argument("--allow-node", type=int, action="append", default=[], metavar="ID",
                        help="accept only these node ids (repeatable)")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDRESS",
                        help="address of Home Assistant's ingress proxy, whose requests with an ingress path need no "
                             "token (repeatable; default the Supervisor's 172.30.32.2)")
    parser.add_argument("--mqtt-host", default=os.environ.get("RUVIEW_MQTT_HOST"), help="MQTT broker (discovery)")
    parser.add_argument("--mqtt-port", type=int, default=_env_number("RUVIEW_MQTT_PORT", 1883))
    parser.add_argument("--mqtt-username", default=os.environ.get("RUVIEW_MQTT_USERNAME"))
    parser.add_argument("--mqtt-password", default=os.environ.get("RUVIEW_MQTT_PASSWORD"))
    parser.add_argument("--learn-every", type=float, default=_env_number("RUVIEW_LEARN_EVERY_HOURS", 6.0),
                        metavar="HOURS", help="rooms learn from their own sensors this often (0: only on request)")
    parser.add_argument("--log-level", default=os.environ.get("RUVIEW_LOG_LEVEL", "info"),
                        choices=("debug", "info", "warning", "error"))
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..service import ServiceConfig, serve  # aiohttp's server only when serving

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for port in (args.port, args.udp_port):
        if not 0 <= port <= 65535:
            fail(f"port {port} is out of range")
    mqtt = None
    if args.mqtt_host:
        from ..service.mqtt import MqttSettings

        mqtt = MqttSettings(args.mqtt_host, args.mqtt_port, args.mqtt_username, args.mqtt_password)
    config = ServiceConfig(data_dir=args.data_dir.expanduser(), host=args.host, port=args.port,
                           udp_port=args.udp_port, token=args.token, mqtt=mqtt, allow_nodes=tuple(args.allow_node),
                           learn_every_s=max(args.learn_every, 0.0) * 3600.0,
                           trusted_addresses=tuple(args.trusted_proxy) or ServiceConfig.trusted_addresses)
    try:
        asyncio.run(serve(config))
    except OSError as error:
        fail(str(error))
    return 0
