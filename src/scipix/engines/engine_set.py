"""Per-request engine choice: engines built on first use, once, and shared.

The server (or any caller) keeps one :class:`EngineSet`; ``get(name)`` returns the engine for a
request's ``engine`` option, built with :func:`~scipix.engines.registry.build_engine` and passed
through ``wrap`` (e.g. ``lambda e: CachedEngine(e, cache)``, so every engine sits behind the
cache). ``check_allowed`` applies a key's ``engines`` list (empty: every engine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from scipix.engines.base import Engine
from scipix.engines.registry import ALIASES, build_engine
from scipix.errors import ConfigError, OptionsError

if TYPE_CHECKING:
    from scipix.config import Settings


class EngineSet:
    """Engines by name, built lazily; ``default`` (already built) answers ``get(None)``."""

    def __init__(
        self,
        settings: Settings,
        default: Engine | None = None,
        wrap: Callable[[Engine], Engine] | None = None,
    ) -> None:
        self.settings = settings
        self.default_name = canonical(settings.engines.default)
        self._wrap = wrap or (lambda engine: engine)
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        if default is not None:
            self._engines[self.default_name] = default

    def get(self, name: str | None = None) -> Engine:
        """The engine ``name`` (default: ``engines.default``); raises OptionsError if unknown."""
        key = canonical(name) if name else self.default_name
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                try:
                    engine = self._wrap(build_engine(self.settings, key))
                except ConfigError as exc:
                    raise OptionsError(str(exc), error_id="opts_invalid_value") from None
                self._engines[key] = engine
            return engine

    def built(self) -> dict[str, Engine]:
        with self._lock:
            return dict(self._engines)


def canonical(name: str) -> str:
    return ALIASES.get(name, name)


def check_allowed(name: str | None, allowed: Sequence[str], default: str) -> None:
    """Raise when a key limited to ``allowed`` engines asks for another (empty: all allowed)."""
    chosen = canonical(name or default)
    if allowed and chosen not in {canonical(a) for a in allowed}:
        raise OptionsError(
            f"this key may not use engine '{chosen}' (allowed: {', '.join(allowed)})",
            error_id="opts_invalid_value",
        )


__all__ = ["EngineSet", "canonical", "check_allowed"]
