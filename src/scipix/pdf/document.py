"""Opening PDFs with pypdfium2: validation, Mathpix-style errors, page ranges, one global lock.

PDFium is not thread-safe, even across documents, so every call into it goes through
:data:`PDFIUM_LOCK`. Callers hold the lock only while they read a page's text layer or render
pixels; recognition runs outside it, in parallel.
"""

from __future__ import annotations

import ctypes
import re
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from scipix.errors import PdfError

PDFIUM_LOCK = threading.RLock()


class PdfEncrypted(PdfError):
    error_id = "pdf_encrypted"


class PdfDecodeError(PdfError):
    error_id = "pdf_decode_error"


class PdfNoPages(PdfError):
    error_id = "pdf_no_pages"


class PdfPageLimitExceeded(PdfError):
    error_id = "pdf_page_limit_exceeded"


class PdfTooLarge(PdfError):
    error_id = "pdf_max_size"
    http_status = 413


class PdfPageRangeError(PdfError):
    error_id = "pdf_page_range_error"


@dataclass(frozen=True, slots=True)
class PdfLimits:
    max_pages: int = 500
    max_bytes: int = 50 * 1024 * 1024


_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_EMPTY_TREE = re.compile(rb"/Count\s+0(?![0-9])")


def _load_error(code: int, data: bytes) -> PdfError:
    # PDFium refuses a document whose page tree is empty without setting an error code (the
    # code it reports then is stale), so look for an empty page tree first
    if _EMPTY_TREE.search(data) and not _PAGE_OBJECT.search(data):
        return PdfNoPages("the PDF has no pages")
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        return PdfEncrypted("the PDF is encrypted and needs a password")
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return PdfEncrypted("the PDF uses an unsupported security handler")
    if code == pdfium_c.FPDF_ERR_FORMAT:
        return PdfDecodeError("the file is not a valid PDF (broken or truncated)")
    return PdfDecodeError(f"the PDF cannot be opened (pdfium error {code})")


def open_pdf(data: bytes, limits: PdfLimits | None = None) -> pdfium.PdfDocument:
    """Open ``data`` as a PDF or raise a :class:`PdfError` with a Mathpix-style id.

    Call with :data:`PDFIUM_LOCK` held; close the document (under the lock) when done.
    """
    lim = limits or PdfLimits()
    if len(data) > lim.max_bytes:
        raise PdfTooLarge(f"the PDF is {len(data)} bytes, over the limit of {lim.max_bytes}")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise PdfDecodeError("the file is not a PDF (no %PDF header)")
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        raise _load_error(-1 if code is None else int(code), data) from None
    try:
        count = len(doc)
        if count == 0:
            raise PdfNoPages("the PDF has no pages")
        if count > lim.max_pages:
            raise PdfPageLimitExceeded(
                f"the PDF has {count} pages, over the limit of {lim.max_pages}"
            )
        if _broken_pages(doc, count):
            raise PdfDecodeError("the PDF is broken or truncated: its pages cannot be read")
    except BaseException:
        doc.close()
        raise
    return doc


def _broken_pages(doc: pdfium.PdfDocument, count: int) -> bool:
    """True when the first page cannot be sized (a damaged file pdfium half-opened)."""
    width, height = ctypes.c_double(), ctypes.c_double()
    ok = pdfium_c.FPDF_GetPageSizeByIndex(doc.raw, 0, ctypes.byref(width), ctypes.byref(height))
    return not ok or width.value <= 0 or height.value <= 0 or count < 0


def page_count(data: bytes, limits: PdfLimits | None = None) -> int:
    """Validate ``data`` and return its number of pages."""
    with PDFIUM_LOCK:
        doc = open_pdf(data, limits)
        try:
            return len(doc)
        finally:
            doc.close()


_RANGE = re.compile(r"^\s*(\d+)?\s*(-\s*(\d+)?)?\s*$")


def parse_page_ranges(spec: str | None, num_pages: int) -> list[int]:
    """1-based ranges such as ``"1-3,5"``, ``"4-"`` or ``"-2"`` -> sorted 0-based page indexes.

    ``None`` or ``""`` means every page. Pages past the end are refused.
    """
    if spec is None or not spec.strip():
        return list(range(num_pages))
    pages: set[int] = set()
    for part in spec.split(","):
        match = _RANGE.match(part)
        if match is None or (match.group(1) is None and match.group(3) is None):
            raise PdfPageRangeError(f"bad page range {part.strip()!r} in {spec!r}")
        first = int(match.group(1)) if match.group(1) else 1
        if match.group(2) is None:
            last = first
        else:
            last = int(match.group(3)) if match.group(3) else num_pages
        if first < 1 or last < first:
            raise PdfPageRangeError(f"bad page range {part.strip()!r} in {spec!r}")
        if last > num_pages:
            raise PdfPageRangeError(
                f"page range {part.strip()!r} is past the last page ({num_pages})"
            )
        pages.update(range(first - 1, last))
    return sorted(pages)


__all__ = [
    "PDFIUM_LOCK",
    "PdfDecodeError",
    "PdfEncrypted",
    "PdfLimits",
    "PdfNoPages",
    "PdfPageLimitExceeded",
    "PdfPageRangeError",
    "PdfTooLarge",
    "open_pdf",
    "page_count",
    "parse_page_ranges",
]
