"""Build engines by name. Engine modules are imported lazily, only when asked for.

Every engine class takes the whole :class:`~scipix.config.Settings` in its constructor and loads
its models there. An engine whose module is not installed is reported as not available; there is
never a stand-in that makes up output.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from scipix.errors import ConfigError

if TYPE_CHECKING:
    from scipix.config import Settings
    from scipix.engines.base import Engine

EngineFactory = Callable[["Settings"], "Engine"]

# name -> (module, class name); the class is called with the settings.
_BUILTIN: dict[str, tuple[str, str]] = {
    "local": ("scipix.engines.local", "LocalEngine"),
    "remote": ("scipix.engines.remote", "RemoteEngine"),
    "fallback": ("scipix.engines.policy", "build_fallback"),
}
ALIASES: dict[str, str] = {"mathpix": "remote"}

_REGISTERED: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make ``factory(settings)`` available as engine ``name`` (overrides a built-in)."""
    _REGISTERED[name] = factory


def engine_names() -> list[str]:
    """Every engine name this build knows of, available or not."""
    return sorted({*_BUILTIN, *_REGISTERED})


def _load_builtin(name: str) -> EngineFactory:
    module_name, class_name = _BUILTIN[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ConfigError(f"engine '{name}' is not available in this installation") from None
        raise
    factory: EngineFactory | None = getattr(module, class_name, None)
    if factory is None:
        raise ConfigError(f"engine '{name}' is not available: {module_name}.{class_name} missing")
    return factory


def build_engine(settings: Settings, name: str | None = None) -> Engine:
    """Build the engine ``name`` (default: ``settings.engines.default``).

    Names are built-ins (``local``, ``remote`` = the ``[api]`` section, ``fallback``),
    registered factories, then the named remotes of ``[engines.remotes]``.
    Raises :class:`ConfigError` for an unknown or unavailable engine. Errors raised while the
    engine loads its models (``ModelError`` and others) pass through.
    """
    chosen = name or settings.engines.default
    chosen = ALIASES.get(chosen, chosen)
    if chosen in _REGISTERED:
        factory = _REGISTERED[chosen]
    elif chosen in _BUILTIN:
        factory = _load_builtin(chosen)
    elif chosen in settings.engines.remotes:
        from scipix.engines.remote import RemoteEngine

        return RemoteEngine(settings, chosen)
    else:
        known = sorted({*engine_names(), *settings.engines.remotes})
        raise ConfigError(f"unknown engine '{chosen}': expected one of " + ", ".join(known))
    return factory(settings)


def cache_producer(settings: Settings) -> str:
    """What fills the similarity cache: the local recognizer's model fingerprint, pipeline
    revision, beam width, rescaled retries and scan thresholds (the cache drops its entries
    when this changes, e.g. after a model upgrade)."""
    from scipix.recognizer.config import MODELS
    from scipix.recognizer.predictor import PIPELINE_REVISION

    local = settings.engines.local
    model = MODELS.get(local.model)
    fingerprint = model.fingerprint() if model is not None else "unknown"
    retry = ",".join(f"{x:g}" for x in local.retry_scales)
    scans = ",".join(f"{x:g}" for x in local.scan_thresholds)
    cuts = ",".join(f"{x:g}" for x in local.clean_thresholds)
    return (
        f"{local.model}:{fingerprint}:p{PIPELINE_REVISION}:beam{local.beam_width}"
        f":retry{local.retry_below:g}@{retry}:x{int(local.cross_check)}{int(local.third_size)}"
        f":sp{int(local.respace)}{int(local.delimiters)}"
        f":scan{local.scan_below:g}@{scans}:r{int(local.scan_resize)}:m{int(local.scan_model)}"
        f":cut{local.clean_below:g}@{cuts}"
    )


__all__ = [
    "ALIASES",
    "EngineFactory",
    "build_engine",
    "cache_producer",
    "engine_names",
    "register_engine",
]
