"""The FastAPI application: ``create_app(settings, engine=None)``.

At startup the similarity cache is opened (when ``cache.enabled``) and the default engine is
built once (``build_engine``) unless one is given; it and every engine a request names later
(an :class:`EngineSet`) sit behind the cache (:class:`CachedEngine`). Then the worker pool,
the SQLite stores (history and jobs, under the data dir) and the job runner are created, and
unfinished batch jobs resume. At shutdown running jobs stop (their unfinished items stay stored)
and the pool drains, then the cache is saved and closed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from scipix import __version__
from scipix.cache import SimilarityCache
from scipix.config import Settings
from scipix.engines.base import Engine
from scipix.engines.cached import CachedEngine
from scipix.engines.engine_set import EngineSet
from scipix.engines.registry import cache_producer
from scipix.errors import ConfigError, ScipixError
from scipix.jobs.runner import JobRunner
from scipix.jobs.store import JobStore
from scipix.server import metrics
from scipix.server.auth import KeyRing
from scipix.server.batch import BatchService
from scipix.server.cache_routes import cache_router
from scipix.server.errors import ApiError, error_body, http_status_for, retry_after_of
from scipix.server.fetch import make_client
from scipix.server.history import HistoryStore
from scipix.server.middleware import BodyLimitMiddleware, RequestContextMiddleware, request_id_of
from scipix.server.pdf_routes import PdfService, pdf_router
from scipix.server.pool import WorkerPool
from scipix.server.ratelimit import RateLimiter
from scipix.server.routes import DOC_MODELS, Runtime, prometheus_metrics, router
from scipix.server.service import OcrService

log = logging.getLogger("scipix.server")

HISTORY_DB = "server.db"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
JOBS_DB = "jobs.db"


def error_response(exc: ScipixError, request: Request) -> JSONResponse:
    """The Mathpix error answer for ``exc`` (counted in ``scipix_errors_total``)."""
    metrics.ERRORS.labels(kind=exc.error_id).inc()
    headers: dict[str, str] = {}
    retry_after = retry_after_of(exc)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    body = error_body(exc, request_id_of(request.scope))
    return JSONResponse(body.model_dump(mode="json"), http_status_for(exc), headers=headers)


async def _scipix_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScipixError)
    return error_response(exc, request)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    err = ApiError("opts_invalid_value", f"{where}: {first.get('msg', 'invalid value')}")
    return error_response(err, request)


def _engine_set(settings: Settings, engine: Engine, cache: SimilarityCache | None) -> EngineSet:
    """Every engine, the default ``engine`` included, behind ``cache`` (when there is one)."""

    def wrap(inner: Engine) -> Engine:
        return CachedEngine(inner, cache) if cache is not None else inner

    return EngineSet(settings, default=wrap(engine), wrap=wrap)


async def _startup(app: FastAPI, settings: Settings, engine: Engine | None) -> Runtime:
    cache: SimilarityCache | None = None
    if settings.cache.enabled:
        cache = await asyncio.to_thread(
            SimilarityCache.open, settings.cache, cache_producer(settings)
        )
    try:
        return await _start(app, settings, engine, cache)
    except BaseException:
        if cache is not None:
            await asyncio.to_thread(cache.close)
        raise


async def _start(
    app: FastAPI, settings: Settings, engine: Engine | None, cache: SimilarityCache | None
) -> Runtime:
    if engine is None:
        from scipix.engines.registry import build_engine

        engine = await asyncio.to_thread(build_engine, settings)
    engines = _engine_set(settings, engine, cache)
    server = settings.server
    keys = KeyRing(server.api_keys, require_auth=server.require_auth)
    if server.require_auth and not len(keys):
        raise ConfigError("server.require_auth is set but server.api_keys is empty")
    data_dir = settings.data_dir
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    pool = WorkerPool(server.workers, server.queue_size)
    history = HistoryStore(data_dir / HISTORY_DB) if server.history else None
    store = JobStore(data_dir / JOBS_DB)
    client = make_client()
    ocr = OcrService(settings, engines, pool, client, history, cache_enabled=cache is not None)
    runner = JobRunner(store, concurrency=pool.workers * 2)
    batch = BatchService(ocr, store, runner)
    app.state.pdf = PdfService(ocr, store, runner, data_dir)
    rt = Runtime(
        keys=keys,
        limiter=RateLimiter(server.rate_limit),
        ocr=ocr,
        batch=batch,
        history=history,
        started_at=time.time(),
        cache=cache,
    )
    app.state.runtime = rt
    await runner.start()
    log.info(
        "engine %s ready; cache %s; %d worker(s), queue %d; auth %s; data in %s",
        engine.name,
        "on" if cache is not None else "off",
        pool.workers,
        server.queue_size,
        f"on ({len(keys)} key(s))" if keys.enabled else "off",
        data_dir,
    )
    return rt


async def _shutdown(rt: Runtime) -> None:
    await rt.batch.runner.stop()
    await asyncio.to_thread(rt.ocr.pool.shutdown, True)
    await rt.ocr.client.aclose()
    rt.batch.store.close()
    if rt.history is not None:
        rt.history.close()
    if rt.cache is not None:
        await asyncio.to_thread(rt.cache.close)


def _install_openapi(app: FastAPI) -> None:
    """OpenAPI with the hand-parsed request bodies' schemas in the components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in DOC_MODELS:
            body = model.model_json_schema(
                by_alias=True, ref_template="#/components/schemas/{model}"
            )
            for name, sub in body.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components[model.__name__] = body
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _browser_app() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _docs() -> HTMLResponse:
    """Swagger UI from the package's own static files: the docs work offline too."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Scipix API",
        swagger_js_url="/static/docs/swagger-ui-bundle.js",
        swagger_css_url="/static/docs/swagger-ui.css",
        swagger_favicon_url="/static/docs/favicon-32x32.png",
    )


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The Scipix HTTP server. The engine is built at startup when not given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = await _startup(app, settings, engine)
        try:
            yield
        finally:
            await _shutdown(rt)

    app = FastAPI(
        title="Scipix",
        version=__version__,
        description="Self-hosted math OCR with a Mathpix-compatible v3 API.",
        lifespan=lifespan,
        docs_url=None if (STATIC_DIR / "docs").is_dir() else "/docs",
        redoc_url=None,
    )
    app.include_router(router)
    app.include_router(cache_router)
    app.include_router(pdf_router)
    if settings.metrics.enabled:
        app.add_api_route(
            settings.metrics.prometheus_endpoint,
            prometheus_metrics,
            methods=["GET"],
            summary="Prometheus metrics",
            response_class=Response,
        )
    if (STATIC_DIR / "index.html").is_file():  # the browser app (built from clients/js/app)
        app.add_api_route("/", _browser_app, methods=["GET"], include_in_schema=False)
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if (STATIC_DIR / "docs").is_dir():
        app.add_api_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    app.add_exception_handler(ScipixError, _scipix_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(RequestContextMiddleware)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["app_id", "app_key", "x-api-key", "content-type", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )
    _install_openapi(app)
    return app


__all__ = ["create_app", "error_response"]
