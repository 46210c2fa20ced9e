"""PDF conversion by a remote Mathpix-compatible API: upload, poll with backoff, fetch.

``POST {url}/pdf`` (multipart ``file`` + ``options_json``) gives a ``pdf_id``;
``GET {url}/pdf/{id}`` is polled (0.5 s doubling to 5 s) until ``completed`` or ``error``;
then ``GET {url}/pdf/{id}.{format}`` returns the document. Calls go through the engine's
retrying client, circuit breaker and credentials, so errors keep the remote's error ids.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from scipix.engines.remote import (
    RemoteEngine,
    RemoteError,
    RemoteRateLimited,
    RemoteTimeout,
    RemoteUnavailable,
)

FORMATS = ("mmd", "md", "tex", "lines.json")
FIRST_POLL_SECS = 0.5
MAX_POLL_SECS = 5.0


def convert_pdf_remote(
    engine: RemoteEngine,
    data: bytes,
    fmt: str = "mmd",
    *,
    page_ranges: str | None = None,
    timeout_secs: float = 600.0,
    progress: Callable[[float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """The remote's conversion of the PDF ``data`` in ``fmt``; ``progress`` gets 0..100."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown PDF output format {fmt!r}; known: {', '.join(FORMATS)}")
    if not engine.breaker.allow():
        raise RemoteUnavailable(
            f"remote '{engine.name}' is failing: circuit breaker open, next try in "
            f"{engine.breaker.retry_in():.0f} s",
            remote=engine.name,
        )
    try:
        text = _convert(engine, data, fmt, page_ranges, timeout_secs, progress, sleep)
    except (RemoteTimeout, RemoteUnavailable, RemoteRateLimited):
        engine.breaker.record_failure()
        raise
    except RemoteError:
        engine.breaker.record_success()  # the remote answered; the document or key is bad
        raise
    except BaseException:
        engine.breaker.release()
        raise
    engine.breaker.record_success()
    return text


def _convert(
    engine: RemoteEngine,
    data: bytes,
    fmt: str,
    page_ranges: str | None,
    timeout_secs: float,
    progress: Callable[[float], None] | None,
    sleep: Callable[[float], None],
) -> str:
    options: dict[str, Any] = {"conversion_formats": {fmt: True} if fmt in ("md", "tex") else {}}
    if page_ranges:
        options["page_ranges"] = page_ranges
    answer = engine.decode_json(
        engine.send(
            "POST",
            "pdf",
            files={"file": ("document.pdf", data, "application/pdf")},
            data={"options_json": json.dumps(options)},
        )
    )
    _raise_for_error(engine, answer)
    pdf_id = str(answer.get("pdf_id", ""))
    if not pdf_id:
        raise RemoteError(f"remote '{engine.name}' gave no pdf_id", remote=engine.name)
    deadline = time.monotonic() + timeout_secs
    wait = FIRST_POLL_SECS
    while True:
        status = engine.decode_json(engine.send("GET", f"pdf/{pdf_id}"))
        _raise_for_error(engine, status)
        if progress is not None:
            progress(float(status.get("percent_done", 0.0) or 0.0))
        state = status.get("status")
        if state == "completed":
            break
        if state == "error":
            raise RemoteError(
                f"remote '{engine.name}' could not convert the PDF: "
                f"{status.get('error') or 'conversion failed'}",
                remote=engine.name,
                error_id="pdf_conversion_error",
            )
        if time.monotonic() + wait > deadline:
            raise RemoteTimeout(
                f"remote '{engine.name}' did not finish the PDF within {timeout_secs:g} s",
                remote=engine.name,
            )
        sleep(wait)
        wait = min(2 * wait, MAX_POLL_SECS)
    response = engine.send("GET", f"pdf/{pdf_id}.{fmt}")
    if response.status_code != 200:
        engine.decode_json(response)  # raises with the remote's error id
        raise RemoteError(
            f"remote '{engine.name}' answered HTTP {response.status_code} for the {fmt} output",
            remote=engine.name,
            status=response.status_code,
        )
    return response.text


def _raise_for_error(engine: RemoteEngine, body: dict[str, Any]) -> None:
    info = body.get("error_info")
    if isinstance(info, dict) or "error" in body:
        remote_id = str(info.get("id")) if isinstance(info, dict) and info.get("id") else None
        message = info.get("message") if isinstance(info, dict) else None
        raise RemoteError(
            f"remote '{engine.name}': {message or body.get('error')}",
            remote=engine.name,
            error_id=remote_id,
            remote_error_id=remote_id,
            status=200,
        )


__all__ = ["FORMATS", "convert_pdf_remote"]
