"""Stage 4: the specialist bank, trained, partial, retrained one at a time, stored and checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ruview_core.calibration.anchors import ANCHORS_BY_NAME
from ruview_core.calibration.baseline import RoomBaseline
from ruview_core.calibration.features import WindowFeatures
from ruview_core.calibration.persist import StoredFileError, tensors_path
from ruview_core.calibration.records import AnchorFeatures
from ruview_core.specialists import SPECIALIST_KINDS, load_bank, retrain, save_bank, train_bank
from ruview_core.specialists import posture, presence, restlessness

from ._enrolled_room import enrolled_room


def _bank(**kwargs):
    enrollment, _ = enrolled_room()
    return enrollment, train_bank("test-room", enrollment.baseline(), enrollment.anchor_records(), trained_at=1.0, **kwargs)


def test_a_bank_trains_from_the_accepted_anchors():
    enrollment, bank = _bank()
    accepted = enrollment.state().accepted
    assert {"presence", "motion", "posture", "anomaly"} <= set(bank.kinds)
    assert ("restlessness" in bank.kinds) == ("small_move" in accepted)
    for specialist in bank.specialists.values():
        assert specialist.baseline_id == enrollment.baseline().baseline_id
        assert specialist.backbone_rev == "none" and specialist.trained_at == 1.0 and len(specialist.anchor_set_hash) == 64
    assert bank.get("posture").config["postures"] == ["standing", "sitting", "lying"]
    assert set(bank.describe()) == set(bank.kinds)


def test_posture_prototypes_tell_the_enrolled_postures_apart():
    enrollment, bank = _bank()
    specialist = bank.get("posture")
    prototypes = posture.Prototypes(*(specialist.node_param(1, name) for name in ("prototypes", "spread", "labels")))
    hits = total = 0
    for record in enrollment.anchor_records():
        truth = {"stand_still": "standing", "sit": "sitting", "lie_down": "lying", "sleep_posture": "lying"}.get(record.anchor)
        if truth is None or record.node_id != 1:
            continue
        guessed = prototypes.labels[np.argmin(prototypes.distances(record.shifts), axis=-1)]
        hits += int(np.sum(guessed == posture.POSTURES.index(truth)))
        total += guessed.size
    assert total >= 8 and hits / total > 0.9  # training windows: the prototypes fit what they came from
    reliability = float(specialist.node_param(1, "reliability")[0])
    assert 0.0 <= reliability <= 1.0 and bank.describe()["posture"]["reliability"]["1"] == round(reliability, 3)


def _sessions(fingerprint, rng, windows=6, size=40):
    """Anchor records of every posture anchor, each session's shifts around ``fingerprint(anchor)``."""
    anchors = ("stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal", "sleep_posture")
    return [AnchorFeatures(anchor, 1, "b", np.zeros((windows, 6)), fingerprint(anchor) + rng.normal(0, 1, (windows, size)),
                           np.zeros((3, 4))) for anchor in anchors]


def test_posture_is_trusted_only_as_far_as_it_carries_over_between_sessions():
    rng = np.random.default_rng(5)
    shared = {p: rng.normal(0, 6, 40) for p in posture.POSTURES}
    per_posture = _sessions(lambda anchor: shared[ANCHORS_BY_NAME[anchor].posture], rng)
    per_spot = _sessions(lambda anchor: rng.normal(0, 6, 40), rng)  # every session its own fingerprint
    pairs = lambda records: [(posture.POSTURES.index(ANCHORS_BY_NAME[r.anchor].posture), r) for r in records]
    assert posture.cross_session_reliability(pairs(per_posture)) > 0.9
    assert posture.cross_session_reliability(pairs(per_spot)) < 0.3
    only_once = [r for r in per_posture if r.anchor in ("stand_still", "sit", "lie_down")]
    assert posture.cross_session_reliability(pairs(only_once)) == posture.UNVALIDATED_RELIABILITY

    baseline = RoomBaseline("b", 0.0, {1: None})
    sitting_again = WindowFeatures(1, 0.0, 200, 1.0, 0.0, 0.0, 10.0, 10.0, 1.0, 1.0, shared["sitting"], liveness=2.0)
    trusted = posture.predict(posture.train(per_posture, baseline, 0.0), sitting_again)
    assert trusted.value == "sitting" and trusted.confidence >= posture.MIN_CONFIDENCE
    spot = per_spot[1].shifts.mean(axis=0)  # even the very spot the sit anchor was taken at
    seen = WindowFeatures(1, 0.0, 200, 1.0, 0.0, 0.0, 10.0, 10.0, 1.0, 1.0, spot, liveness=2.0)
    untrusted = posture.predict(posture.train(per_spot, baseline, 0.0), seen)
    assert untrusted.value is None and untrusted.confidence == 0.0 and untrusted.label == posture.NOT_CARRIED_OVER


