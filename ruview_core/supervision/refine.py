"""ADR-071 Phases 2 and 5 with the sensors: sensor-verified contrastive pairs, then three rounds
of self-refinement on pseudo-labels.

Sensor-verified triplets: a frame the PIR saw someone in and a frame of the door-confirmed empty
room must embed apart (anchor / positive within a second on the same node, negative across the
presence change); so must the frames just before and just after a CSI regime change or a door
transition. They continue the encoder's contrastive training under EWC (the base task's Fisher,
:mod:`ruview_core.training.ewc`), so what the recordings taught is not forgotten.

Self-refinement: the heads predict every row; a prediction whose temporal-consistency
confidence (how decided it is, times how many neighbours within ``window_s`` on the same node
agree) exceeds 0.8 becomes a pseudo-label where the sensors said nothing; the heads are
re-trained on weak + pseudo labels with a learning rate that decays each round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..training.contrastive import batch_gradients
from ..training.dataset import TrainingSet
from ..training.encoder import ENCODER_KEYS, encode
from ..training.ewc import EwcTask, ewc_penalty
from ..training.heads import heads_forward, train_heads
from ..training.optim import Adam
from ..training.triplets import Triplets
from ..training.weak_labels import UNKNOWN, WeakLabels
from .rules import BIT, CameraFreeLabels

CONSISTENCY_THRESHOLD = 0.8  # ADR-071
ROUNDS = 3
POSITIVE_S = 1.0
NEGATIVE_S = (3.0, 15.0)


def _neighbour(rng, times, rows, t, lo, hi, exclude=-1) -> int:
    """A random row of ``rows`` (sorted by time) with ``lo <= |time - t| <= hi``; -1 if none."""
    t_rows = times[rows]
    left = rows[(t_rows >= t - hi) & (t_rows <= t - lo)]
    right = rows[(t_rows >= t + lo) & (t_rows <= t + hi)]
    pool = np.concatenate([left, right])
    pool = pool[pool != exclude]
    return int(pool[rng.integers(pool.size)]) if pool.size else -1


def sensor_verified_triplets(data: TrainingSet, labels: CameraFreeLabels, rng: np.random.Generator,
                             max_triplets: int = 4096) -> tuple[Triplets, dict[str, int]]:
    """PIR-seen vs door-confirmed-empty triplets and before / after regime-change triplets."""
    out, counts = [], {"pir_vs_empty": 0, "regime_change": 0}
    seen = np.flatnonzero((labels.presence == 1) & ((labels.presence_signals & BIT["pir"]) > 0))
    empty = (labels.presence == 0) & ((labels.presence_signals & BIT["reed"]) > 0)
    change = np.flatnonzero((labels.entry_exit_confidence > 0) & (labels.entry_exit != 0)
                            | (labels.activity_signals & BIT["csi_regime"] > 0))
    groups = {}
    for key in set(zip(data.sessions.tolist(), data.node_ids.tolist())):
        rows = np.flatnonzero((data.sessions == key[0]) & (data.node_ids == key[1]))
        groups[key] = rows[np.argsort(data.times[rows], kind="stable")]
    budget = max_triplets // 2
    for name, anchors in (("pir_vs_empty", seen), ("regime_change", change)):
        for a in rng.permutation(anchors)[: budget * 2].tolist():
            if counts[name] >= budget:
                break
            rows = groups[(int(data.sessions[a]), int(data.node_ids[a]))]
            t = data.times[a]
            positive = _neighbour(rng, data.times, rows, t, 0.0, POSITIVE_S, exclude=a)
            if name == "pir_vs_empty":
                pool = rows[empty[rows]]
                negative = int(pool[rng.integers(pool.size)]) if pool.size else -1
            else:
                negative = _neighbour(rng, data.times, rows, t, *NEGATIVE_S)
                if negative >= 0 and labels.presence[negative] == labels.presence[a] and np.isfinite(labels.presence[a]):
                    negative = -1  # the far side must be a different state, not more of the same
            if positive < 0 or negative < 0:
                continue
            out.append((a, positive, negative, 0, 2))
            counts[name] += 1
    table = np.array(out, dtype=np.int64).reshape(-1, 5)
    return Triplets(*(table[:, i] for i in range(5))), counts


def contrastive_finetune(params: dict[str, np.ndarray], features: np.ndarray, triplets: Triplets,
                         tasks: Sequence[EwcTask], rng: np.random.Generator, *, epochs: int = 3,
                         batch_size: int = 32, lr: float = 5e-4) -> list[float]:
    """Continue the encoder's contrastive training on ``triplets`` under EWC, in place."""
    optimizer = Adam(params, ENCODER_KEYS, lr)
    losses = []
    steps = len(triplets) // batch_size
    for _ in range(epochs if steps else 0):
        order = rng.permutation(len(triplets))
        total = 0.0
        for k in range(steps):
            batch = triplets.take(order[k * batch_size:(k + 1) * batch_size])
            loss, _, grads = batch_gradients(params, features, batch)
            penalty, penalty_grads = ewc_penalty(params, tasks)
            for key, g in penalty_grads.items():
                grads[key] = grads[key] + g
            optimizer.step(params, grads)
            total += loss + penalty
        losses.append(total / steps)
    return losses


