"""Convert a whole PDF: pages in parallel on a thread pool, a failing page does not stop the rest.

PDFium work is serialised by a lock and is a small share of a page's time; formula recognition
and text OCR (onnxruntime, numpy) release the GIL and run in parallel.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import pypdfium2 as pdfium

from scipix.engines.base import Engine
from scipix.errors import ScipixError
from scipix.pdf.document import PDFIUM_LOCK, PdfLimits, open_pdf, parse_page_ranges
from scipix.pdf.model import PageResult
from scipix.pdf.page import PageOptions, finish_born_digital, prepare_page

log = logging.getLogger("scipix.pdf")

Progress = Callable[[PageResult], None]


def page_error(number: int, exc: BaseException) -> PageResult:
    """A failed page: its error as a Mathpix error object."""
    if isinstance(exc, ScipixError):
        error = {"id": exc.error_id, "message": exc.message}
    else:
        error = {"id": "sys_exception", "message": f"internal error: {type(exc).__name__}"}
    return PageResult(number, 0.0, 0.0, (), error=error)


def convert_page(
    doc: pdfium.PdfDocument, index: int, engine: Engine, opts: PageOptions
) -> PageResult:
    """Convert page ``index`` (0-based); errors come back in the result, not raised."""
    try:
        prep = prepare_page(doc, index, opts)
        if prep.scan is not None:
            from scipix.pdf.scanned import convert_scanned

            return convert_scanned(prep, engine, opts)
        return finish_born_digital(prep, engine, opts)
    except Exception as exc:
        if not isinstance(exc, ScipixError):
            log.exception("page %d failed", index + 1)
        return page_error(index + 1, exc)


def convert_bytes_page(data: bytes, index: int, engine: Engine, opts: PageOptions) -> PageResult:
    """Open ``data`` and convert one page (for job workers that hold only the file)."""
    try:
        with PDFIUM_LOCK:
            doc = open_pdf(data, PdfLimits(max_pages=10**9, max_bytes=len(data) + 1))
    except ScipixError as exc:
        return page_error(index + 1, exc)
    try:
        return convert_page(doc, index, engine, opts)
    finally:
        with PDFIUM_LOCK:
            doc.close()


def default_workers(configured: int = 0) -> int:
    if configured > 0:
        return configured
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def convert_pdf(
    data: bytes,
    engine: Engine,
    *,
    pages: str | Sequence[int] | None = None,
    opts: PageOptions | None = None,
    limits: PdfLimits | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> list[PageResult]:
    """Convert the chosen pages (a range string such as ``"1-3,5"`` or 0-based indexes).

    Raises :class:`~scipix.errors.PdfError` when the file itself cannot be used; a page that
    fails comes back with its ``error`` set. ``progress`` is called once per finished page.
    """
    options = opts or PageOptions()
    with PDFIUM_LOCK:
        doc = open_pdf(data, limits)
        count = len(doc)
    try:
        if pages is None or isinstance(pages, str):
            indexes = parse_page_ranges(pages, count)
        else:
            indexes = list(pages)
        results: dict[int, PageResult] = {}
        with ThreadPoolExecutor(max_workers=default_workers(workers)) as pool:
            futures = {pool.submit(convert_page, doc, i, engine, options): i for i in indexes}
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if progress is not None:
                    progress(result)
        return [results[i] for i in indexes]
    finally:
        with PDFIUM_LOCK:
            doc.close()


__all__ = [
    "Progress",
    "convert_bytes_page",
    "convert_page",
    "convert_pdf",
    "default_workers",
    "page_error",
]
