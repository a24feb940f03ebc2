"""Breathing pauses at run time: each node's :class:`~ruview_core.vitals.pauses.PauseTracker`
fed from its pipeline, one reading per hop, and the room's pause events.

A node follows a pause only while a still person is there and its breathing estimate committed
a rate (the rhythm's reference). Motion cuts a pause under way; motion lasting ``FORGET_AFTER_S``
or an empty room also drops the reference, since the channel it described is gone (a moment of
motion, a shifted arm, keeps it: the next estimate renews it anyway). Between two vitals estimates the tracker is checked every ``CHECK_EVERY_S``
on the last ``REFERENCE_S`` seconds of the committed feature's columns. The room fires one
``breathing_pause`` event per pause, when it ends (the rhythm came back, the person moved or
left, the room went stale), with the pause's duration.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..node.pipeline import NodePipeline
from ..specialists.base import Reading
from ..vitals import VitalSignEstimate
from ..vitals.pauses import HOP_S, MIN_PAUSE_S, REFERENCE_S, PauseTracker
from .events import RoomEvent

PAUSE = "breathing_pause"
CHECK_EVERY_S = HOP_S
FORGET_AFTER_S = 3.0


@dataclass(frozen=True)
class PauseReading(Reading):
    """A pause reading: ``value`` True while a pause is under way (for ``duration_s`` so far),
    False while an established rhythm goes on, None when it cannot be told."""

    duration_s: float | None = None

    def to_dict(self) -> dict:
        duration = None if self.duration_s is None else round(float(self.duration_s), 1)
        return {**super().to_dict(), "duration_s": duration}


def unknown_pause(label: str) -> PauseReading:
    return PauseReading(None, 0.0, label)


class NodePauses:
    """One node's pause tracking from its :class:`~ruview_core.node.pipeline.NodePipeline`."""

    def __init__(self, pipeline: NodePipeline, min_pause_s: float = MIN_PAUSE_S) -> None:
        self.pipeline = pipeline
        self.tracker = PauseTracker(min_pause_s)
        self.feature: str | None = None
        self._next_check: float | None = None
        self._paused_s: float | None = None
        self._moving_since: float | None = None

    def renew(self, t: float, estimate: VitalSignEstimate, still_person: bool) -> None:
        """After a vitals estimate at ``t``: a committed rate of a still person (re)sets the reference."""
        if not still_person or estimate.bpm is None or self.tracker.started is not None:
            return
        recent = self.pipeline.breathing_recent(t, estimate.feature, REFERENCE_S)
        if recent is not None:
            self.tracker.establish(recent, float(self.pipeline.rate_hz), estimate.bpm, estimate.confidence)
            self.feature = estimate.feature

    def reading(self, t: float, present: bool | None, moving: bool | None) -> PauseReading:
        """The pause reading of the hop ending at ``t``, given the node's presence and motion."""
        if moving and present is not False:
            # A moment of motion (often the detector, or a breath resuming) neither ends a pause
            # nor drops the reference; motion that lasts does both.
            self._moving_since = t if self._moving_since is None else self._moving_since
            if t - self._moving_since >= FORGET_AFTER_S:
                self._forget()
            elif self.tracker.started is not None:
                held = self._moving_since - self.tracker.started
                return PauseReading(True, self.tracker.confidence, f"no breathing for {held:.0f} s, then motion", held)
            return unknown_pause("moving")
        self._moving_since = None
        if present is False:
            self._forget()
            return unknown_pause("nobody present")
        if present is None or moving is None:
            return unknown_pause("presence or motion unknown")
        if self.tracker.reference is None:
            return unknown_pause("no breathing rhythm yet")
        if self._next_check is None or t >= self._next_check:
            self._next_check = t + CHECK_EVERY_S
            recent = self.pipeline.breathing_recent(t, self.feature, REFERENCE_S)
            self._paused_s = None if recent is None else self.tracker.check(t, recent, float(self.pipeline.rate_hz))
        elif self.tracker.started is not None and not self.tracker.ending:
            self._paused_s = t - self.tracker.started
        confidence = self.tracker.confidence
        if self._paused_s is None:
            return PauseReading(False, confidence, "breathing")
        return PauseReading(True, confidence, f"no breathing for {self._paused_s:.0f} s", self._paused_s)

    def _forget(self) -> None:
        self.tracker.reset()
        self.feature, self._next_check, self._paused_s = None, None, None


class PauseEvents:
    """The room's fused pause readings hop by hop -> one ``breathing_pause`` event per pause, at its end."""

    def __init__(self) -> None:
        self._last: PauseReading | None = None

    def update(self, t: float, reading: Reading) -> list[RoomEvent]:
        under_way = reading.value is True and isinstance(reading, PauseReading)
        last, self._last = self._last, reading if under_way else None
        if under_way or last is None or last.duration_s is None:
            return []
        return [RoomEvent(PAUSE, t, {"duration_s": round(last.duration_s, 1),
                                     "confidence": round(float(last.confidence), 3)})]
