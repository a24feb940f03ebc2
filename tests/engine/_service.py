"""The real service on loopback (UDP and HTTP on free ports) and the integration's own API client."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import aiohttp

from ruview_core.service import ServiceConfig, running_service

ROOT = Path(__file__).resolve().parents[2]


def load_client_module():
    """``custom_components/ruview/api.py`` by path: it must work without Home Assistant's package."""
    name = "ruview_api_client"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "custom_components" / "ruview" / "api.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


api = load_client_module()


def config(data_dir: Path, **overrides) -> ServiceConfig:
    settings = {"data_dir": data_dir, "host": "127.0.0.1", "port": 0, "udp_port": 0, "token": "test-token",
                "no_data_timeout": 5.0, "offline_after": 3.0}
    settings.update(overrides)
    return ServiceConfig(**settings)


@contextlib.asynccontextmanager
async def service_and_client(data_dir: Path, **overrides):
    async with running_service(config(data_dir, **overrides)) as (service, port), aiohttp.ClientSession() as session:
        yield service, api.RuViewClient(session, "127.0.0.1", port, service.token)
