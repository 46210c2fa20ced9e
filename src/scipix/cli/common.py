"""Helpers shared by the CLI command modules: settings, errors, output consoles."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from scipix.config import Settings, load_settings
from scipix.errors import ConfigError, ScipixError

# Results go to stdout through typer.echo (plain text: LaTeX must not be read as rich markup);
# messages go to stderr through this console.
err_console = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

EXIT_ERROR = 1

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default: $SCIPIX_CONFIG, else ./scipix.toml if present).",
        dir_okay=False,
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override one setting, e.g. --set server.port=9000 (repeatable; JSON values).",
        metavar="KEY=VALUE",
    ),
]


def one_line(message: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(message.split())


def error(message: str) -> None:
    """Print a one-line error to stderr."""
    err_console.print(f"error: {one_line(message)}", style="red")


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print a one-line error and leave with ``code``."""
    error(message)
    raise typer.Exit(code)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn a ScipixError into a one-line message and a non-zero exit, never a traceback."""
    try:
        yield
    except ScipixError as exc:
        fail(str(exc))


def parse_sets(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``["server.port=9000"]`` -> ``{"server.port": 9000}`` (values parsed as JSON if they can be)."""
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set needs KEY=VALUE, got '{pair}'")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def settings_from_cli(
    config: Path | None, sets: Sequence[str] | None = None, extra: dict[str, Any] | None = None
) -> Settings:
    """Load settings for a command: file < env < ``--set`` < command flags (``extra``)."""
    overrides = parse_sets(sets)
    overrides.update(extra or {})
    settings = load_settings(config, overrides)
    configure_logging(settings)
    return settings


def configure_logging(settings: Settings) -> None:
    """Send log records to stderr at the configured level (once per process)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        if settings.logging.format == "json":
            handler.setFormatter(JsonFormatter())
        else:
            handler.setFormatter(
                logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
        root.addHandler(handler)
    logging.getLogger("scipix").setLevel(settings.logging.level)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and request_id if set)."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            payload["request_id"] = request_id
        if record.exc_info:
            payload["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


__all__ = [
    "EXIT_ERROR",
    "ConfigOption",
    "JsonFormatter",
    "SetOption",
    "cli_errors",
    "configure_logging",
    "err_console",
    "error",
    "fail",
    "one_line",
    "parse_sets",
    "settings_from_cli",
]
