"""Stage 2: guided enrollment of a room, persisted per room and resumable (ADR-151 §2.2).

:class:`RoomEnrollment` drives one room's folder: the session event log (``session.jsonl``),
the baselines (``baseline-ID.*``) and the accepted anchors' features (``anchors/NAME-SHA.*``).
Each call takes frames (any iterable, or an async iterable) and appends what happened to the
log, so a restart resumes from :meth:`RoomEnrollment.state`, one anchor can be re-enrolled alone,
and an anchor can be skipped (the bank is then partial). The caller runs the countdown and
prompts; by default the first ``COUNTDOWN_S`` of stream time are dropped all the same, so a
person still walking into place never lands in an anchor.

The log is the one source of truth: a new baseline or anchor is written to files of its own,
then the log names it, and only then are the files it replaces removed. A crash at any point
leaves the room as it was before the capture or as it is after it, never a mix, and a replaced
anchor counts until its successor is accepted. (Rooms stored before this kept ``baseline.*`` and
``anchors/NAME.*``; those are read while the log names them.)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..frames import CsiFrame
from ..storage import room_dir, validate_room_id
from .anchors import ANCHOR_NAMES, COUNTDOWN_S, Anchor, get_anchor
from .baseline import DEFAULT_BASELINE_SECONDS, MIN_BASELINE_SECONDS, BaselineError, RoomBaseline, capture_baseline, load_baseline, save_baseline
from ..node.cleaning import clean, group_by_node, raw_arrays
from .persist import StoredFileError, artifact_files, content_stem, read_artifact, write_artifact
from .quality import GateResult, check_anchor
from .records import AnchorFeatures, anchor_arrays, extract_anchor_features, records_from_arrays
from .session import EnrollmentSession, SessionState

Progress = Callable[[float], None]
# A baseline id as it may become part of a file name (capture_baseline makes UUIDs).
BASELINE_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


@dataclass(frozen=True)
class AnchorOutcome(GateResult):
    """The gate's verdict on one anchor capture."""

    anchor: str = ""


def _or_legacy(stem: Path, legacy: Path) -> Path:
    """``stem``, or the one file pair a room stored before each capture had its own, while only it exists."""
    if not stem.with_suffix(".json").exists() and legacy.with_suffix(".json").exists():
        return legacy
    return stem


class _Clip:
    """Collects ``seconds`` of stream time of CSI frames after dropping the first ``skip``."""

    def __init__(self, seconds: float, skip: float, on_progress: Progress | None) -> None:
        self.seconds, self.skip, self.on_progress = seconds, skip, on_progress
        self.frames: list[CsiFrame] = []
        self._start: float | None = None

    def add(self, frame: object) -> bool:
        """Takes one packet; True once the clip is complete."""
        if not isinstance(frame, CsiFrame):
            return False
        self._start = frame.timestamp if self._start is None else self._start
        elapsed = frame.timestamp - self._start - self.skip
        if elapsed >= self.seconds:
            return True
        if elapsed >= 0:
            self.frames.append(frame)
            if self.on_progress is not None:
                self.on_progress(min(elapsed / self.seconds, 1.0))
        return False


def take_seconds(frames: Iterable, seconds: float, skip: float = 0.0, on_progress: Progress | None = None) -> list[CsiFrame]:
    """CSI frames of ``seconds`` of stream time after dropping the first ``skip`` seconds."""
    clip = _Clip(seconds, skip, on_progress)
    for frame in frames:
        if clip.add(frame):
            break
    return clip.frames


async def atake_seconds(frames: AsyncIterable, seconds: float, skip: float = 0.0,
                        on_progress: Progress | None = None) -> list[CsiFrame]:
    """:func:`take_seconds` for an async stream (a live UDP receiver)."""
    clip = _Clip(seconds, skip, on_progress)
    async for frame in frames:
        if clip.add(frame):
            break
    return clip.frames