def test_retraining_one_specialist_leaves_the_others_untouched():
    enrollment, bank = _bank()
    newer = retrain(bank, enrollment.baseline(), enrollment.anchor_records()[:4], kinds=["presence"])
    assert newer.get("presence").anchor_set_hash != bank.get("presence").anchor_set_hash
    for kind in bank.kinds:
        if kind != "presence":
            assert newer.get(kind) is bank.get(kind)
    with pytest.raises(ValueError, match="unknown specialist"):
        retrain(bank, enrollment.baseline(), [], kinds=["telepathy"])


def test_partial_banks():
    enrollment, _ = enrolled_room()
    baseline = enrollment.baseline()
    static = [r for r in enrollment.anchor_records() if r.anchor in ("empty", "stand_still", "sit", "lie_down")]
    bank = train_bank("test-room", baseline, static)
    assert {"presence", "posture", "motion", "anomaly"} <= set(bank.kinds) and "restlessness" not in bank.kinds
    only_baseline = train_bank("test-room", baseline, [])
    assert set(only_baseline.kinds) == {"presence", "motion", "anomaly"}
    thresholds = only_baseline.get("presence").node_param(1, "thresholds")
    assert np.isfinite(thresholds).all() and thresholds[0] >= np.log(2.0) and thresholds.shape == (4,)


def test_bank_round_trip(tmp_path):
    _, bank = _bank()
    save_bank(bank, tmp_path / "bank")
    loaded = load_bank(tmp_path / "bank")
    assert loaded.kinds == bank.kinds and loaded.baseline_id == bank.baseline_id
    for kind in bank.kinds:
        a, b = bank.get(kind), loaded.get(kind)
        assert a.params.keys() == b.params.keys() and a.config == b.config and a.anchor_set_hash == b.anchor_set_hash
        for name in a.params:
            np.testing.assert_array_equal(a.params[name], b.params[name])


def test_damaged_banks_are_refused_with_a_clear_error(tmp_path):
    _, bank = _bank()
    stem = tmp_path / "bank"
    save_bank(bank, stem)
    tensors = tensors_path(stem)
    good = tensors.read_bytes()

    tensors.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(StoredFileError, match="truncated or was modified"):
        load_bank(stem)

    tensors.write_bytes(good)
    meta = json.loads(stem.with_suffix(".json").read_text())
    meta["specialists"]["presence"]["params"]["n1.thresholds"]["shape"] = [7]  # edited metadata
    stem.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(StoredFileError, match="shape"):
        load_bank(stem)

    stem.with_suffix(".json").write_text("{not json")
    with pytest.raises(StoredFileError, match="unreadable"):
        load_bank(stem)

    with pytest.raises(StoredFileError, match="no specialist bank"):
        load_bank(tmp_path / "missing")


def test_non_finite_parameters_are_refused(tmp_path):
    enrollment, bank = _bank()
    poisoned = dict(bank.specialists)
    spec = poisoned["presence"]
    params = dict(spec.params)
    params["n1.thresholds"] = np.array([np.nan, 1.0, 1.0, 1.0])
    from dataclasses import replace

    poisoned["presence"] = replace(spec, params=params)
    save_bank(replace(bank, specialists=poisoned), tmp_path / "bank")
    with pytest.raises(StoredFileError, match="NaN"):
        load_bank(tmp_path / "bank")
    assert presence.KIND in SPECIALIST_KINDS


