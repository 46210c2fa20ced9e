"""``scipix pdf FILE``: convert a PDF to Mathpix Markdown (or .md, .tex, lines.json)."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from scipix.cli.common import (
    EXIT_ERROR,
    ConfigOption,
    SetOption,
    cli_errors,
    err_console,
    error,
    fail,
    settings_from_cli,
)


class PdfFormat(enum.StrEnum):
    MMD = "mmd"
    MD = "md"
    TEX = "tex"
    LINES_JSON = "lines.json"


def pdf(
    file: Annotated[Path, typer.Argument(help="The PDF to convert.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (default: print to stdout)."),
    ] = None,
    pages: Annotated[
        str | None, typer.Option("--pages", "-p", help="Page ranges, e.g. 1-3,5 (default: all).")
    ] = None,
    fmt: Annotated[PdfFormat, typer.Option("--format", "-f", help="Output format.")] = (
        PdfFormat.MMD
    ),
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="Engine name (default: engines.default).")
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Convert FILE: text from its text layer (or text OCR for scanned pages), formulas as
    LaTeX. Pages run in parallel; a progress bar shows on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scipix.engines.registry import build_engine
    from scipix.pdf import PageResult, PdfLimits, convert_pdf, render
    from scipix.pdf.convert import default_workers

    with cli_errors():
        settings = settings_from_cli(config, sets)
    if not file.is_file():
        fail(f"no such file: {file}")
    cfg = settings.pdf
    limits = PdfLimits(cfg.max_pages, int(cfg.max_file_size_mb * 1024 * 1024))
    data = file.read_bytes()
    with cli_errors():
        eng = build_engine(settings, engine)
        from scipix.engines.remote import RemoteEngine

        if isinstance(eng, RemoteEngine):  # the remote converts the whole document itself
            _remote(eng, data, fmt, pages, output)
            return
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as bar:
            task = bar.add_task(f"{file.name}", total=None)

            def progress(_page: PageResult) -> None:
                bar.advance(task)

            from scipix.pdf import page_count, parse_page_ranges

            total = len(parse_page_ranges(pages, page_count(data, limits)))
            bar.update(task, total=total)
            results = convert_pdf(
                data,
                eng,
                pages=pages,
                limits=limits,
                workers=default_workers(cfg.workers),
                progress=progress,
            )
    failed = [r for r in results if r.error is not None]
    for r in failed:
        assert r.error is not None
        error(f"page {r.page}: {r.error['message']} ({r.error['id']})")
    text = render(results, fmt.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output} ({len(results) - len(failed)}/{len(results)} pages)")
    if failed and len(failed) == len(results):
        raise typer.Exit(EXIT_ERROR)


def _remote(
    eng: object, data: bytes, fmt: PdfFormat, pages: str | None, output: Path | None
) -> None:
    from scipix.engines.remote import RemoteEngine
    from scipix.engines.remote_pdf import convert_pdf_remote

    assert isinstance(eng, RemoteEngine)
    with err_console.status(f"converting on remote '{eng.name}' ..."):
        text = convert_pdf_remote(eng, data, fmt.value, page_ranges=pages)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output} (converted by remote '{eng.name}')")


def register(app: typer.Typer) -> None:
    app.command("pdf")(pdf)


__all__ = ["PdfFormat", "pdf", "register"]
