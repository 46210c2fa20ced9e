"""SimilarityCache end to end: hits, near-misses, persistence, recovery, eviction, sharing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
from cache_formulas import FORMULAS, NEAR_MISSES, decoded, variants

from scipix.cache import CacheOptions, CacheStats, SimilarityCache
from scipix.cache.index.ruvector_backend import available as ruvector_available
from scipix.config import load_settings
from scipix.errors import CacheError
from scipix.io import DecodedImage, load_image
from scipix.types import BoundingBox, OcrResult

HERE = Path(__file__).resolve().parent
NO_RUVECTOR = pytest.mark.skipif(not ruvector_available(), reason="ruvector is not installed")
BACKENDS = [
    pytest.param(("usearch", "i8"), id="usearch"),
    pytest.param(("ruvector", "f32"), id="ruvector", marks=NO_RUVECTOR),
]


def result(latex: str, confidence: float = 0.9, boxes: tuple[BoundingBox, ...] = ()) -> OcrResult:
    return OcrResult(
        latex=latex,
        latex_styled=latex,
        text=f"\\({latex}\\)",
        confidence=confidence,
        confidence_rate=confidence,
        boxes=boxes,
        engine="test",
    )


def text_image(text: str, scale: float = 1.0) -> DecodedImage:
    """A cheap synthetic image of a string (for tests that need many distinct entries)."""
    canvas = np.full((60, 40 + 22 * len(text)), 255, np.uint8)
    cv2.putText(canvas, text, (15, 42), cv2.FONT_HERSHEY_SIMPLEX, 1.0 * scale, 0, 2, cv2.LINE_AA)
    return load_image(canvas)


def options(path: Path, **kw: object) -> CacheOptions:
    base: dict[str, object] = {"dir": path, "threshold": 0.0, "save_every": 50}
    base.update(kw)
    return CacheOptions(**base)  # type: ignore[arg-type]


@pytest.fixture(params=BACKENDS)
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> SimilarityCache:
    backend, dtype = request.param
    c = SimilarityCache(options(tmp_path / "cache", backend=backend, dtype=dtype))
    request.addfinalizer(c.close)
    return c


def test_reencodings_hit_with_the_stored_latex(cache: SimilarityCache) -> None:
    for tex in FORMULAS:
        assert cache.store(decoded(tex), result(tex)) is not None
    missed = []
    for tex in FORMULAS:
        for name, image in variants(tex).items():
            hit = cache.lookup(image)
            if hit is None or hit.result.latex != tex:
                missed.append((tex, name, None if hit is None else hit.result.latex))
            else:
                assert hit.result.cached and hit.result.image_width == image.width
    assert missed == []
    stats = cache.stats()
    assert isinstance(stats, CacheStats)
    assert stats.entries == len(FORMULAS) and stats.hits == len(missed) + 11 * len(FORMULAS)
    assert stats.exact_hits > 0 and stats.vector_hits > 0


def test_near_misses_never_hit_at_the_lowest_threshold(cache: SimilarityCache) -> None:
    # threshold 0.0 (the lowest cache.threshold allows): every neighbour is a candidate
    assert cache.options.threshold == 0.0
    lefts = sorted({a for a, _ in NEAR_MISSES})
    for tex in lefts:
        cache.store(decoded(tex), result(tex))
    wrong = []
    for _, b in NEAR_MISSES:
        for image in (decoded(b), variants(b)["jpeg-scale0.8"]):
            hit = cache.lookup(image)
            if hit is not None and hit.result.latex != b:
                wrong.append((b, hit.result.latex))
    assert wrong == []
    assert cache.stats().rejected > 0


def test_boxes_follow_the_ink(tmp_path: Path) -> None:
    c = SimilarityCache(options(tmp_path))
    image = decoded("x^2")
    ink_box = (30, 30)  # to_pil pads by 30 px
    c.store(image, result("x^2", boxes=(BoundingBox(ink_box[0], ink_box[1], 20, 25, 0.9, "x"),)))
    hit = c.lookup(variants("x^2")["pad50"])
    assert hit is not None
    (box,) = hit.result.boxes
    assert (box.x, box.y, box.width, box.height, box.label) == (50, 50, 20, 25, "x")
    c.close()


def test_only_engine_results_are_stored(tmp_path: Path) -> None:
    c = SimilarityCache(options(tmp_path, min_confidence=0.5))
    image = decoded("x^2")
    assert c.store(image, result("")) is None
    assert c.store(image, result("x^2", confidence=0.3)) is None
    cached = OcrResult("x^3", "x^3", "", 0.99, 0.99, cached=True)
    assert c.store(image, cached) is None  # a cached answer is never written back
    assert c.store(load_image(np.full((30, 30), 255, np.uint8)), result("blank")) is None
    first = c.store(image, result("x^2"))
    assert c.store(variants("x^2")["pad10"], result("x^2", 0.95)) == first  # same ink: replaced
    assert c.stats().entries == 1
    c.close()


def test_search_finds_similar_latex(cache: SimilarityCache) -> None:
    for tex in FORMULAS:
        cache.store(decoded(tex), result(tex))
    hits = cache.search(r"\sqrt{x^2 + y^2}", 3)
    assert hits[0].latex == r"\sqrt{x^2+y^2}"
    assert hits[0].similarity > hits[-1].similarity
    assert cache.search("   ", 3) == []


def test_persists_across_a_process_restart(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from cache_formulas import decoded
        from scipix.cache import CacheOptions, SimilarityCache
        from scipix.types import OcrResult
        c = SimilarityCache(CacheOptions(dir={str(tmp_path)!r}))
        c.store(decoded("E = mc^2"), OcrResult("E=mc^2", "E=mc^2", "", 0.9, 0.9))
        c.close()
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    c = SimilarityCache(options(tmp_path))
    hit = c.lookup(variants("E = mc^2")["scale1.1"])
    assert hit is not None and hit.result.latex == "E=mc^2"
    c.close()


def test_a_new_recognizer_drops_old_results(tmp_path: Path) -> None:
    img = decoded("E = mc^2")
    c = SimilarityCache(options(tmp_path, producer="model-a"))
    c.store(img, result("E=mc^2"))
    c.close()
    for producer in ("model-a", None):  # same model, or an admin command: entries kept
        c = SimilarityCache(options(tmp_path, producer=producer))
        assert c.lookup(img) is not None
        c.close()
    c = SimilarityCache(options(tmp_path, producer="model-b"))  # upgraded model
    assert c.lookup(img) is None and c.stats().entries == 0
    c.store(img, result("E=mc^{2}"))
    c.close()
    c = SimilarityCache(options(tmp_path, producer="model-b"))
    hit = c.lookup(img)
    assert hit is not None and hit.result.latex == "E=mc^{2}"
    c.close()


def test_a_cache_without_a_recorded_producer_is_cleared(tmp_path: Path) -> None:
    img = decoded("E = mc^2")
    c = SimilarityCache(options(tmp_path))  # an older cache: nothing recorded who filled it
    c.store(img, result("E=mc^2"))
    c.close()
    c = SimilarityCache(options(tmp_path, producer="model-b"))
    assert c.lookup(img) is None and c.stats().entries == 0
    c.close()


def test_cache_producer_follows_the_model() -> None:
    from dataclasses import replace

    from scipix.engines.registry import cache_producer
    from scipix.recognizer.config import MODELS

    settings = load_settings(None, {})
    assert cache_producer(settings) == cache_producer(load_settings(None, {}))
    assert cache_producer(settings) != cache_producer(
        load_settings(None, {"engines.local.beam_width": 4})
    )
    cfg = MODELS["symbolseq-v5"]
    assert (
        cfg.fingerprint() != replace(cfg, calibration=(0.0,) * len(cfg.calibration)).fingerprint()
    )


@pytest.mark.parametrize("damage", ["delete", "corrupt", "truncate", "state"])
def test_recovers_from_a_lost_or_corrupt_index(tmp_path: Path, damage: str) -> None:
    c = SimilarityCache(options(tmp_path))
    for tex in FORMULAS[:5]:
        c.store(decoded(tex), result(tex))
    c.close()
    index_file = tmp_path / "image.usearch"
    assert index_file.exists()
    if damage == "delete":
        index_file.unlink()
    elif damage == "corrupt":
        index_file.write_bytes(b"\x00garbage" * 100)
    elif damage == "truncate":
        index_file.write_bytes(index_file.read_bytes()[:100])
    else:
        (tmp_path / "image.state.json").write_text("{not json")
    c = SimilarityCache(options(tmp_path))
    for tex in FORMULAS[:5]:
        hit = c.lookup(variants(tex)["scale0.9"])
        assert hit is not None and hit.result.latex == tex and hit.tier == "vector"
    c.close()


def test_evicts_least_recently_used_under_the_size_cap(tmp_path: Path) -> None:
    cap = 200_000
    c = SimilarityCache(options(tmp_path, size_bytes=cap, dimension=64))
    words = [f"w{i:03d}x{i * 7 % 10}" for i in range(150)]
    c.store(text_image(words[0]), result(words[0]))
    for i, word in enumerate(words[1:], start=1):
        c.store(text_image(word), result(word))
        if i % 10 == 0:  # keep the first entry in use
            assert c.lookup(text_image(words[0])) is not None
    stats = c.stats()
    assert stats.evictions > 0 and stats.entries < len(words)
    used = sqlite3.connect(tmp_path / "cache.db").execute("SELECT SUM(size_bytes) FROM entries")
    assert used.fetchone()[0] <= cap
    assert c.lookup(text_image(words[0])) is not None  # recently used: kept
    assert c.lookup(text_image(words[1])) is None  # least recently used: gone
    assert c.lookup(text_image(words[-1])) is not None
    c.close()


def test_two_instances_share_one_directory(tmp_path: Path) -> None:
    a = SimilarityCache(options(tmp_path))
    b = SimilarityCache(options(tmp_path))
    a.store(decoded("x^2"), result("x^2"))
    hit = b.lookup(variants("x^2")["jpeg75"])
    assert hit is not None and hit.result.latex == "x^2"
    b.store(decoded(r"\alpha\beta\gamma"), result(r"\alpha\beta\gamma"))
    assert a.lookup(decoded(r"\alpha\beta\gamma")) is not None
    assert a.stats().hits == 2
    b.clear()
    assert a.lookup(decoded("x^2")) is None
    assert a.stats().entries == 0
    a.close()
    b.close()


def test_concurrent_writer_processes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(HERE)!r})
        from test_cache import text_image, result
        from scipix.cache import CacheOptions, SimilarityCache
        c = SimilarityCache(CacheOptions(dir={str(tmp_path)!r}, dimension=64))
        for i in range(25):
            word = f"p{{sys.argv[1]}}n{{i:02d}}"
            c.store(text_image(word), result(word))
            c.lookup(text_image(word))
        c.close()
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    c = SimilarityCache(options(tmp_path, dimension=64))
    assert c.stats().entries == 75 and c.stats().hits == 75
    hit = c.lookup(text_image("p1n07"))
    assert hit is not None and hit.result.latex == "p1n07"
    c.close()


def test_encryption_at_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fernet = pytest.importorskip("cryptography.fernet")
    Fernet = fernet.Fernet

    monkeypatch.setenv("SCIPIX_CACHE_KEY", Fernet.generate_key().decode())
    c = SimilarityCache(options(tmp_path, encrypt=True))
    secret = r"\mathrm{secret}_{42}"
    c.store(decoded("x^2"), result(secret))
    assert c.lookup(decoded("x^2")).result.latex == secret  # type: ignore[union-attr]
    assert c.search("secret", 1)[0].latex == secret
    c.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"secret" not in raw
    monkeypatch.setenv("SCIPIX_CACHE_KEY", Fernet.generate_key().decode())  # the wrong key
    c = SimilarityCache(options(tmp_path, encrypt=True))
    assert c.lookup(decoded("x^2")) is None
    c.close()
    monkeypatch.delenv("SCIPIX_CACHE_KEY")
    with pytest.raises(CacheError):
        SimilarityCache(options(tmp_path, encrypt=True))
    monkeypatch.setenv("SCIPIX_CACHE_KEY", "not-a-key")
    with pytest.raises(CacheError):
        SimilarityCache(options(tmp_path, encrypt=True))


def test_memory_mapped_mode(tmp_path: Path) -> None:
    c = SimilarityCache(options(tmp_path))
    c.store(decoded("x^2"), result("x^2"))
    c.close()
    m = SimilarityCache(options(tmp_path, mmap=True))
    assert m.lookup(variants("x^2")["scale0.9"]) is not None
    m.store(decoded("E = mc^2"), result("E=mc^2"))
    assert m.lookup(variants("E = mc^2")["scale1.1"]) is not None
    m.close()


@NO_RUVECTOR
def test_open_from_settings(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"data_dir": str(tmp_path), "cache.backend": "ruvector", "cache.size_mb": 5}
    )
    c = SimilarityCache.open(settings.cache)
    assert c.options.backend == "ruvector" and c.options.dtype == "f32"
    assert c.options.dir == tmp_path / "cache" and c.stats().size_limit_mb == 5
    c.close()
    default = SimilarityCache.open(load_settings(overrides={"data_dir": str(tmp_path / "d")}).cache)
    assert default.options.dtype == "i8" and default.options.backend == "usearch"
    default.close()
