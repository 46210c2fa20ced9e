"""A bounded worker pool: CPU work runs on threads, never on the event loop.

onnxruntime, numpy and OpenCV release the GIL while they compute, so threads use every core
without copying images between processes, and the models are loaded once. At most
``workers + queue_size`` calls are accepted at a time; one more is refused at once with
``sys_busy`` (HTTP 503 and Retry-After) instead of piling up. A slot is released when the thread
finishes, even when the caller has stopped waiting (a request timeout), so a slow call keeps
counting against the bound until it really ends.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from scipix.server.errors import ApiError

P = ParamSpec("P")
T = TypeVar("T")

_BACKGROUND_POLL_SECS = 0.02


def default_workers() -> int:
    """One worker per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    """A thread pool with a bound on accepted calls."""

    def __init__(self, workers: int = 0, queue_size: int = 32) -> None:
        self.workers = workers if workers > 0 else default_workers()
        self.capacity = self.workers + max(0, queue_size)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="scipix-worker")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Calls accepted and not finished (running or queued)."""
        return self._in_flight

    def _release(self, _future: Future[T]) -> None:
        with self._lock:
            self._in_flight -= 1

    def _try_acquire(self, limit: int) -> bool:
        with self._lock:
            if self._closed or self._in_flight >= limit:
                return False
            self._in_flight += 1
            return True

    def _submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except RuntimeError:  # shut down
            with self._lock:
                self._in_flight -= 1
            raise ApiError("sys_busy", "the server is shutting down", retry_after=1.0) from None
        future.add_done_callback(self._release)
        return future

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` on a worker; refuse at once with ``sys_busy`` when the queue is full."""
        if not self._try_acquire(self.capacity):
            raise ApiError(
                "sys_busy",
                f"the server is busy ({self.capacity} requests in progress); retry shortly",
                retry_after=1.0,
            )
        return await asyncio.wrap_future(self._submit(fn, *args, **kwargs))

    async def run_background(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` once a worker is idle: background jobs never take the request queue."""
        while not self._try_acquire(self.workers):
            if self._closed:
                raise ApiError("sys_busy", "the server is shutting down", retry_after=1.0)
            await asyncio.sleep(_BACKGROUND_POLL_SECS)
        return await asyncio.wrap_future(self._submit(fn, *args, **kwargs))

    def shutdown(self, wait: bool = True) -> None:
        """Refuse new calls; with ``wait``, let the running ones finish."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=wait, cancel_futures=True)


__all__ = ["WorkerPool", "default_workers"]
