"""training/pack.py: the packed data set holds exactly what the plain one does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np


def _dataset(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    ncomp = rng.integers(1, 30, n)
    ntok = rng.integers(1, 40, n)
    comps = int(ncomp.sum())
    return {
        "crops": rng.integers(0, 256, (500, 72), dtype=np.uint8),
        "comp_idx": rng.zipf(1.5, comps).clip(max=499).astype(np.int32),
        "comp_off": np.concatenate([[0], np.cumsum(ncomp)]).astype(np.int64),
        "areas": rng.integers(0, 65535, comps).astype(np.uint16),
        "boxes": rng.integers(0, 3000, (comps, 4)).astype(np.int16),
        "tokens": rng.integers(3, 560, int(ntok.sum())).astype(np.int16),
        "tok_off": np.concatenate([[0], np.cumsum(ntok)]).astype(np.int64),
    }


def test_pack_round_trip_keeps_every_formula(
    tmp_path: Path, training: Callable[[str], ModuleType]
) -> None:
    pack = training("pack")
    d = _dataset(np.random.default_rng(0), 300)
    sub = pack.subset(d, 200)
    pack.save_pack(sub, tmp_path / "pk")
    back = pack.load_arrays(tmp_path / "pk")
    assert len(back["comp_off"]) == 201
    ce = int(d["comp_off"][200])
    # same crop pixels for every component, the most frequent crop first
    assert np.array_equal(back["crops"][back["comp_idx"]], d["crops"][d["comp_idx"][:ce]])
    counts = np.bincount(back["comp_idx"])
    assert counts[0] == counts.max() and counts.min() > 0
    for k in ("boxes", "areas"):
        assert np.array_equal(back[k], d[k][:ce])
    assert np.array_equal(back["tokens"], d["tokens"][: int(d["tok_off"][200])])


def test_plain_npz_loads_the_same(tmp_path: Path, training: Callable[[str], ModuleType]) -> None:
    pack = training("pack")
    d = _dataset(np.random.default_rng(1), 50)
    (tmp_path / "plain").mkdir()
    np.savez_compressed(tmp_path / "plain" / "data.npz", **d)
    back = pack.load_arrays(tmp_path / "plain")
    assert all(np.array_equal(back[k], v) for k, v in d.items())


def test_ngram_table_keeps_only_predictable_contexts(
    tmp_path: Path, training: Callable[[str], ModuleType]
) -> None:
    """training/ngrams.py: '{' always follows '_' (kept, share 1); after 'x' comes '_', 'c',
    'a' or 'b' (none reaches the minimum share), but after 'c x' always 'c' (the longer
    context is kept); a context seen too rarely is left out."""
    ngrams = training("ngrams")
    x, sub, brace, a, b, c = 10, 11, 12, 13, 14, 15
    seqs = [[x, sub, brace, a], [x, sub, brace, b], [a, x, c], [b, x, a], [a, x, b], [c, x, c]]
    seqs = seqs * 10 + [[c, x, c]] * 10
    d = {
        "tokens": np.array([t for s in seqs for t in s], np.int16),
        "tok_off": np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64),
    }
    (tmp_path / "plain").mkdir()
    np.savez_compressed(tmp_path / "plain" / "data.npz", **d)
    rows = ngrams.table(ngrams.count([tmp_path / "plain"], 2), 0.6, 20)
    assert ((sub,), brace, 1.0) in rows  # '_' -> '{' whatever came before
    assert not any(r[0] == (x,) for r in rows)  # 'x' -> '_', c, a or b
    assert ((c, x), c, 1.0) in rows  # seen 20 times, always followed by c
    assert not any(r[0] == (a, x) for r in rows)  # c or b, half each: under the share
    assert not any(r[0] == (b, x) for r in rows)  # seen 10 times only
    assert all(r[1] != 2 and r[2] >= 0.6 for r in rows)  # never the end; shares kept
