"""``scipix config show`` and ``scipix config validate``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from scipix.cli.common import ConfigOption, SetOption, cli_errors, settings_from_cli
from scipix.config import find_config_file, load_settings

config_app = typer.Typer(help="Show or check the configuration.", no_args_is_help=True)

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """Write a JSON-like dict as TOML; ``None`` values become comments (TOML has no null)."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict) or _is_table_list(value):
            tables.append((key, value))
        elif value is None:
            lines.append(f"# {_key(key)} is not set")
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables:
        name = f"{prefix}{_key(key)}"
        if isinstance(value, dict):
            body = to_toml(value, f"{name}.")
            lines.extend(["", f"[{name}]", *([body] if body else [])])
        else:
            for item in value:
                body = to_toml(item, f"{name}.")
                lines.extend(["", f"[[{name}]]", *([body] if body else [])])
    return "\n".join(lines).strip("\n")


@config_app.command("show")
def show(
    config: ConfigOption = None,
    sets: SetOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
) -> None:
    """Print the effective configuration (file < environment < --set), secrets masked."""
    with cli_errors():
        settings = settings_from_cli(config, sets)
    data = settings.public_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(to_toml(data))


@config_app.command("validate")
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Config file (default: $SCIPIX_CONFIG, else ./scipix.toml).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Check a config file (with the environment applied); exit 1 naming the bad key."""
    with cli_errors():
        found = find_config_file(path)
        load_settings(found)
    if found is None:
        typer.echo("ok: no config file; defaults and environment are valid")
    else:
        typer.echo(f"ok: {found} is valid")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")


__all__ = ["config_app", "register", "to_toml"]
