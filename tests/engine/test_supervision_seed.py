"""The Cognitum Seed client against a fake Seed: a real aiohttp server over TLS on loopback."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ruview_core.supervision.seed import EMBEDDING_DIM, ReadingEvents, SeedClient, SeedConfig, SeedError, SseParser

TOKEN = "seed-token"


def self_signed(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cognitum-seed")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "seed.pem", folder / "seed.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def reading(t, **values):
    return {"timestamp": t, "temperature": 21.0, "humidity": 45.0, "pressure": 1013.0, "pir": False, "reed": False,
            "vibration": False, **values}


class FakeSeed:
    """Connection 1: two readings, garbage, a reading without timestamp, then it drops. Connection 2: two more."""

    def __init__(self):
        self.connections = 0
        self.queries = []
        self.last_event_ids = []

    def authorised(self, request):
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def sensor_list(self, request):
        if not self.authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"sensors": ["bme280", "pir", "reed", "vibration"]})

    async def stream(self, request):
        if not self.authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        self.connections += 1
        self.last_event_ids.append(request.headers.get("Last-Event-ID"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if self.connections == 1:
            chunks = [": hello\n\n", "retry: 50\n\n", f"id: 1\ndata: {json.dumps(reading(1000.0))}\n\n",
                      f"data: {json.dumps(reading(1000.1, pir=True))}\n\n", "data: {not json\n\n",
                      f"data: {json.dumps({'temperature': 21})}\n\n"]
        else:
            chunks = [f"data: {json.dumps(reading(1000.2, pir=True, reed=1))}\n\n",
                      f"data: {json.dumps(reading(1000.3, temperature=21.3))}\n\n"]
        for chunk in chunks:
            await response.write(chunk.encode())
        return response  # the connection closes: the client must reconnect

    async def embedding(self, request):
        return web.json_response({"embedding": [0.1] * EMBEDDING_DIM})

    async def query(self, request):
        self.queries.append(await request.json())
        return web.json_response({"neighbours": [{"id": 7, "distance": 0.2}]})

    async def simple(self, request):
        return web.json_response({"path": request.path, "method": request.method})


@pytest.fixture
async def fake_seed(tmp_path):
    cert, key = self_signed(tmp_path)
    seed = FakeSeed()
    app = web.Application()
    app.router.add_get("/api/v1/sensor/list", seed.sensor_list)
    app.router.add_get("/api/v1/sensor/stream", seed.stream)
    app.router.add_get("/api/v1/sensor/embedding/latest", seed.embedding)
    app.router.add_post("/api/v1/store/query", seed.query)
    for path in ("/api/v1/boundary", "/api/v1/coherence/profile", "/api/v1/sensor/drift/status"):
        app.router.add_get(path, seed.simple)
    app.router.add_post("/api/v1/boundary/recompute", seed.simple)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    async with aiohttp.ClientSession() as session:
        yield seed, f"https://127.0.0.1:{port}", cert, session
    await runner.cleanup()


async def test_a_self_signed_seed_is_refused_unless_the_user_opts_in_or_gives_its_certificate(fake_seed):
    seed, url, cert, session = fake_seed
    with pytest.raises(SeedError, match="TLS"):
        await SeedClient(session, SeedConfig(url, TOKEN)).sensors()
    assert (await SeedClient(session, SeedConfig(url, TOKEN, ca_file=str(cert))).sensors())["sensors"][0] == "bme280"
    assert "pir" in (await SeedClient(session, SeedConfig(url, TOKEN, insecure=True)).sensors())["sensors"]
    with pytest.raises(SeedError, match="401"):
        await SeedClient(session, SeedConfig(url, "wrong", insecure=True)).sensors()


async def test_every_endpoint_of_the_issue(fake_seed):
    seed, url, cert, session = fake_seed
    client = SeedClient(session, SeedConfig(url, TOKEN, ca_file=str(cert)))
    embedding = await client.latest_embedding()
    assert embedding.shape == (EMBEDDING_DIM,)
    await client.store_query(embedding, k=3)
    assert seed.queries == [{"embedding": [0.1] * EMBEDDING_DIM, "k": 3}]
    with pytest.raises(ValueError):
        await client.store_query([1.0, 2.0], k=3)
    assert (await client.boundary())["path"] == "/api/v1/boundary"
    assert (await client.coherence_profile())["path"] == "/api/v1/coherence/profile"
    assert (await client.drift_status())["path"] == "/api/v1/sensor/drift/status"
    assert (await client.recompute_boundary())["method"] == "POST"


async def test_the_stream_reconnects_and_skips_malformed_events(fake_seed):
    seed, url, cert, session = fake_seed
    client = SeedClient(session, SeedConfig(url, TOKEN, ca_file=str(cert), backoff_initial_s=0.01,
                                            max_reconnects=1))
    readings = [r async for r in client.readings()]
    assert [r.timestamp for r in readings] == [1000.0, 1000.1, 1000.2, 1000.3]
    assert readings[1].pir is True and readings[2].reed is True and readings[3].temperature == 21.3
    assert client.stats["malformed"] == 2 and client.stats["reconnects"] == 1 and seed.connections == 2
    assert seed.last_event_ids == [None, "1"]  # resumes after the last event id it saw
    events = [e for r in readings for e in ReadingEvents()(r)]
    to_events = ReadingEvents()
    changes = [e for r in readings for e in to_events(r)]
    assert [(e.t, e.kind, e.value) for e in changes if e.t > 1000.0] == [
        (1000.1, "pir", 1.0), (1000.2, "reed", 1.0), (1000.3, "pir", 0.0), (1000.3, "reed", 0.0),
        (1000.3, "temperature", 21.3)]
    assert len(events) > len(changes)  # only changes are kept from the 10 Hz stream


async def test_a_wrong_token_on_the_stream_is_raised_not_retried(fake_seed):
    seed, url, cert, session = fake_seed
    client = SeedClient(session, SeedConfig(url, "wrong", insecure=True, backoff_initial_s=0.01))
    with pytest.raises(SeedError, match="401"):
        await asyncio.wait_for(anext(client.readings()), 5)


def test_sse_parser_joins_data_lines_and_ignores_comments():
    parser = SseParser()
    out = [parser.feed(line) for line in (": comment", "data: {\"a\":", "data: 1}", "id: 9", "", "")]
    assert out == [None, None, None, None, "{\"a\":\n1}", None] and parser.last_id == "9"
