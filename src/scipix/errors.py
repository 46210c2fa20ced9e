"""One exception hierarchy; each kind maps once to a Mathpix error id and an HTTP status."""

from __future__ import annotations


class ScipixError(Exception):
    """Base class of every error Scipix raises on purpose.

    ``error_id`` is the Mathpix-style id (``error_info.id`` in the v3 API) and ``http_status``
    the status a server answers with when the error is not a per-request problem that Mathpix
    reports with HTTP 200.
    """

    error_id: str = "sys_exception"
    http_status: int = 500

    def __init__(self, message: str, *, error_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id

    def __str__(self) -> str:
        return self.message


class ImageError(ScipixError):
    """The input is not a usable image (undecodable, too large, empty, ...)."""

    error_id = "image_decode_error"
    http_status = 400


class ImageTooLarge(ImageError):
    error_id = "image_max_size"
    http_status = 413


class ConfigError(ScipixError):
    error_id = "sys_config_error"
    http_status = 500


class CacheError(ScipixError):
    error_id = "sys_cache_error"
    http_status = 500


class LatexError(ScipixError):
    error_id = "latex_error"
    http_status = 422


class ModelError(ScipixError):
    """A model file is missing, corrupt or fails its SHA-256 check."""

    error_id = "sys_model_error"
    http_status = 500


class EngineError(ScipixError):
    """An engine (local or remote) failed to answer."""

    error_id = "sys_engine_error"
    http_status = 502


class RateLimitExceeded(ScipixError):
    error_id = "http_max_requests"
    http_status = 429

    def __init__(self, message: str = "Rate limit exceeded", *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationFailed(ScipixError):
    error_id = "http_unauthorized"
    http_status = 401

    def __init__(self, message: str = "Invalid credentials") -> None:
        super().__init__(message)


class LowConfidence(ScipixError):
    error_id = "math_confidence"
    http_status = 422

    def __init__(self, confidence: float, threshold: float) -> None:
        super().__init__(f"confidence {confidence:.3f} is below the threshold {threshold:.3f}")
        self.confidence = confidence
        self.threshold = threshold


class OptionsError(ScipixError):
    """A request option is unknown or has a bad value."""

    error_id = "opts_unknown_format"
    http_status = 400


class PdfError(ScipixError):
    error_id = "pdf_error"
    http_status = 400


class JobNotFound(ScipixError):
    error_id = "batch_unknown_id"
    http_status = 404


__all__ = [
    "AuthenticationFailed",
    "CacheError",
    "ConfigError",
    "EngineError",
    "ImageError",
    "ImageTooLarge",
    "JobNotFound",
    "LatexError",
    "LowConfidence",
    "ModelError",
    "OptionsError",
    "PdfError",
    "RateLimitExceeded",
    "ScipixError",
]
