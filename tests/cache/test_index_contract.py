"""The VectorIndex contract, run against every backend (and element type)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from scipix.cache.index import HnswParams, VectorIndex, create_index, load_index
from scipix.cache.index.layered import LayeredIndex
from scipix.cache.index.ruvector_backend import available as ruvector_available
from scipix.errors import CacheError

DIM = 64
PARAMS = HnswParams(m=16, ef_construction=100, ef_search=64)
NO_RUVECTOR = pytest.mark.skipif(not ruvector_available(), reason="ruvector is not installed")
KINDS = [
    pytest.param(("usearch", "f32"), id="usearch-f32"),
    pytest.param(("usearch", "f16"), id="usearch-f16"),
    pytest.param(("usearch", "i8"), id="usearch-i8"),
    pytest.param(("ruvector", "f32"), id="ruvector-f32", marks=NO_RUVECTOR),
]


def _data(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _keys(n: int, start: int = 1) -> np.ndarray:
    return np.arange(start, start + n, dtype=np.uint64)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param  # type: ignore[no-any-return]


def _index(kind: tuple[str, str]) -> VectorIndex:
    return create_index(kind[0], DIM, kind[1], PARAMS)  # type: ignore[arg-type]


def test_add_search_contains_len(kind: tuple[str, str]) -> None:
    index = _index(kind)
    x = _data(500)
    index.add(_keys(500), x)
    assert len(index) == 500 and index.dim == DIM and index.dtype == kind[1]
    assert index.contains(1) and index.contains(500) and not index.contains(501)
    hits = index.search(x[41], 5)
    assert hits[0].key == 42 and hits[0].similarity == pytest.approx(1.0, abs=0.02)
    assert all(a.similarity >= b.similarity for a, b in itertools.pairwise(hits))
    assert len(hits) == 5


def test_recall_against_brute_force(kind: tuple[str, str]) -> None:
    index = _index(kind)
    x = _data(2000, seed=1)
    index.add(_keys(2000), x)
    queries = _data(50, seed=2)
    truth = np.argsort(-(queries @ x.T), axis=1)[:, :10] + 1
    found = [{n.key for n in index.search(q, 10)} for q in queries]
    recall = np.mean([len(f & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.9


def test_remove_then_search_still_returns_k(kind: tuple[str, str]) -> None:
    index = _index(kind)
    x = _data(1000, seed=3)
    index.add(_keys(1000), x)
    gone = _keys(1000)[::2]
    assert index.remove(gone) == 500
    assert len(index) == 500 and not index.contains(1) and index.contains(2)
    assert index.remove(gone[:3]) == 0
    for q in range(0, 40, 2):  # queries at removed vectors: their graph nodes linger
        hits = index.search(x[q], 10)
        assert len(hits) == 10
        assert all(h.key % 2 == 0 for h in hits)


def test_empty_and_small(kind: tuple[str, str]) -> None:
    index = _index(kind)
    assert index.search(_data(1)[0], 5) == []
    index.add(_keys(3), _data(3))
    assert len(index.search(_data(1, seed=9)[0], 10)) == 3
    index.clear()
    assert len(index) == 0 and index.search(_data(1)[0], 5) == []


def test_save_and_load(kind: tuple[str, str], tmp_path: Path) -> None:
    index = _index(kind)
    x = _data(300, seed=4)
    index.add(_keys(300), x)
    index.remove(np.array([7], np.uint64))
    path = tmp_path / "index.bin"
    index.save(path)
    loaded = load_index(kind[0], path, PARAMS)  # type: ignore[arg-type]
    assert len(loaded) == 299 and loaded.dtype == kind[1]
    assert loaded.search(x[10], 1)[0].key == 11
    assert not loaded.contains(7)


def test_corrupt_file_is_a_cache_error(kind: tuple[str, str], tmp_path: Path) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(b"not an index" * 20)
    with pytest.raises(CacheError):
        load_index(kind[0], path, PARAMS)  # type: ignore[arg-type]


def test_usearch_view_is_memory_mapped_and_read_only(tmp_path: Path) -> None:
    index = create_index("usearch", DIM, "i8", PARAMS)
    x = _data(200, seed=5)
    index.add(_keys(200), x)
    path = tmp_path / "index.usearch"
    index.save(path)
    view = load_index("usearch", path, PARAMS, view=True)
    assert view.read_only and len(view) == 200
    assert view.search(x[3], 1)[0].key == 4
    with pytest.raises(CacheError):
        view.add(_keys(1, 1000), x[:1])
    with pytest.raises(CacheError):
        view.remove(_keys(1))
    layered = LayeredIndex(view, create_index("usearch", DIM, "i8", PARAMS))
    layered.add(_keys(1, 1000), _data(1, seed=6))
    assert layered.remove(_keys(1, 4)) == 1
    assert len(layered) == 200 and layered.contains(1000) and not layered.contains(4)
    assert layered.search(x[3], 1)[0].key != 4
    assert layered.search(_data(1, seed=6)[0], 1)[0].key == 1000


@NO_RUVECTOR
def test_ruvector_has_no_view_and_no_quantisation(tmp_path: Path) -> None:
    with pytest.raises(CacheError):
        load_index("ruvector", tmp_path / "x.npz", PARAMS, view=True)
    with pytest.raises(CacheError):
        create_index("ruvector", DIM, "i8", PARAMS)


def test_int8_is_smaller_than_float32() -> None:
    sizes = {}
    for dtype in ("f32", "i8"):
        index = create_index("usearch", 512, dtype, PARAMS)
        index.add(_keys(1000), np.repeat(_data(1000), 8, axis=1))
        sizes[dtype] = index.memory_bytes()
    assert sizes["f32"] / sizes["i8"] > 2.5
