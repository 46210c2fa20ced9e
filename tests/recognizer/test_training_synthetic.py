"""training/synthetic.py: seeded textbook-style formulas in the model's vocabulary that TeX
compiles."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import ModuleType

import pytest

from scipix.config import LocalEngineConfig
from scipix.recognizer import MODELS
from scipix.render.tex import TexRenderer, tex_available


def _vocab() -> set[str]:
    """The shipped model's vocabulary: the grammar may write no other token."""
    path = MODELS[LocalEngineConfig().model].files().vocab
    return set(json.loads(path.read_text(encoding="utf-8"))["vocab"])


def test_seeded_distinct_balanced_and_in_vocabulary(training: Callable[[str], ModuleType]) -> None:
    syn = training("synthetic")
    a = syn.formulas(400, seed=3, vocab=_vocab())
    assert a == syn.formulas(400, seed=3)
    assert a != syn.formulas(400, seed=4)
    assert len(set(a)) == 400
    for f in a:
        toks = f.split()
        assert 2 <= len(toks) <= 150
        depth = 0
        for t in toks:
            depth += (t == "{") - (t == "}")
            assert depth >= 0, f
        assert depth == 0, f
        assert sum(t.startswith(r"\left") for t in toks) == sum(
            t.startswith(r"\right") for t in toks
        ), f


def test_covers_the_nested_constructs_papers_rarely_write(
    training: Callable[[str], ModuleType],
) -> None:
    fs = training("synthetic").formulas(1000, seed=11)
    share = {
        name: sum(bool(re.search(p, f)) for f in fs) / len(fs)
        for name, p in {
            "radical with index": r"\\sqrt \[",
            "fraction in a numerator": r"\\frac \{ \\frac",
            "script on a script": r"\^ \{ [^{}]*\^",
            "environment": r"\\begin\{(cases|matrix|array|aligned)\}",
            "brace over or under": r"\\(over|under)brace",
        }.items()
    }
    assert all(v >= 0.01 for v in share.values()), share


@pytest.mark.skipif(not tex_available(), reason="latex and dvipng render the formulas")
def test_tex_compiles_what_the_grammar_writes(training: Callable[[str], ModuleType]) -> None:
    fs = training("synthetic").formulas(40, seed=21)
    images = TexRenderer().render(fs, 100)
    failed = [f for f, im in zip(fs, images, strict=True) if im is None]
    assert not failed
