"""Opening PDFs: page ranges and the error ids of unusable files."""

from __future__ import annotations

import pytest

from scipix.errors import PdfError
from scipix.pdf import PdfLimits, page_count, parse_page_ranges


def test_page_ranges() -> None:
    assert parse_page_ranges("1-3,5", 6) == [0, 1, 2, 4]
    assert parse_page_ranges(None, 3) == [0, 1, 2]
    assert parse_page_ranges("", 2) == [0, 1]
    assert parse_page_ranges("4-", 5) == [3, 4]
    assert parse_page_ranges("-2", 5) == [0, 1]
    assert parse_page_ranges("2,2,1", 5) == [0, 1]
    for bad in ("0", "3-1", "x", "1-9", "1,,2"):
        with pytest.raises(PdfError) as info:
            parse_page_ranges(bad, 5)
        assert info.value.error_id == "pdf_page_range_error"


def _error_id(data: bytes, limits: PdfLimits | None = None) -> str:
    with pytest.raises(PdfError) as info:
        page_count(data, limits)
    return info.value.error_id


def test_valid_paper(paper_pdf: bytes) -> None:
    assert page_count(paper_pdf) == 1


def test_encrypted(encrypted_pdf: bytes) -> None:
    assert _error_id(encrypted_pdf) == "pdf_encrypted"


def test_truncated(paper_pdf: bytes) -> None:
    assert _error_id(paper_pdf[: len(paper_pdf) // 3]) == "pdf_decode_error"


def test_not_a_pdf() -> None:
    assert _error_id(b"\x89PNG\r\n\x1a\n not a pdf") == "pdf_decode_error"
    assert _error_id(b"") == "pdf_decode_error"


def test_zero_pages(empty_pdf: bytes) -> None:
    assert _error_id(empty_pdf) == "pdf_no_pages"


def test_limits(paper_pdf: bytes, two_column_pdf: bytes) -> None:
    assert _error_id(paper_pdf, PdfLimits(max_bytes=1000)) == "pdf_max_size"
    pages = page_count(two_column_pdf)
    assert pages >= 1
    doubled = PdfLimits(max_pages=pages - 1) if pages > 1 else None
    if doubled is not None:
        assert _error_id(two_column_pdf, doubled) == "pdf_page_limit_exceeded"
    assert _error_id(paper_pdf, PdfLimits(max_pages=0)) == "pdf_page_limit_exceeded"
