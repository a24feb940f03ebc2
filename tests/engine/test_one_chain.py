"""One sensing chain: what ``ruview analyze --room`` prints is what the service's room computes."""

from __future__ import annotations

import json
from collections import Counter

from ruview_core.analysis import RECORD_KEYS, room_records
from ruview_core.calibration import RoomEnrollment
from ruview_core.cli import main
from ruview_core.frames import CsiFrame
from ruview_core.rooms import train_room
from ruview_core.service.live import LiveRoom
from ruview_core.sources.replay import read_recording
from ruview_core.wire.jsonl import write_jsonl

from ._enrolled_room import enrolled_room, stream


def test_analyze_with_a_room_equals_the_services_room(tmp_path, capsys):
    enrollment, _ = enrolled_room()
    train_room(enrollment)
    recording = tmp_path / "session.csi.jsonl"
    with open(recording, "w", encoding="utf-8") as out:
        write_jsonl(stream("walk", 4242, 30), out)

    assert main(["analyze", "--source", str(recording), "--data-dir", str(enrollment.folder.parents[1]),
                 "--room", enrollment.room]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    analyzed_rows = [line for line in lines if "node_id" in line]
    analyzed_states = [line["state"] for line in lines if "room" in line]
    assert len(analyzed_states) >= 25 and all(tuple(row) == RECORD_KEYS for row in analyzed_rows)
    assert {row["node_id"] for row in analyzed_rows} == set(enrollment.baseline().nodes)
    assert all(row["presence"] in (True, False) for row in analyzed_rows[len(analyzed_rows) // 2:])

    # The service's own room object, fed the same frames.
    live = LiveRoom(RoomEnrollment(enrollment.folder.parents[1], enrollment.room))
    live.reload(hop=1.0)
    frames = [p for p in read_recording(recording, Counter()) if isinstance(p, CsiFrame)]
    origin = frames[0].timestamp
    live_states, live_rows = [], []
    for frame in frames:
        closed = live.push(frame)
        if closed:
            live_states.extend(closed)
            hops = {node_id: node.last_hop for node_id, node in live.monitor.nodes.items()}
            live_rows.extend(room_records(live.last_state, hops, origin))
    assert live_states == analyzed_states
    assert live_rows == analyzed_rows
    # the walk is seen: the chain that prints it is the one Home Assistant's entities follow
    assert any(state["motion"]["value"] for state in live_states)
