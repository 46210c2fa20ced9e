"""``scipix pdf FILE``: output formats, page ranges, errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from scipix.cli import app

runner = CliRunner()


def test_pdf_command_writes_formats(paper_pdf: bytes, tmp_path: Path) -> None:
    src = tmp_path / "paper.pdf"
    src.write_bytes(paper_pdf)
    out = tmp_path / "paper.mmd"
    sets = ["--set", "cache.enabled=false"]
    result = runner.invoke(app, ["pdf", str(src), "-o", str(out), "--pages", "1", *sets])
    assert result.exit_code == 0, result.output
    assert "# On Simple Formulas" in out.read_text()
    result = runner.invoke(app, ["pdf", str(src), "--format", "lines.json", *sets])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["pages"][0]["page"] == 1


def test_pdf_command_errors(paper_pdf: bytes, encrypted_pdf: bytes, tmp_path: Path) -> None:
    src = tmp_path / "locked.pdf"
    src.write_bytes(encrypted_pdf)
    result = runner.invoke(app, ["pdf", str(src)])
    assert result.exit_code == 1 and "encrypted" in result.output
    plain = tmp_path / "paper.pdf"
    plain.write_bytes(paper_pdf)
    result = runner.invoke(app, ["pdf", str(plain), "--pages", "7"])
    assert result.exit_code == 1 and "past the last page" in result.output
