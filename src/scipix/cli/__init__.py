"""The ``scipix`` command line (typer + rich).

Each command group lives in its own module that exposes ``register(app)``; add a module to
``COMMAND_MODULES`` to register it. Command modules must import heavy dependencies (server,
models, index libraries) inside their command functions so that ``scipix --version`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from scipix import __version__
from scipix.cli.common import error
from scipix.errors import ScipixError

app = typer.Typer(
    name="scipix",
    help="Scipix: self-hosted math OCR (images of formulas to LaTeX).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

# One line per command module; each exposes register(app: typer.Typer) -> None.
COMMAND_MODULES: tuple[str, ...] = (
    "scipix.cli.ocr",
    "scipix.cli.config_cmd",
    "scipix.cli.serve",
    "scipix.cli.cache_cmd",
    "scipix.cli.bench_cmd",
    "scipix.cli.engines_cmd",
    "scipix.cli.pdf_cmd",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"scipix {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", help="Print the version and exit.", callback=_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Scipix: self-hosted math OCR (images of formulas to LaTeX)."""


def _register_all() -> None:
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(app)


_register_all()


def main() -> None:
    """Console-script entry point: ScipixError becomes one line on stderr and exit code 1."""
    try:
        app()
    except ScipixError as exc:
        error(str(exc))
        raise SystemExit(1) from None


__all__ = ["COMMAND_MODULES", "app", "main"]
