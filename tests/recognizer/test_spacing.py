"""Explicit math spaces set from the measured gaps (scipix.recognizer.spacing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from scipix.errors import ModelError
from scipix.recognizer import MODELS, Recognizer, RecognizerSettings
from scipix.recognizer.atoms import slots
from scipix.recognizer.reading import Reading
from scipix.recognizer.spacing import SpacingTable, choose, respace
from scipix.render.tex import TexRenderer, tex_available


def _pairs(latex: str) -> list[tuple[str, str, str]]:
    tokens = latex.split()
    return [(tokens[s.left], tokens[s.right], s.key) for s in slots(tokens)]


def test_slots_pair_symbols_side_by_side_at_base_level() -> None:
    pairs = _pairs(r"a = - b ^ { 2 } \, c")
    # a unary minus after a relation spaces as an ordinary symbol; after a script the left
    # atom is the script's base
    assert pairs == [
        ("a", "=", "ord>rel>glyph"),
        ("=", "-", "rel>ord>glyph"),
        ("-", "b", "ord>ord>glyph"),
        ("2", "c", "ord>ord>script"),
    ]
    # an operator's limits make its atom an operator; symbols inside scripts pair with none
    assert _pairs(r"\int _ { 0 } ^ { 1 } x") == [("1", "x", "op>ord>script")]
    # a numerator's last symbol and its denominator's first are not side by side
    assert _pairs(r"\frac { a } { b } c") == [("b", "c", "ord>ord>frac")]
    # operators with limits below them and operator names start right of their ink: no pair
    assert _pairs(r"= \sum _ { i } x") == [("i", "x", "op>ord>script")]
    assert _pairs(r"x \sin y") == [("\\sin", "y", "op>ord>glyph")]


def test_slots_know_teXs_atoms_around_delimiters_and_after_scripts() -> None:
    # \left...\right is an inner atom outside and opens / closes inside
    assert _pairs(r"f \left( x \right) y") == [
        ("f", "\\left(", "ord>inner>glyph"),
        ("\\left(", "x", "open>ord>glyph"),
        ("x", "\\right)", "ord>close>glyph"),
        ("\\right)", "y", "inner>ord>glyph"),
    ]
    # \bigl( opens, \big( is an ordinary symbol (a minus after it is binary), \bigm| relates
    assert _pairs(r"a \bigl ( b \big ( - c \bigm | d") == [
        ("a", "(", "ord>open>glyph"),
        ("(", "b", "open>ord>glyph"),
        ("b", "(", "ord>ord>glyph"),
        ("(", "-", "ord>bin>glyph"),
        ("-", "c", "bin>ord>glyph"),
        ("c", "|", "ord>rel>glyph"),
        ("|", "d", "rel>ord>glyph"),
    ]
    # a minus after a script ending in a binary operator is binary (its atom is the base's);
    # first in a group it is unary
    assert _pairs(r"x ^ { + } - y") == [("+", "-", "ord>bin>script"), ("-", "y", "bin>ord>glyph")]
    assert _pairs(r"a = { - b }") == [
        ("a", "=", "ord>rel>glyph"),
        ("=", "-", "rel>ord>glyph"),
        ("-", "b", "ord>ord>glyph"),
    ]
    # of a script's last symbol and the symbol after it only the latter has the base size
    tokens = ["x", "^", "{", "2", "}", "y"]
    assert [s.base_sized for s in slots(tokens)] == [(5,)]


def test_choose_keeps_the_models_spaces_unless_the_gap_contradicts_them() -> None:
    assert choose(0.0, 0.02) is None  # no space read, none measured
    assert choose(1 / 6, 0.17) is None  # a thin space read and measured
    assert choose(1 / 6, 0.0) == ()  # a thin space read where the symbols touch
    assert choose(0.326, 1.0) == ("\\quad",)  # a control space read, a quad measured
    assert choose(1.0, 1.97) == ("\\qquad",)
    assert choose(1.0, 0.66) == ("\\ ", "\\ ")  # a quad read, two control spaces measured
    assert choose(2.0, 1.45) is None  # a gap that fits no wide space keeps the model's
    assert choose(0.0, 1.0) == ("\\quad",)  # a quad measured where none was read
    assert choose(1 / 6, 0.33) == ("\\ ",)  # a thin space read, a control space measured
    # a small gap where none was read is left alone: natural gaps spread too much
    assert choose(0.0, 0.2) is None
    # \; and a control space are 0.05 em apart: told apart only in a large enough image
    assert choose(5 / 18, 0.32) is None
    assert choose(5 / 18, 0.32, fine=True) == ("\\ ",)
    assert choose(5 / 18, 0.29, fine=True) is None
    assert choose(0.326, 0.27, fine=True) is None  # the model's control space stays


def test_the_table_is_checked_against_its_sha256(tmp_path: Path) -> None:
    config = MODELS["symbolseq-v5"]
    assert config.spacing is not None
    table = config.spacing_table()
    assert table is not None and table.natural and table.heights
    src = Path(__file__).resolve().parents[2] / "src" / "scipix" / "models" / config.spacing
    bad = tmp_path / config.spacing
    shutil.copy(src, bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("0", "1", 1), encoding="utf-8")
    with pytest.raises(ModelError, match="SHA-256"):
        SpacingTable.load(bad, config.spacing_sha256)
    with pytest.raises(ModelError, match="not found"):
        SpacingTable.load(tmp_path / "missing.json", config.spacing_sha256)


@pytest.fixture(scope="module")
def plain() -> Recognizer:
    """The shipped recognizer without respacing: its readings keep the model's spaces. It may
    also read an image at x2.25, so that the 100 dpi render is read at a size where its glyphs
    stay whole (at x1.5 the z of that render breaks into four pieces, whose gaps cannot be
    measured, and the model's own reading of the image at that size is kept)."""
    return Recognizer.from_name(
        settings=RecognizerSettings(respace=False, retry_scales=(0.75, 1.5, 2.25))
    )


def _read_render(
    rec: Recognizer, latex: str, dpi: int
) -> tuple[NDArray[np.uint8], Reading, list[str], SpacingTable]:
    """A TeX render of ``latex``, ``rec``'s reading of it, the model's tokens (control
    spaces written out) and the spacing table."""
    image = TexRenderer().render([latex], dpi)[0]
    assert image is not None
    reading = rec.read(image)
    assert reading is not None
    tokens = ["\\ " if t == "\\" else t for t in reading.decoded.tokens]
    table = rec.config.spacing_table()
    assert table is not None
    return image, reading, tokens, table


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_spaces_are_set_from_the_gaps_of_a_tex_render(plain: Recognizer, dpi: int) -> None:
    """The model's reading of a TeX render with its spaces spoiled: respacing restores the
    widths the image shows and drops what it does not show."""
    _, reading, tokens, table = _read_render(plain, r"a+b=c \qquad x=y \quad z .", dpi)
    dec = reading.decoded
    # the model reads the wide spaces as wide ones (at 100 dpi it takes the quad for a
    # second qquad): respacing gives each its measured width
    expected = respace(tokens, dec.alignment, reading.components, table)
    assert expected is not None
    assert [t for t in expected if t.startswith("\\q")] == ["\\qquad", "\\quad"]
    assert [t for t in expected if not t.startswith("\\q")] == [
        t for t in tokens if not t.startswith("\\q")
    ]
    # the wide spaces read as a thin one and a control space; a thin space before the
    # final full stop and around the plus, where the symbols sit at their natural distance
    wrong = {"\\qquad": "\\,", "\\quad": "\\ "}
    spoiled = [wrong.get(t, t) for t in tokens]
    align = list(dec.alignment)
    for symbol in (".", "+"):
        k = spoiled.index(symbol)
        spoiled.insert(k, "\\,")
        align.insert(k, align[k])
    assert respace(spoiled, align, reading.components, table) == expected


def test_respacing_is_a_setting(plain: Recognizer) -> None:
    assert plain.settings.respace is False
    assert Recognizer.from_name().settings.respace is True
    assert Recognizer.from_name().spacing is not None


def test_respacing_comes_from_the_config_and_changes_the_cache_producer() -> None:
    from scipix.config import load_settings
    from scipix.engines.local import LocalEngine
    from scipix.engines.registry import cache_producer

    off = load_settings(None, {"engines.local.respace": False})
    assert LocalEngine(off).recognizer.settings.respace is False
    assert cache_producer(off) != cache_producer(load_settings(None, {}))


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
@pytest.mark.parametrize("dpi", [150, 300])
def test_gaps_unlike_texs_tell_a_wrong_structure(plain: Recognizer, dpi: int) -> None:
    """The model's reading of a TeX render fits TeX's gaps; the same reading with a
    superscript moved to the base line and a relation read as a letter does not, and the
    recognizer's confidence counts it."""
    image, reading, tokens, table = _read_render(plain, r"a ^ { 2 } b + c = d - e", dpi)
    dec = reading.decoded
    assert tokens == ["a", "^", "{", "2", "}", "b", "+", "c", "=", "d", "-", "e"]
    assert table.misfit(tokens, dec.alignment, reading.components) == 0.0
    # drop the superscript's braces and caret: 2 becomes a base symbol beside a and b; read
    # = as the letter x
    keep = [k for k, t in enumerate(tokens) if t not in ("^", "{", "}")]
    wrong = ["x" if tokens[k] == "=" else tokens[k] for k in keep]
    align = [dec.alignment[k] for k in keep]
    assert table.misfit(wrong, align, reading.components) >= 0.15
    # the shipped recognizer measures it on the reading it keeps
    kept = Recognizer.from_name().read(image)
    assert kept is not None and kept.misfit == 0.0 and kept.confidence_features()[-1] == 0.0
