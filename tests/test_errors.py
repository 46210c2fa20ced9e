"""The exception hierarchy: one Mathpix error id and one HTTP status per kind."""

from __future__ import annotations

import inspect

import pytest

import scipix.errors as errors_module
from scipix.errors import (
    AuthenticationFailed,
    CacheError,
    ConfigError,
    ImageError,
    ImageTooLarge,
    LatexError,
    LowConfidence,
    RateLimitExceeded,
    ScipixError,
)

ALL_KINDS = [
    obj
    for _, obj in inspect.getmembers(errors_module, inspect.isclass)
    if issubclass(obj, ScipixError)
]


def test_every_kind_is_exported() -> None:
    assert {k.__name__ for k in ALL_KINDS} == set(errors_module.__all__)


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.__name__)
def test_every_kind_has_an_id_and_status(kind: type[ScipixError]) -> None:
    assert isinstance(kind.error_id, str)
    assert kind.error_id
    assert 400 <= kind.http_status <= 599


def test_error_ids_are_unique_per_kind() -> None:
    ids = [k.error_id for k in ALL_KINDS]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize(
    ("kind", "error_id", "status"),
    [
        (ImageError, "image_decode_error", 400),
        (ImageTooLarge, "image_max_size", 413),
        (RateLimitExceeded, "http_max_requests", 429),
        (AuthenticationFailed, "http_unauthorized", 401),
        (ConfigError, "sys_config_error", 500),
        (CacheError, "sys_cache_error", 500),
        (LatexError, "latex_error", 422),
    ],
)
def test_mathpix_ids(kind: type[ScipixError], error_id: str, status: int) -> None:
    assert kind.error_id == error_id
    assert kind.http_status == status


def test_message_and_overridden_id() -> None:
    err = ImageError("bad bytes", error_id="image_no_content")
    assert str(err) == "bad bytes"
    assert err.message == "bad bytes"
    assert err.error_id == "image_no_content"
    assert ImageError.error_id == "image_decode_error"  # the class default is untouched


def test_hierarchy() -> None:
    assert issubclass(ImageTooLarge, ImageError)
    for kind in ALL_KINDS:
        assert issubclass(kind, Exception)
    with pytest.raises(ScipixError):
        raise ImageTooLarge("too big")


def test_kinds_with_extra_fields() -> None:
    limited = RateLimitExceeded(retry_after=2.5)
    assert limited.retry_after == 2.5
    assert "Rate limit" in str(limited)
    assert str(AuthenticationFailed()) == "Invalid credentials"
    low = LowConfidence(0.42, 0.7)
    assert (low.confidence, low.threshold) == (0.42, 0.7)
    assert "0.420" in str(low)
