"""Delimiter forms chosen from glyph sizes and gaps (scipix.recognizer.delimiters)."""

from __future__ import annotations

import numpy as np
import pytest

from scipix.recognizer import Recognizer, RecognizerSettings
from scipix.recognizer.delimiters import choose_delimiters
from scipix.render.tex import TexRenderer, tex_available

# the three ways a pair of parentheses is written, as the tokens of the model's vocabulary
FORMS = {
    "plain": (["("], [")"]),
    "left": (["\\left("], ["\\right)"]),
    "Bigl": (["\\Bigl", "("], ["\\Bigr", ")"]),
}
OPENING = {"(", "\\left("}
CLOSING = {")", "\\right)"}
SIZES = {"\\Bigl", "\\Bigr", "\\Big", "\\bigl", "\\bigr", "\\big", "\\biggl", "\\biggr"}


def _bare(tokens: list[str], alignment: list[int]) -> tuple[list[str], list[int]]:
    """The tokens with sizes dropped and \\left( \\right) written plain."""
    out, align = [], []
    for t, a in zip(tokens, alignment, strict=True):
        if t in SIZES:
            continue
        out.append({"\\left(": "(", "\\right)": ")"}.get(t, t))
        align.append(a)
    return out, align


def _written(tokens: list[str], alignment: list[int], form: str) -> tuple[list[str], list[int]]:
    """The bare tokens with their one pair of parentheses written as ``form``."""
    opening, closing = FORMS[form]
    out, align = [], []
    for t, a in zip(tokens, alignment, strict=True):
        new = opening if t == "(" else closing if t == ")" else [t]
        out.extend(new)
        align.extend([a] * len(new))
    return out, align


def _form(tokens: list[str]) -> str:
    """How the one pair of parentheses in ``tokens`` is written."""
    k = next(i for i, t in enumerate(tokens) if t in OPENING)
    if tokens[k] == "\\left(":
        return "left"
    size = tokens[k - 1] if k else ""
    return size.lstrip("\\").rstrip("l") if size in SIZES else "plain"


@pytest.fixture(scope="module")
def plain() -> Recognizer:
    """The shipped recognizer keeping the model's delimiter forms."""
    return Recognizer.from_name(settings=RecognizerSettings(delimiters=False))


LEFT = r"f \left( x \right) y = g \left( z \right) w"
PLAIN = r"f ( x ) y = g ( z ) w"
BIG = r"f \Bigl( x \Bigr) y = g \Bigl( z \Bigr) w"


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
@pytest.mark.parametrize(
    ("latex", "truth", "dpi"),
    [
        *((LEFT, "left", dpi) for dpi in (100, 150, 300)),
        *((PLAIN, "plain", dpi) for dpi in (100, 150, 300)),
        # at 100 dpi the gaps of so short a formula are too coarse to trust (a pixel is
        # 0.06 em): the forms read are kept there
        *((BIG, "Big", dpi) for dpi in (150, 300)),
    ],
)
def test_the_form_the_image_shows_is_chosen_whatever_was_read(
    plain: Recognizer, dpi: int, latex: str, truth: str
) -> None:
    """A TeX render read by the model; its parentheses rewritten in each form in turn: the
    glyph sizes and the gaps beside them bring every one back to the rendered form (a
    \\Big pair in the same spacing is drawn alike as \\Bigl or \\Big)."""
    image = TexRenderer().render([latex], dpi)[0]
    assert image is not None
    reading = plain.read(image)
    assert reading is not None
    dec = reading.decoded
    tokens, alignment = _bare(list(dec.tokens), list(dec.alignment))
    assert tokens.count("(") == 2 and tokens.count(")") == 2, tokens
    table = plain.config.spacing_table()
    assert table is not None
    for form in FORMS:
        spoiled, align = _written(tokens, alignment, form)
        chosen, chosen_align = choose_delimiters(spoiled, align, reading.components, table)
        assert len(chosen) == len(chosen_align)
        assert _form(chosen) == truth, (form, chosen)
        # the rest of the reading is left as it was
        assert _bare(chosen, chosen_align) == (tokens, alignment)


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
def test_gaps_unlike_texs_leave_the_forms_read(plain: Recognizer) -> None:
    """The same render with every blank column doubled: its gaps are no longer TeX's, so
    they are no evidence, and whatever form was read stays."""
    image = TexRenderer().render([PLAIN], 150)[0]
    assert image is not None
    gray = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
    blank = (gray > 128).all(axis=0)
    wide = np.repeat(gray, np.where(blank, 2, 1), axis=1)
    reading = plain.read(wide)
    assert reading is not None
    tokens, alignment = _bare(list(reading.decoded.tokens), list(reading.decoded.alignment))
    table = plain.config.spacing_table()
    assert table is not None
    for form in FORMS:
        spoiled, align = _written(tokens, alignment, form)
        assert choose_delimiters(spoiled, align, reading.components, table) == (spoiled, align)


def test_delimiters_are_a_setting_from_the_config_and_change_the_cache_producer() -> None:
    from scipix.config import load_settings
    from scipix.engines.local import LocalEngine
    from scipix.engines.registry import cache_producer

    assert Recognizer.from_name().settings.delimiters is True
    off = load_settings(None, {"engines.local.delimiters": False})
    assert LocalEngine(off).recognizer.settings.delimiters is False
    assert cache_producer(off) != cache_producer(load_settings(None, {}))
