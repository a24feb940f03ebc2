"""The per-room commands end to end on a simulated room: calibrate, enroll, train-room, room-status, room-watch."""

from __future__ import annotations

import json

import pytest

from ruview_core.cli import main

ROOM_SOURCE = "sim://empty?seed=31&nodes=2"


def run_json(capsys, argv: list[str]) -> tuple[int, list[dict]]:
    code = main(argv)
    return code, [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def test_whole_room_lifecycle(tmp_path, capsys) -> None:
    room = ["--room", "den", "--data-dir", str(tmp_path)]
    code, (baseline,) = run_json(capsys, ["calibrate", *room, "--source", ROOM_SOURCE, "--json"])
    assert code == 0 and baseline["accepted"] and baseline["nodes"] == [1, 2]

    code, events = run_json(capsys, ["enroll", *room, "--source", ROOM_SOURCE, "--yes", "--json"])
    assert code == 0
    prompts = [e["prompt"] for e in events if "prompt" in e]
    # Anchors come in protocol order; a rejected one is prompted again before moving on.
    assert list(dict.fromkeys(prompts)) == ["empty", "stand_still", "sit", "lie_down", "breathe_slow",
                                            "breathe_normal", "small_move", "sleep_posture"]
    done = events[-1]
    assert done["done"] and len(done["accepted"]) + len(done["skipped"]) == 8
    assert "empty" in done["accepted"] and len(done["accepted"]) >= 4
    for event in events:  # every rejection says why, in words
        if event.get("accepted") is False:
            assert len(event["reason"]) > 20

    code, (trained,) = run_json(capsys, ["train-room", *room, "--json"])
    assert code == 0 and {"presence", "motion", "posture"} <= set(trained["specialists"])

    code, (status,) = run_json(capsys, ["room-status", *room, "--json"])
    assert status["status"] == "ready" and not status["stale"]
    assert {name for name, state in status["anchors"].items() if state == "accepted"} == set(done["accepted"])

    code, states = run_json(capsys, ["room-watch", *room, "--source", "sim://sit?seed=77&room_seed=31&nodes=2&duration=30", "--json"])
    assert code == 0 and len(states) >= 25
    for state in states:
        for key in ("presence", "motion", "posture", "breathing_bpm", "heart_bpm", "restlessness", "anomaly"):
            assert set(state[key]) == {"value", "confidence", "label"}
            assert 0.0 <= state[key]["confidence"] <= 1.0
        assert state["stale"] is False
    settled = states[10:]
    assert sum(s["presence"]["value"] is True for s in settled) >= 0.9 * len(settled)

    # A new empty-room baseline makes the trained bank STALE until train-room runs again.
    code, _ = run_json(capsys, ["calibrate", *room, "--source", "sim://empty?seed=32&room_seed=31&nodes=2", "--json"])
    code, (status,) = run_json(capsys, ["room-status", *room, "--json"])
    assert status["status"] == "stale" and status["stale"]
    code, states = run_json(capsys, ["room-watch", *room, "--source", "sim://sit?seed=78&room_seed=31&nodes=2&duration=8", "--json"])
    assert states and all(s["stale"] and s["breathing_bpm"]["value"] is None for s in states)


def test_baseline_with_someone_walking_is_rejected(tmp_path, capsys) -> None:
    code, (result,) = run_json(capsys, ["calibrate", "--room", "hall", "--data-dir", str(tmp_path),
                                        "--source", "sim://walk?seed=3", "--json"])
    assert code == 1 and not result["accepted"] and result["reason"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["room-status", "--room", "../etc"], "invalid room id"),
        (["enroll", "--room", "empty-room", "--source", ROOM_SOURCE, "--yes"], "calibrate"),
        (["train-room", "--room", "empty-room"], "calibrate"),
    ],
)
def test_clear_errors(tmp_path, capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--data-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
