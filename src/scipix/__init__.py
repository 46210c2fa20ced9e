"""Scipix: self-hosted math OCR."""

from scipix.config import Settings, load_settings
from scipix.engines import Engine, RecognizeOptions
from scipix.errors import (
    AuthenticationFailed,
    CacheError,
    ConfigError,
    ImageError,
    LatexError,
    LowConfidence,
    RateLimitExceeded,
    ScipixError,
)
from scipix.io import DecodedImage, load_image
from scipix.types import BoundingBox, JobState, JobStatus, OcrResult, PageResult, Timings

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "BoundingBox",
    "CacheError",
    "ConfigError",
    "DecodedImage",
    "Engine",
    "ImageError",
    "JobState",
    "JobStatus",
    "LatexError",
    "LowConfidence",
    "OcrResult",
    "PageResult",
    "RateLimitExceeded",
    "RecognizeOptions",
    "ScipixError",
    "Settings",
    "Timings",
    "__version__",
    "load_image",
    "load_settings",
]
