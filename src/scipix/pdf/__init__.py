"""PDF to Mathpix Markdown: text layers, scanned pages, formulas read by the math engine."""

from scipix.pdf.convert import convert_bytes_page, convert_page, convert_pdf, page_error
from scipix.pdf.document import (
    PDFIUM_LOCK,
    PdfDecodeError,
    PdfEncrypted,
    PdfLimits,
    PdfNoPages,
    PdfPageLimitExceeded,
    PdfPageRangeError,
    PdfTooLarge,
    open_pdf,
    page_count,
    parse_page_ranges,
)
from scipix.pdf.model import Box, PageLine, PageResult, Segment
from scipix.pdf.output import FORMATS, Delimiters, render
from scipix.pdf.page import PageOptions

__all__ = [
    "FORMATS",
    "PDFIUM_LOCK",
    "Box",
    "Delimiters",
    "PageLine",
    "PageOptions",
    "PageResult",
    "PdfDecodeError",
    "PdfEncrypted",
    "PdfLimits",
    "PdfNoPages",
    "PdfPageLimitExceeded",
    "PdfPageRangeError",
    "PdfTooLarge",
    "Segment",
    "convert_bytes_page",
    "convert_page",
    "convert_pdf",
    "open_pdf",
    "page_count",
    "page_error",
    "parse_page_ranges",
    "render",
]
