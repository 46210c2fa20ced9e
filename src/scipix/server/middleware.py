"""ASGI middleware: request ids and access logs, and the request body limit.

The body limit answers 413 ``sys_request_too_large`` before reading anything when the
Content-Length is over the limit, and while reading when a body without (or with a false)
Content-Length grows past it; the application only ever sees a complete body within the limit.
"""

from __future__ import annotations

import json
import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scipix.server import metrics
from scipix.server.errors import ApiError, error_body

log = logging.getLogger("scipix.server.access")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _new_id() -> str:
    from scipix.server.service import new_request_id

    return new_request_id()


def request_id_of(scope: Scope) -> str | None:
    state = scope.get("state")
    if isinstance(state, dict):
        value = state.get("request_id")
        return value if isinstance(value, str) else None
    return None


class RequestContextMiddleware:
    """Give each request an id (``X-Request-ID``, kept if the client sent a sane one), echo it
    in the response and write one access-log line (never with credentials)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else _new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            log.info(
                "%s %s %d %.1fms client=%s",
                scope.get("method", ""),
                scope.get("path", ""),
                status,
                (time.perf_counter() - start) * 1000,
                client[0] if client else "-",
                extra={"request_id": request_id},
            )


async def send_error(send: Send, exc: ApiError, request_id: str | None) -> None:
    metrics.ERRORS.labels(kind=exc.error_id).inc()
    body = json.dumps(error_body(exc, request_id).model_dump(mode="json")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` with 413 ``sys_request_too_large``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> ApiError:
        return ApiError(
            "sys_request_too_large",
            f"the request body is over the limit of {self.max_bytes} bytes",
            detail={"limit": self.max_bytes},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, self._too_large(), request_id_of(scope))
            return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await send_error(send, self._too_large(), request_id_of(scope))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


__all__ = ["BodyLimitMiddleware", "RequestContextMiddleware", "request_id_of", "send_error"]
