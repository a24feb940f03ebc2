"""Label events, their alignment with CSI times, and the ADR-071 weak-label rules on constructed timelines."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from ruview_core.supervision.align import align_events, binary_activity, trailing_slope
from ruview_core.supervision.events import (
    LabelEvent, LabelEventError, append_events, compact_events, event_from_dict, parse_events, read_events, write_events,
)
from ruview_core.supervision.rules import (
    ACTIVITY_EMPTY, BIT, ENTRY, EXIT, GESTURE, STATIONARY, WALKING, CsiEvidence, camera_free_labels,
    occupancy_intervals,
)
from ruview_core.supervision.simulated_sensors import Timeline, simulated_sensor_events
from ruview_core.supervision.zones import KEYPOINTS_17, coarse_zone, keypoints_17


def ev(t, kind, value):
    return LabelEvent(float(t), "test", kind, float(value))


def test_events_are_validated_and_round_trip_through_jsonl(tmp_path):
    e = event_from_dict({"t": 5, "source": "home_assistant", "kind": "pir", "value": "on", "entity_id": "binary_sensor.x"})
    assert e == LabelEvent(5.0, "home_assistant", "pir", 1.0, "binary_sensor.x")
    assert event_from_dict({"t": 1, "source": "s", "kind": "reed", "value": False}).value == 0.0
    for bad in ({"t": -1, "source": "s", "kind": "pir", "value": 1}, {"t": 1, "source": "s", "kind": "smell", "value": 1},
                {"t": 1, "source": "s", "kind": "pir", "value": 2}, {"t": 1, "source": "s", "kind": "temperature", "value": 300},
                {"t": 1, "source": "", "kind": "pir", "value": 1}, {"t": 1, "source": "s", "kind": "pir"},
                {"t": float("nan"), "source": "s", "kind": "pir", "value": 1}, {"t": 1, "source": "s", "kind": "pir",
                                                                                 "value": 1, "extra": 1}):
        with pytest.raises(LabelEventError):
            event_from_dict(bad)
    events, errors = parse_events([{"t": 1, "source": "s", "kind": "humidity", "value": 50}, "nope"])
    assert len(events) == 1 and errors == [{"index": 1, "error": "an event must be a JSON object"}]
    path = tmp_path / "labels.jsonl"
    write_events(path, [ev(2, "pir", 1), ev(1, "temperature", 21.5)])
    with open(path, "a") as out:
        out.write('{"t": 3, "kind": "pir"\n')  # a torn last line
    malformed = Counter()
    assert [e.t for e in read_events(path, malformed)] == [1.0, 2.0] and malformed["not_json"] == 1


def test_binary_sensors_hold_their_state_and_changes_are_seen_in_the_window():
    stamps, values = np.array([10.0, 20.0, 20.5]), np.array([1.0, 0.0, 1.0])
    ends = np.array([5.0, 10.0, 15.0, 20.2, 21.0])
    active, changed = binary_activity(stamps, values, ends - 1.0, ends)
    assert np.isnan(active[0]) and active[1:].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert changed.tolist() == [False, False, False, True, True]
    aligned = align_events([ev(10, "pir", 1), ev(12, "pir", 0)], np.array([11.0, 13.5, 30.0]))
    assert aligned.active["pir"].tolist() == [1.0, 0.0, 0.0] and np.isnan(aligned.level["temperature"]).all()


def test_temperature_rate_is_the_trailing_least_squares_slope():
    stamps = np.arange(0, 600, 60.0)
    slope = trailing_slope(stamps, 20.0 + 0.002 * stamps, np.array([30.0, 300.0, 590.0]))
    assert np.isnan(slope[0]) and slope[1:] == pytest.approx([0.12, 0.12])


def test_a_still_person_stays_present_until_the_door_and_a_quiet_pir_say_they_left():
    # Someone leaves at 6; walk in at 100 (door 99-102), sit still from 115, walk out at 400 (door 400-403).
    events = [ev(0, "pir", 1), ev(0, "reed", 0), ev(6, "reed", 1), ev(8, "reed", 0), ev(15, "pir", 0), ev(97, "pir", 1), ev(99, "reed", 1), ev(102, "reed", 0),
              ev(125, "pir", 0), ev(393, "pir", 1), ev(400, "reed", 1), ev(403, "reed", 0), ev(413, "pir", 0)]
    times = np.arange(0.5, 700.0, 1.0)
    labels = camera_free_labels(times, events, n_nodes=2)
    at = lambda t: int(t)  # noqa: E731
    assert labels.mode == "full"
    assert labels.presence[at(110)] == 1 and labels.presence_signals[at(110)] & BIT["pir"]
    assert labels.presence[at(300)] == 1 and labels.presence_confidence[at(300)] == pytest.approx(0.85)
    assert labels.presence_signals[at(300)] == BIT["pir"] | BIT["reed"]  # sealed room: no PIR now
    assert labels.presence[at(500)] == 0 and labels.presence[at(410)] == 0  # the PIR's hold is not presence
    assert labels.activity[at(300)] == STATIONARY and labels.activity[at(500)] == ACTIVITY_EMPTY
    assert labels.entry_exit[at(100)] == ENTRY and labels.entry_exit[at(401)] == EXIT
    assert labels.entry_exit[at(300)] == 0 and labels.entry_exit_confidence[at(300)] > 0
    assert labels.presence[at(50)] == 0
    assert np.isnan(camera_free_labels(times, events[5:], n_nodes=2).presence[at(50)])  # nothing seen yet: unknown


def test_without_a_door_contact_presence_is_held_briefly_and_vacancy_needs_long_silence():
    events = [ev(100, "pir", 1), ev(120, "pir", 0)]
    spans = occupancy_intervals(events)
    times = np.array([110.0, 300.0, 1000.0, 2000.0])
    labels = camera_free_labels(times, events, n_nodes=2)
    assert spans[0][:3] == (100, 120, 1.0)
    assert labels.presence[0] == 1 and labels.presence[1] == 1 and labels.presence_confidence[1] == pytest.approx(0.7)
    assert np.isnan(labels.presence[2]) and labels.presence[3] == 0 and labels.presence_confidence[3] == pytest.approx(0.6)


def test_rising_temperature_says_present_and_a_conflict_with_a_confirmed_vacancy_is_unknown():
    warm = [ev(t, "temperature", 20 + 0.002 * t) for t in range(0, 900, 60)]
    labels = camera_free_labels(np.array([400.0]), warm, n_nodes=2)
    assert labels.presence[0] == 1 and labels.presence_signals[0] == BIT["temperature"]
    exit_then_warm = [ev(0, "pir", 1), ev(50, "reed", 1), ev(52, "reed", 0), ev(55, "pir", 0), *warm]
    labels = camera_free_labels(np.array([300.0, 400.0]), exit_then_warm, n_nodes=2)
    assert np.isnan(labels.presence[0]) and labels.presence_confidence[0] == 0


def test_activity_from_csi_motion_other_nodes_and_vibration():
    times = np.repeat(np.arange(10.0, 20.0), 2)
    nodes = np.tile([1, 2], 10)
    moving = np.zeros(20)
    moving[0:6] = 1  # both nodes moving: walking
    moving[10] = 1  # node 1 alone: a gesture
    csi = CsiEvidence(times, nodes, np.full(20, 0.9), moving, np.zeros(20, bool))
    labels = camera_free_labels(times, [], csi)
    assert labels.mode == "csi_only" and (labels.presence == 1).all()
    assert (labels.activity[:6] == WALKING).all() and labels.activity[10] == GESTURE and labels.activity[14] == STATIONARY
    assert labels.activity_signals[0] & BIT["cross_node"] and labels.presence_signals[0] == BIT["csi_presence"]


def test_every_mode_gives_the_same_format():
    times = np.arange(0.0, 60.0)
    csi1 = CsiEvidence(times, np.ones(60, int), np.full(60, 0.1), np.zeros(60), np.zeros(60, bool))
    single = camera_free_labels(times, [ev(0, "pir", 1)], csi1)
    none = camera_free_labels(times, [], csi1, n_nodes=2)
    assert single.mode == "single_node" and none.mode == "csi_only"
    for labels in (single, none):
        summary = labels.summary()
        assert set(summary) == {"rows", "mode", "presence", "activity", "entry_exit", "breathing_zone"}
        assert labels.to_weak_labels().presence.shape == (60,)
    assert (none.breathing_zone_confidence == 0).all()  # no hygrometer, no breathing zone


def test_simulated_sensors_have_their_real_flaws():
    presence = np.array([False] * 100 + [True] * 600 + [False] * 100)
    scenarios = tuple(["empty"] * 100 + ["walk"] * 20 + ["sit"] * 580 + ["empty"] * 100)
    truth = Timeline(np.arange(800.0), scenarios, presence, np.array([s == "walk" for s in scenarios]))
    events = simulated_sensor_events(truth, seed=1)
    pir_on = [e.t for e in events if e.kind == "pir" and e.value == 1]
    assert pir_on and not [t for t in pir_on if 130 < t < 690]  # blind to the sitting person
    doors = [e.t for e in events if e.kind == "reed"]
    assert all(abs(t - 100) <= 4 or abs(t - 700) <= 4 or t == 0 for t in doors)
    temps = [(e.t, e.value) for e in events if e.kind == "temperature"]
    assert temps[-1][1] > temps[0][1] and all(abs(v * 10 - round(v * 10)) < 1e-6 for _, v in temps)


def test_coarse_zone_needs_two_nodes_and_points_to_the_busier_one():
    assert coarse_zone({1: 2.0}).index is None
    near_first, near_last = coarse_zone({1: 3.0, 2: 0.0}), coarse_zone({1: 0.0, 2: 3.0})
    assert near_first.index == 0 and near_last.index == 4 and near_first.confidence > 0.5
    points = keypoints_17({k: np.array(v, float) for k, v in zip(
        ("head", "left_hand", "right_hand", "left_foot", "right_foot"),
        ([0, 0, 1.6], [0.3, 0.2, 1.0], [-0.3, 0.2, 1.0], [0.1, 0, 0], [-0.1, 0, 0]))})
    assert tuple(points) == KEYPOINTS_17
    assert np.linalg.norm(points["left_wrist"] - points["left_elbow"]) == pytest.approx(0.26)


def test_a_label_file_past_its_size_keeps_only_its_last_days(tmp_path):
    path = tmp_path / "labels.jsonl"
    day = 86400.0
    # ten days of a PIR every ten minutes: ~1,440 lines
    append_events(path, [LabelEvent(t, "home_assistant", "pir", float(i % 2)) for i, t in
                         enumerate(np.arange(0.0, 10 * day, 600.0))])
    size = path.stat().st_size
    assert compact_events(path, max_bytes=size, keep_seconds=7 * day) == 0  # not over: untouched
    assert path.stat().st_size == size
    with path.open("a") as handle:
        handle.write("{torn\n")
    removed = compact_events(path, max_bytes=size // 2, keep_seconds=7 * day)
    kept = read_events(path)
    assert path.stat().st_size <= size // 4 and removed == 1440 - len(kept)
    assert kept[-1].t == 10 * day - 600.0 and kept[0].t >= 3 * day  # the newest, and nothing older than 7 days
    assert [e.t for e in kept] == sorted(e.t for e in kept)
    assert compact_events(path, max_bytes=10 * size, keep_seconds=day) == 0
    assert compact_events(path, max_bytes=path.stat().st_size - 1, keep_seconds=day) == len(kept) - len(read_events(path))
    assert read_events(path)[0].t >= kept[-1].t - day  # the time limit cuts before the size does
