"""A client engine for any Mathpix-compatible v3 API: Mathpix itself, or another Scipix node.

One pooled :class:`httpx.Client` per engine; ``POST {url}/text`` with the image as a data URL;
retries with jittered exponential backoff on connection errors, 429 and 5xx (honouring
``Retry-After``); a circuit breaker that fails fast while the remote keeps failing. The
``app_key`` is sent as a header and never logged. Errors keep the remote's Mathpix error id
(``remote_error_id``); ``http_*`` ids, which describe Scipix's own credentials or quota at the
remote rather than the caller's, become ``remote_*`` ids so a server in front does not answer
its client with a misleading 401 or 429.
"""

from __future__ import annotations

import base64
import email.utils
import io
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from PIL import Image

from scipix import __version__
from scipix.engines.base import RecognizeOptions
from scipix.engines.breaker import BreakerState, CircuitBreaker
from scipix.errors import ConfigError, EngineError
from scipix.io import DecodedImage
from scipix.types import OcrResult, Timings

if TYPE_CHECKING:
    from scipix.config import ApiConfig, RemoteConfig, Settings

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECS = 10.0  # longest single wait between tries, Retry-After included


# --- errors ----------------------------------------------------------------------------------


class RemoteError(EngineError):
    """The remote answered with an error, or could not be asked.

    ``remote`` is the engine name, ``remote_error_id`` the remote's own Mathpix error id (None
    when there was no answer) and ``status`` the HTTP status (None without an answer).
    """

    error_id = "remote_error"

    def __init__(
        self,
        message: str,
        *,
        remote: str,
        error_id: str | None = None,
        remote_error_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, error_id=error_id)
        self.remote = remote
        self.remote_error_id = remote_error_id
        self.status = status


class RemoteAuthError(RemoteError):
    """The remote rejected the configured app_id/app_key."""

    error_id = "remote_unauthorized"


class RemoteRateLimited(RemoteError):
    """The remote kept answering 429 after every retry."""

    error_id = "remote_max_requests"


class RemoteTimeout(RemoteError):
    error_id = "remote_timeout"


class RemoteUnavailable(RemoteError):
    """The remote could not be reached, or its circuit breaker is open."""

    error_id = "remote_unavailable"


