"""Contrastive triplets (anchor, positive, negative) mined from time, node and motion (ADR-071).

Positives: another frame of the same node within ``positive_s`` (temporal), or the other
node's frame at the same moment (cross-node: the same scene seen from elsewhere). Negatives:
a share ``hard_negative_ratio`` are *hard*: frames just across a motion-energy transition
from the anchor (someone started or stopped moving), which look alike but are not the same
state; the rest are frames more than ``negative_gap_s`` away, of the same node (temporal)
or of another node (cross-node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIVE_KINDS = ("temporal", "cross_node")
NEGATIVE_KINDS = ("temporal", "cross_node", "hard")


@dataclass(frozen=True)
class Triplets:
    """Row indices into a training set; ``*_kind`` index :data:`POSITIVE_KINDS` / :data:`NEGATIVE_KINDS`."""

    anchor: np.ndarray
    positive: np.ndarray
    negative: np.ndarray
    positive_kind: np.ndarray
    negative_kind: np.ndarray

    def __len__(self) -> int:
        return int(self.anchor.size)

    def counts(self) -> dict[str, int]:
        out = {f"positive_{k}": int(np.sum(self.positive_kind == i)) for i, k in enumerate(POSITIVE_KINDS)}
        out.update(
            {f"negative_{k}": int(np.sum(self.negative_kind == i)) for i, k in enumerate(NEGATIVE_KINDS)}
        )
        return out

    def take(self, rows: np.ndarray) -> Triplets:
        return Triplets(
            self.anchor[rows],
            self.positive[rows],
            self.negative[rows],
            self.positive_kind[rows],
            self.negative_kind[rows],
        )


def motion_states(times: np.ndarray, motion_energy: np.ndarray, smooth_s: float = 2.0) -> np.ndarray:
    """0 (calm) / 1 (moving) per frame of one node, with hysteresis so noise makes no transitions.

    The log energy is averaged over a centred ``smooth_s`` window; the state flips only when it
    crosses the far side of a band of half the interquartile range around the median.
    """
    x = np.log(np.maximum(np.asarray(motion_energy, dtype=np.float64), 1e-12))
    if x.size == 0:
        return np.zeros(0, np.int8)
    prefix = np.concatenate([[0.0], np.cumsum(x)])
    lo = np.searchsorted(times, times - smooth_s / 2, side="left")
    hi = np.searchsorted(times, times + smooth_s / 2, side="right")
    smooth = (prefix[hi] - prefix[lo]) / (hi - lo)
    q1, median, q3 = np.percentile(smooth, [25, 50, 75])
    band = 0.25 * (q3 - q1)
    states = np.empty(x.size, np.int8)
    state = int(smooth[0] > median)
    for i, value in enumerate(smooth):
        if state == 0 and value > median + band:
            state = 1
        elif state == 1 and value < median - band:
            state = 0
        states[i] = state
    return states


def _pick(rng: np.random.Generator, lo: int, hi: int, exclude: int = -1) -> int:
    """A random index in ``[lo, hi)`` other than ``exclude``; -1 when there is none."""
    n = hi - lo - (lo <= exclude < hi)
    if n <= 0:
        return -1
    k = lo + int(rng.integers(n))
    return k + 1 if lo <= exclude <= k else k


def mine_triplets(
    times: np.ndarray,
    node_ids: np.ndarray,
    sessions: np.ndarray,
    motion_energy: np.ndarray,
    rng: np.random.Generator,
    *,
    n_triplets: int | None = None,
    positive_s: float = 1.0,
    same_time_s: float = 0.1,
    negative_gap_s: float = 30.0,
    hard_negative_ratio: float = 0.7,
    cross_node_share: float = 0.3,
    transition_s: float = 3.0,
) -> Triplets:
    """Triplets for rows described by ``times``/``node_ids``/``sessions``/``motion_energy``.

    Anchors are a random permutation of the rows (repeated if ``n_triplets`` asks for more).
    An anchor without any valid positive is skipped; when a hard negative is wanted but no
    transition lies within reach, a far negative is used instead (counted as such).
    """
    times = np.asarray(times, dtype=np.float64)
    n = times.size
    groups: dict[tuple[int, int], np.ndarray] = {}
    for key in sorted(set(zip(sessions.tolist(), node_ids.tolist()))):
        rows = np.flatnonzero((sessions == key[0]) & (node_ids == key[1]))
        groups[key] = rows[np.argsort(times[rows], kind="stable")]
    states = np.zeros(n, np.int8)
    transitions: dict[tuple[int, int], np.ndarray] = {}
    for key, rows in groups.items():
        states[rows] = motion_states(times[rows], motion_energy[rows])
        transitions[key] = times[rows][np.flatnonzero(np.diff(states[rows]) != 0) + 1]

    count = n if n_triplets is None else n_triplets
    anchors = np.concatenate([rng.permutation(n) for _ in range(-(-count // max(n, 1)))])[:count]
    out = []
    for a in anchors.tolist():
        key = (int(sessions[a]), int(node_ids[a]))
        rows, t = groups[key], times[a]
        group_times = times[rows]
        others = [k for k in groups if k[0] == key[0] and k[1] != key[1]]

        positive, positive_kind = -1, 0
        if others and rng.random() < cross_node_share:
            other = groups[others[int(rng.integers(len(others)))]]
            j = int(np.clip(np.searchsorted(times[other], t), 0, other.size - 1))
            near = min((j, max(j - 1, 0)), key=lambda i: abs(times[other[i]] - t))
            if abs(times[other[near]] - t) <= same_time_s:
                positive, positive_kind = int(other[near]), 1
        if positive < 0:
            lo, hi = np.searchsorted(group_times, [t - positive_s, t + positive_s], side="left")
            hi = np.searchsorted(group_times, t + positive_s, side="right")
            self_at = int(np.searchsorted(group_times, t, side="left"))
            while self_at < rows.size and rows[self_at] != a:
                self_at += 1
            k = _pick(rng, int(lo), int(hi), self_at)
            if k < 0:
                continue
            positive = int(rows[k])

        negative, negative_kind = -1, 0
        edges = transitions[key]
        if edges.size and rng.random() < hard_negative_ratio:
            edge = edges[np.argmin(np.abs(edges - t))]
            lo, hi = np.searchsorted(group_times, [edge - transition_s, edge + transition_s])
            candidates = rows[lo:hi][states[rows[lo:hi]] != states[a]]
            candidates = candidates[np.abs(times[candidates] - t) > positive_s]
            if candidates.size:
                negative, negative_kind = int(candidates[rng.integers(candidates.size)]), 2
        if negative < 0:
            use_other = bool(others) and rng.random() < 0.5
            pool = groups[others[int(rng.integers(len(others)))]] if use_other else rows
            pool_times = times[pool]
            lo = int(np.searchsorted(pool_times, t - negative_gap_s, side="left"))
            hi = int(np.searchsorted(pool_times, t + negative_gap_s, side="right"))
            far = lo + pool.size - hi
            if far > 0:
                k = int(rng.integers(far))
                negative = int(pool[k if k < lo else hi + k - lo])
            else:  # a short session: any other session's frame is a different scene
                elsewhere = np.flatnonzero(sessions != key[0])
                if elsewhere.size == 0:
                    continue
                negative = int(elsewhere[rng.integers(elsewhere.size)])
            negative_kind = int(use_other)
        out.append((a, positive, negative, positive_kind, negative_kind))
    table = np.array(out, dtype=np.int64).reshape(-1, 5)
    return Triplets(*(table[:, i] for i in range(5)))