def temporal_consistency(times: np.ndarray, groups: np.ndarray, probability: np.ndarray,
                         window_s: float = 2.0) -> np.ndarray:
    """Per row: ``|2p - 1|`` times the share of same-group rows within ``window_s`` that decide alike."""
    decided = probability > 0.5
    out = np.zeros(times.size)
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        rows = rows[np.argsort(times[rows], kind="stable")]
        t = times[rows]
        prefix = np.concatenate([[0], np.cumsum(decided[rows])])
        lo = np.searchsorted(t, t - window_s, side="left")
        hi = np.searchsorted(t, t + window_s, side="right")
        share_yes = (prefix[hi] - prefix[lo]) / (hi - lo)
        agree = np.where(decided[rows], share_yes, 1 - share_yes)
        out[rows] = np.abs(2 * probability[rows] - 1) * agree
    return out


@dataclass
class RefinementReport:
    rounds: list[dict] = field(default_factory=list)


def self_refine(params: dict[str, np.ndarray], heads: dict[str, np.ndarray], data: TrainingSet, labels: WeakLabels,
                train_rows: np.ndarray, val_rows: np.ndarray, rng: np.random.Generator, *, rounds: int = ROUNDS,
                threshold: float = CONSISTENCY_THRESHOLD, lr: float = 1e-2, decay: float = 0.5,
                epochs: int = 30) -> tuple[dict[str, np.ndarray], RefinementReport]:
    """Heads re-trained ``rounds`` times on weak labels + confident pseudo-labels."""
    features = data.features.astype(np.float64)
    z = encode(params, features)
    groups = data.sessions * 10_000 + data.node_ids
    report = RefinementReport()
    for r in range(rounds):
        out = heads_forward(heads, z)
        probability = 1 / (1 + np.exp(-np.clip(out["presence_logit"], -50, 50)))
        confidence = temporal_consistency(data.times, groups, probability)
        activity = np.argmax(out["activity_logits"], axis=1)
        keep = (confidence > threshold) & np.isnan(labels.presence)
        presence = np.where(keep, (probability > 0.5).astype(float), labels.presence)
        pseudo_activity = np.where(keep & (labels.activity == UNKNOWN), activity, labels.activity)
        pseudo = WeakLabels(presence, pseudo_activity.astype(np.int64), labels.vitals, labels.quality)
        result = train_heads(z, pseudo, train_rows, val_rows, rng, epochs=epochs, lr=lr * decay ** r)
        heads = result.heads
        known = ~np.isnan(labels.presence[val_rows])
        agreement = None
        if known.any():
            p_val = heads_forward(heads, z[val_rows])["presence_logit"] > 0
            agreement = float(np.mean(p_val[known] == (labels.presence[val_rows][known] > 0.5)))
        report.rounds.append({"round": r + 1, "lr": lr * decay ** r, "pseudo_labels": int(keep.sum()),
                              "consistency_mean": float(confidence.mean()) if confidence.size else None,
                              "val_presence_agreement_with_weak_labels": agreement,
                              "val_loss": result.val_loss[-1] if result.val_loss else None})
    return heads, report
