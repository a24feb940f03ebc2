"""The real, labelled CSI corpus in ``../shared/data/real`` (never copied into the project).

Reading a file the way the product does (``ruview_core.sources.replay.read_recording``), its
label sidecar, which chip group it belongs to, and the per-hop truth of a labelled stream.
Shared by ``bench_real.py`` and its task modules.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ruview_core.frames import CsiFrame
from ruview_core.sources.replay import read_recording

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
# The hardware a dataset was recorded on; ESPectre's files name their chip.
DATASET_CHIP = {
    "wifall": "esp32-s3", "uji_localized_har": "esp32-s2", "espectre_home_quadrants": "esp32 (s3 or c6)",
    "nist_breathesmart": "atheros nic", "esp32_resp_phuocan": "esp32",
}
# The first second after a label change is not scored: the label boundary is nominal.
SETTLE_SECONDS = 1.0


@dataclass
class Recording:
    """One corpus file: its frames (one node), label sidecar and where it belongs."""

    path: Path
    labels: dict
    frames: list[CsiFrame] = field(default_factory=list, repr=False)

    @property
    def name(self) -> str:
        return self.path.name.split(".")[0]

    @property
    def dataset(self) -> str:
        return str(self.labels["dataset"])

    @property
    def chip(self) -> str:
        match = re.search(r"_(c3|c5|c6|s3)_", self.path.name)
        return f"esp32-{match.group(1)}" if match else DATASET_CHIP.get(self.dataset, "unknown")

    @property
    def session(self) -> str:
        return str(self.labels.get("session") or self.labels.get("subject") or "")

    @property
    def start(self) -> float:
        return self.frames[0].timestamp if self.frames else 0.0

    @property
    def duration(self) -> float:
        return self.frames[-1].timestamp - self.frames[0].timestamp if len(self.frames) > 1 else 0.0

    def label_at(self, offset: float, key: str):
        """The label ``key`` at ``offset`` seconds from the first frame; ``"settling"`` within
        ``SETTLE_SECONDS`` after a change of label; None where not labelled."""
        for segment in self.labels["segments"]:
            if segment["start"] <= offset < segment["end"]:
                value = segment["labels"].get(key)
                if segment["start"] > 0 and offset - segment["start"] < SETTLE_SECONDS:
                    previous = self.label_at(segment["start"] - 1e-6, key)
                    if previous != value:
                        return "settling"
                return value
        return None

    def quiet_throughout(self) -> bool:
        values = [s["labels"].get("motion") for s in self.labels["segments"]]
        return bool(values) and all(v is False for v in values)


def label_path(path: Path) -> Path:
    name = path.name
    for suffix in (".csi.jsonl.gz", ".csv.gz", ".csi.jsonl", ".csv"):
        if name.endswith(suffix):
            return path.with_name(name[: -len(suffix)] + ".labels.json")
    raise ValueError(f"{path}: not a corpus recording")


def find(root: Path, pattern: str = "**/*.gz") -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file())


def load(path: Path, with_frames: bool = True) -> Recording:
    labels = json.loads(label_path(path).read_text())
    recording = Recording(path, labels)
    if with_frames:
        malformed: Counter[str] = Counter()
        frames = [p for p in read_recording(path, malformed) if isinstance(p, CsiFrame)]
        recording.frames = sorted(frames, key=lambda f: f.timestamp)
    return recording


def shifted(frames: list[CsiFrame], offset: float) -> list[CsiFrame]:
    """The frames with ``offset`` seconds added to their timestamps (to splice files into a stream)."""
    from dataclasses import replace

    return [replace(f, timestamp=f.timestamp + offset, node_id=1) for f in frames]


def splice(recordings: list[Recording]) -> tuple[list[CsiFrame], list[tuple[Recording, float]]]:
    """The recordings back to back as one stream of node 1 (each starting one frame interval after
    the previous ends), and where each one starts in stream seconds."""
    stream: list[CsiFrame] = []
    starts = []
    clock = None
    for recording in recordings:
        if not recording.frames:
            continue
        step = 1.0 / max(recording.labels.get("rate_hz") or 20.0, 1.0)
        offset = 0.0 if clock is None else clock + step - recording.start
        starts.append((recording, recording.start + offset))
        stream.extend(shifted(recording.frames, offset))
        clock = stream[-1].timestamp
    return stream, starts


def rate_of(values: list[bool]) -> float | None:
    return float(np.mean(values)) if values else None
