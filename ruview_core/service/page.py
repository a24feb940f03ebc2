"""The live view: the page Home Assistant shows in its sidebar through the Supervisor's ingress,
and its static files.

The page and its files hold no data and are served to anyone; everything the page shows comes
from the API (trusted through the ingress proxy, a bearer token otherwise). Under ingress the
page sits at ``/api/hassio_ingress/<token>/``, so it asks for everything by relative URL.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).with_name("static")
# Copied from the npm package by `make live-view-assets` or the add-on image's node stage; not in git.
VENDOR_FILES = ("uPlot.iife.min.js", "uPlot.min.css")
PAGE_PATHS = ("/", "/index.html")
STATIC_PREFIX = "/static/"


def is_page(path: str) -> bool:
    return path in PAGE_PATHS or path.startswith(STATIC_PREFIX)


def missing_vendor_files() -> list[str]:
    return [name for name in VENDOR_FILES if not (STATIC_DIR / "vendor" / name).is_file()]


async def index(request: web.Request) -> web.Response:
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", headers={"Cache-Control": "no-cache"})


def add_routes(app: web.Application) -> None:
    for path in PAGE_PATHS:
        app.router.add_get(path, index)
    app.router.add_static(STATIC_PREFIX.rstrip("/"), STATIC_DIR, follow_symlinks=False)
