"""Activities from movement episodes and the posture they lead to (issue 15)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from ruview_core.activity.classify import ActivityDecision, ActivityModel, decide
from ruview_core.activity.episodes import EpisodeCutter
from ruview_core.activity.monitor import ActivityMonitor
from ruview_core.activity.profile import FEATURE_NAMES, episode_profile
from ruview_core.activity.tracker import PostureTracker
from ruview_core.analysis import RECORD_KEYS, analyze_frames
from ruview_core.runtime.events import ACTIVITY_EVENT_TYPES, ActivityEvents
from ruview_core.runtime.monitor import RoomMonitor
from ruview_core.sim import SimConfig, simulate
from ruview_core.specialists.bank import train_bank

from ._enrolled_room import enrolled_room, stream


def _cut(decisions):
    cutter = EpisodeCutter()
    episodes = []
    for i, moving in enumerate(decisions, start=1):
        episodes += cutter.update(float(i), moving, 5.0 if moving else 1.0)
    return episodes, cutter


def test_episode_is_a_run_of_moving_hops_with_one_still_hop_bridged_and_stillness_after():
    episodes, _ = _cut([False, True, True, False, True, False, False, False, False, False])
    assert len(episodes) == 1
    episode = episodes[0]
    assert (episode.start, episode.end) == (1.0, 5.0)  # hop 2 covers (1, 2]; the still hop 4 is bridged
    assert episode.still_after == 1.0 and episode.peak_motion == 5.0


def test_a_movement_while_watching_hands_the_episode_on_with_its_partial_stillness():
    episodes, cutter = _cut([True, True, False, False, True, True])
    assert len(episodes) == 1
    assert episodes[0].end == 2.0
    assert episodes[0].still_after == pytest.approx(2 / 3)  # two still hops, then the new movement
    assert cutter.active
    assert [e.start for e in cutter.flush()] == [4.0]


def test_unknown_hops_neither_extend_nor_close_and_a_long_unknown_stretch_drops_the_episode():
    episodes, cutter = _cut([True, None, None, None, None, None, False, False, False, False, False, False])
    assert episodes == [] and not cutter.active


def _burst(speed_hz: float, seconds: float = 3.0, rate: float = 80.0, step: float = 0.0, seed: int = 0,
           centre: float | None = None):
    """Amplitude whose profile oscillates at ``speed_hz`` in the middle second, then shifts by ``step``."""
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, seconds, 1.0 / rate)
    pattern = rng.normal(size=30)
    centre = seconds / 2 if centre is None else centre
    envelope = np.exp(-((times - centre) ** 2) / 0.1)
    shift = step * (times > centre)[:, None] * rng.normal(size=30)
    amplitude = 1.0 + 0.05 * (envelope * np.sin(2 * np.pi * speed_hz * times))[:, None] * pattern + shift
    return times, amplitude + 0.002 * rng.normal(size=amplitude.shape)


def test_profile_tells_a_fast_movement_from_a_slow_one_and_sees_where_the_channel_ends_up():
    names = list(FEATURE_NAMES)
    fast = episode_profile(*_burst(8.0)).values
    slow = episode_profile(*_burst(1.5)).values
    assert fast.shape == (len(FEATURE_NAMES),)
    assert fast[names.index("speed_median")] > slow[names.index("speed_median")] + 3.0
    assert fast[names.index("band_6_12")] > 0.5 > slow[names.index("band_6_12")]
    moved = episode_profile(*_burst(1.5, step=0.05)).values
    assert moved[names.index("step")] > 2 * slow[names.index("step")]
    assert 0.3 < slow[names.index("peak_at")] < 0.7
    assert episode_profile(np.arange(5) / 80.0, np.ones((5, 30))) is None


def _model():
    rows = [episode_profile(*_burst(8.0, seed=s)).values for s in range(6)]
    rows += [episode_profile(*_burst(1.5, seed=s)).values for s in range(6)]
    return ActivityModel.fit(np.array(rows), ["fall"] * 6 + ["sit_down"] * 6)


def test_model_learns_the_profiles_and_survives_json_but_refuses_foreign_files():
    model = _model()
    fast, slow = episode_profile(*_burst(8.0, seed=9)).values, episode_profile(*_burst(1.5, seed=9)).values
    assert model.classes[int(np.argmax(model.probabilities(fast)))] == "fall"
    assert model.classes[int(np.argmax(model.probabilities(slow)))] == "sit_down"
    again = ActivityModel.from_json(model.to_json())
    np.testing.assert_allclose(again.probabilities(fast), model.probabilities(fast))
    data = json.loads(model.to_json())
    with pytest.raises(ValueError):
        ActivityModel.from_json(json.dumps({**data, "version": 99}))
    with pytest.raises(ValueError):
        ActivityModel.from_json(json.dumps({**data, "weights": data["weights"][:-1]}))
    with pytest.raises(ValueError):
        ActivityModel.fit(np.zeros((2, len(FEATURE_NAMES))), ["fall", "dancing"])


def test_fall_needs_stillness_afterwards_when_it_was_observed():
    model, fast = _model(), episode_profile(*_burst(8.0, seed=9)).values
    assert decide(model, fast, 0.9).activity == "fall"
    moving_on = decide(model, fast, 0.25)
    assert moving_on.activity == "other" and "moving afterwards" in moving_on.reason
    unseen = decide(model, fast, None)
    assert unseen.activity == "fall" and "not observed" in unseen.reason


def test_tracker_carries_posture_and_says_unknown_with_a_reason_when_evidence_disagrees():
    tracker = PostureTracker()
    assert tracker.state.posture is None
    assert tracker.observe(1.0, "sit_down", 0.8).posture == "sitting"
    assert tracker.observe(2.0, "other", 0.9).posture == "sitting"  # shifting in the chair
    assert tracker.observe(3.0, "stand_up", 0.7).posture == "standing"
    assert tracker.state.confidence == 0.7
    disagree = tracker.observe(4.0, "stand_up", 0.9)
    assert disagree.posture is None and "disagrees" in disagree.reason
    assert tracker.observe(5.0, "fall", 0.9).posture == "lying"
    assert tracker.observe(6.0, "get_up", 0.6).posture == "standing"
    absent = tracker.absent(7.0)
    assert absent.posture is None and absent.reason == "nobody present"


def test_monitor_classifies_a_short_episode_whole_and_tracks_its_posture():
    model = _model()
    times, amplitude = _burst(1.5, seconds=11.0, centre=4.0)  # the episode of hops 4-5 is (3, 5]
    csi = amplitude[:, None, :]

    def recent(seconds, end):
        keep = (times > end - seconds) & (times <= end)
        return times[keep], csi[keep]

    monitor = ActivityMonitor(model)
    said = [monitor.update(float(t), moving, 3.0, recent)
            for t, moving in zip(range(1, 11), [False] * 3 + [True] * 2 + [False] * 5, strict=True)]
    assert said[0].activity == "still"
    assert [s.activity for s in said[3:5]] == [None, None]  # moving, undecided
    handed = [s for s in said if s.decisions]
    assert len(handed) == 1 and handed[0].activity == "sit_down"
    assert said[-1].posture.posture == "sitting"
    assert ActivityMonitor(None).classify(monitor.episodes[0][0], recent) == ()


def test_analyze_rows_carry_activity_and_posture():
    sim = simulate(SimConfig(scenario="sit", seed=3, duration=40.0), [(20.0, "walk"), (26.0, "sit")])
    model = _model()
    records = analyze_frames(list(sim.frames()), activity_model=model)
    assert all(tuple(r) == RECORD_KEYS for r in records) and RECORD_KEYS[-2:] == ("activity", "posture")
    activities = [r["activity"] for r in records]
    assert "still" in activities
    named = [r for r in records if r["activity"] not in (None, "still")]
    assert named and all(r["activity"] in model.classes + ("other", "walk") for r in named)
    assert records[-1]["posture"] in ("sitting", "lying", "standing", None)
    # Without a model nothing is guessed: still or nothing, and no posture.
    plain = analyze_frames(list(simulate(SimConfig(scenario="sit", seed=3, duration=40.0),
                                         [(20.0, "walk"), (26.0, "sit")]).frames()))
    assert {r["activity"] for r in plain} <= {"still", None} and {r["posture"] for r in plain} == {None}


def _always(activity: str) -> ActivityModel:
    """A model that names every episode ``activity`` (to test the wiring, not the recognition)."""
    n = len(FEATURE_NAMES)
    weights = np.zeros((n + 1, 2))
    weights[-1, 0] = 5.0
    return ActivityModel((activity, "other"), FEATURE_NAMES, np.zeros(n), np.ones(n), weights)


def test_room_state_carries_the_activity_and_the_tracked_posture_replaces_the_fingerprint():
    enrollment, _ = enrolled_room()
    baseline = enrollment.baseline()
    bank = train_bank("test-room", baseline, enrollment.anchor_records())
    frames = sorted([*stream("sit", 611, 20.0), *_shifted(stream("walk", 612, 6.0), 20.0),
                     *_shifted(stream("sit", 613, 20.0), 26.0)], key=lambda f: f.timestamp)
    states = list(RoomMonitor(baseline, bank, activity_model=_always("sit_down")).run(frames))
    named = [s for s in states if s.activity.value not in (None, "still")]
    assert named and {s.activity.value for s in named} == {"sit_down"}
    assert all("activity" in s.to_dict() for s in states)
    after = [s for s in states if s.t > named[0].t and s.presence.value]
    assert after and all(s.posture.value == "sitting" and "after sit_down" in s.posture.label for s in after)
    plain = list(RoomMonitor(baseline, bank).run(frames))
    assert {s.activity.value for s in plain} <= {None, "still"}
    # One event for the one movement, although each node (and hop) that named it says so again.
    fired = [e for s in states for e in s.events if e.event_type in ACTIVITY_EVENT_TYPES]
    assert [e.event_type for e in fired] == ["sit_down"] and 0 < fired[0].attributes["confidence"] <= 1
    assert not [e for s in plain for e in s.events if e.event_type in ACTIVITY_EVENT_TYPES]


def test_activity_events_fire_once_per_movement_and_only_for_the_named_transitions():
    events = ActivityEvents(repeat_seconds=5.0)
    said = [ActivityDecision("sit_down", 0.7, "model"), ActivityDecision("sit_down", 0.9, "model")]
    first = events.update(10.0, said)
    assert [(e.event_type, e.attributes["confidence"]) for e in first] == [("sit_down", 0.9)]
    assert events.update(12.0, [ActivityDecision("sit_down", 0.8, "model")]) == []  # the other node, late
    assert events.update(13.0, [ActivityDecision("walk", 0.9, "model"), ActivityDecision("still", 1.0, "")]) == []
    assert [e.event_type for e in events.update(14.0, [ActivityDecision("fall", 0.95, "fall rule")])] == ["fall"]
    assert [e.event_type for e in events.update(40.0, [ActivityDecision("sit_down", 0.8, "model")])] == ["sit_down"]


def _shifted(frames, seconds: float):
    return [dataclasses.replace(f, timestamp=f.timestamp + seconds) for f in frames]


def test_analyze_cli_reads_an_activity_model_and_refuses_a_broken_one(tmp_path, capsys):
    from ruview_core.cli import main  # noqa: PLC0415  (the CLI pulls in the service modules)

    model_path = tmp_path / "activity.json"
    _always("sit_down").save(model_path)
    source = "sim://sit?seed=2&duration=14&nodes=1"
    assert main(["analyze", "--source", source, "--activity-model", str(model_path), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines and all({"activity", "posture"} <= set(line) for line in lines)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"format": "ruview-activity-model", "version": 1, "classes": ["fall"]}))
    with pytest.raises(SystemExit) as failure:
        main(["analyze", "--source", source, "--activity-model", str(broken)])
    assert failure.value.code == 2 and "--activity-model" in capsys.readouterr().err
