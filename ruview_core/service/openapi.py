"""The OpenAPI 3.1 document of the API, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from typing import Any

from ..calibration import ANCHOR_NAMES
from ..rooms import STATUSES
from ..runtime.room_state import READINGS
from ..specialists import SPECIALIST_KINDS
from ..storage import ROOM_ID
from .jobs import JOB_KINDS

ROOM_PATH = {"name": "room", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": f"^{ROOM_ID.pattern}$"}}
JOB_PATH = {"name": "job", "in": "path", "required": True, "schema": {"type": "string"}}
ANCHOR_PATH = {"name": "anchor", "in": "path", "required": True, "schema": {"enum": list(ANCHOR_NAMES)}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _op(summary: str, response: str | None, *, status: str = "200", body: str | None = None,
        params: tuple = (), public: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "parameters": list(params), "responses": {
        status: {"description": "OK"} if response is None else
        {"description": "OK", "content": {"application/json": {"schema": _ref(response)}}},
        "4XX": {"description": "refused", "content": {"application/json": {"schema": _ref("Error")}}},
    }}
    if body is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": _ref(body)}}}
    if public:
        op["security"] = []
    return op


def _schemas() -> dict[str, Any]:
    reading = {"type": "object", "properties": {"value": {}, "confidence": {"type": "number"},
                                                "label": {"type": "string"}}}
    number = {"type": "number"}
    return {
        "Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
        "Health": {"type": "object", "properties": {"status": {"type": "string"}, "version": {"type": "string"},
                                                    "instance_id": {"type": "string"},
                                                    "uptime_s": number, "nodes_seen": {"type": "integer"},
                                                    "rooms": {"type": "integer"}, "udp_port": {"type": "integer"}}},
        "Nodes": {"type": "object", "properties": {"nodes": {"type": "array", "items": {"type": "object"}},
                                                   "unattributed": {"type": "object"},
                                                   "dropped_by_address": {"type": "object"}}},
        "RoomCreate": {"type": "object", "required": ["name"], "properties": {
            "room_id": ROOM_PATH["schema"], "name": {"type": "string"},
            "nodes": {"type": "array", "items": {"type": "integer"}}, "area": {"type": ["string", "null"]}}},
        "RoomPatch": {"type": "object", "properties": {
            "name": {"type": "string"}, "nodes": {"type": "array", "items": {"type": "integer"}},
            "area": {"type": ["string", "null"]}}},
        "Room": {"type": "object", "properties": {
            "room_id": {"type": "string"}, "name": {"type": "string"}, "nodes": {"type": "array"},
            "status": {"enum": list(STATUSES)},
            "stale": {"type": "boolean"}, "stale_reason": {"type": ["string", "null"]},
            "attention": {"type": ["string", "null"]},
            "baseline_id": {"type": ["string", "null"]}, "online": {"type": "boolean"},
            "anchors": {"type": "object", "additionalProperties": {"enum": ["accepted", "skipped", "pending"]}},
            "bank": {"type": ["object", "null"]}, "job": {"type": ["string", "null"]}}},
        "Rooms": {"type": "object", "properties": {"rooms": {"type": "array", "items": _ref("Room")}}},
        "RoomState": {"type": "object", "properties": {
            "t": number, **{name: reading for name in READINGS}, "vetoed": {"type": "boolean"},
            "breathing_pause": {**reading, "properties": {**reading["properties"], "duration_s": {
                "type": ["number", "null"], "description": "seconds the pause under way has lasted"}}},
            "stale": {"type": "boolean"}, "stale_reason": {"type": ["string", "null"]},
            "veto_reason": {"type": ["string", "null"]}, "baseline_id": {"type": ["string", "null"]}}},
        "RoomStateMessage": {"type": "object", "properties": {
            "room": {"type": "string"}, "status": {"type": "string"}, "online": {"type": "boolean"},
            "trained": {"type": "boolean", "description": "the room has a trained bank"},
            "state": {"oneOf": [_ref("RoomState"), {"type": "null"}]}}},
        "CaptureRequest": {"type": "object", "properties": {"seconds": number}},
        "AnchorRequest": {"type": "object", "properties": {
            "seconds": number, "countdown": number, "replace": {"type": "boolean"}, "skip": {"type": "boolean"}}},
        "TrainRequest": {"type": "object", "properties": {
            "specialists": {"type": "array", "items": {"enum": list(SPECIALIST_KINDS)}}}},
        "RollbackRequest": {"type": "object", "properties": {
            "version": {"type": "integer", "minimum": 1,
                        "description": "the bank version to restore; default: the active version's parent"}}},
        "Rollback": {"type": "object", "properties": {
            "event": {"const": "rollback"}, "room": {"type": "string"}, "from": {"type": ["integer", "null"]},
            "to": {"type": "integer"}, "at": number}},
        "BankVersions": {"type": "object", "properties": {
            "room": {"type": "string"}, "active": {"type": ["integer", "null"]},
            "stored": {"type": "array", "items": {"type": "integer"},
                       "description": "versions whose files are kept (the newest 10 and the active one)"},
            "history": {"type": "array", "items": {"type": "object"},
                        "description": "snapshot, update (kept or refused, reason, metrics), rollback and pruned "
                                       "records"}}},
        "UpdateReport": {"type": "object", "description": "the result of a learn job", "properties": {
            "room": {"type": "string"}, "version": {"type": ["integer", "null"]},
            "parent": {"type": ["integer", "null"]}, "kept": {"type": "boolean"}, "reason": {"type": "string"},
            "metrics": {"type": "object"}, "windows": {"type": "integer"}, "at": number}},
        "Job": {"type": "object", "properties": {
            "job_id": {"type": "string"}, "room": {"type": "string"}, "kind": {"enum": list(JOB_KINDS)},
            "anchor": {"type": ["string", "null"]},
            "state": {"enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
            "progress": number, "seconds_left": {"type": ["number", "null"]},
            "result": {"type": ["object", "null"],
                       "description": "accepted (bool), reason (text) for captures; an UpdateReport for learn"},
            "error": {"type": ["string", "null"]}}},
    }


def openapi_document(version: str) -> dict[str, Any]:
    room, job = (ROOM_PATH,), (JOB_PATH,)
    return {
        "openapi": "3.1.0",
        "info": {"title": "RuView API", "version": version,
                 "description": "Rooms, enrollment jobs and live room states of the RuView add-on. WebSocket "
                                "/api/v1/ws: send {\"type\": \"subscribe\", \"rooms\": [...] or null, \"integration\": "
                                "bool, \"display\": bool}; receive messages of type state, job, node, stale, room_removed, "
                                "event ({\"room\", \"event\": {\"event_type\": \"breathing_pause\", \"t\", \"duration_s\", "
                                "\"confidence\"}}: once per breathing pause, when it ends), and with display "
                                "(the live view) a display message per watched room twice a second: each node's packet "
                                "rate and loss, heatmap columns, motion index and threshold, breathing waveform and "
                                "spectrum, the fused state with each node's readings, the calibration's next step and, "
                                "during an anchor capture, its quality gates."},
        "components": {"schemas": _schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/health": {"get": _op("version, uptime, nodes seen", "Health", public=True)},
            "/api/v1/openapi.json": {"get": _op("this document", None, public=True)},
            "/api/v1/nodes": {"get": _op("per node: rate, counters, last seen, room", "Nodes")},
            "/api/v1/rooms": {"get": _op("every room", "Rooms"),
                              "post": _op("add a room", "Room", status="201", body="RoomCreate")},
            "/api/v1/rooms/{room}": {"get": _op("one room", "Room", params=room),
                                     "patch": _op("rename, re-assign nodes", "Room", params=room, body="RoomPatch"),
                                     "delete": _op("remove a room and its data", None, status="204", params=room)},
            "/api/v1/rooms/{room}/baseline": {"post": _op("capture the empty room (job)", "Job", status="202",
                                                          params=room, body="CaptureRequest")},
            "/api/v1/rooms/{room}/anchors/{anchor}": {"post": _op("capture or skip an anchor (job)", "Job", status="202",
                                                                  params=room + (ANCHOR_PATH,), body="AnchorRequest")},
            "/api/v1/rooms/{room}/train": {"post": _op("train the specialist bank (job)", "Job", status="202",
                                                       params=room, body="TrainRequest")},
            "/api/v1/rooms/{room}/recalibrate": {"post": _op("capture a new baseline (job); the bank goes STALE",
                                                             "Job", status="202", params=room, body="CaptureRequest")},
            "/api/v1/rooms/{room}/learn": {"post": _op(
                "update the presence and motion specialists from the room's label events and its recent windows "
                "(job; its result is an UpdateReport: a new bank version, kept only if not worse on the enrollment "
                "anchors)", "Job", status="202", params=room)},
            "/api/v1/rooms/{room}/bank/versions": {"get": _op("the bank's versions and their history", "BankVersions",
                                                              params=room)},
            "/api/v1/rooms/{room}/bank/rollback": {"post": _op("make an earlier bank version the room's bank",
                                                               "Rollback", params=room, body="RollbackRequest")},
            "/api/v1/rooms/{room}/state": {"get": _op("the latest fused room state", "RoomStateMessage", params=room)},
            "/api/v1/rooms/{room}/placement": {"get": _op(
                "where to put the nodes: per node, how much a person at each enrolled spot changed its signal "
                "(shift over the empty room's own largest, the anchor gate's measure) and a verdict: good, weak, "
                "not seeing the room, or unknown before any capture with a person", None, params=room)},
            "/api/v1/rooms/{room}/labels": {"post": _op(
                "label events of the room's own sensors (PIR, door, vibration, temperature, humidity) for "
                "camera-free supervision: a list of {t, source, kind, value, entity_id}; t in seconds since the epoch on the "
                "add-on's clock, at most a week before and an hour after it", None, params=room)},
            "/api/v1/rooms/{room}/labels/stats": {"get": _op("counts of the stored label events", None, params=room)},
            "/api/v1/jobs/{job}": {"get": _op("a job's state, progress and result", "Job", params=job),
                                   "delete": _op("cancel a job", "Job", params=job)},
            "/api/v1/integration": {"delete": _op(
                "the Home Assistant integration was removed: MQTT discovery may show the rooms again (once the "
                "integration has subscribed, discovery stays off until this)", None)},
            "/api/v1/ws": {"get": _op("WebSocket: room states, job progress, node online/offline, STALE, room events", None,
                                      status="101")},
        },
    }
