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
from scipix.io import DecodedImage, ImageSource, load_image
from scipix.recognizer import Recognizer
from scipix.types import BoundingBox, JobState, JobStatus, OcrResult, PageResult, Timings

_default: Recognizer | None = None


def recognize(image: ImageSource, options: RecognizeOptions | None = None) -> OcrResult:
    """Recognise one formula image with the bundled model (loaded on first use, then kept)."""
    global _default
    if _default is None:
        _default = Recognizer.from_name()
    return _default.recognize(image, options)


__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "BoundingBox",
    "CacheError",
    "ConfigError",
    "DecodedImage",
    "Engine",
    "ImageError",
    "ImageSource",
    "JobState",
    "JobStatus",
    "LatexError",
    "LowConfidence",
    "OcrResult",
    "PageResult",
    "RateLimitExceeded",
    "RecognizeOptions",
    "Recognizer",
    "ScipixError",
    "Settings",
    "Timings",
    "__version__",
    "load_image",
    "load_settings",
    "recognize",
]
