"""The similarity-cache routes (Scipix extensions, not part of the Mathpix API).

``GET /cache/stats``, ``POST /cache/search`` (``{"latex": "...", "k": 10}``) and
``POST /cache/clear``. With API keys configured only ``admin`` keys may call them (others get
``http_unauthorized``, 401); without keys the server is loopback-only and every caller may.
A server running without the cache answers ``cache_disabled`` (HTTP 404).
"""

from __future__ import annotations

import asyncio
import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from scipix.cache import SimilarityCache
from scipix.server.auth import Principal
from scipix.server.body import read_json, validate
from scipix.server.errors import ApiError, ErrorResponse
from scipix.server.models import (
    CacheClearResponse,
    CacheSearchRequest,
    CacheSearchResponse,
    CacheSearchResult,
)
from scipix.server.routes import RT, Caller, Runtime, answer

cache_router = APIRouter(prefix="/cache", tags=["cache"])

_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "http_unauthorized (not an admin key)"},
    404: {"model": ErrorResponse, "description": "cache_disabled"},
    429: {"model": ErrorResponse, "description": "http_max_requests"},
}


def admin_cache(rt: Runtime, principal: Principal) -> SimilarityCache:
    """The open cache, for an admin caller; raises ``http_unauthorized`` or ``cache_disabled``."""
    if not principal.admin:
        raise ApiError("http_unauthorized", "the cache routes need an admin key")
    if rt.cache is None:
        raise ApiError("cache_disabled", "the similarity cache is disabled (cache.enabled)")
    return rt.cache


@cache_router.get("/stats", summary="Similarity cache statistics", responses=_RESPONSES)
async def cache_stats(rt: RT, principal: Caller) -> JSONResponse:
    cache = admin_cache(rt, principal)
    stats = await asyncio.to_thread(cache.stats)
    return JSONResponse(dataclasses.asdict(stats))


@cache_router.post(
    "/search",
    summary="Cached formulas whose LaTeX is most like the given LaTeX",
    response_model=CacheSearchResponse,
    responses=_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": CacheSearchRequest.model_json_schema()}},
        }
    },
)
async def cache_search(request: Request, rt: RT, principal: Caller) -> JSONResponse:
    cache = admin_cache(rt, principal)
    query = validate(CacheSearchRequest, await read_json(request))
    hits = await asyncio.to_thread(cache.search, query.latex, query.k)
    results = [
        CacheSearchResult(
            entry_id=hit.entry_id,
            latex=hit.latex,
            score=hit.similarity,
            similarity=hit.similarity,
            confidence=hit.confidence,
            hits=hit.hits,
            created=hit.created,
        )
        for hit in hits
    ]
    return answer(CacheSearchResponse(results=results))


@cache_router.post(
    "/clear",
    summary="Forget every cached entry",
    response_model=CacheClearResponse,
    responses=_RESPONSES,
)
async def cache_clear(rt: RT, principal: Caller) -> JSONResponse:
    cache = admin_cache(rt, principal)

    def clear() -> int:
        before = cache.stats().entries
        cache.clear()
        return before

    return answer(CacheClearResponse(cleared=await asyncio.to_thread(clear)))


__all__ = ["admin_cache", "cache_router"]
