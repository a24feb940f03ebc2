"""The enrollment steps a room goes through, shared by the room flow and the STALE repair.

Baseline, then each anchor in turn, then training. Each capture step is one method that owns
its instruction form, the capture (a progress task that polls the add-on's job) and the result:
Home Assistant calls the step again when the task ends, and the step then moves on, or shows
its form again with the add-on's reason for a rejection, so the person can retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import voluptuous as vol

from homeassistant.data_entry_flow import FlowHandler, FlowResult
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .api import FINAL_JOB_STATES, Job, RuViewClient, RuViewError
from .const import (
    ANCHOR_SECONDS,
    ANCHORS,
    BASELINE_SECONDS,
    CONF_ACTION,
    CONF_COUNTDOWN,
    CONF_SECONDS,
    COUNTDOWN_SECONDS,
    JOB_POLL_SECONDS,
    LOGGER,
    MAX_CAPTURE_SECONDS,
    MAX_COUNTDOWN_SECONDS,
    MIN_ANCHOR_SECONDS,
    MIN_BASELINE_SECONDS,
)

ACTION_CAPTURE, ACTION_SKIP, ACTION_FINISH = "capture", "skip", "finish"


def sentence(reason: str) -> str:
    """The add-on's reason as the end of a sentence: one full stop (or its own ? or !), never two."""
    reason = reason.strip().rstrip(".").rstrip()
    return reason if reason.endswith(("?", "!")) or not reason else f"{reason}."


def _capture_length(default: int, low: int, high: int) -> tuple[vol.Required, NumberSelector]:
    return vol.Required(CONF_SECONDS, default=default), NumberSelector(
        NumberSelectorConfig(min=low, max=high, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX))


