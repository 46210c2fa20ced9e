"""PDFs built in the tests: a small LaTeX paper (pdflatex), its scanned (image-only) version,
an encrypted, a truncated and an empty PDF; and the real local engine."""

from __future__ import annotations

import io

import pytest
from pdf_samples import PAPER, TWO_COLUMN, compile_latex, image_only, minimal_pdf

from scipix.config import load_settings
from scipix.engines.base import Engine


@pytest.fixture(scope="session")
def paper_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return compile_latex(PAPER, tmp_path_factory.mktemp("paper"))


@pytest.fixture(scope="session")
def two_column_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return compile_latex(TWO_COLUMN, tmp_path_factory.mktemp("twocol"), "twocol")


@pytest.fixture(scope="session")
def scanned_pdf(paper_pdf: bytes) -> bytes:
    return image_only(paper_pdf)


@pytest.fixture(scope="session")
def encrypted_pdf(paper_pdf: bytes) -> bytes:
    pypdf = pytest.importorskip("pypdf", reason="pypdf builds the encrypted PDF (dev extra)")
    reader = pypdf.PdfReader(io.BytesIO(paper_pdf))
    writer = pypdf.PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.fixture(scope="session")
def empty_pdf() -> bytes:
    return minimal_pdf(
        ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"]
    )


@pytest.fixture(scope="session")
def engine() -> Engine:
    from scipix.engines.registry import build_engine

    return build_engine(load_settings(None, {"cache.enabled": False}))
