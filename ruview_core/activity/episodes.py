"""Movement episodes cut from the node chain's per-hop motion decisions.

An episode is a run of hops the node judged moving (:attr:`NodeHop.moving`), a single still hop
inside it bridged (a person pausing mid-movement). It closes after ``CLOSE_HOPS`` still hops and
is handed on once ``STILL_AFTER_HOPS`` hops after it have been seen, with the share of them
judged still: a fall is followed by lying still, a walk by more walking. Hops whose decision is
unknown (warm-up, no data) neither extend nor close an episode, but an unknown stretch longer
than ``STILL_AFTER_HOPS`` drops the episode being watched (nothing can be said about it).
"""

from __future__ import annotations

from dataclasses import dataclass

CLOSE_HOPS = 2
STILL_AFTER_HOPS = 4
MAX_EPISODE_SECONDS = 40.0  # longer runs are someone walking about: handed on as one long episode


@dataclass(frozen=True)
class Episode:
    """A movement from ``start`` to ``end`` (seconds, stream time); ``still_after`` is the share of
    the following hops judged still (None if not observed)."""

    start: float
    end: float
    peak_motion: float
    still_after: float | None

    @property
    def duration(self) -> float:
        return self.end - self.start


class EpisodeCutter:
    """Feed every hop's ``(t, moving, motion)``; :meth:`update` returns the episodes it completes."""

    def __init__(self, hop: float = 1.0, close_hops: int = CLOSE_HOPS, still_after_hops: int = STILL_AFTER_HOPS) -> None:
        self.hop = hop
        self.close_hops = close_hops
        self.still_after_hops = still_after_hops
        self._unknown = 0
        self._reset()

    @property
    def active(self) -> bool:
        """True while an episode is open or being watched for what follows it."""
        return self._start is not None

    def update(self, t: float, moving: bool | None, motion: float | None = None) -> list[Episode]:
        if moving is None:
            self._unknown += 1
            if self._start is not None and self._unknown > self.still_after_hops:
                self._reset()
            return []
        self._unknown = 0
        if self._start is None:
            if moving:
                self._open(t, motion)
            return []
        if not self._closed:
            if moving:
                self._quiet = 0
                self._mark(t, motion)
                if self._last_moving - self._start >= MAX_EPISODE_SECONDS:
                    return self._finish(None)
            else:
                self._quiet += 1
                if self._quiet >= self.close_hops:  # the still hops that closed it count as after it
                    self._closed, self._after = True, [True] * self._quiet
            return []
        self._after.append(not moving)
        if moving:  # a new movement while watching: hand the old one on, start the new one
            done = self._finish(sum(self._after) / len(self._after))
            self._open(t, motion)
            return done
        if len(self._after) >= self.still_after_hops:
            return self._finish(sum(self._after) / len(self._after))
        return []

    def flush(self) -> list[Episode]:
        """The open episode, if any, with what was seen after it (the stream ended)."""
        if self._start is None:
            return []
        return self._finish(sum(self._after) / len(self._after) if self._after else None)

    def _open(self, t: float, motion: float | None) -> None:
        self._start = t - self.hop
        self._mark(t, motion)

    def _mark(self, t: float, motion: float | None) -> None:
        self._last_moving = t
        if motion is not None:
            self._peak = max(self._peak, float(motion))

    def _finish(self, still_after: float | None) -> list[Episode]:
        episode = Episode(self._start, self._last_moving, self._peak, still_after)
        self._reset()
        return [episode]

    def _reset(self) -> None:
        self._start: float | None = None
        self._last_moving = 0.0
        self._peak = 0.0
        self._closed = False
        self._quiet = 0
        self._after: list[bool] = []