class RoomEnrollment:
    """Baseline, anchors and session log of one room under ``data_dir/rooms/ROOM``."""

    def __init__(self, data_dir: str | Path, room: str) -> None:
        self.room = validate_room_id(room)
        self.folder = room_dir(data_dir, room)
        self.session = EnrollmentSession(self.folder / "session.jsonl")
        self._baseline: RoomBaseline | None = None

    # -- stage 1 ------------------------------------------------------------------------------

    def calibrate(self, frames: Iterable, seconds: float = DEFAULT_BASELINE_SECONDS,
                  min_seconds: float = MIN_BASELINE_SECONDS, on_progress: Progress | None = None) -> RoomBaseline:
        """Capture the empty room from ``frames``; raises :class:`BaselineError` with a reason."""
        return self._accept_baseline(take_seconds(frames, seconds, 0.0, on_progress), min_seconds)

    async def calibrate_async(self, frames: AsyncIterable, seconds: float = DEFAULT_BASELINE_SECONDS,
                              min_seconds: float = MIN_BASELINE_SECONDS, on_progress: Progress | None = None) -> RoomBaseline:
        return self._accept_baseline(await atake_seconds(frames, seconds, 0.0, on_progress), min_seconds)

    def _accept_baseline(self, frames: list[CsiFrame], min_seconds: float) -> RoomBaseline:
        try:
            baseline = capture_baseline(frames, min_seconds=min_seconds)
        except BaselineError as error:
            self.session.append("baseline_rejected", reason=str(error))
            raise
        save_baseline(baseline, self._baseline_stem(baseline.baseline_id))
        self.session.append("baseline_accepted", baseline_id=baseline.baseline_id, content_hash=baseline.content_hash,
                            nodes=sorted(baseline.nodes))
        self._baseline = baseline
        self._remove_unlogged()
        return baseline

    def baseline(self) -> RoomBaseline:
        """The baseline the log names (raises :class:`StoredFileError` when there is none or it is damaged)."""
        baseline_id = self.state().baseline_id
        if baseline_id is None:
            raise StoredFileError(f"room {self.room} has no baseline yet: capture the empty room")
        if self._baseline is None or self._baseline.baseline_id != baseline_id:
            stem = self._baseline_stem(baseline_id)
            baseline = load_baseline(stem)
            if baseline.baseline_id != baseline_id:
                raise StoredFileError(f"baseline {stem} is not the one the session accepted ({baseline_id}); "
                                      "capture the empty room again")
            self._baseline = baseline
        return self._baseline

    def _baseline_stem(self, baseline_id: str) -> Path:
        if not isinstance(baseline_id, str) or not BASELINE_ID.fullmatch(baseline_id):
            raise StoredFileError(f"the session log of room {self.room} names an invalid baseline id "
                                  f"{baseline_id!r}; capture the empty room again")
        return _or_legacy(self.folder / f"baseline-{baseline_id}", self.folder / "baseline")

    # -- stage 2 ------------------------------------------------------------------------------

    def state(self) -> SessionState:
        return self.session.state()

    def next_anchor(self) -> Anchor | None:
        pending = self.state().pending
        return get_anchor(pending[0]) if pending else None

    def enroll(self, anchor: str, frames: Iterable, *, seconds: float | None = None, countdown: float = COUNTDOWN_S,
               replace: bool = False, on_progress: Progress | None = None) -> AnchorOutcome:
        """Capture ``anchor`` (its ADR duration unless ``seconds``), gate it, log and persist it."""
        spec, baseline = self._start(anchor, replace)
        duration = spec.duration_s if seconds is None else float(seconds)
        return self._finish(spec, baseline, take_seconds(frames, duration, countdown, on_progress), duration)

    async def enroll_async(self, anchor: str, frames: AsyncIterable, *, seconds: float | None = None,
                           countdown: float = COUNTDOWN_S, replace: bool = False,
                           on_progress: Progress | None = None) -> AnchorOutcome:
        spec, baseline = self._start(anchor, replace)
        duration = spec.duration_s if seconds is None else float(seconds)
        return self._finish(spec, baseline, await atake_seconds(frames, duration, countdown, on_progress), duration)

    def skip(self, anchor: str, reason: str = "skipped by the operator") -> None:
        spec = get_anchor(anchor)
        self.session.append("anchor_skipped", anchor=spec.name, baseline_id=self.baseline().baseline_id, reason=reason)

    def _start(self, anchor: str, replace: bool) -> tuple[Anchor, RoomBaseline]:
        spec = get_anchor(anchor)
        baseline = self.baseline()
        self.session.append("anchor_started", anchor=spec.name, baseline_id=baseline.baseline_id, replace=replace)
        return spec, baseline

    def _finish(self, spec: Anchor, baseline: RoomBaseline, frames: list[CsiFrame], seconds: float) -> AnchorOutcome:
        records, counts, saturated = [], {}, {}
        by_node = group_by_node(frames)
        for node_id, node in baseline.nodes.items():
            times, csi, dropped = raw_arrays(by_node.get(node_id, []), node.usable.size, node.bandwidth_mhz)
            cleaned = clean(times, csi, node.usable, node.frequency_index, dropped)
            counts[node_id], saturated[node_id] = len(cleaned), cleaned.saturated
            records.append(extract_anchor_features(spec.name, node, baseline.baseline_id, cleaned.times, cleaned.csi,
                                                   with_vitals=spec.presence))
        gate = check_anchor(spec, baseline, records, counts, saturated, seconds)
        if not gate.accepted:
            self.session.append("anchor_rejected", anchor=spec.name, baseline_id=baseline.baseline_id,
                                reason=gate.reason, reasons=list(gate.reasons), metrics=gate.metrics)
            return AnchorOutcome(False, gate.reasons, gate.metrics, anchor=spec.name)
        arrays = {}
        for record in records:
            arrays.update(anchor_arrays(record))
        digest = write_artifact(self.folder / "anchors" / spec.name, arrays,
                                {"kind": "anchor", "anchor": spec.name, "baseline_id": baseline.baseline_id},
                                by_content=True)
        self.session.append("anchor_accepted", anchor=spec.name, baseline_id=baseline.baseline_id,
                            tensors_sha256=digest, metrics=gate.metrics)
        self._remove_unlogged()
        return AnchorOutcome(True, (), gate.metrics, anchor=spec.name)

    def _anchor_stem(self, name: str, event: dict) -> Path:
        legacy = self.folder / "anchors" / name
        return _or_legacy(content_stem(legacy, event.get("tensors_sha256")), legacy)

    def _remove_unlogged(self) -> None:
        """Remove the baseline and anchor files the log no longer names: those it replaced, and
        those a crash left written but never logged."""
        state = self.state()
        try:
            kept = {self._baseline_stem(state.baseline_id)} if state.baseline_id is not None else set()
            kept |= {self._anchor_stem(name, event) for name, event in state.accepted.items()}
        except StoredFileError:
            return  # a damaged log: touch nothing, the room reports it
        keep = {path for stem in kept for path in artifact_files(stem)}
        for path in [*self.folder.glob("baseline*"), *(self.folder / "anchors").glob("*")]:
            if path.is_file() and path.suffix in (".json", ".safetensors") and path not in keep:
                path.unlink(missing_ok=True)

    # -- stage 3 ------------------------------------------------------------------------------

    def anchor_records(self) -> list[AnchorFeatures]:
        """Features of every anchor accepted against the current baseline (checked against the log)."""
        state = self.state()
        records: list[AnchorFeatures] = []
        for name in ANCHOR_NAMES:
            event = state.accepted.get(name)
            if event is None:
                continue
            arrays, meta = read_artifact(self._anchor_stem(name, event), f"anchor {name}")
            if meta.get("tensors_sha256") != event.get("tensors_sha256") or meta.get("baseline_id") != state.baseline_id:
                raise StoredFileError(f"anchor {name}: the stored features are not the ones the session accepted; "
                                      f"re-enroll it")
            records.extend(records_from_arrays(name, state.baseline_id, arrays))
        return records
