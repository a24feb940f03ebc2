"""Client of the Cognitum Seed appliance's HTTPS API (ADR-069/071), over aiohttp.

Endpoints: ``GET /api/v1/sensor/list`` (probe), ``GET /api/v1/sensor/stream`` (server-sent
events, one ``data: {json}`` reading every ~100 ms: timestamp, temperature, humidity, pressure,
pir, reed, vibration, embedding), ``GET /api/v1/sensor/embedding/latest`` (45-dim),
``GET /api/v1/boundary`` (fragility score), ``GET /api/v1/coherence/profile``,
``GET /api/v1/sensor/drift/status``, ``POST /api/v1/store/query`` (``{embedding, k}``) and
``POST /api/v1/boundary/recompute``. Every request carries ``Authorization: Bearer TOKEN``.

TLS: the Seed serves a self-signed certificate. It is verified like any other unless the user
gives the Seed's certificate (or its CA) as ``ca_file``, or opts out of verification with
``insecure=True``; nothing is ever accepted silently.

The stream reconnects after a dropped connection, a silent one (``stream_idle_timeout_s``) or a
5xx, waiting ``backoff_initial_s`` doubling to ``backoff_max_s`` (reset by the next reading);
an authentication or not-found error is raised at once. A reading that is not JSON or lacks a
usable timestamp is counted in ``stats["malformed"]`` and skipped.
"""

from __future__ import annotations

import asyncio
import json
import math
import ssl
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
import numpy as np

from .events import LabelEvent

DEFAULT_URL = "https://169.254.42.1:8443"
EMBEDDING_DIM = 45
API = "/api/v1"


class SeedError(Exception):
    """The Seed refused a request or answered with something that is not its API."""


@dataclass(frozen=True)
class SeedConfig:
    url: str = DEFAULT_URL
    token: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    timeout_s: float = 10.0
    stream_idle_timeout_s: float = 15.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    max_reconnects: int | None = None  # None: forever


@dataclass(frozen=True)
class SeedReading:
    timestamp: float
    temperature: float | None = None
    humidity: float | None = None
    pressure: float | None = None
    pir: bool | None = None
    reed: bool | None = None
    vibration: bool | None = None
    embedding: tuple[float, ...] | None = None


def _seconds(value: Any) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise ValueError(f"timestamp {value!r} is not ISO 8601") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise ValueError(f"timestamp {value!r} is not a time")
    return float(value) / 1000.0 if value > 1e11 else float(value)  # milliseconds since the epoch


def _number(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} {value!r} is not a number")
    return float(value)


def _flag(value: Any, name: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return _number(value, name) > 0.5


def parse_reading(data: Any) -> SeedReading:
    """One stream reading; ``ValueError`` when it is not one."""
    if not isinstance(data, dict):
        raise ValueError("a reading must be a JSON object")
    if "timestamp" not in data:
        raise ValueError("a reading needs a timestamp")
    embedding = data.get("embedding")
    if embedding is not None:
        if not isinstance(embedding, list) or len(embedding) != EMBEDDING_DIM:
            raise ValueError(f"embedding must be a list of {EMBEDDING_DIM} numbers")
        embedding = tuple(_number(v, "embedding value") for v in embedding)
    return SeedReading(_seconds(data["timestamp"]), _number(data.get("temperature"), "temperature"),
                       _number(data.get("humidity"), "humidity"), _number(data.get("pressure"), "pressure"),
                       _flag(data.get("pir"), "pir"), _flag(data.get("reed"), "reed"),
                       _flag(data.get("vibration"), "vibration"), embedding)


class SseParser:
    """Server-sent events, line by line: yields each event's data (its ``data:`` lines joined)."""

    def __init__(self) -> None:
        self.data: list[str] = []
        self.last_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, line: str) -> str | None:
        line = line.rstrip("\r\n")
        if not line:
            if not self.data:
                return None
            data, self.data = "\n".join(self.data), []
            return data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self.data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None


