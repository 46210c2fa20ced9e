"""Helpers of :mod:`scipix.config`: read the TOML file, expand ``${VAR}``, word errors."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError

from scipix.errors import ConfigError

CONFIG_ENV = "SCIPIX_CONFIG"
DEFAULT_CONFIG_NAME = "scipix.toml"

# --- file reading and error messages -----------------------------------------------------------------------------------

_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_vars(text: str, env: Mapping[str, str] | None = None) -> str:
    """Expand ``${VAR}`` (empty when unset) and ``${VAR:-default}``; ``$$`` is a literal ``$``."""
    environ = os.environ if env is None else env

    def repl(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        value = environ.get(m.group(1), "")
        if not value and m.group(2) is not None:
            return m.group(2)
        return value

    return _VAR.sub(repl, text)


def _expand_tree(value: Any) -> Any:
    if isinstance(value, str):
        return expand_vars(value)
    if isinstance(value, dict):
        return {k: _expand_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_tree(v) for v in value]
    return value


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML config file and expand ``${VAR}`` in its string values."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    expanded: dict[str, Any] = _expand_tree(data)
    return expanded


def find_config_file(path: Path | str | None = None) -> Path | None:
    """The explicit path, else ``$SCIPIX_CONFIG``, else ``./scipix.toml`` if it exists."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    return local if local.is_file() else None


def nest_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Turn dotted keys (``server.port``) into nested dicts and merge nested dicts."""
    out: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        parts = str(raw_key).split(".")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override '{raw_key}': '{part}' is not a section")
            node = child
        leaf = parts[-1]
        if isinstance(value, Mapping):
            existing = node.setdefault(leaf, {})
            if not isinstance(existing, dict):
                raise ConfigError(f"override '{raw_key}' conflicts with another override")
            for k, v in nest_overrides(value).items():
                existing[k] = v
        else:
            node[leaf] = value
    return out


def format_validation_error(exc: ValidationError, source: str = "") -> str:
    """One line per problem, each naming the dotted key."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{loc}: {msg}")
    prefix = f"invalid configuration{f' in {source}' if source else ''}: "
    return prefix + "; ".join(lines)


def env_error_message(exc: SettingsError) -> str:
    match = re.search(r'field "([^"]+)"', str(exc))
    field = match.group(1) if match else ""
    prefix = f"SCIPIX_{field.upper()}"
    names = sorted(n for n in os.environ if field and n.upper().startswith(prefix))
    where = ", ".join(names) if names else f"{prefix}*"
    return (
        f"invalid configuration: cannot parse environment variable {where} "
        '(lists and tables must be JSON, e.g. \'["a", "b"]\')'
    )


__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "env_error_message",
    "expand_vars",
    "find_config_file",
    "format_validation_error",
    "nest_overrides",
    "read_config_file",
]
