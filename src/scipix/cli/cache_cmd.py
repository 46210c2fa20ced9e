"""``scipix cache stats|search|clear``."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Annotated

import typer

from scipix.cli.common import ConfigOption, SetOption, cli_errors, err_console, settings_from_cli

if TYPE_CHECKING:
    from scipix.cache import SimilarityCache

cache_app = typer.Typer(help="Inspect or clear the similarity cache.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _open(config: ConfigOption, sets: SetOption) -> SimilarityCache:
    from scipix.cache import SimilarityCache

    settings = settings_from_cli(config, sets)
    return SimilarityCache.open(settings.cache)


@cache_app.command("stats")
def stats(config: ConfigOption = None, sets: SetOption = None, as_json: JsonFlag = False) -> None:
    """Entries, memory, disk, hits, misses and hit rate."""
    with cli_errors():
        cache = _open(config, sets)
        try:
            s = cache.stats()
        finally:
            cache.close()
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(s), indent=2))
        return
    for field in dataclasses.fields(s):
        value = getattr(s, field.name)
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        typer.echo(f"{field.name:>14}: {shown}")


@cache_app.command("search")
def search(
    latex: Annotated[str, typer.Argument(help="LaTeX to look for (n-gram similarity).")],
    k: Annotated[int, typer.Option("-k", "--limit", min=1, max=100, help="How many.")] = 10,
    config: ConfigOption = None,
    sets: SetOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Cached formulas whose LaTeX is most like LATEX."""
    with cli_errors():
        cache = _open(config, sets)
        try:
            hits = cache.search(latex, k)
        finally:
            cache.close()
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(h) for h in hits], indent=2, ensure_ascii=False))
        return
    if not hits:
        err_console.print("no cached formula is like that")
    for h in hits:
        typer.echo(f"{h.similarity:.3f}\t{h.latex}")


@cache_app.command("clear")
def clear(
    config: ConfigOption = None,
    sets: SetOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete every cached entry."""
    if not yes and not typer.confirm("Delete every cached entry?"):
        raise typer.Exit(1)
    with cli_errors():
        cache = _open(config, sets)
        try:
            before = cache.stats().entries
            cache.clear()
        finally:
            cache.close()
    err_console.print(f"cleared {before} entries")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


__all__ = ["cache_app", "register"]
