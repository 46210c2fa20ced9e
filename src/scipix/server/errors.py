"""Mathpix-style error objects and the mapping from Scipix exceptions to HTTP answers.

Mathpix answers request problems with HTTP 200 and a body holding ``error`` and
``error_info {id, message}``; only ``http_unauthorized`` (401) and ``http_max_requests`` (429)
change the status. Scipix adds 413 for ``sys_request_too_large``, 503 for ``sys_busy`` and 404
for ``cache_disabled`` (the ``/cache/*`` routes of a server running without the cache).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from scipix.errors import ScipixError

# error ids whose HTTP status is not 200
_STATUS: dict[str, int] = {
    "http_unauthorized": 401,
    "http_max_requests": 429,
    "sys_request_too_large": 413,
    "sys_busy": 503,
    "cache_disabled": 404,
}


class ApiError(ScipixError):
    """A request problem with a Mathpix error id, optional detail fields and Retry-After."""

    def __init__(
        self,
        error_id: str,
        message: str,
        *,
        detail: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, error_id=error_id)
        self.http_status = _STATUS.get(error_id, 200)
        self.detail = dict(detail or {})
        self.retry_after = retry_after


class ErrorInfo(BaseModel):
    """``error_info``: the id, the message and any detail fields of the error."""

    model_config = ConfigDict(extra="allow")

    id: str
    message: str


class ErrorResponse(BaseModel):
    """The body of every error answer."""

    request_id: str | None = None
    error: str
    error_info: ErrorInfo


def http_status_for(exc: ScipixError) -> int:
    """The HTTP status an error is answered with (Mathpix: 200 unless it is an http_* error)."""
    if isinstance(exc, ApiError):
        return exc.http_status
    return _STATUS.get(exc.error_id, 200)


def error_body(exc: ScipixError, request_id: str | None = None) -> ErrorResponse:
    """The Mathpix error object for ``exc``."""
    detail = exc.detail if isinstance(exc, ApiError) else {}
    info = ErrorInfo.model_validate({**detail, "id": exc.error_id, "message": exc.message})
    return ErrorResponse(request_id=request_id, error=exc.message, error_info=info)


def retry_after_of(exc: ScipixError) -> float | None:
    """Seconds a client should wait before retrying, when the error says so."""
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) else None


__all__ = [
    "ApiError",
    "ErrorInfo",
    "ErrorResponse",
    "error_body",
    "http_status_for",
    "retry_after_of",
]