# --- configuration -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemoteSpec:
    """Everything a :class:`RemoteEngine` needs; built from ``[api]`` or ``[engines.remotes.*]``."""

    url: str
    app_id: str = ""
    app_key: str = ""
    timeout_secs: float = 30.0
    retries: int = 2
    breaker_failures: int = 5
    breaker_cooldown_secs: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings, name: str = "remote") -> RemoteSpec:
        """The ``[api]`` section for ``remote``, else ``[engines.remotes.<name>]``."""
        cfg: ApiConfig | RemoteConfig | None
        if name == "remote":
            cfg = settings.api
            key = settings.api.key
        else:
            cfg = settings.engines.remotes.get(name)
            if cfg is None:
                raise ConfigError(f"no remote named '{name}' in [engines.remotes]")
            key = cfg.app_key
        return cls(
            url=cfg.url,
            app_id=cfg.app_id,
            app_key=key.get_secret_value(),
            timeout_secs=cfg.timeout_secs,
            retries=cfg.retries,
            breaker_failures=cfg.breaker_failures,
            breaker_cooldown_secs=cfg.breaker_cooldown_secs,
        )


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What ``scipix engines`` shows for a remote."""

    reachable: bool
    detail: str


# --- helpers ---------------------------------------------------------------------------------


def png_data_url(image: DecodedImage) -> str:
    """The image as a ``data:image/png;base64,...`` URL (colour kept when it has colour)."""
    pixels = image.rgb if image.rgb is not None else image.gray
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, base: float, retry_after: float | None = None) -> float:
    """Wait before try ``attempt + 1``: Retry-After when given, else full-jitter exponential."""
    if retry_after is not None:
        return min(retry_after, MAX_BACKOFF_SECS)
    ceiling = min(MAX_BACKOFF_SECS, base * (2**attempt))
    return random.uniform(ceiling / 2, ceiling)


def _latex_of(body: dict[str, Any]) -> str:
    styled = body.get("latex_styled")
    if isinstance(styled, str) and styled.strip():
        return styled.strip()
    for item in body.get("data") or []:
        if isinstance(item, dict) and item.get("type") == "latex":
            value = item.get("value")
            if isinstance(value, str) and value.strip():
                return value.strip()
    text = body.get("text")
    if isinstance(text, str):
        stripped = text.strip()
        for opening, closing in (("\\(", "\\)"), ("\\[", "\\]"), ("$$", "$$"), ("$", "$")):
            if stripped.startswith(opening) and stripped.endswith(closing):
                inner = stripped[len(opening) : len(stripped) - len(closing)]
                if opening not in inner:
                    return inner.strip()
    return ""


def _number(body: dict[str, Any], key: str, default: float = 0.0) -> float:
    value = body.get(key)
    return float(value) if isinstance(value, int | float) else default


def to_ocr_result(
    body: dict[str, Any], image: DecodedImage, engine: str, elapsed: float
) -> OcrResult:
    """Map a successful v3 ``/text`` answer to an :class:`OcrResult`."""
    latex = _latex_of(body)
    text = body.get("text") if isinstance(body.get("text"), str) else ""
    confidence = min(1.0, max(0.0, _number(body, "confidence")))
    return OcrResult(
        latex=latex,
        latex_styled=latex,
        text=str(text) or (f"\\( {latex} \\)" if latex else ""),
        confidence=confidence,
        confidence_rate=min(1.0, max(0.0, _number(body, "confidence_rate", confidence))),
        image_width=int(_number(body, "image_width", image.width)),
        image_height=int(_number(body, "image_height", image.height)),
        timings=Timings(recognize=elapsed, total=elapsed),
        engine=engine,
        reason="" if latex else f"the remote '{engine}' found no math in the image",
        auto_rotate_degrees=_number(body, "auto_rotate_degrees"),
    )


# --- the engine --------------------------------------------------------------------------------


class RemoteEngine:
    """A Mathpix-compatible v3 API as an :class:`~scipix.engines.base.Engine`."""

    def __init__(
        self,
        settings: Settings | None = None,
        name: str = "remote",
        *,
        spec: RemoteSpec | None = None,
        backoff_base: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if spec is None:
            if settings is None:
                raise ConfigError("RemoteEngine needs settings or a spec")
            spec = RemoteSpec.from_settings(settings, name)
        if not spec.url.startswith(("http://", "https://")):
            raise ConfigError(f"remote '{name}': url must start with http:// or https://")
        self._name = name
        self.spec = spec
        self.backoff_base = backoff_base
        self._sleep = sleep
        self.breaker = CircuitBreaker(spec.breaker_failures, spec.breaker_cooldown_secs, clock)
        headers = {"user-agent": f"scipix/{__version__}"}
        if spec.app_id:
            headers["app_id"] = spec.app_id
        if spec.app_key:
            headers["app_key"] = spec.app_key
        self._client = httpx.Client(
            base_url=spec.url.rstrip("/") + "/",
            headers=headers,
            timeout=httpx.Timeout(spec.timeout_secs),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
        self._lock = threading.Lock()
        self.requests_sent = 0  # HTTP requests, retries included

    @property
    def name(self) -> str:
        return self._name

    def ready(self) -> bool:
        """False while the circuit breaker is open (no network call is made)."""
        return self.breaker.state is not BreakerState.OPEN

    def close(self) -> None:
        self._client.close()

    # -- recognise ----------------------------------------------------------------------------

    def recognize(self, image: DecodedImage, options: RecognizeOptions | None = None) -> OcrResult:
        opts = options or RecognizeOptions()
        if not self.breaker.allow():
            raise RemoteUnavailable(
                f"remote '{self.name}' is failing: circuit breaker open, next try in "
                f"{self.breaker.retry_in():.0f} s",
                remote=self.name,
            )
        payload = {
            "src": png_data_url(image),
            "formats": ["text", "latex_styled", "data"],
            "data_options": {"include_latex": True},
            "rm_spaces": opts.rm_spaces,
        }
        start = time.perf_counter()
        try:
            body = self._post_with_retries(payload)
        except RemoteError as exc:
            if isinstance(exc, RemoteTimeout | RemoteUnavailable | RemoteRateLimited) or (
                exc.status is not None and exc.status >= 500
            ):
                self.breaker.record_failure()
            else:  # the remote answered: it is up, the request or credentials are wrong
                self.breaker.record_success()
            raise
        except BaseException:
            self.breaker.release()
            raise
        self.breaker.record_success()
        elapsed = time.perf_counter() - start
        error_id = _error_id(body)
        if error_id == "image_no_content":
            return to_ocr_result({}, image, self.name, elapsed)
        if error_id is not None:
            raise RemoteError(
                f"remote '{self.name}': {_error_message(body)}",
                remote=self.name,
                error_id=_local_id(error_id),
                remote_error_id=error_id,
                status=200,
            )
        return to_ocr_result(body, image, self.name, elapsed)

    def _post_with_retries(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.decode_json(self.send("POST", "text", json=payload))

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call (``path`` relative to the base URL) with retries and backoff on
        connection errors, 429 and 5xx; raises RemoteTimeout / RemoteUnavailable."""
        attempts = self.spec.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                with self._lock:
                    self.requests_sent += 1
                response = self._client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                # Not retried: a read timeout may have been billed, and retrying multiplies
                # the caller's wait. Connect timeouts are retried like connection errors.
                if isinstance(exc, httpx.ConnectTimeout) and not last:
                    self._sleep(backoff_delay(attempt, self.backoff_base))
                    continue
                raise RemoteTimeout(
                    f"remote '{self.name}' did not answer within {self.spec.timeout_secs:g} s",
                    remote=self.name,
                ) from None
            except httpx.TransportError as exc:
                if not last:
                    self._sleep(backoff_delay(attempt, self.backoff_base))
                    continue
                raise RemoteUnavailable(
                    f"remote '{self.name}' at {self.spec.url} is unreachable: "
                    f"{type(exc).__name__}: {exc}",
                    remote=self.name,
                ) from None
            status = response.status_code
            if status in RETRY_STATUSES and not last:
                wait = backoff_delay(
                    attempt,
                    self.backoff_base,
                    parse_retry_after(response.headers.get("retry-after")),
                )
                log.info(
                    "remote %s answered %d; retry %d/%d in %.2f s",
                    self.name,
                    status,
                    attempt + 1,
                    self.spec.retries,
                    wait,
                )
                self._sleep(wait)
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def decode_json(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of an answer; remote errors raised with their Mathpix ids."""
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        remote_id = _error_id(body)
        message = _error_message(body) or response.reason_phrase
        if status in (401, 403) or remote_id == "http_unauthorized":
            creds = "configured" if self.spec.app_id or self.spec.app_key else "not configured"
            raise RemoteAuthError(
                f"remote '{self.name}' rejected the credentials (app_id/app_key {creds}): "
                f"{message}",
                remote=self.name,
                remote_error_id=remote_id or "http_unauthorized",
                status=status,
            )
        if status == 429:
            raise RemoteRateLimited(
                f"remote '{self.name}' is rate limiting Scipix: {message}",
                remote=self.name,
                remote_error_id=remote_id or "http_max_requests",
                status=status,
            )
        if status >= 400:
            raise RemoteError(
                f"remote '{self.name}' answered HTTP {status}: {message}",
                remote=self.name,
                error_id=_local_id(remote_id) if remote_id else None,
                remote_error_id=remote_id,
                status=status,
            )
        if not body:
            raise RemoteError(
                f"remote '{self.name}' answered HTTP {status} without a JSON object",
                remote=self.name,
                status=status,
            )
        return dict(body)

    # -- reachability ---------------------------------------------------------------------------

    def probe(self) -> ProbeResult:
        """Ask the remote something cheap (``GET ocr-results``) to see if it answers."""
        try:
            response = self._client.get(
                "ocr-results",
                params={"per_page": 1},
                timeout=min(self.spec.timeout_secs, 5.0),
            )
        except httpx.HTTPError as exc:
            return ProbeResult(False, f"unreachable: {type(exc).__name__}")
        status = response.status_code
        if status in (401, 403):
            return ProbeResult(True, f"reachable, credentials rejected (HTTP {status})")
        if status < 500:
            return ProbeResult(True, f"reachable (HTTP {status})")
        return ProbeResult(False, f"answering HTTP {status}")


def _error_id(body: dict[str, Any]) -> str | None:
    if not body.get("error"):
        return None
    info = body.get("error_info")
    if isinstance(info, dict) and isinstance(info.get("id"), str):
        return str(info["id"])
    return "remote_error"


def _error_message(body: dict[str, Any]) -> str:
    info = body.get("error_info")
    if isinstance(info, dict) and isinstance(info.get("message"), str):
        return str(info["message"])
    error = body.get("error")
    return str(error) if error else ""


def _local_id(remote_id: str) -> str:
    """The remote's id, except ``http_*`` ids (they concern Scipix's own account there)."""
    return (
        "remote_" + remote_id.removeprefix("http_") if remote_id.startswith("http_") else remote_id
    )


__all__ = [
    "ProbeResult",
    "RemoteAuthError",
    "RemoteEngine",
    "RemoteError",
    "RemoteRateLimited",
    "RemoteSpec",
    "RemoteTimeout",
    "RemoteUnavailable",
    "backoff_delay",
    "parse_retry_after",
    "png_data_url",
    "to_ocr_result",
]
