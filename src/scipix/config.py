"""Configuration: one pydantic-settings model loaded from ``scipix.toml``, env and overrides.

Precedence, lowest first:

1. defaults in the models below;
2. the TOML file (``path`` argument, else ``$SCIPIX_CONFIG``, else ``./scipix.toml`` if it
   exists), with ``${VAR}`` and ``${VAR:-default}`` expanded inside string values;
3. environment variables: the design's ``MATHPIX_APP_ID``, ``MATHPIX_APP_KEY`` /
   ``MATHPIX_API_KEY`` and ``MATHPIX_API_URL`` for the api section, then
   ``SCIPIX_<SECTION>__<KEY>`` (nested delimiter ``__``, e.g. ``SCIPIX_CACHE__HNSW__M=16``);
4. explicit overrides (CLI flags), nested dicts or dotted keys (``{"server.port": 9000}``).

Unknown keys and bad values raise :class:`scipix.errors.ConfigError` naming the key.
Each section is its own class so that the engineers who own a section edit only that class.
Write defaults as ``Field(default=...)`` (keyword): mypy reads a positional default as none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from scipix.config_loading import (
    CONFIG_ENV,
    env_error_message,
    expand_vars,
    find_config_file,
    format_validation_error,
    nest_overrides,
    read_config_file,
)
from scipix.errors import ConfigError

DATA_DIR_ENV = "SCIPIX_DATA_DIR"


def default_data_dir() -> Path:
    """``$SCIPIX_DATA_DIR``, else ``$XDG_DATA_HOME/scipix``, else ``~/.local/share/scipix``."""
    explicit = os.environ.get(DATA_DIR_ENV)
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "scipix"


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# --- api: a remote Mathpix-compatible API (design 7.2 [api]) ---------------------------------


class ApiConfig(Section):
    """The remote Mathpix-compatible API used by the ``remote`` engine."""

    url: str = "https://api.mathpix.com/v3"
    app_id: str = ""
    key: SecretStr = SecretStr("")
    timeout_secs: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    breaker_failures: int = Field(default=5, ge=1)  # consecutive failed calls that open it
    breaker_cooldown_secs: float = Field(default=30.0, gt=0)  # open this long, then one probe


class RemoteConfig(Section):
    """A named remote Mathpix-compatible API (``[engines.remotes.NAME]``)."""

    url: str = Field(min_length=1)  # base URL including /v3, e.g. http://node-b:8080/v3
    app_id: str = ""
    app_key: SecretStr = SecretStr("")
    timeout_secs: float = Field(default=30.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown_secs: float = Field(default=30.0, gt=0)


# --- engines ---------------------------------------------------------------------------------


class LocalEngineConfig(Section):
    """The bundled local recognizer."""

    model: str = "symbolseq-v5"  # a name from scipix.recognizer.MODELS
    model_dir: Path | None = None  # None: the weights shipped inside the package
    num_threads: int = Field(default=0, ge=0)  # 0: let onnxruntime choose
    beam_width: int = Field(default=1, ge=1, le=16)  # 1: greedy decoding
    # a clean image whose symbols are far from the size the model reads best is read resized
    # by the nearest of retry_scales, and as it is too when that reading's confidence is under
    # retry_below (1.0: always; scans: as it is first); when the two differ, the one likelier
    # under both images' encodings together is kept (cross_check; else the more confident),
    # and whether the two agree counts in its confidence ([]: one reading)
    retry_below: float = Field(default=1.0, ge=0.0, le=1.0)
    retry_scales: list[float] = Field(default_factory=lambda: [0.75, 1.5])
    cross_check: bool = True
    # with cross_check, two differing readings of a clean image: read it at the larger size
    # enlarged by the factor between the two (x2.25 or x1.33), keeping the likeliest of three
    third_size: bool = True
    # set the explicit spaces between side-by-side symbols (\, \; \quad ...) from the
    # measured gaps (the model's spacing table); false: only drop spaces the ink does not show
    respace: bool = True
    # with respace: write each delimiter pair as its glyphs' size and the gaps around it say
    # (plain, \left...\right, \bigl...\bigr ...)
    delimiters: bool = True
    # scans and photos whose reading's confidence is under scan_below (1.0: all) are also
    # read binarised at these multiples of their threshold, the likeliest reading kept (the
    # most confident without cross_check; []: off)
    scan_thresholds: list[float] = Field(default_factory=lambda: [0.95, 1.05])
    scan_below: float = Field(default=1.0, ge=0.0, le=1.0)
    # also read scans and photos resized by retry_scales, as clean images are (slower; the
    # threshold readings gain more for the time)
    scan_resize: bool = False
    # read scans and photos with the model's scan companion (ModelConfig.scans: fine-tuned
    # on degraded scans) where it has one; false: the main model reads everything
    scan_model: bool = True
    # clean images (renders, screenshots) whose reading's confidence is under clean_below
    # are also read binarised at these multiples of their threshold ([]: off)
    clean_thresholds: list[float] = Field(default_factory=lambda: [0.95, 1.05])
    clean_below: float = Field(default=0.5, ge=0.0, le=1.0)


class EnginesConfig(Section):
    """Which engine answers by default, and per-engine settings."""

    default: str = "local"
    local: LocalEngineConfig = Field(default_factory=LocalEngineConfig)
    # Named remotes, each usable as an engine name; "remote" is the [api] section.
    remotes: dict[str, RemoteConfig] = Field(default_factory=dict)
    # The "fallback" engine: local first, and the remote named here when local's
    # confidence is below fallback_threshold (the better-confidence answer is kept).
    fallback_remote: str = "remote"
    fallback_threshold: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _remote_names(self) -> EnginesConfig:
        reserved = {"local", "remote", "fallback", "mathpix"} & set(self.remotes)
        if reserved:
            raise ValueError(f"remote names {sorted(reserved)} are reserved engine names")
        return self


# --- cache (design 7.2 [cache], [cache.hnsw], [cache.quantization]) -------------------------


class HnswConfig(Section):
    m: int = Field(default=32, ge=2, le=256)
    ef_construction: int = Field(default=200, ge=1)
    ef_search: int = Field(default=64, ge=1)
    max_elements: int = Field(default=100_000, ge=1)


class QuantizationConfig(Section):
    enabled: bool = True
    bits: Literal[0, 4, 8] = 8  # 0 disables quantization


class CacheConfig(Section):
    enabled: bool = True
    dir: Path | None = None  # None: <data_dir>/cache (filled in by Settings)
    dimension: int = Field(default=512, ge=64, le=4096)  # image and LaTeX embedding size
    size_mb: int = Field(default=1000, ge=1)
    threshold: float = Field(default=0.95, ge=0.0, le=1.0)
    hnsw: HnswConfig = Field(default_factory=HnswConfig)
    quantization: QuantizationConfig = Field(default_factory=QuantizationConfig)
    # Vector index backend and its element type ("auto": i8 when quantization is enabled
    # with bits 4 or 8, else f32; usearch has no 4-bit type so bits=4 means i8).
    backend: Literal["usearch", "ruvector"] = "usearch"
    dtype: Literal["auto", "f32", "f16", "i8"] = "auto"
    mmap: bool = False  # serve the saved usearch index as a memory-mapped view
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0
    )  # store only results at least this sure
    encrypt: bool = False  # Fernet-encrypt stored LaTeX; the key is read from encryption_key_env
    encryption_key_env: str = Field(default="SCIPIX_CACHE_KEY", min_length=1)


# --- server (design 7.2 [server], [server.rate_limit]) ---------------------------------------


class ApiKeyConfig(Section):
    """One client credential: ``app_id`` plus either the key or its SHA-256 hex digest."""

    app_id: str = Field(min_length=1)
    key: SecretStr | None = None
    key_sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    admin: bool = False
    engines: list[str] = Field(default_factory=list)  # empty: every engine

    @model_validator(mode="after")
    def _one_secret(self) -> ApiKeyConfig:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError("give exactly one of 'key' and 'key_sha256'")
        if self.key is not None and not self.key.get_secret_value():
            raise ValueError("'key' is empty")
        return self


class RateLimitConfig(Section):
    """Sliding-window limits; the counts are per ``window_secs`` (60 s by default)."""

    enabled: bool = True
    requests_per_minute: int = Field(default=100, ge=1)  # per API key (app_id)
    per_ip_requests_per_minute: int = Field(default=200, ge=1)  # per client IP address
    window_secs: int = Field(default=60, ge=1, le=86_400)


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    max_body_size_mb: float = Field(default=10.0, gt=0)
    request_timeout_secs: float = Field(default=30.0, gt=0)
    cors_origins: list[str] = Field(default_factory=list)
    require_auth: bool = False
    api_keys: list[ApiKeyConfig] = Field(default_factory=list)
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig)
    workers: int = Field(default=0, ge=0, le=256)  # recognition threads; 0: one per CPU core
    queue_size: int = Field(default=32, ge=0)  # requests that may wait for a worker; then 503
    allow_private_urls: bool = False  # let src URLs reach private/loopback/link-local hosts
    url_timeout_secs: float = Field(default=10.0, gt=0)
    url_max_size_mb: float = Field(default=10.0, gt=0)
    url_max_redirects: int = Field(default=5, ge=0, le=20)
    batch_max_urls: int = Field(default=1000, ge=1)
    callback_timeout_secs: float = Field(default=10.0, gt=0)
    history: bool = True  # keep each key's results for GET /v3/ocr-results

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_size_mb * 1024 * 1024)

    @property
    def url_max_bytes(self) -> int:
        return int(self.url_max_size_mb * 1024 * 1024)


# --- cluster, metrics ------------------------------------------------------------------------


class ClusterConfig(Section):
    enabled: bool = False
    nodes: list[str] = Field(default_factory=list)
    shard_count: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=2, ge=1)


class MetricsConfig(Section):
    enabled: bool = True
    port: int = Field(default=9090, ge=0, le=65535)
    prometheus_endpoint: str = Field(default="/metrics", pattern=r"^/")


# --- preprocessing, postprocessing ------------------------------------------------------------


class PreprocessingConfig(Section):
    auto_rotate: bool = True  # try quarter turns when the upright reading is unsure
    deskew: bool = True  # straighten noisy scans by up to 4 degrees
    denoise: bool = True  # drop specks on noisy scans
    contrast_enhancement: bool = True  # flatten uneven backgrounds before binarising
    max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(default=40_000_000, ge=4)


class PostprocessingConfig(Section):
    validate_syntax: bool = True
    normalize_symbols: bool = True
    confidence_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    rm_spaces: bool = True


# --- pdf, logging ----------------------------------------------------------------------------


class PdfConfig(Section):
    dpi: int = Field(default=200, ge=50, le=600)
    max_pages: int = Field(default=500, ge=1)
    max_file_size_mb: float = Field(default=50.0, gt=0)
    workers: int = Field(default=0, ge=0)  # 0: one per CPU core


class LoggingConfig(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["text", "json"] = "text"


# --- the whole ---------------------------------------------------------------------------------

# The file data of the load in progress; read by the lowest-priority settings source.
_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("scipix_config_file", default=None)

# The design's MATHPIX_* environment names for the api section (section 7.1).
MATHPIX_ENV: dict[str, str] = {
    "MATHPIX_APP_ID": "app_id",
    "MATHPIX_API_KEY": "key",
    "MATHPIX_APP_KEY": "key",  # the Mathpix header name wins over the design's name
    "MATHPIX_API_URL": "url",
}


class _FileSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


class _MathpixEnvSource(PydanticBaseSettingsSource):
    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        api: dict[str, Any] = {}
        for env_name, key in MATHPIX_ENV.items():
            value = os.environ.get(env_name)
            if value:
                api[key] = value
        return {"api": api} if api else {}


class Settings(BaseSettings):
    """Every setting of Scipix. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="SCIPIX_",
        env_nested_delimiter="__",
        extra="forbid",
        case_sensitive=False,
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    api: ApiConfig = Field(default_factory=ApiConfig)
    engines: EnginesConfig = Field(default_factory=EnginesConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)
    postprocessing: PostprocessingConfig = Field(default_factory=PostprocessingConfig)
    pdf: PdfConfig = Field(default_factory=PdfConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win.
        return (
            init_settings,
            env_settings,
            _MathpixEnvSource(settings_cls),
            _FileSource(settings_cls),
        )

    @model_validator(mode="after")
    def _fill_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser()
        if self.cache.dir is None:
            self.cache.dir = self.data_dir / "cache"
        else:
            self.cache.dir = self.cache.dir.expanduser()
        return self

    @property
    def cache_dir(self) -> Path:
        """The cache directory, always set after loading."""
        return self.cache.dir if self.cache.dir is not None else self.data_dir / "cache"

    def public_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with every secret masked (``**********``)."""
        return self.model_dump(mode="json")


# --- loading ---------------------------------------------------------------------------------


@contextmanager
def _file_data(data: dict[str, Any]) -> Iterator[None]:
    token = _FILE_DATA.set(data)
    try:
        yield
    finally:
        _FILE_DATA.reset(token)


def load_settings(
    path: Path | str | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Load the settings: defaults < file < environment < ``overrides``.

    Raises :class:`ConfigError` naming the key for unknown keys and bad values.
    """
    config_path = find_config_file(path)
    data = read_config_file(config_path) if config_path is not None else {}
    init = nest_overrides(overrides or {})
    source = str(config_path) if config_path is not None else ""
    try:
        with _file_data(data):
            return Settings(**init)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None
    except SettingsError as exc:  # an env var holding invalid JSON for a list or section
        raise ConfigError(env_error_message(exc)) from None


__all__ = [
    "CONFIG_ENV",
    "DATA_DIR_ENV",
    "ApiConfig",
    "ApiKeyConfig",
    "CacheConfig",
    "ClusterConfig",
    "EnginesConfig",
    "HnswConfig",
    "LocalEngineConfig",
    "LoggingConfig",
    "MetricsConfig",
    "PdfConfig",
    "PostprocessingConfig",
    "PreprocessingConfig",
    "QuantizationConfig",
    "RateLimitConfig",
    "RemoteConfig",
    "Section",
    "ServerConfig",
    "Settings",
    "default_data_dir",
    "expand_vars",
    "find_config_file",
    "format_validation_error",
    "load_settings",
    "read_config_file",
]
