"""Jobs: the captures and trainings the service runs for a room, one at a time per room.

A job's record is written (atomically) to ``DATA/jobs/ID.json`` whenever its state changes, so
a client polling ``GET /api/v1/jobs/ID`` after a restart still learns how it ended: a job that
was running when the process died is reported ``failed`` ("interrupted") on the next start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..storage import atomic_write_json, remove_temporaries
from .registry import RegistryError

LOG = logging.getLogger("ruview.service")

JOB_KINDS = ("baseline", "anchor", "train", "recalibrate", "learn")
FINAL_STATES = ("succeeded", "failed", "cancelled")
KEEP_JOBS = 200
NUMBER = (int, float)
RECORD_TYPES: dict[str, tuple[type, ...]] = {
    "job_id": (str,), "room": (str,), "kind": (str,), "anchor": (str, type(None)), "state": (str,),
    "progress": NUMBER, "seconds_left": (*NUMBER, type(None)), "created": NUMBER,
    "finished": (*NUMBER, type(None)), "result": (dict, type(None)), "error": (str, type(None)),
}


@dataclass
class Job:
    job_id: str
    room: str
    kind: str
    anchor: str | None = None
    state: str = "queued"  # queued -> running -> succeeded | failed | cancelled
    progress: float = 0.0
    seconds_left: float | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @classmethod
    def from_record(cls, record: Any) -> Job:
        """A job read back from its record; ValueError says what is damaged (an edit, a bad disk)."""
        if not isinstance(record, dict) or set(record) - set(RECORD_TYPES) or "job_id" not in record:
            raise ValueError("not a job record")
        for name, value in record.items():
            if not isinstance(value, RECORD_TYPES[name]) or (isinstance(value, float) and not math.isfinite(value)):
                raise ValueError(f"its {name} is {type(value).__name__}, not {RECORD_TYPES[name][0].__name__}")
        if record.get("kind") not in JOB_KINDS or record.get("state", "queued") not in ("queued", "running", *FINAL_STATES):
            raise ValueError("its kind or state is unknown")
        return cls(**record)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["progress"] = round(self.progress, 3)
        out["seconds_left"] = None if self.seconds_left is None else round(self.seconds_left, 1)
        return out


class JobFailed(Exception):
    """Raised by a job's body to end it as failed with a reason a person can act on."""


Runner = Callable[[Job], Awaitable[dict[str, Any]]]
Listener = Callable[[Job], None]


class JobManager:
    def __init__(self, data_dir: str | Path, on_change: Listener | None = None) -> None:
        self.folder = Path(data_dir) / "jobs"
        self.on_change = on_change
        self.jobs: dict[str, Job] = {}
        self.damaged: dict[str, str] = {}  # job id -> why its record was left out
        self._tasks: dict[str, asyncio.Task] = {}
        self._active: dict[str, Job] = {}  # room -> its unfinished job: asked for every room each second
        self._recover()

    def _recover(self) -> None:
        remove_temporaries(self.folder)  # left by writes a crash interrupted; the records they replace are whole
        files = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime) if self.folder.is_dir() else []
        for path in files[:-KEEP_JOBS]:
            path.unlink(missing_ok=True)
        for path in files[-KEEP_JOBS:]:
            try:
                job = Job.from_record(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as error:
                LOG.warning("job record %s is unreadable (%s): left out", path, error)
                self.damaged[path.stem] = str(error)
                continue
            if not job.done:
                job.state, job.error, job.finished = "failed", "interrupted: the service stopped while this job ran", time.time()
                self._save(job)
            self.jobs[job.job_id] = job

    def get(self, job_id: str) -> Job:
        if job_id in self.damaged:
            raise RegistryError(f"job {job_id!r} has a damaged record ({self.damaged[job_id]}): how it ended is not known",
                                status=404)
        if job_id not in self.jobs:
            raise RegistryError(f"no job {job_id!r}", status=404)
        return self.jobs[job_id]

    def running(self, room: str) -> Job | None:
        job = self._active.get(room)
        return job if job is not None and not job.done else None

    def start(self, room: str, kind: str, runner: Runner, *, anchor: str | None = None) -> Job:
        """Start ``runner`` as a job of ``room``; refuses (409) while another job of the room runs."""
        busy = self.running(room)
        if busy is not None:
            raise RegistryError(f"room {room!r} is busy with a {busy.kind} job ({busy.job_id}): wait for it or cancel it",
                                status=409)
        job = Job(uuid.uuid4().hex, room, kind, anchor)
        self.jobs[job.job_id] = job
        self._active[room] = job
        self._save(job)
        self._tasks[job.job_id] = asyncio.create_task(self._run(job, runner), name=f"ruview-job-{job.job_id}")
        return job

    def report(self, job: Job, progress: float, seconds_left: float | None = None) -> None:
        job.progress = min(max(float(progress), 0.0), 1.0)
        job.seconds_left = seconds_left
        self._notify(job)

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        task = self._tasks.get(job_id)
        if not job.done and task is not None:
            task.cancel()
            if job.state == "queued":  # cancelled before it ran: _run never starts to record it
                self._tasks.pop(job_id, None)
                self._finish(job, "cancelled", error="cancelled by request")
        return job

    async def close(self) -> None:
        """Cancel whatever runs (a shutdown); the records say ``cancelled``."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def wait(self, job_id: str) -> Job:
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)
        return self.get(job_id)

    async def _run(self, job: Job, runner: Runner) -> None:
        job.state = "running"
        self._save(job)
        try:
            result = await runner(job)
        except asyncio.CancelledError:
            self._finish(job, "cancelled", error="cancelled by request")
        except JobFailed as failure:
            self._finish(job, "failed", error=str(failure))
        except Exception as error:  # noqa: BLE001 -- a bug must end the job, not leave it running forever
            self._finish(job, "failed", error=f"internal error: {type(error).__name__}: {error}")
        else:
            job.progress, job.seconds_left = 1.0, 0.0
            self._finish(job, "succeeded", result=result)
        finally:
            self._tasks.pop(job.job_id, None)

    def _finish(self, job: Job, state: str, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        job.state, job.result, job.error, job.finished = state, result, error, time.time()
        if self._active.get(job.room) is job:
            del self._active[job.room]
        self._save(job)

    def _save(self, job: Job) -> None:
        atomic_write_json(self.folder / f"{job.job_id}.json", job.to_dict())
        self._notify(job)

    def _notify(self, job: Job) -> None:
        if self.on_change is not None:
            self.on_change(job)