def test_posture_is_not_confident_about_a_profile_unlike_any_anchor():
    rng = np.random.default_rng(6)
    shared = {p: rng.normal(0, 6, 40) for p in posture.POSTURES}
    specialist = posture.train(_sessions(lambda anchor: shared[ANCHORS_BY_NAME[anchor].posture], rng),
                               RoomBaseline("b", 0.0, {1: None}), 0.0)
    familiar = WindowFeatures(1, 0.0, 200, 1.0, 0.0, 0.0, 10.0, 10.0, 1.0, 1.0, shared["lying"], liveness=2.0)
    strange = WindowFeatures(1, 0.0, 200, 1.0, 0.0, 0.0, 10.0, 10.0, 1.0, 1.0, shared["lying"] + 25.0, liveness=2.0)
    assert posture.predict(specialist, familiar).value == "lying"
    assert posture.predict(specialist, strange).confidence < 0.2
    assert posture.predict(specialist, strange).confidence < posture.predict(specialist, familiar).confidence


def test_a_crash_between_the_two_writes_leaves_the_previous_bank_loadable(tmp_path, monkeypatch) -> None:
    from ruview_core.calibration import persist

    enrollment, _ = enrolled_room()
    baseline, records = enrollment.baseline(), enrollment.anchor_records()
    stem = tmp_path / "bank"
    first = train_bank("r", baseline, records, trained_at=1000.0)
    save_bank(first, stem)

    def crash(*args, **kwargs):
        raise OSError("killed while writing the metadata")

    monkeypatch.setattr(persist, "atomic_write_json", crash)
    second = train_bank("r", baseline, records, trained_at=2000.0)
    with pytest.raises(OSError):
        save_bank(second, stem)
    monkeypatch.undo()
    loaded = load_bank(stem)
    assert loaded.specialists["presence"].trained_at == first.specialists["presence"].trained_at
    save_bank(second, stem)  # the next save cleans up the orphan tensors file
    assert len(list(tmp_path.glob("bank.*.safetensors"))) == 1
    assert load_bank(stem).specialists["presence"].trained_at == second.specialists["presence"].trained_at


def test_restlessness_is_unknown_where_fidgeting_looks_like_keeping_still():
    def record(anchor, level, windows=5):
        summary = np.zeros((windows, 6))
        summary[:, 2] = summary[:, 3] = level + np.linspace(-0.01, 0.01, windows)
        return AnchorFeatures(anchor, 1, "b", summary, np.zeros((windows, 40)), np.zeros((3, 4)))

    def window(level):
        return WindowFeatures(1, 0.0, 200, 1.0, 0.0, 0.0, 10.0, 10.0, float(np.exp(level)), float(np.exp(level)),
                              np.zeros(40), liveness=2.0)

    still = [record(a, v) for a, v in (("stand_still", 0.23), ("sit", -0.01), ("lie_down", -0.09),
                                       ("breathe_normal", -0.15), ("sleep_posture", -0.10))]
    baseline = RoomBaseline("b", 0.0, {1: None})
    hidden = restlessness.train(still + [record("small_move", -0.10)], baseline, 0.0)  # an end-to-end run's room
    reading = restlessness.predict(hidden, window(0.23))  # standing still, the highest still level
    assert reading.value is None and reading.label == restlessness.LOOKS_STILL
    assert hidden.config["reliability"] == {"1": 0.0}

    clear = restlessness.train(still + [record("small_move", 1.2)], baseline, 0.0)
    assert restlessness.predict(clear, window(1.2)).value == 1.0
    assert restlessness.predict(clear, window(1.2)).confidence == 1.0
    assert restlessness.predict(clear, window(-0.10)).label == "calm"
    assert restlessness.separation_reliability(0.5, [0.0]) == restlessness.UNVALIDATED_RELIABILITY
