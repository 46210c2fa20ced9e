"""Read request bodies: JSON (``src`` in the body) or multipart (``file`` + ``options_json``).

Malformed JSON is a ``json_syntax`` error and options that do not validate map to the Mathpix
``opts_*`` ids, all answered with HTTP 200 as Mathpix does. Large bodies are parsed off the event
loop.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, JsonValue, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from scipix.server.errors import ApiError
from scipix.server.models import options_error

M = TypeVar("M", bound=BaseModel)

_INLINE_PARSE_LIMIT = 256 * 1024  # bodies larger than this are parsed on a thread
_MAX_OPTIONS_JSON = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImageRequest(Generic[M]):
    """Validated options plus the uploaded file's bytes (multipart) if there was one."""

    options: M
    upload: bytes | None


def _loads(text: str | bytes) -> JsonValue:
    try:
        value: JsonValue = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApiError("json_syntax", f"the body is not valid JSON: {exc}") from None
    return value


async def parse_json_object(raw: str | bytes) -> dict[str, JsonValue]:
    """Parse a JSON object (on a thread when it is large)."""
    if len(raw) > _INLINE_PARSE_LIMIT:
        value = await run_in_threadpool(_loads, raw)
    else:
        value = _loads(raw)
    if not isinstance(value, dict):
        raise ApiError("json_syntax", "the body must be a JSON object")
    return value


def validate(model: type[M], data: dict[str, JsonValue]) -> M:
    """Validate options, mapping problems to Mathpix error ids."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise options_error(exc) from None


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").lower().startswith("multipart/form-data")


async def read_json(request: Request) -> dict[str, JsonValue]:
    """The body as a JSON object."""
    raw = await request.body()
    if not raw.strip():
        return {}
    return await parse_json_object(raw)


async def read_image_request(request: Request, model: type[M]) -> ImageRequest[M]:
    """Options and (for multipart) the uploaded image of an image endpoint."""
    if not _is_multipart(request):
        return ImageRequest(validate(model, await read_json(request)), None)
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=_MAX_OPTIONS_JSON)
    except HTTPException as exc:
        raise ApiError("opts_invalid_value", f"bad multipart body: {exc.detail}") from None
    try:
        options: dict[str, JsonValue] = {}
        raw_options = form.get("options_json")
        if isinstance(raw_options, str) and raw_options.strip():
            options = await parse_json_object(raw_options)
        for name in form:
            if name not in ("file", "options_json"):
                raise ApiError("opts_unknown_option", f"unknown multipart field: {name!r}")
        upload = form.get("file")
        data: bytes | None = None
        if isinstance(upload, UploadFile):
            data = await upload.read()
        elif isinstance(upload, str):
            raise ApiError("image_missing", "the 'file' field must be a file upload")
        return ImageRequest(validate(model, options), data)
    finally:
        await form.close()


__all__ = ["ImageRequest", "parse_json_object", "read_image_request", "read_json", "validate"]
