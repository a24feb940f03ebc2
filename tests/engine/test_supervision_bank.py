"""Weak-label updates of a room's bank: a worse one is refused, a kept one is a new version, rollback."""

from __future__ import annotations

import numpy as np
import pytest

from ruview_core.specialists import load_bank, save_bank, train_bank
from ruview_core.supervision.bank_update import (
    UpdateConfig, WindowTable, active_version, anchor_scores, history, prune_versions, rollback, stored_versions,
    update_room_bank, version_stem,
    window_table,
)
from ruview_core.supervision.events import LabelEvent

from ._enrolled_room import enrolled_room, stream


def ev(t, kind, value):
    return LabelEvent(float(t), "test", kind, float(value))


# Someone leaves at 6, the room is then empty until the PIR sees someone at 100, who stays (door never moves).
EMPTY_THEN_PRESENT = [ev(0, "pir", 1), ev(0, "reed", 0), ev(6, "reed", 1), ev(8, "reed", 0), ev(15, "pir", 0),
                      ev(100, "pir", 1), ev(130, "pir", 0)]


def room(tmp_path):
    enrollment, _ = enrolled_room()
    baseline, records = enrollment.baseline(), enrollment.anchor_records()
    bank = train_bank("test-room", baseline, records)
    save_bank(bank, tmp_path / "bank")
    return baseline, records, bank


def table_of(records, first: tuple[str, ...], second: tuple[str, ...]) -> WindowTable:
    """200 one-second windows: the anchors ``first`` for t < 100, ``second`` after, every node."""
    summaries = {}
    for node in sorted({r.node_id for r in records}):
        def rows(names):
            pool = np.concatenate([r.summary for r in records if r.node_id == node and r.anchor in names])
            return pool[np.arange(100) % len(pool)]
        summaries[node] = np.concatenate([rows(first), rows(second)])
    return WindowTable(np.arange(200.0) + 0.5, summaries)


CONFIG = UpdateConfig(min_windows=20)


def test_an_update_that_gets_worse_on_the_anchors_is_refused_and_the_bank_is_untouched(tmp_path):
    baseline, records, bank = room(tmp_path)
    before = (tmp_path / "bank.json").read_bytes()
    # The labels say "empty" while people sat still and "present" while the room was empty: wrong sensors.
    wrong = table_of(records, ("sit", "stand_still", "lie_down"), ("empty",))
    report = update_room_bank(tmp_path, baseline, records, wrong, EMPTY_THEN_PRESENT, CONFIG)
    assert not report.kept and "worse on the enrollment anchors" in report.reason
    assert "presence" in report.metrics["refused"]
    assert (tmp_path / "bank.json").read_bytes() == before  # never silently
    assert version_stem(tmp_path, report.version).with_suffix(".json").exists()  # but kept for inspection
    assert active_version(tmp_path) == 1 and [r["event"] for r in history(tmp_path)] == ["snapshot", "update"]
    assert history(tmp_path)[-1]["kept"] is False


def test_a_kept_update_is_a_new_version_that_can_be_rolled_back(tmp_path):
    baseline, records, bank = room(tmp_path)
    right = table_of(records, ("empty",), ("sit", "stand_still", "lie_down"))
    report = update_room_bank(tmp_path, baseline, records, right, EMPTY_THEN_PRESENT, CONFIG)
    assert report.kept, report.reason
    assert report.metrics["labelled_windows"]["present"] >= 90 and report.metrics["labelled_windows"]["absent"] >= 80
    updated = load_bank(tmp_path / "bank")
    assert updated.get("presence").config.get("weak_label_update") is True
    scores = anchor_scores(updated, records)
    assert scores["presence_accuracy"] >= anchor_scores(bank, records)["presence_accuracy"]
    assert active_version(tmp_path) == report.version == 2
    record = rollback(tmp_path)
    assert record["to"] == 1 and active_version(tmp_path) == 1
    restored = load_bank(tmp_path / "bank")
    for kind in ("presence", "motion"):
        for name, value in bank.get(kind).params.items():
            assert np.array_equal(restored.get(kind).params[name], value)


def test_too_few_confident_labels_change_nothing(tmp_path):
    baseline, records, _ = room(tmp_path)
    table = table_of(records, ("empty",), ("sit",))
    report = update_room_bank(tmp_path, baseline, records, table, [ev(0, "temperature", 21.0)], CONFIG)
    assert not report.kept and report.version is None and "not enough" in report.reason


def test_the_window_table_is_the_runtime_features_every_second():
    enrollment, _ = enrolled_room()
    table = window_table(enrollment.baseline(), stream("sit", 77, 16.0))
    assert table.times.size >= 14 and np.all(np.diff(table.times) == 1.0)
    for summary in table.summaries.values():
        assert summary.shape == (table.times.size, 6)
        assert np.isfinite(summary[-3:]).all()  # once a full window is in


def test_only_the_newest_versions_and_the_active_one_keep_their_files(tmp_path):
    baseline, records, _ = room(tmp_path)
    right = table_of(records, ("empty",), ("sit", "stand_still", "lie_down"))
    wrong = table_of(records, ("sit", "stand_still", "lie_down"), ("empty",))
    assert update_room_bank(tmp_path, baseline, records, right, EMPTY_THEN_PRESENT, CONFIG).kept
    for _ in range(2):  # refused candidates are stored too, for inspection
        assert not update_room_bank(tmp_path, baseline, records, wrong, EMPTY_THEN_PRESENT, CONFIG).kept
    assert stored_versions(tmp_path) == [1, 2, 3, 4] and active_version(tmp_path) == 2
    assert prune_versions(tmp_path, keep=1) == [1, 3]  # version 4 is the newest, 2 is active
    assert stored_versions(tmp_path) == [2, 4] and active_version(tmp_path) == 2
    assert not list((tmp_path / "bank-versions").glob("v0001.*")) and load_bank(version_stem(tmp_path, 4))
    assert history(tmp_path)[-1] == {**history(tmp_path)[-1], "event": "pruned", "versions": [1, 3]}
    with pytest.raises(ValueError, match="version 1 is not stored"):
        rollback(tmp_path, 1)
    assert load_bank(tmp_path / "bank").get("presence") is not None  # the active bank untouched
