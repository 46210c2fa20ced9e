"""training/synthetic.py: seeded textbook-style formulas in the model's vocabulary that TeX
compiles."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from scipix.render.tex import TexRenderer, tex_available

ROOT = Path(__file__).resolve().parents[2]


def _synthetic() -> ModuleType:
    path = ROOT / "training" / "synthetic.py"
    spec = importlib.util.spec_from_file_location("scipix_training_synthetic", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _vocab() -> set[str]:
    meta = json.loads((ROOT / "src/scipix/models/symbolseq-v3-vocab.json").read_text())
    return set(meta["vocab"])


def test_seeded_distinct_balanced_and_in_vocabulary() -> None:
    syn = _synthetic()
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


def test_covers_the_nested_constructs_papers_rarely_write() -> None:
    fs = _synthetic().formulas(1000, seed=11)
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
def test_tex_compiles_what_the_grammar_writes() -> None:
    fs = _synthetic().formulas(40, seed=21)
    images = TexRenderer().render(fs, 100)
    failed = [f for f, im in zip(fs, images, strict=True) if im is None]
    assert not failed
