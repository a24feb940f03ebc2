"""The anchors of ADR-151 §2.2 and the append-only enrollment session log."""

from __future__ import annotations

import pytest

from ruview_core.calibration.anchors import ANCHOR_NAMES, ANCHORS, COUNTDOWN_S, get_anchor
from ruview_core.calibration.session import EnrollmentSession


def test_the_eight_anchors():
    assert ANCHOR_NAMES == ("empty", "stand_still", "sit", "lie_down", "breathe_slow", "breathe_normal",
                            "small_move", "sleep_posture")
    assert COUNTDOWN_S == 3.0
    assert sum(a.duration_s for a in ANCHORS) == 190.0  # plus countdowns: about four minutes
    assert get_anchor("small_move").moving and not get_anchor("sit").moving
    assert get_anchor("breathe_slow").breathing_band_bpm[1] < get_anchor("breathe_normal").breathing_band_bpm[1]
    with pytest.raises(ValueError, match="unknown anchor"):
        get_anchor("dance")


def test_session_folds_events(tmp_path):
    session = EnrollmentSession(tmp_path / "session.jsonl")
    session.append("baseline_accepted", baseline_id="b1")
    session.append("anchor_rejected", anchor="sit", baseline_id="b1", reason="moved")
    session.append("anchor_accepted", anchor="sit", baseline_id="b1")
    session.append("anchor_skipped", anchor="small_move", baseline_id="b1")
    state = session.state()
    assert state.baseline_id == "b1" and set(state.accepted) == {"sit"} and state.skipped == {"small_move"}
    assert state.rejections == {"sit": ["moved"]}
    assert state.pending[0] == "empty" and "sit" not in state.pending and not state.complete
    # re-enrolling one anchor keeps the accepted one until its successor is accepted
    first = session.state().accepted["sit"]
    session.append("anchor_started", anchor="sit", baseline_id="b1", replace=True)
    session.append("anchor_rejected", anchor="sit", baseline_id="b1", reason="moved again")
    assert session.state().accepted["sit"] == first and "sit" not in session.state().pending
    # a new baseline invalidates everything taken against the old one
    session.append("anchor_accepted", anchor="sit", baseline_id="b1")
    session.append("baseline_accepted", baseline_id="b2")
    session.append("anchor_accepted", anchor="empty", baseline_id="b1")  # late event of the old baseline
    state = session.state()
    assert state.baseline_id == "b2" and not state.accepted and not state.skipped


def test_session_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "session.jsonl"
    session = EnrollmentSession(path)
    session.append("baseline_accepted", baseline_id="b1")
    session.append("anchor_accepted", anchor="empty", baseline_id="b1")
    with open(path, "a") as out:
        out.write('{"event": "anchor_acc')  # the crash
    state = EnrollmentSession(path).state()
    assert state.torn_lines == 1 and set(state.accepted) == {"empty"}
    with pytest.raises(ValueError):
        session.append("anchor_danced", anchor="empty")
    with pytest.raises(ValueError):
        session.append("anchor_accepted", anchor="dance")
