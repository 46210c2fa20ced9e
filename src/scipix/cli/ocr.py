"""``scipix ocr FILE...``: recognise formula images and print one result per file."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from scipix.cli.common import (
    EXIT_ERROR,
    ConfigOption,
    SetOption,
    cli_errors,
    err_console,
    error,
    settings_from_cli,
)
from scipix.config import Settings
from scipix.engines.base import Engine, RecognizeOptions
from scipix.errors import ScipixError
from scipix.io import DecodedImage, load_image
from scipix.types import OcrResult


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    LATEX = "latex"
    JSON = "json"
    MATHML = "mathml"
    ASCIIMATH = "asciimath"


def _latex(result: OcrResult) -> str:
    return result.latex_styled or result.latex


def _text(result: OcrResult) -> str:
    return result.text


def _mathml(result: OcrResult) -> str:
    from scipix.formats import to_mathml

    latex = _latex(result)
    return to_mathml(latex) if latex else ""


def _asciimath(result: OcrResult) -> str:
    from scipix.formats import to_asciimath

    return to_asciimath(_latex(result))


FORMATTERS: dict[OutputFormat, Callable[[OcrResult], str]] = {
    OutputFormat.TEXT: _text,
    OutputFormat.LATEX: _latex,
    OutputFormat.MATHML: _mathml,
    OutputFormat.ASCIIMATH: _asciimath,
}


def result_json(path: Path, result: OcrResult) -> dict[str, Any]:
    """The JSON object printed for one file."""
    data = result.to_dict()
    return {"file": str(path), **data}


def _build(settings: Settings, engine_name: str | None) -> Engine:
    """The engine asked for, behind the similarity cache when ``cache.enabled``."""
    from scipix.engines.registry import build_engine

    engine = build_engine(settings, engine_name)
    if not settings.cache.enabled:
        return engine
    from scipix.cache import SimilarityCache
    from scipix.engines.cached import CachedEngine
    from scipix.engines.registry import cache_producer

    return CachedEngine(engine, SimilarityCache.open(settings.cache, cache_producer(settings)))


def _recognize_all(
    files: list[Path], settings: Settings, engine_name: str | None
) -> list[tuple[Path, OcrResult | ScipixError]]:
    """Decode every file first (cheap, fails fast), then build the engine once and recognise."""
    decoded: list[tuple[Path, DecodedImage | ScipixError]] = []
    for path in files:
        try:
            image = load_image(
                path,
                max_bytes=settings.preprocessing.max_image_bytes,
                max_pixels=settings.preprocessing.max_image_pixels,
            )
        except ScipixError as exc:
            decoded.append((path, exc))
        else:
            decoded.append((path, image))

    engine: Engine | None = None
    options = RecognizeOptions(rm_spaces=settings.postprocessing.rm_spaces)
    results: list[tuple[Path, OcrResult | ScipixError]] = []
    for path, item in decoded:
        if isinstance(item, ScipixError):
            results.append((path, item))
            continue
        if engine is None:
            with cli_errors():
                engine = _build(settings, engine_name)
        try:
            results.append((path, engine.recognize(item, options)))
        except ScipixError as exc:
            results.append((path, exc))
    return results


def ocr(
    files: Annotated[
        list[Path], typer.Argument(help="Images to recognise (PNG, JPEG, WebP, BMP, GIF, TIFF).")
    ],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="What to print for each file.")
    ] = OutputFormat.LATEX,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    engine: Annotated[
        str | None, typer.Option("--engine", "-e", help="Engine name (default: engines.default).")
    ] = None,
    config: ConfigOption = None,
    sets: SetOption = None,
) -> None:
    """Recognise each image and print one result per file (JSON: one object per line)."""
    if as_json:
        fmt = OutputFormat.JSON
    with cli_errors():
        settings = settings_from_cli(config, sets)
    show_names = len(files) > 1
    failed = 0
    if show_names and err_console.is_terminal:
        err_console.print(f"recognising {len(files)} files ...")
    for path, outcome in _recognize_all(files, settings, engine):
        if isinstance(outcome, ScipixError):
            failed += 1
            error(f"{path}: {outcome}")
            continue
        threshold = settings.postprocessing.confidence_threshold
        if outcome.latex and outcome.confidence < threshold:
            err_console.print(
                f"warning: {path}: low confidence {outcome.confidence:.2f} "
                f"(postprocessing.confidence_threshold = {threshold}); check the result",
                markup=False,
                highlight=False,
            )
        elif not outcome.latex and outcome.reason:
            err_console.print(f"warning: {path}: {outcome.reason}", markup=False, highlight=False)
        if fmt is OutputFormat.JSON:
            typer.echo(json.dumps(result_json(path, outcome), ensure_ascii=False))
            continue
        with cli_errors():
            line = FORMATTERS[fmt](outcome)
        typer.echo(f"{path}: {line}" if show_names else line)
    if failed:
        raise typer.Exit(EXIT_ERROR)


def register(app: typer.Typer) -> None:
    app.command("ocr")(ocr)


__all__ = ["FORMATTERS", "OutputFormat", "ocr", "register", "result_json"]
