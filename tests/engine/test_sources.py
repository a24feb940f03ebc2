"""The one --source syntax, recordings with --start/--end, counters from file sources."""

from __future__ import annotations

import pytest

from ruview_core.frames import CsiFrame
from ruview_core.sources import RecordingStream, SimulatedStream, SourceError, open_source, parse_source


def test_parse_udp_sim_and_file(tmp_path) -> None:
    assert str(parse_source("udp://0.0.0.0:5005")) == "udp://0.0.0.0:5005"
    assert parse_source("udp://").port == 5005
    spec = parse_source("sim://breathe_normal?seed=3&snr_db=20&nodes=2&duration=60")
    assert (spec.kind, spec.scenario) == ("sim", "breathe_normal")
    assert spec.params == {"seed": 3, "snr_db": 20.0, "nodes": 2, "duration": 60.0}
    recording = tmp_path / "x.csi.jsonl"
    recording.write_text("")
    assert parse_source(str(recording)).path == recording
    assert parse_source(f"file://{recording}").kind == "file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sim://dancing", "unknown scenario"),
        ("sim://walk?speed=3", "unknown parameter"),
        ("sim://walk?seed=x", "not a number"),
        ("udp://host:99999", "port"),
        ("/nonexistent/room.csi.jsonl", "no such recording"),
        ("room.txt", "not a source"),
    ],
)
def test_bad_sources_say_why(text: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_source(text)


def test_recording_window_and_counters(pretrain_path) -> None:
    whole = RecordingStream(pretrain_path)
    frames = [p for p in whole if isinstance(p, CsiFrame)]
    assert whole.stats.nodes[1].frames + whole.stats.nodes[2].frames == len(frames) == 5309
    assert whole.stats.nodes[1].rate_hz == pytest.approx(22, abs=4)
    window = RecordingStream(pretrain_path, start=10, end=20)
    clipped = list(window)
    span = clipped[-1].timestamp - clipped[0].timestamp
    assert 9 < span <= 10
    assert 0.05 < len(clipped) / 5783 < 0.12
    with pytest.raises(SourceError):
        open_source(str(pretrain_path), start=5, end=5)


def test_simulated_source_counts_losses() -> None:
    stream = open_source("sim://walk?seed=1&nodes=2&duration=10")
    assert isinstance(stream, SimulatedStream)
    frames = list(stream)
    assert {f.node_id for f in frames} == {1, 2}
    node = stream.stats.nodes[1]
    assert node.frames + node.sequence_gaps == pytest.approx(10 * 20, abs=2)
    assert len(stream.truth()) == 10


async def test_realtime_pacing_follows_stream_clock() -> None:
    import time

    stream = open_source("sim://empty?duration=1&nodes=1", realtime=True)
    started = time.monotonic()
    count = sum([1 async for _ in stream])
    elapsed = time.monotonic() - started
    assert count > 15
    assert elapsed > 0.8  # paced: a second of stream takes about a second
