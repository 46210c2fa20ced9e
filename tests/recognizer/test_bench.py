"""The accuracy benchmark's pipeline on a few formulas rendered with real TeX."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scipix import bench
from scipix.recognizer import Recognizer

pytestmark = [
    pytest.mark.tex,
    pytest.mark.skipif(
        shutil.which("latex") is None or shutil.which("dvipng") is None,
        reason="needs latex and dvipng",
    ),
]


def test_textbook_sample_through_tex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    formulas = bench.load_set("textbook", 0, 0)[:12]
    result = bench.run_set(Recognizer.from_name(), "textbook", formulas, 150, "t12")
    assert result.n == 12 and result.skipped == 0
    assert result.image_ok >= 8  # the recognizer reads most simple textbook formulas
    assert len(result.latency) == 12
    assert "| textbook | 150 | 12 |" in result.row()
    assert any(tmp_path.glob("textbook-t12-150.npz"))  # rendered images are cached


def test_input_kind_is_scored_against_the_tex_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "CACHE", tmp_path)
    formulas = bench.load_set("textbook", 0, 0)[:6]
    result = bench.run_set(Recognizer.from_name(), "textbook", formulas, 150, "t6", "dark", 1)
    assert result.n == 6 and result.kind == "dark"
    assert result.image_ok >= 4  # dark mode reads like the clean render
    assert "| textbook | dark | 150 | 6 |" in result.row(with_kind=True)
    assert (tmp_path / "textbook-t6-dark-s1-150.npz").exists()