class EnrollmentSteps[ResultT: FlowResult[Any, Any]](FlowHandler[Any, ResultT, Any]):
    """Steps ``baseline``, ``anchor_<name>`` for each anchor, and ``train``; then ``done``, which
    each flow defines (a new subentry, an updated one, or a fixed issue)."""

    client: RuViewClient
    room_id: str
    room_name: str
    anchors: list[str]  # the anchors this run enrolls, in order
    recalibrate = False  # the repair's new baseline is a recalibration of a trained room
    _task: asyncio.Task[Job] | None = None
    _seconds: float | None = None  # how long the running capture takes, for its progress text
    _job_id: str | None = None
    _error: tuple[str, str] | None = None  # (error key, the add-on's reason) shown on the next form

    # -- where to start ------------------------------------------------------------------------

    async def _resume(self) -> ResultT:
        """Go on from where the room's enrollment stopped (a closed dialog, a phone that slept):
        the empty room if it has none, else the anchors still pending, then training."""
        try:
            room = await self.client.room(self.room_id)
        except RuViewError as error:
            LOGGER.debug("RuView room %s: %s", self.room_id, error)
            return self.async_abort(reason="cannot_connect")
        if not room.get("baseline_id"):
            self.anchors = list(ANCHORS)
            return await self.async_step_baseline()
        done = room.get("anchors") or {}
        self.anchors = [anchor for anchor in ANCHORS if done.get(anchor, "pending") == "pending"]
        if not self.anchors:
            return await self.async_step_train()
        return await self._anchor(self.anchors[0], None)

    # -- baseline ------------------------------------------------------------------------------

    async def async_step_baseline(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Ask for the empty room, capture it, and go on to the anchors once it is accepted."""
        if self._task is None:
            if user_input is None:
                key, selector = _capture_length(BASELINE_SECONDS, MIN_BASELINE_SECONDS, MAX_CAPTURE_SECONDS)
                return self._form("baseline", vol.Schema({key: selector}))
            seconds = float(user_input[CONF_SECONDS])
            start = self.client.recalibrate if self.recalibrate else self.client.start_baseline
            self._start(start(self.room_id, seconds), seconds)
        if self._running():
            return self._progress("baseline")
        accepted = self._outcome(needs_acceptance=True)
        if not accepted:
            # Back to this very step: the frontend refreshes only when told (the step id is the same).
            self.async_notify_flow_changed()
        return self.async_show_progress_done(next_step_id=self._anchor_step_id(0) if accepted else "baseline")

    # -- anchors -------------------------------------------------------------------------------

    async def async_step_anchor_empty(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("empty", user_input)

    async def async_step_anchor_stand_still(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("stand_still", user_input)

    async def async_step_anchor_sit(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("sit", user_input)

    async def async_step_anchor_lie_down(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("lie_down", user_input)

    async def async_step_anchor_breathe_slow(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("breathe_slow", user_input)

    async def async_step_anchor_breathe_normal(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("breathe_normal", user_input)

    async def async_step_anchor_small_move(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("small_move", user_input)

    async def async_step_anchor_sleep_posture(self, user_input: dict[str, Any] | None = None) -> ResultT:
        return await self._anchor("sleep_posture", user_input)

    async def _anchor(self, anchor: str, user_input: dict[str, Any] | None) -> ResultT:
        """One anchor: its instruction, then capture (or skip), then the next anchor or training."""
        step_id = f"anchor_{anchor}"
        if self._task is None:
            if user_input is None:
                return self._form(step_id, self._anchor_schema(anchor))
            action = user_input[CONF_ACTION]
            if action == ACTION_FINISH:  # the anchors left stay pending: a partial bank
                self._error = None
                return await self.async_step_train()
            if action == ACTION_SKIP:
                try:
                    await self._run(self.client.start_anchor(self.room_id, anchor, skip=True))
                except RuViewError as error:
                    self._error = ("capture_failed", str(error))
                    return self._form(step_id, self._anchor_schema(anchor))
                self._error = None
                return await self._next_after(anchor)
            seconds, countdown = float(user_input[CONF_SECONDS]), float(user_input[CONF_COUNTDOWN])
            self._start(self.client.start_anchor(self.room_id, anchor, seconds=seconds, countdown=countdown),
                        countdown + seconds)
        if self._running():
            return self._progress(step_id)
        if not self._outcome(needs_acceptance=True):
            self.async_notify_flow_changed()  # the same step again: see the baseline
            return self.async_show_progress_done(next_step_id=step_id)
        index = self.anchors.index(anchor) + 1
        return self.async_show_progress_done(
            next_step_id=self._anchor_step_id(index) if index < len(self.anchors) else "train")

    async def _next_after(self, anchor: str) -> ResultT:
        index = self.anchors.index(anchor) + 1
        if index < len(self.anchors):
            return await self._anchor(self.anchors[index], None)
        return await self.async_step_train()

    def _anchor_step_id(self, index: int) -> str:
        return f"anchor_{self.anchors[index]}"

    @staticmethod
    def _anchor_schema(anchor: str) -> vol.Schema:
        key, selector = _capture_length(ANCHOR_SECONDS[anchor], MIN_ANCHOR_SECONDS, MAX_CAPTURE_SECONDS)
        return vol.Schema({
            vol.Required(CONF_ACTION, default=ACTION_CAPTURE): SelectSelector(SelectSelectorConfig(
                options=[ACTION_CAPTURE, ACTION_SKIP, ACTION_FINISH], translation_key="anchor_action",
                mode=SelectSelectorMode.LIST)),
            key: selector,
            vol.Required(CONF_COUNTDOWN, default=COUNTDOWN_SECONDS): NumberSelector(NumberSelectorConfig(
                min=0, max=MAX_COUNTDOWN_SECONDS, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX)),
        })

    # -- training ------------------------------------------------------------------------------

    async def async_step_train(self, user_input: dict[str, Any] | None = None) -> ResultT:
        """Train the bank from what was enrolled; on failure say why and offer a retry."""
        if self._task is None:
            if self._error is not None and user_input is None:
                return self._form("train", vol.Schema({}))
            self._error = None
            self._start(self.client.start_training(self.room_id), None)
        if self._running():
            return self._progress("train")
        trained = self._outcome(needs_acceptance=False)
        if not trained:
            self.async_notify_flow_changed()  # the same step again: see the baseline
        return self.async_show_progress_done(next_step_id="done" if trained else "train")

    # -- jobs ----------------------------------------------------------------------------------

    def _running(self) -> bool:
        return self._task is not None and not self._task.done()

    def _start(self, request: Coroutine[Any, Any, Job], seconds: float | None) -> None:
        self._seconds = seconds
        self._task = self.hass.async_create_task(self._run(request), f"ruview enrollment {self.room_id}")

    async def _run(self, request: Coroutine[Any, Any, Job]) -> Job:
        """Start a job and poll it to its end, passing its progress to the dialog."""
        job = await request
        self._job_id = job["job_id"]
        while job["state"] not in FINAL_JOB_STATES:
            await asyncio.sleep(JOB_POLL_SECONDS)
            job = await self.client.job(job["job_id"])
            self.async_update_progress(float(job.get("progress") or 0.0))
        self._job_id = None
        return job

    def _outcome(self, *, needs_acceptance: bool) -> bool:
        """Whether the finished job did its part; if not, remember why for the next form."""
        assert self._task is not None
        task, self._task = self._task, None
        try:
            job = task.result()
        except RuViewError as error:  # refused (busy, no baseline) or the add-on went away
            self._error = ("capture_failed", str(error))
            return False
        result = job.get("result") or {}
        if job["state"] != "succeeded":
            self._error = ("capture_failed", job.get("error") or job["state"])
        elif needs_acceptance and not (result.get("accepted") or result.get("skipped")):
            self._error = ("capture_rejected", str(result.get("reason") or ""))
        else:
            self._error = None
            return True
        LOGGER.debug("RuView room %s: %s %s", self.room_id, job.get("kind"), self._error[1])
        return False

    def _progress(self, step_id: str) -> ResultT:
        seconds = self._seconds
        return self.async_show_progress(
            step_id=step_id, progress_action=step_id, progress_task=self._task,
            description_placeholders={"room": self.room_name, "seconds": f"{seconds:.0f}" if seconds else ""})

    def _placeholders(self) -> dict[str, str]:
        """What every form of this enrollment may show besides the room and the last refusal."""
        return {}

    def _form(self, step_id: str, schema: vol.Schema) -> ResultT:
        error, reason = self._error or (None, "")
        return self.async_show_form(
            step_id=step_id, data_schema=schema, errors={"base": error} if error else None,
            description_placeholders={**self._placeholders(), "room": self.room_name, "reason": sentence(reason)})

    def async_remove(self) -> None:
        """A dialog closed mid-capture: stop the add-on's job rather than let it run on."""
        if self._job_id is not None:
            self.hass.async_create_task(self._cancel(self._job_id), "ruview cancel job")

    async def _cancel(self, job_id: str) -> None:
        try:
            await self.client.cancel_job(job_id)
        except RuViewError as error:
            LOGGER.debug("RuView: could not cancel job %s: %s", job_id, error)
