"""``scipix bench``: the recognizer accuracy and latency benchmark (needs TeX)."""

from __future__ import annotations

from typing import Annotated

import typer


def bench(
    args: Annotated[
        list[str] | None,
        typer.Argument(help="Options of the benchmark, e.g. --n 200 --dpis 150 (see --help)."),
    ] = None,
) -> None:
    """Render formulas with TeX, recognise them, and report accuracy and latency."""
    from scipix.bench import main

    main(args or [])


def register(app: typer.Typer) -> None:
    app.command(
        "bench", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(bench)
