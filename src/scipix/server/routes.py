"""The HTTP routes. Handlers only parse, await and answer: CPU work goes to the worker pool."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel

from scipix import __version__
from scipix.cache import SimilarityCache
from scipix.server import metrics
from scipix.server.auth import KeyRing, Principal
from scipix.server.batch import BatchService
from scipix.server.body import read_image_request, read_json, validate
from scipix.server.errors import ApiError, ErrorResponse
from scipix.server.history import HistoryQuery, HistoryStore
from scipix.server.middleware import request_id_of
from scipix.server.models import (
    BatchRequest,
    BatchResultsResponse,
    BatchSubmitResponse,
    HealthResponse,
    LatexOptions,
    LatexResponse,
    OcrResultsResponse,
    StrokesOptions,
    TextOptions,
    TextResponse,
)
from scipix.server.ratelimit import RateLimiter
from scipix.server.service import OcrService, new_request_id

router = APIRouter()


@dataclass
class Runtime:
    """Everything a route needs; built at startup and kept on ``app.state.runtime``."""

    keys: KeyRing
    limiter: RateLimiter
    ocr: OcrService
    batch: BatchService
    history: HistoryStore | None
    started_at: float
    cache: SimilarityCache | None = None


def runtime(request: Request) -> Runtime:
    value = getattr(request.app.state, "runtime", None)
    if not isinstance(value, Runtime):
        raise ApiError("sys_busy", "the server is starting", retry_after=1.0)
    return value


_app_id = APIKeyHeader(name="app_id", auto_error=False, scheme_name="app_id")
_app_key = APIKeyHeader(name="app_key", auto_error=False, scheme_name="app_key")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="X-API-Key")


async def caller(
    request: Request,
    rt: Annotated[Runtime, Depends(runtime)],
    app_id: Annotated[str | None, Depends(_app_id)],
    app_key: Annotated[str | None, Depends(_app_key)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """Rate-limit by IP, authenticate, then rate-limit by key."""
    client_ip = request.client.host if request.client else "unknown"
    rt.limiter.check_ip(client_ip)
    principal = rt.keys.authenticate(app_id, app_key, api_key)
    rt.limiter.check_key(principal)
    return principal


Caller = Annotated[Principal, Depends(caller)]
RT = Annotated[Runtime, Depends(runtime)]


def _request_id(request: Request) -> str:
    return request_id_of(request.scope) or new_request_id()


def answer(model: BaseModel) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json", exclude_none=True))


def _body_doc(model: type[BaseModel], multipart: bool = True) -> dict[str, Any]:
    """OpenAPI requestBody for a route that reads its body itself."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    content: dict[str, Any] = {"application/json": {"schema": ref}}
    if multipart:
        content["multipart/form-data"] = {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "options_json": {"type": "string", "description": "JSON options"},
                },
            }
        }
    return {"requestBody": {"required": True, "content": content}}


def _responses(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"model": model, "description": "The result, or an error object (HTTP 200)"},
        401: {"model": ErrorResponse, "description": "http_unauthorized"},
        413: {"model": ErrorResponse, "description": "sys_request_too_large"},
        429: {"model": ErrorResponse, "description": "http_max_requests"},
        503: {"model": ErrorResponse, "description": "sys_busy"},
    }


# Models referenced from the hand-written request bodies, added to the OpenAPI components.
DOC_MODELS: tuple[type[BaseModel], ...] = (TextOptions, LatexOptions, StrokesOptions, BatchRequest)


@router.post(
    "/v3/text",
    summary="Recognise an image (Mathpix v3/text)",
    response_class=JSONResponse,
    responses=_responses(TextResponse),
    openapi_extra=_body_doc(TextOptions),
)
async def v3_text(request: Request, rt: RT, principal: Caller) -> JSONResponse:
    parsed = await read_image_request(request, TextOptions)
    return answer(await rt.ocr.text(parsed.options, parsed.upload, principal, _request_id(request)))


@router.post(
    "/v3/latex",
    summary="Recognise an equation image (legacy Mathpix v3/latex)",
    response_class=JSONResponse,
    responses=_responses(LatexResponse),
    openapi_extra=_body_doc(LatexOptions),
)
async def v3_latex(request: Request, rt: RT, principal: Caller) -> JSONResponse:
    parsed = await read_image_request(request, LatexOptions)
    return answer(
        await rt.ocr.latex(parsed.options, parsed.upload, principal, _request_id(request))
    )


@router.post(
    "/v3/strokes",
    summary="Recognise digital ink strokes (Mathpix v3/strokes)",
    response_class=JSONResponse,
    responses=_responses(TextResponse),
    openapi_extra=_body_doc(StrokesOptions, multipart=False),
)
async def v3_strokes(request: Request, rt: RT, principal: Caller) -> JSONResponse:
    options = validate(StrokesOptions, await read_json(request))
    return answer(await rt.ocr.strokes(options, principal, _request_id(request)))


@router.post(
    "/v3/batch",
    summary="Submit a batch of image URLs (Mathpix v3/batch)",
    response_class=JSONResponse,
    responses=_responses(BatchSubmitResponse),
    openapi_extra=_body_doc(BatchRequest, multipart=False),
)
async def v3_batch(request: Request, rt: RT, principal: Caller) -> JSONResponse:
    return answer(await rt.batch.submit(await read_json(request), principal))


@router.get(
    "/v3/batch/{batch_id}",
    summary="Results of a batch",
    response_class=JSONResponse,
    responses=_responses(BatchResultsResponse),
)
async def v3_batch_results(batch_id: str, rt: RT, principal: Caller) -> JSONResponse:
    return answer(await rt.batch.results(batch_id, principal))


def _timestamp(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise ApiError("opts_invalid_value", f"{name}: not an ISO date-time: {value!r}") from None


@router.get(
    "/v3/ocr-results",
    summary="This key's past requests, newest first",
    response_class=JSONResponse,
    responses=_responses(OcrResultsResponse),
)
async def v3_ocr_results(
    rt: RT,
    principal: Caller,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
    from_date: str | None = None,
    to_date: str | None = None,
    is_handwritten: bool | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    if rt.history is None:
        return answer(OcrResultsResponse(ocr_results=[]))
    query = HistoryQuery(
        owner=principal.app_id,
        page=page,
        per_page=per_page,
        from_ts=_timestamp(from_date, "from_date"),
        to_ts=_timestamp(to_date, "to_date"),
        is_handwritten=is_handwritten,
        tags=tuple(tags or ()),
    )
    entries = await asyncio.to_thread(rt.history.query, query)
    return answer(OcrResultsResponse(ocr_results=entries))


@router.get("/health", summary="Liveness and model state", response_model=HealthResponse)
async def health(rt: RT) -> HealthResponse:
    loaded = rt.ocr.engine.ready()
    return HealthResponse(
        status="ok" if loaded else "degraded",
        model_loaded=loaded,
        engine=rt.ocr.engine.name,
        version=__version__,
        uptime_secs=round(time.time() - rt.started_at, 3),
        workers=rt.ocr.pool.workers,
        in_flight=rt.ocr.pool.in_flight,
        auth=rt.keys.enabled,
    )


async def prometheus_metrics() -> Response:
    """Prometheus metrics (mounted at ``metrics.prometheus_endpoint`` when enabled)."""
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


__all__ = ["DOC_MODELS", "Runtime", "prometheus_metrics", "router", "runtime"]
