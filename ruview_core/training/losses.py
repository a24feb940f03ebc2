"""Losses with their exact gradients: contrastive (triplet margin + InfoNCE) and the heads'.

Every function returns ``(loss, gradients)``; losses are means over the batch so that the
learning rate does not depend on the batch size.
"""

from __future__ import annotations

import numpy as np

TRIPLET_MARGIN = 0.3
INFONCE_TEMPERATURE = 0.07


def triplet_loss(
    anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: float = TRIPLET_MARGIN
):
    """``mean(max(0, |a-p|^2 - |a-n|^2 + margin))`` on embeddings; gradients for a, p, n.

    Squared distances between unit vectors lie in 0..4, so a margin of 0.3 asks the negative
    to be noticeably (not maximally) further than the positive.
    """
    to_positive, to_negative = anchor - positive, anchor - negative
    hinge = np.sum(to_positive**2, axis=1) - np.sum(to_negative**2, axis=1) + margin
    active = (hinge > 0)[:, None] * (2.0 / anchor.shape[0])
    loss = float(np.mean(np.maximum(hinge, 0.0)))
    return loss, (active * (negative - positive), -active * to_positive, active * to_negative)


def info_nce(anchor: np.ndarray, positive: np.ndarray, temperature: float = INFONCE_TEMPERATURE):
    """InfoNCE over the batch: each anchor must pick its own positive among all positives.

    ``-mean_i log softmax_j(a_i . p_j / tau)[i]``; gradients for anchors and positives.
    """
    logits = anchor @ positive.T / temperature
    logits = logits - logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.sum(np.exp(logits), axis=1))
    loss = float(np.mean(log_sum - np.diag(logits)))
    probabilities = np.exp(logits - log_sum[:, None])
    d_logits = (probabilities - np.eye(anchor.shape[0])) / (anchor.shape[0] * temperature)
    return loss, (d_logits @ positive, d_logits.T @ anchor)


def contrastive_loss(anchor, positive, negative, margin=TRIPLET_MARGIN, temperature=INFONCE_TEMPERATURE):
    """Triplet + InfoNCE, equally weighted; returns (loss, (triplet, info_nce), (da, dp, dn))."""
    triplet, (ta, tp, tn) = triplet_loss(anchor, positive, negative, margin)
    nce, (na, np_) = info_nce(anchor, positive, temperature)
    return triplet + nce, (triplet, nce), (ta + na, tp + np_, tn)


def binary_cross_entropy(logit: np.ndarray, target: np.ndarray, weight: np.ndarray):
    """Weighted sigmoid cross-entropy of logits (numerically stable); gradient w.r.t. the logits."""
    total = max(float(weight.sum()), 1e-12)
    loss = np.maximum(logit, 0) - logit * target + np.log1p(np.exp(-np.abs(logit)))
    probability = 1.0 / (1.0 + np.exp(-logit))
    return float(np.sum(weight * loss) / total), weight * (probability - target) / total


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray, weight: np.ndarray):
    """Weighted cross-entropy of ``[N, C]`` logits against integer labels; gradient w.r.t. logits."""
    total = max(float(weight.sum()), 1e-12)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    safe = np.clip(labels, 0, logits.shape[1] - 1)
    picked = log_probabilities[np.arange(labels.size), safe]
    one_hot = np.eye(logits.shape[1])[safe]
    gradient = weight[:, None] * (np.exp(log_probabilities) - one_hot) / total
    return float(-np.sum(weight * picked) / total), gradient


def quality_weighted_mse(prediction: np.ndarray, target: np.ndarray, quality: np.ndarray):
    """``sum(q (pred - target)^2) / sum(q)``: unknown targets carry quality 0 (and may be NaN)."""
    total = max(float(quality.sum()), 1e-12)
    error = np.where(quality > 0, prediction - np.nan_to_num(target), 0.0)
    return float(np.sum(quality * error**2) / total), 2.0 * quality * error / total