class SeedClient:
    """One Seed, over the caller's :class:`aiohttp.ClientSession`."""

    def __init__(self, session: aiohttp.ClientSession, config: SeedConfig = SeedConfig()) -> None:
        self.session, self.config = session, config
        self.base = config.url.rstrip("/")
        self.stats: Counter[str] = Counter()
        if config.insecure:
            self.ssl: ssl.SSLContext | bool = False
        elif config.ca_file:
            self.ssl = ssl.create_default_context(cafile=config.ca_file)
        else:
            self.ssl = True

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        return {**headers, **(extra or {})}

    async def _request(self, method: str, path: str, body: Any = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=self.config.timeout_s)
        try:
            async with self.session.request(method, self.base + API + path, json=body, headers=self._headers(),
                                            ssl=self.ssl, timeout=timeout) as response:
                if response.status >= 400:
                    raise SeedError(f"{method} {path}: HTTP {response.status} {await response.text()}"[:300])
                try:
                    return await response.json(content_type=None)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    raise SeedError(f"{method} {path}: the answer is not JSON") from None
        except aiohttp.ClientSSLError as error:
            raise SeedError(f"TLS to the Seed failed ({error}); give its certificate as ca_file or opt in "
                            "to insecure=True") from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise SeedError(f"{method} {path}: {error!r}") from None

    async def sensors(self) -> Any:
        """``GET /sensor/list``: the probe that the Seed is there and the token works."""
        return await self._request("GET", "/sensor/list")

    async def latest_embedding(self) -> np.ndarray:
        answer = await self._request("GET", "/sensor/embedding/latest")
        vector = answer.get("embedding") if isinstance(answer, dict) else answer
        if not isinstance(vector, list) or len(vector) != EMBEDDING_DIM:
            raise SeedError(f"the latest embedding is not {EMBEDDING_DIM} numbers")
        try:
            return np.array([_number(v, "embedding value") for v in vector], dtype=np.float64)
        except ValueError as error:
            raise SeedError(str(error)) from None

    async def boundary(self) -> Any:
        return await self._request("GET", "/boundary")

    async def coherence_profile(self) -> Any:
        return await self._request("GET", "/coherence/profile")

    async def drift_status(self) -> Any:
        return await self._request("GET", "/sensor/drift/status")

    async def store_query(self, embedding: Iterable[float], k: int = 5) -> Any:
        vector = [float(v) for v in embedding]
        if len(vector) != EMBEDDING_DIM or not all(math.isfinite(v) for v in vector) or k < 1:
            raise ValueError(f"a query needs {EMBEDDING_DIM} finite numbers and k >= 1")
        return await self._request("POST", "/store/query", {"embedding": vector, "k": int(k)})

    async def recompute_boundary(self) -> Any:
        return await self._request("POST", "/boundary/recompute", {})

    async def readings(self) -> AsyncIterator[SeedReading]:
        """The sensor stream, reconnecting as the module says, until ``max_reconnects`` is spent."""
        delay = self.config.backoff_initial_s
        attempts = 0
        last_id: str | None = None
        while True:
            parser = SseParser()
            try:
                async for reading in self._stream_once(parser, last_id):
                    delay = self.config.backoff_initial_s
                    yield reading
                self.stats["stream_ended"] += 1
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as error:
                if isinstance(error, aiohttp.ClientSSLError):
                    raise SeedError(f"TLS to the Seed failed ({error}); give its certificate as ca_file or opt "
                                    "in to insecure=True") from None
                self.stats["errors"] += 1
            last_id = parser.last_id or last_id
            if parser.retry_ms is not None:
                delay = max(delay, parser.retry_ms / 1000.0)
            attempts += 1
            if self.config.max_reconnects is not None and attempts > self.config.max_reconnects:
                return
            self.stats["reconnects"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.config.backoff_max_s)

    async def _stream_once(self, parser: SseParser, last_id: str | None) -> AsyncIterator[SeedReading]:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.config.timeout_s,
                                        sock_read=self.config.stream_idle_timeout_s)
        headers = self._headers({"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})})
        async with self.session.get(self.base + API + "/sensor/stream", headers=headers, ssl=self.ssl,
                                    timeout=timeout) as response:
            if response.status in (401, 403, 404):
                raise SeedError(f"sensor stream: HTTP {response.status} (check the token and the Seed's firmware)")
            if response.status >= 400:
                self.stats[f"http_{response.status}"] += 1
                return
            self.stats["connections"] += 1
            async for raw in response.content:
                data = parser.feed(raw.decode("utf-8", errors="replace"))
                if data is None:
                    continue
                try:
                    reading = parse_reading(json.loads(data))
                except (json.JSONDecodeError, ValueError):
                    self.stats["malformed"] += 1
                    continue
                self.stats["readings"] += 1
                yield reading


class ReadingEvents:
    """Seed readings as label events: binary sensors on each change, temperature / humidity when
    they move by a reading step or every ``heartbeat_s`` (10 readings a second would drown the log)."""

    STEPS = {"temperature": 0.1, "humidity": 1.0}

    def __init__(self, source: str = "seed", heartbeat_s: float = 60.0) -> None:
        self.source, self.heartbeat_s = source, heartbeat_s
        self.last: dict[str, tuple[float, float]] = {}

    def __call__(self, reading: SeedReading) -> list[LabelEvent]:
        out = []
        for kind in ("pir", "reed", "vibration", "temperature", "humidity"):
            value = getattr(reading, kind)
            if value is None:
                continue
            value = float(value)
            previous = self.last.get(kind)
            step = self.STEPS.get(kind)
            moved = previous is None or (abs(value - previous[1]) >= step - 1e-9 if step else value != previous[1])
            if moved or (step and reading.timestamp - previous[0] >= self.heartbeat_s):
                out.append(LabelEvent(reading.timestamp, self.source, kind, value, f"seed.{kind}"))
                self.last[kind] = (reading.timestamp, value)
        return out
