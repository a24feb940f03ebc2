"""The REST + WebSocket API of ``ruview serve`` (``/api/v1``), over :class:`RuViewService`.

Every endpoint but ``/health``, ``/openapi.json`` and the live view's page and files (no data in them) wants ``Authorization: Bearer TOKEN``;
requests through Home Assistant's ingress proxy (from its address, with its ingress path) are trusted. Every refusal is a 4xx with
``{"error": CODE, "message": TEXT}`` and changes nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from .. import __version__
from ..storage import InvalidRoomId
from .body import parse_json
from .clients import Subscriber
from .guard import ConnectionGuard
from .hub import RuViewService
from .labels import add_routes as add_label_routes
from .openapi import openapi_document
from .page import add_routes as add_page_routes
from .page import is_page
from .placement import placement
from .registry import RegistryError
from .tasks import bank_versions, rollback_bank, start_anchor, start_baseline, start_learning, start_training

SERVICE: web.AppKey[RuViewService] = web.AppKey("service", RuViewService)
GUARD: web.AppKey[ConnectionGuard] = web.AppKey("guard", ConnectionGuard)
PUBLIC = {"/api/v1/health", "/api/v1/openapi.json"}
INGRESS_PATH_HEADER, INGRESS_PATH_PREFIX = "X-Ingress-Path", "/api/hassio_ingress/"  # set by the Supervisor's proxy
ERROR_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
               408: "request_timeout", 409: "conflict", 413: "too_large", 415: "unsupported_media_type"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": ERROR_CODES.get(status, "error"), "message": message}, status=status)


@web.middleware
async def errors_and_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    service = request.app[SERVICE]
    if request.path not in PUBLIC and not is_page(request.path) and not _authorized(request, service):
        return _error(401, "missing or wrong bearer token (the add-on's token is in its log and data folder)")
    try:
        return await handler(request)
    except RegistryError as error:
        return _error(error.status, str(error))
    except InvalidRoomId as error:
        return _error(400, str(error))
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"request body larger than {service.config.max_body_bytes} bytes")
    except web.HTTPException as error:
        if error.status >= 400:
            response = _error(error.status, error.reason)
            if "Allow" in error.headers:  # a 405 says which methods the path takes (RFC 9110)
                response.headers["Allow"] = error.headers["Allow"]
            return response
        raise


def _authorized(request: web.Request, service: RuViewService) -> bool:
    if _through_ingress(request, service):
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), service.token.encode())


def _through_ingress(request: web.Request, service: RuViewService) -> bool:
    """Home Assistant's ingress: the user is signed in to Home Assistant, and the Supervisor's proxy
    (the only client at its address) says so with the ingress path. Anything else from that
    address (the Supervisor's own calls) shows a token like everyone."""
    return (request.remote in service.config.trusted_addresses
            and request.headers.get(INGRESS_PATH_HEADER, "").startswith(INGRESS_PATH_PREFIX))


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    raw = await request.read()
    if not raw.strip():
        return {}
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise RegistryError("the body must be a JSON object")
    return body


def _room(request: web.Request) -> str:
    return request.app[SERVICE].registry.get(request.match_info["room"]).room_id


def _job(job) -> web.Response:
    return web.json_response(job.to_dict(), status=202)


async def health(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response({
        "status": "ok", "version": __version__, "instance_id": service.instance_id,
        "uptime_s": round(time.time() - service.started, 1),
        "nodes_seen": len(service.receiver.stats.nodes), "rooms": len(service.registry.rooms),
        "udp_port": service.receiver.port, "mqtt": None if service.mqtt is None else service.mqtt.connected,
    })


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document(__version__))


async def nodes(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    stats = service.receiver.stats
    return web.json_response({"nodes": service.nodes(), "unattributed": dict(stats.unattributed),
                              "dropped_by_address": {a: dict(c) for a, c in stats.dropped_by_address.items()}})


async def list_rooms(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    return web.json_response({"rooms": [service.room_summary(r) for r in sorted(service.registry.rooms)]})


async def create_room(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    room = service.registry.create(await _body(request))
    service.room_added(room)
    return web.json_response(service.room_summary(room.room_id), status=201)


async def get_room(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE].room_summary(_room(request)))


async def patch_room(request: web.Request) -> web.Response:
    service, room = request.app[SERVICE], _room(request)
    config = service.registry.update(room, await _body(request))
    service.room_added(config)
    return web.json_response(service.room_summary(room))


async def delete_room(request: web.Request) -> web.Response:
    service, room = request.app[SERVICE], _room(request)
    await service.delete_room(room)
    return web.Response(status=204)


async def baseline(request: web.Request) -> web.Response:
    return _job(start_baseline(request.app[SERVICE], _room(request), await _body(request)))


async def recalibrate(request: web.Request) -> web.Response:
    return _job(start_baseline(request.app[SERVICE], _room(request), await _body(request), kind="recalibrate"))


async def anchor(request: web.Request) -> web.Response:
    return _job(start_anchor(request.app[SERVICE], _room(request), request.match_info["anchor"], await _body(request)))


async def train(request: web.Request) -> web.Response:
    return _job(start_training(request.app[SERVICE], _room(request), await _body(request)))


async def learn(request: web.Request) -> web.Response:
    return _job(start_learning(request.app[SERVICE], _room(request), await _body(request)))


async def get_bank_versions(request: web.Request) -> web.Response:
    return web.json_response(bank_versions(request.app[SERVICE], _room(request)))


async def bank_rollback(request: web.Request) -> web.Response:
    return web.json_response(await rollback_bank(request.app[SERVICE], _room(request), await _body(request)))


async def room_state(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE].room_state(_room(request)))


async def room_placement(request: web.Request) -> web.Response:
    """Where to put the nodes: per node, how much a person at each enrolled spot changed its signal."""
    return web.json_response(placement(request.app[SERVICE].rooms[_room(request)].enrollment))


async def get_job(request: web.Request) -> web.Response:
    return web.json_response(request.app[SERVICE].jobs.get(request.match_info["job"]).to_dict())


async def cancel_job(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    job = service.jobs.cancel(request.match_info["job"])
    if not job.done:
        await service.jobs.wait(job.job_id)
    return web.json_response(job.to_dict())


async def release_integration(request: web.Request) -> web.Response:
    """The integration was removed from Home Assistant: MQTT discovery may show the rooms again."""
    service = request.app[SERVICE]
    service.release_from_integration()
    return web.json_response({"integration": service.integration_claimed})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    """Subscribe with ``{"type": "subscribe", "rooms": [...] | null, "integration": bool}``."""
    service = request.app[SERVICE]
    ws = web.WebSocketResponse(heartbeat=30.0)
    await ws.prepare(request)
    subscriber = Subscriber(ws)
    service.subscribers.add(subscriber)
    pump = asyncio.create_task(subscriber.pump())
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            reply = _subscribe(service, subscriber, message.data)
            await ws.send_json(reply)
    finally:
        service.subscribers.remove(subscriber)
        pump.cancel()
    return ws


def _subscribe(service: RuViewService, subscriber: Subscriber, text: str) -> dict[str, Any]:
    try:
        command = parse_json(text, "the command")
    except RegistryError as error:
        return {"type": "error", "message": f"{error}; send {{\"type\": \"subscribe\", \"rooms\": [...]}}"}
    if not isinstance(command, dict) or command.get("type") != "subscribe":
        return {"type": "error", "message": "unknown command; send {\"type\": \"subscribe\", \"rooms\": [...]}"}
    rooms = command.get("rooms")
    if rooms is not None and (not isinstance(rooms, list) or not all(isinstance(r, str) for r in rooms)):
        return {"type": "error", "message": "rooms must be a list of room ids or null (every room)"}
    subscriber.rooms = None if rooms is None else set(rooms)
    subscriber.integration = bool(command.get("integration", False))
    subscriber.display = bool(command.get("display", False))
    if subscriber.integration:
        service.claim_for_integration()
    for room in sorted(service.registry.rooms):  # the current picture first, then changes
        if subscriber.wants(room):
            subscriber.offer({"type": "state", **service.room_state(room)})
    if subscriber.display:  # a live view draws at once rather than at the next display tick
        service.publish_display()
    return {"type": "subscribed", "rooms": None if rooms is None else sorted(subscriber.rooms)}


async def _close_websockets(app: web.Application) -> None:
    """On shutdown, before aiohttp waits for handlers: an open WebSocket would hold it for its timeout."""
    await app[SERVICE].subscribers.close()


def create_app(service: RuViewService) -> web.Application:
    config = service.config
    guard = ConnectionGuard(config.head_timeout_s, config.body_timeout_s, config.max_body_bytes)
    app = web.Application(middlewares=[guard.mark_served, errors_and_auth, guard.read_body],
                          client_max_size=config.max_body_bytes)
    app[SERVICE], app[GUARD] = service, guard
    app.on_shutdown.append(_close_websockets)
    api = "/api/v1"
    app.router.add_get(f"{api}/health", health)
    app.router.add_get(f"{api}/openapi.json", openapi)
    app.router.add_get(f"{api}/nodes", nodes)
    app.router.add_get(f"{api}/rooms", list_rooms)
    app.router.add_post(f"{api}/rooms", create_room)
    app.router.add_get(f"{api}/rooms/{{room}}", get_room)
    app.router.add_patch(f"{api}/rooms/{{room}}", patch_room)
    app.router.add_delete(f"{api}/rooms/{{room}}", delete_room)
    app.router.add_post(f"{api}/rooms/{{room}}/baseline", baseline)
    app.router.add_post(f"{api}/rooms/{{room}}/anchors/{{anchor}}", anchor)
    app.router.add_post(f"{api}/rooms/{{room}}/train", train)
    app.router.add_post(f"{api}/rooms/{{room}}/recalibrate", recalibrate)
    app.router.add_post(f"{api}/rooms/{{room}}/learn", learn)
    app.router.add_get(f"{api}/rooms/{{room}}/bank/versions", get_bank_versions)
    app.router.add_post(f"{api}/rooms/{{room}}/bank/rollback", bank_rollback)
    app.router.add_get(f"{api}/rooms/{{room}}/state", room_state)
    app.router.add_get(f"{api}/rooms/{{room}}/placement", room_placement)
    app.router.add_get(f"{api}/jobs/{{job}}", get_job)
    app.router.add_delete(f"{api}/jobs/{{job}}", cancel_job)
    app.router.add_delete(f"{api}/integration", release_integration)
    app.router.add_get(f"{api}/ws", websocket)
    add_label_routes(app, api)
    add_page_routes(app)
    return app
