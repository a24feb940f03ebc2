"""Pose proxy, honestly scoped (ADR-071 Phases 3-4).

What CSI from a few ESP32 nodes can say about where a person is: which node's link the body
disturbs more. :func:`coarse_zone` turns the difference between two nodes' evidence into a zone
on a small grid along the axis between them (``near node A`` ... ``near node B``), only where two
or more nodes exist and someone is present; one node gives no position at all.

The 5-keypoint proxy (head from the zone, hands from the per-node motion asymmetry, feet from
vibration) and its 17-keypoint interpolation with bone-length projection are *not* a pose
estimate: no camera ever supervised them. They exist only as the exported ``pose-decoder.json``
artifact of ADR-071, which says so in its ``disclaimer`` field, for tools that expect the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..runtime.zone import DEFAULT_ZONES, SPREAD, Zone, coarse_zone  # noqa: F401  (part of this module's API)
from ..storage import atomic_write_json

KEYPOINTS_5 = ("head", "left_hand", "right_hand", "left_foot", "right_foot")
KEYPOINTS_17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                "right_knee", "left_ankle", "right_ankle")
# Anthropometric bone lengths in metres (adult, mid-range), for the bone-length projection.
BONES = {("left_shoulder", "left_elbow"): 0.30, ("right_shoulder", "right_elbow"): 0.30,
         ("left_elbow", "left_wrist"): 0.26, ("right_elbow", "right_wrist"): 0.26,
         ("left_hip", "left_knee"): 0.45, ("right_hip", "right_knee"): 0.45,
         ("left_knee", "left_ankle"): 0.42, ("right_knee", "right_ankle"): 0.42}
DISCLAIMER = ("An estimate, not a pose: keypoints are interpolated from a coarse zone between two nodes, "
              "per-node motion asymmetry and vibration, with no camera supervision. Do not use it where a "
              "real pose matters.")


def project_bones(points: dict[str, np.ndarray], iterations: int = 3) -> dict[str, np.ndarray]:
    """Move each bone's child joint so the bone has its anthropometric length (ADR-071: 3 passes)."""
    points = {k: np.array(v, dtype=float) for k, v in points.items()}
    for _ in range(iterations):
        for (parent, child), length in BONES.items():
            offset = points[child] - points[parent]
            norm = float(np.linalg.norm(offset))
            direction = offset / norm if norm > 1e-9 else np.array([0.0, 0.0, -1.0])
            points[child] = points[parent] + direction * length
    return points


def keypoints_17(five: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """ADR-071 Phase 4: the 17 COCO keypoints interpolated from the 5 proxy points."""
    head, lh, rh, lf, rf = (np.asarray(five[k], dtype=float) for k in KEYPOINTS_5)
    face = {"nose": head, "left_eye": head + [0.03, 0.03, 0.03], "right_eye": head + [-0.03, 0.03, 0.03],
            "left_ear": head + [0.07, 0.0, 0.0], "right_ear": head + [-0.07, 0.0, 0.0]}
    shoulders = {"left_shoulder": 0.3 * head + 0.7 * lh, "right_shoulder": 0.3 * head + 0.7 * rh}
    hips = {"left_hip": (head + lf) / 2, "right_hip": (head + rf) / 2}
    points = {**face, **shoulders, **hips,
              "left_elbow": (shoulders["left_shoulder"] + lh) / 2, "right_elbow": (shoulders["right_shoulder"] + rh) / 2,
              "left_wrist": lh, "right_wrist": rh,
              "left_knee": (hips["left_hip"] + lf) / 2, "right_knee": (hips["right_hip"] + rf) / 2,
              "left_ankle": lf, "right_ankle": rf}
    return project_bones({k: points[k] for k in KEYPOINTS_17})


def pose_decoder(n_zones: int = DEFAULT_ZONES, nodes: tuple[int, ...] = (), stats: Mapping[str, Any] | None = None) -> dict:
    """The ``pose-decoder.json`` document: the proxy's rules and constants, and what it is not."""
    return {
        "format": "ruview-pose-proxy", "format_version": 1, "kind": "estimate", "disclaimer": DISCLAIMER,
        "requires_nodes": 2, "nodes": list(nodes), "zones": {"grid": [n_zones, 1], "spread": SPREAD,
                                                            "input": "per-node log deviation from the empty room"},
        "keypoints_5": {"names": list(KEYPOINTS_5),
                        "head": "zone centre between the two nodes at standing head height (1.6 m)",
                        "hands": "per-node motion asymmetry moves the hands +-0.3 m towards the busier node",
                        "feet": "below the head; vibration marks a step"},
        "keypoints_17": {"names": list(KEYPOINTS_17), "shoulders": "0.3 x head + 0.7 x hands",
                         "elbows": "midpoint(shoulder, hand)", "hips": "midpoint(head, feet)",
                         "knees": "midpoint(hip, foot)", "bone_projection_iterations": 3,
                         "bone_lengths_m": {f"{a}-{b}": v for (a, b), v in BONES.items()}},
        "weak_label_stats": dict(stats or {}),
    }


def write_pose_decoder(output_dir: str | Path, **kwargs) -> str:
    atomic_write_json(Path(output_dir) / "pose-decoder.json", pose_decoder(**kwargs))
    return "pose-decoder.json"
