"""One node's activity and posture, hop by hop: episodes cut, profiled, classified, tracked.

Run next to a :class:`~ruview_core.node.pipeline.NodePipeline` (whose cleaned frames it reads
back for each episode). A short episode (up to ``WHOLE_SECONDS``) is one movement and is
classified whole. A longer one is someone getting up, walking about and settling again, so
windows of ``WINDOW_SECONDS`` sliding through it are classified, and the runs of one confident
class (``SLIDING_CONFIDENCE``) become its sequence of movements, in order; a fall only at its
end. Each hop says:

- ``activity``: what an episode handed on at this hop was (its last movement), ``still`` on a
  hop judged still with nothing handed on, None while moving or undecided, or when the motion
  decision is unknown;
- ``posture``: the tracker's (:mod:`.tracker`), with its confidence and reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .classify import ActivityDecision, ActivityModel, decide
from .episodes import Episode, EpisodeCutter
from .profile import episode_profile
from .tracker import PostureState, PostureTracker

WHOLE_SECONDS = 4.0
WINDOW_SECONDS = 3.0  # the length of the corpus's movement clips
STEP_SECONDS = 1.0
PAD_SECONDS = 0.5
SLIDING_CONFIDENCE = 0.6  # a window inside a long movement needs more than a whole episode


@dataclass(frozen=True)
class HopActivity:
    activity: str | None
    confidence: float
    posture: PostureState
    decisions: tuple[ActivityDecision, ...] = field(default=())


class ActivityMonitor:
    """Activities and posture of one node; :meth:`update` once per hop after the pipeline's hop."""

    def __init__(self, model: ActivityModel | None, hop: float = 1.0) -> None:
        self.model = model
        self.cutter = EpisodeCutter(hop)
        self.tracker = PostureTracker()
        self.episodes: list[tuple[Episode, tuple[ActivityDecision, ...]]] = []

    def update(self, t: float, moving: bool | None, motion: float | None, recent) -> HopActivity:
        """``recent(seconds, end)`` returns the node's cleaned ``(times, csi)`` (``NodeBuffer.recent``)."""
        decisions: list[ActivityDecision] = []
        for episode in self.cutter.update(t, moving, motion):
            found = self.classify(episode, recent)
            self.episodes.append((episode, found))
            for decision in found:
                self.tracker.observe(episode.end, decision.activity, decision.confidence)
            decisions.extend(found)
        if decisions:
            last = decisions[-1]
            return HopActivity(last.activity, last.confidence, self.tracker.state, tuple(decisions))
        still = moving is False and not self.cutter.active
        return HopActivity("still" if still else None, 1.0 if still else 0.0, self.tracker.state)

    def classify(self, episode: Episode, recent) -> tuple[ActivityDecision, ...]:
        """The movements in ``episode`` (see the module docstring); none without a model."""
        if self.model is None:
            return ()
        if episode.duration <= WHOLE_SECONDS:
            whole = self._window(episode.start - PAD_SECONDS, episode.end + PAD_SECONDS, episode.still_after, recent)
            return () if whole is None else (whole,)
        found: list[ActivityDecision] = []
        starts = np.arange(episode.start - PAD_SECONDS, episode.end + PAD_SECONDS - WINDOW_SECONDS + 1e-9, STEP_SECONDS)
        for i, start in enumerate(starts):
            last = i == starts.size - 1
            decision = self._window(start, start + WINDOW_SECONDS, episode.still_after if last else None, recent)
            if decision is None or decision.activity == "other" or decision.confidence < SLIDING_CONFIDENCE:
                continue
            if decision.activity == "fall" and not last:
                continue  # a fall ends the movement: only the last window can be one
            if found and found[-1].activity == decision.activity:
                if decision.confidence > found[-1].confidence:
                    found[-1] = decision
                continue
            found.append(decision)
        return tuple(found)

    def _window(self, start: float, end: float, still_after: float | None, recent) -> ActivityDecision | None:
        times, csi = recent(end - start, end)
        if times.size == 0:
            return None
        amplitude = np.abs(np.asarray(csi)[:, 0, :]) if np.ndim(csi) == 3 else np.abs(np.asarray(csi))
        profile = episode_profile(times, amplitude, np.nan if still_after is None else still_after)
        if profile is None:
            return None
        return decide(self.model, profile.values, still_after)
