"""Prometheus metrics with the names of the design document (section 5.1).

The metrics live in the default registry of ``prometheus_client`` (created once per process), so
anything in the process may update them and ``/metrics`` shows them with the process metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

M = TypeVar("M", Counter, Gauge, Histogram)


def _metric(kind: type[M], name: str, make: Callable[[], M]) -> M:
    """Create a metric, or reuse the one of that name another module registered first."""
    try:
        return make()
    except ValueError:  # already registered in this process
        existing = REGISTRY._names_to_collectors.get(name)
        if isinstance(existing, kind):
            return existing
        raise


OCR_REQUESTS = _metric(
    Counter,
    "scipix_ocr_requests",
    lambda: Counter("scipix_ocr_requests_total", "Total number of OCR requests", ["endpoint"]),
)
CACHE_HITS = _metric(
    Counter, "scipix_cache_hits", lambda: Counter("scipix_cache_hits_total", "Number of cache hits")
)
CACHE_MISSES = _metric(
    Counter,
    "scipix_cache_misses",
    lambda: Counter("scipix_cache_misses_total", "Number of cache misses"),
)
OCR_DURATION = _metric(
    Histogram,
    "scipix_ocr_duration_seconds",
    lambda: Histogram(
        "scipix_ocr_duration_seconds",
        "OCR processing duration",
        ["endpoint"],
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
    ),
)
CONFIDENCE = _metric(
    Histogram,
    "scipix_confidence_score",
    lambda: Histogram(
        "scipix_confidence_score",
        "OCR confidence scores",
        buckets=(0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0),
    ),
)
ACTIVE_CALLS = _metric(
    Gauge, "scipix_active_calls", lambda: Gauge("scipix_active_calls", "Number of active API calls")
)
ERRORS = _metric(
    Counter,
    "scipix_errors",
    lambda: Counter("scipix_errors_total", "Total OCR errors", ["kind"]),
)


def observe_result(confidence: float, cached: bool, cache_enabled: bool = True) -> None:
    """Record one recognition's confidence and, with the cache on, whether it answered."""
    CONFIDENCE.observe(confidence)
    if cache_enabled:
        (CACHE_HITS if cached else CACHE_MISSES).inc()


def render() -> tuple[bytes, str]:
    """The exposition text of every metric and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


__all__ = [
    "ACTIVE_CALLS",
    "CACHE_HITS",
    "CACHE_MISSES",
    "CONFIDENCE",
    "ERRORS",
    "OCR_DURATION",
    "OCR_REQUESTS",
    "observe_result",
    "render",
]
