"""Run persisted jobs item by item on the event loop; resume unfinished jobs at start.

Each job kind registers an async item handler (a batch fetches and recognises one image, a PDF
job one page). The runner stores each item's outcome as soon as it is known, so stopping the
process at any moment loses at most the items in progress; :meth:`JobRunner.start` picks up
every job that is not finished and the callbacks not yet delivered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import JsonValue

from scipix.jobs.store import ItemRecord, ItemStatus, JobPhase, JobRecord, JobStore

log = logging.getLogger("scipix.jobs")

CALLBACK_RETRIES = 3


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What an item handler returns: a result, or an error (both JSON)."""

    result: JsonValue = None
    error: JsonValue = None


ItemHandler = Callable[[JobRecord, ItemRecord], Awaitable[ItemOutcome]]
ErrorFormatter = Callable[[BaseException], JsonValue]
FinishHook = Callable[[JobRecord], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class JobKind:
    handler: ItemHandler
    on_error: ErrorFormatter
    on_finished: FinishHook | None = None


class JobRunner:
    """Schedules jobs of registered kinds; at most ``concurrency`` items run at once."""

    def __init__(self, store: JobStore, *, concurrency: int = 2) -> None:
        self.store = store
        self._kinds: dict[str, JobKind] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sem = asyncio.Semaphore(max(1, concurrency))
        self._stopping = False

    def register(
        self,
        kind: str,
        handler: ItemHandler,
        on_error: ErrorFormatter,
        on_finished: FinishHook | None = None,
    ) -> None:
        self._kinds[kind] = JobKind(handler, on_error, on_finished)

    async def start(self) -> int:
        """Resume unfinished jobs and undelivered callbacks; returns how many jobs resumed."""
        unfinished = await asyncio.to_thread(self.store.unfinished)
        resumed = 0
        for job in unfinished:
            if job.kind in self._kinds:
                self.submit(job.id)
                resumed += 1
        for job in await asyncio.to_thread(self.store.pending_callbacks):
            if job.kind in self._kinds:
                self._spawn(f"callback:{job.id}", self._deliver(job))
        if resumed:
            log.info("resumed %d unfinished job(s)", resumed)
        return resumed

    def submit(self, job_id: str) -> None:
        """Run the job in the background (no-op when it is already running)."""
        if job_id not in self._tasks:
            self._spawn(job_id, self._run(job_id))

    def _spawn(self, name: str, coro: Awaitable[None]) -> None:
        async def wrapper() -> None:
            await coro

        task = asyncio.get_running_loop().create_task(wrapper(), name=f"job:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda _t: self._tasks.pop(name, None))

    async def wait(self, job_id: str) -> None:
        """Wait for a running job to end (for tests and shutdown)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def stop(self) -> None:
        """Cancel running jobs; their unfinished items stay pending in the store."""
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job_id: str) -> None:
        try:
            job = await asyncio.to_thread(self.store.get, job_id)
            if job is None or job.status.finished:
                return
            kind = self._kinds[job.kind]
            pending = await asyncio.to_thread(self.store.items, job_id, ItemStatus.PENDING)
            await asyncio.gather(*(self._run_item(job, item, kind) for item in pending))
            job = await asyncio.to_thread(self.store.get, job_id)
            if job is not None and job.status is JobPhase.SPLIT and job.num_items == 0:
                await asyncio.to_thread(self.store.set_status, job_id, JobPhase.COMPLETED)
                job = await asyncio.to_thread(self.store.get, job_id)
            if job is not None and job.status.finished and job.callback_status == "pending":
                await self._deliver(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s failed", job_id)
            await asyncio.to_thread(self.store.set_status, job_id, JobPhase.ERROR, "internal error")

    async def _run_item(self, job: JobRecord, item: ItemRecord, kind: JobKind) -> None:
        async with self._sem:
            try:
                outcome = await kind.handler(job, item)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("job %s item %s failed", job.id, item.key)
                outcome = ItemOutcome(error=kind.on_error(exc))
            await asyncio.to_thread(
                self.store.finish_item,
                job.id,
                item.idx,
                result=outcome.result,
                error=outcome.error,
            )

    async def _deliver(self, job: JobRecord) -> None:
        hook = self._kinds[job.kind].on_finished
        if hook is None:
            return
        delay = 1.0
        for attempt in range(1, CALLBACK_RETRIES + 1):
            try:
                if await hook(job):
                    await asyncio.to_thread(self.store.set_callback_status, job.id, "sent")
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("callback of job %s, try %d: %s", job.id, attempt, exc)
            if attempt < CALLBACK_RETRIES and not self._stopping:
                await asyncio.sleep(delay)
                delay *= 2
        await asyncio.to_thread(self.store.set_callback_status, job.id, "failed")


__all__ = ["ErrorFormatter", "FinishHook", "ItemHandler", "ItemOutcome", "JobKind", "JobRunner"]
