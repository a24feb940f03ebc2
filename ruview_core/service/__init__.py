"""The service ``ruview serve`` runs in the add-on: one process for ingest, rooms, jobs and the API."""

from .http import create_app
from .hub import RuViewService, ServiceConfig
from .server import running_service, serve

__all__ = ["RuViewService", "ServiceConfig", "create_app", "running_service", "serve"]
