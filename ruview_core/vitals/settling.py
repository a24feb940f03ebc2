"""Where a breathing window's scene last settled: a rate is read on one posture, not across two.

A person who sits down, lies down or shifts to another spot leaves the channel in another
state: the amplitude shape steps and stays. A window across the step mixes two channels and two
rhythms, and its spectrum can show a peak that is neither (on the simulator, a window over
14 s standing, 12 s lying and 16 s sitting committed 5.9-7.4 bpm for people breathing 11-17:
the sidelobe of the 12 s stretch). A single false alarm must not silence the vitals for a
minute, so a motion hop restarts the window only where the scene stepped and stayed.

A step at a second ``b`` is judged by the columns' per-second means over ``SIDE_SECONDS`` on each
side: per column the squared difference of the two means over its standard error (a two-sample
t squared), the median over columns as the score (a posture change moves most subcarriers;
breathing and noise move each a little, and the median ignores the few a rhythm swings).
Measured with 5 s sides (``SIDE_SECONDS``): windows with nobody changing posture score at most
1.45 on the real corpus (60 windows: a breathing phantom, ESP32 takes of a seated person; their
maximum over all seconds, not only where motion was flagged) and 1.0 on the simulator; the
simulator's posture switches 1.3-20. Half a cycle of slow deep breathing that moves every
subcarrier (4 bpm, synthetic) reaches 25: a false alarm there would cut the window, which is
why a step is looked for only where motion was flagged.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

SIDE_SECONDS = 5
# A hop flagged as moving covers the motion window before it.
TOLERANCE_SECONDS = 2
STEP_SCORE = 2.0


def step_scores(columns: np.ndarray, rate_hz: float, side_seconds: int = SIDE_SECONDS) -> np.ndarray:
    """Score of a lasting step at each whole second of real ``[T, M]`` columns sampled uniformly at
    ``rate_hz`` (index ``b``: between seconds ``b - 1`` and ``b``; 0 where a side is short)."""
    per_second = max(int(round(rate_hz)), 1)
    seconds = columns.shape[0] // per_second
    scores = np.zeros(seconds + 1)
    if seconds < 2 * side_seconds or columns.shape[1] == 0:
        return scores
    means = columns[: seconds * per_second].reshape(seconds, per_second, -1).mean(axis=1)
    for b in range(side_seconds, seconds - side_seconds + 1):
        before, after = means[b - side_seconds : b], means[b : b + side_seconds]
        error = (before.var(axis=0, ddof=1) + after.var(axis=0, ddof=1)) / side_seconds
        t2 = (after.mean(axis=0) - before.mean(axis=0)) ** 2 / np.maximum(error, 1e-300)
        scores[b] = float(np.median(t2))
    return scores


def settled_start(columns: np.ndarray, rate_hz: float, moved_rows: Iterable[int],
                  threshold: float = STEP_SCORE) -> int:
    """First row of the stretch after the last movement that left the scene changed (0 if none).

    ``moved_rows`` are the rows of ``columns`` where motion was detected: a step is looked for
    only there (within ``TOLERANCE_SECONDS``), which keeps a slow deep breath, whose half cycle
    looks like a step, from cutting the window, and a false alarm that changed nothing from
    costing any of it."""
    moved_rows = sorted(moved_rows, reverse=True)
    if not moved_rows:  # nothing moved: no scan
        return 0
    per_second = max(int(round(rate_hz)), 1)
    scores = step_scores(columns, rate_hz)
    for row in moved_rows:
        second = int(round(row / per_second))
        near = np.arange(second - TOLERANCE_SECONDS, second + TOLERANCE_SECONDS + 1)
        near = near[(near >= 0) & (near < scores.size)]
        if near.size and scores[near].max() > threshold:
            return int(near[np.argmax(scores[near])]) * per_second
    return 0


class RecentMotion:
    """The times motion was detected over the last ``seconds`` (a breathing window): what
    :func:`settled_start` is given as ``moved_at``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._times: deque[float] = deque()

    def note(self, t: float, moving: bool) -> None:
        """One hop at ``t``; drops what has left the window."""
        if moving:
            self._times.append(t)
        while self._times and self._times[0] < t - self.seconds:
            self._times.popleft()

    def __iter__(self) -> Iterator[float]:
        return iter(self._times)

    def __len__(self) -> int:
        return len(self._times)
