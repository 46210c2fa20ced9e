"""The request side of OCR: sources, the worker pool, metrics, timeouts and history."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from pydantic import BaseModel

from scipix import __version__
from scipix.config import Settings
from scipix.engines.base import Engine
from scipix.engines.engine_set import EngineSet, check_allowed
from scipix.errors import OptionsError, ScipixError
from scipix.server import metrics
from scipix.server.auth import Principal
from scipix.server.errors import ApiError
from scipix.server.fetch import UrlPolicy, classify_src, fetch_image
from scipix.server.history import HistoryRecord, HistoryStore
from scipix.server.models import (
    CommonOptions,
    LatexOptions,
    LatexResponse,
    StrokesOptions,
    TextOptions,
    TextResponse,
)
from scipix.server.pipeline import CallInfo, process_latex, process_strokes, process_text
from scipix.server.pool import WorkerPool
from scipix.types import OcrResult

log = logging.getLogger("scipix.server")

R = TypeVar("R", bound=BaseModel)


def new_request_id() -> str:
    """A Mathpix-style request id: the UTC date and 20 random hex digits."""
    return time.strftime("%Y_%m_%d_", time.gmtime()) + uuid.uuid4().hex[:20]


def url_policy(settings: Settings) -> UrlPolicy:
    server = settings.server
    return UrlPolicy(
        allow_private=server.allow_private_urls,
        timeout_secs=server.url_timeout_secs,
        max_bytes=server.url_max_bytes,
        max_redirects=server.url_max_redirects,
    )


class OcrService:
    """Runs image, legacy and strokes requests through the worker pool.

    ``engines`` holds every engine (each behind the cache when it is on); ``engine`` is the
    default one. A request's ``engine`` option picks another, if the caller's key may use it.
    """

    def __init__(
        self,
        settings: Settings,
        engines: EngineSet,
        pool: WorkerPool,
        client: httpx.AsyncClient,
        history: HistoryStore | None,
        *,
        cache_enabled: bool | None = None,
    ) -> None:
        self.settings = settings
        self.engines = engines
        self.engine = engines.get()
        self.pool = pool
        self.client = client
        self.history = history
        self.policy = url_policy(settings)
        self.version = self.version_of(self.engine)
        self.cache_enabled = settings.cache.enabled if cache_enabled is None else cache_enabled

    @staticmethod
    def version_of(engine: Engine) -> str:
        return f"scipix-{__version__}:{engine.name}"

    def call_info(self, request_id: str, engine: Engine | None = None) -> CallInfo:
        pre = self.settings.preprocessing
        return CallInfo(
            request_id=request_id,
            version=self.version if engine is None else self.version_of(engine),
            max_bytes=pre.max_image_bytes,
            max_pixels=pre.max_image_pixels,
        )

    def check_engine(self, name: str | None, principal: Principal) -> None:
        """Refuse (``opts_unknown_engine``) an engine the caller's key may not use."""
        try:
            check_allowed(name, principal.engines, self.settings.engines.default)
        except OptionsError as exc:
            raise ApiError("opts_unknown_engine", exc.message) from None

    async def engine_named(self, name: str | None) -> Engine:
        """The engine ``name`` (None: the default), built on first use off the event loop."""
        if name is None:
            return self.engine
        try:
            return await asyncio.to_thread(self.engines.get, name)
        except OptionsError as exc:
            raise ApiError("opts_unknown_engine", exc.message) from None

    async def engine_for(self, options: CommonOptions, principal: Principal) -> Engine:
        """The engine a request asked for, checked against the caller's key."""
        self.check_engine(options.engine, principal)
        return await self.engine_named(options.engine)

    def counts_cache(self, options: CommonOptions) -> bool:
        """Whether a request's answer counts as a cache hit or miss in the metrics."""
        return self.cache_enabled and options.use_cache

    async def payload(self, options: CommonOptions, upload: bytes | None) -> bytes | str:
        """The image: the upload, a data URL (decoded later on a worker) or downloaded bytes."""
        if upload is not None:
            return upload
        if not options.src:
            raise ApiError("image_missing", "no image: send 'src' or a multipart 'file'")
        if classify_src(options.src) == "data":
            return options.src
        return await fetch_image(self.client, options.src, self.policy)

    @asynccontextmanager
    async def track(self, endpoint: str) -> AsyncIterator[None]:
        """Metrics, the request timeout and unexpected-error wrapping around one call."""
        metrics.OCR_REQUESTS.labels(endpoint=endpoint).inc()
        metrics.ACTIVE_CALLS.inc()
        start = time.perf_counter()
        timeout = self.settings.server.request_timeout_secs
        try:
            async with asyncio.timeout(timeout):
                yield
        except TimeoutError:
            raise ApiError("sys_timeout", f"the request took longer than {timeout:g} s") from None
        except ScipixError:
            raise
        except Exception:
            log.exception("unexpected error in %s", endpoint)
            raise ApiError("sys_exception", "internal error while processing the request") from None
        finally:
            metrics.ACTIVE_CALLS.dec()
            metrics.OCR_DURATION.labels(endpoint=endpoint).observe(time.perf_counter() - start)

    async def _run(
        self,
        endpoint: str,
        principal: Principal,
        options: CommonOptions,
        work: Callable[[Engine, CallInfo], tuple[R, OcrResult]],
        *,
        request_id: str,
        handwritten: bool = False,
    ) -> R:
        start = time.perf_counter()
        engine = await self.engine_for(options, principal)
        info = self.call_info(request_id, engine)
        response, result = await self.pool.run(work, engine, info)
        metrics.observe_result(result.confidence, result.cached, self.counts_cache(options))
        await self.record(
            principal, endpoint, options, response, time.perf_counter() - start, handwritten
        )
        return response

    async def text(
        self, options: TextOptions, upload: bytes | None, principal: Principal, request_id: str
    ) -> TextResponse:
        async with self.track("/v3/text"):
            payload = await self.payload(options, upload)
            return await self._run(
                "/v3/text",
                principal,
                options,
                lambda engine, info: process_text(engine, payload, options, info),
                request_id=request_id,
            )

    async def latex(
        self, options: LatexOptions, upload: bytes | None, principal: Principal, request_id: str
    ) -> LatexResponse:
        async with self.track("/v3/latex"):
            payload = await self.payload(options, upload)
            return await self._run(
                "/v3/latex",
                principal,
                options,
                lambda engine, info: process_latex(engine, payload, options, info),
                request_id=request_id,
            )

    async def strokes(
        self, options: StrokesOptions, principal: Principal, request_id: str
    ) -> TextResponse:
        async with self.track("/v3/strokes"):
            if options.strokes is None:
                raise ApiError("strokes_missing", "no strokes in the request")
            data = options.strokes.strokes
            return await self._run(
                "/v3/strokes",
                principal,
                options,
                lambda engine, info: process_strokes(engine, data, options, info),
                request_id=request_id,
                handwritten=True,
            )

    async def record(
        self,
        principal: Principal,
        endpoint: str,
        options: CommonOptions,
        response: BaseModel,
        duration: float,
        handwritten: bool,
    ) -> None:
        """Keep the request in the caller's history unless it opted out."""
        if self.history is None:
            return
        metadata = options.metadata or {}
        if metadata.get("improve_mathpix") is False or options.improve_mathpix is False:
            return
        args = options.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude={"src", "strokes"}
        )
        record = HistoryRecord(
            owner=principal.app_id,
            request_id=str(getattr(response, "request_id", "")),
            timestamp=time.time(),
            duration=duration,
            endpoint=endpoint,
            is_handwritten=handwritten,
            tags=list(options.tags or []),
            request_args=args,
            result=response.model_dump(mode="json", exclude_none=True),
        )
        try:
            await asyncio.to_thread(self.history.add, record)
        except Exception:  # history is best effort: never fail the request for it
            log.exception("cannot store history of request %s", record.request_id)


__all__ = ["OcrService", "new_request_id", "url_policy"]
