"""Benchmark of the similarity cache; prints a markdown table.

Two parts:

* **Index** (synthetic embeddings, ``--n`` entries, default 100k, dim 512): insert rate, search
  latency p50/p99 (k=4, one query at a time), recall@10 against exact brute-force cosine, how
  often a slightly moved copy of a stored vector finds it among 4 candidates (what a cache
  lookup needs), and index size (usearch: serialised bytes; ruvector: estimate), for usearch
  f32 / i8 and ruvector f32.
* **Cache** (real formulas rendered with matplotlib mathtext): a repeated-expression workload
  on a full :class:`SimilarityCache`. Formulas come from templates, so many differ from each
  other in one symbol; every repeat is a re-encoding (JPEG q75, other padding, 0.8-1.25x
  scale, other brightness). Reports the share of repeats served from the cache, wrong hits
  (another formula's LaTeX: must be 0) and end-to-end lookup latency.

Run: ``python benchmarks/cache.py`` (``--n 20000 --formulas 60`` for a quick run).
"""

from __future__ import annotations

import argparse
import io
import itertools
import logging
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import mathtext
from matplotlib.font_manager import FontProperties
from PIL import Image

from scipix.cache import CacheOptions, HnswParams, SimilarityCache, create_index
from scipix.io import DecodedImage, decode_bytes
from scipix.types import OcrResult

log = logging.getLogger("benchmarks.cache")
DIM = 512


@dataclass(frozen=True, slots=True)
class IndexRow:
    backend: str
    dtype: str
    n: int
    insert_per_s: float
    p50_ms: float
    p99_ms: float
    recall10: float
    dup_at4: float
    size_mb: float


@dataclass(frozen=True, slots=True)
class CacheRow:
    backend: str
    dtype: str
    formulas: int
    repeats: int
    hit_rate: float
    wrong: int
    exact_share: float
    p50_ms: float
    p99_ms: float


def synthetic(n: int, seed: int, latent: int = 24) -> np.ndarray:
    """Unit vectors of low intrinsic dimension, like image embeddings of formulas.

    A fixed random map lifts ``latent``-dimensional Gaussian points to 512 dimensions; a little
    isotropic noise is added. Pure isotropic 512-d noise would make every neighbour about as
    far as every other, which no embedding of real images does.
    """
    lift = np.random.default_rng(0).standard_normal((latent, DIM)).astype(np.float32)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, latent)).astype(np.float32) @ lift
    x += 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def near_copies(x: np.ndarray, seed: int) -> np.ndarray:
    """Each row moved a little (cosine about 0.98 to the original), like a re-encoded image."""
    rng = np.random.default_rng(seed)
    y = x + 0.2 * rng.standard_normal(x.shape).astype(np.float32) / np.sqrt(DIM)
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def bench_index(backend: str, dtype: str, n: int, params: HnswParams) -> IndexRow:
    data = synthetic(n, 1)
    queries = synthetic(1000, 2)
    index = create_index(backend, DIM, dtype, params)  # type: ignore[arg-type]
    start = time.perf_counter()
    for lo in range(0, n, 1000):
        index.add(np.arange(lo, min(n, lo + 1000), dtype=np.uint64), data[lo : lo + 1000])
    insert = n / (time.perf_counter() - start)
    times = []
    for q in queries:
        t = time.perf_counter()
        index.search(q, 4)
        times.append(time.perf_counter() - t)
    sample = queries[:200]
    truth = np.argsort(-(sample @ data.T), axis=1)[:, :10]
    recall = float(
        np.mean(
            [
                len({h.key for h in index.search(q, 10)} & set(t.tolist())) / 10
                for q, t in zip(sample, truth, strict=True)
            ]
        )
    )
    picks = np.random.default_rng(3).choice(n, 500, replace=False)
    copies = near_copies(data[picks], 4)
    dup = float(
        np.mean(
            [
                int(p) in {h.key for h in index.search(c, 4)}
                for p, c in zip(picks, copies, strict=True)
            ]
        )
    )
    ms = np.array(times) * 1000
    return IndexRow(
        backend,
        dtype,
        n,
        insert,
        float(np.percentile(ms, 50)),
        float(np.percentile(ms, 99)),
        recall,
        dup,
        index.memory_bytes() / 2**20,
    )


# --- real formulas --------------------------------------------------------------------------

LETTERS = "abcxyzn"
TEMPLATES = (
    "{a}^{d}",
    "{a}_{d}",
    "{a}^{d} + {b}",
    "{a} + {b} = {c}",
    "{a} - {b}^{d}",
    r"\frac{{{a}}}{{{b}}}",
    r"\sqrt{{{a}^{d} + {b}}}",
    r"{a}_{{i}}^{d}",
    r"\sum_{{{a}=1}}^{{n}} {b}_{d}",
    r"\int_0^{d} {a}\,d{b}",
)


def formulas(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out: set[str] = set()
    for template in itertools.cycle(TEMPLATES):
        if len(out) >= count:
            break
        a, b, c = rng.sample(LETTERS, 3)
        out.add(template.format(a=a, b=b, c=c, d=rng.randint(2, 9)))
    return sorted(out)


def render(tex: str, dpi: int = 200) -> Image.Image:
    buf = io.BytesIO()
    mathtext.math_to_image(f"${tex}$", buf, dpi=dpi, format="png", prop=FontProperties(size=14))
    rgba = Image.open(buf).convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("L")
    canvas = Image.new("L", (flat.width + 60, flat.height + 60), 255)
    canvas.paste(flat, (30, 30))
    return canvas


def variant(img: Image.Image, rng: random.Random) -> DecodedImage:
    kind = rng.choice(("jpeg", "pad", "scale", "bright", "scale-jpeg"))
    out = img
    fmt = "PNG"
    if kind in ("scale", "scale-jpeg"):
        f = rng.uniform(0.8, 1.25)
        out = img.resize((round(img.width * f), round(img.height * f)), Image.Resampling.BICUBIC)
    if kind == "pad":
        p = rng.randint(1, 20)
        out = Image.new("L", (img.width + 2 * p, img.height + 2 * p), 255)
        out.paste(img, (p, p))
    if kind == "bright":
        arr = np.asarray(img, np.float32)
        out = Image.fromarray((40 + arr * (200 - 40) / 255).astype(np.uint8))
    if kind in ("jpeg", "scale-jpeg"):
        fmt = "JPEG"
    buf = io.BytesIO()
    out.save(buf, format=fmt, **({"quality": 75} if fmt == "JPEG" else {}))
    return decode_bytes(buf.getvalue())


def bench_cache(backend: str, dtype: str, count: int, repeats: int) -> CacheRow:
    texts = formulas(count)
    images = {t: render(t) for t in texts}
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        cache = SimilarityCache(
            CacheOptions(dir=Path(tmp), backend=backend, dtype=dtype)  # type: ignore[arg-type]
        )
        for t in texts:
            plain = io.BytesIO()
            images[t].save(plain, format="PNG")
            cache.store(decode_bytes(plain.getvalue()), OcrResult(t, t, "", 0.9, 0.9))
        hits = wrong = exact = 0
        times = []
        for _ in range(repeats):
            t = rng.choice(texts)
            query = variant(images[t], rng)
            start = time.perf_counter()
            hit = cache.lookup(query)
            times.append(time.perf_counter() - start)
            if hit is None:
                continue
            if hit.result.latex == t:
                hits += 1
                exact += hit.tier == "exact"
            else:
                wrong += 1
                log.error("WRONG HIT: %s served for %s", hit.result.latex, t)
        cache.close()
    ms = np.array(times) * 1000
    return CacheRow(
        backend,
        dtype,
        len(texts),
        repeats,
        hits / repeats,
        wrong,
        exact / max(1, hits),
        float(np.percentile(ms, 50)),
        float(np.percentile(ms, 99)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="index entries (synthetic)")
    parser.add_argument("--formulas", type=int, default=150, help="distinct rendered formulas")
    parser.add_argument("--repeats", type=int, default=600, help="repeated-expression lookups")
    parser.add_argument("--m", type=int, default=32, help="HNSW M (cache.hnsw.m)")
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, default=64)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    matplotlib.use("Agg")
    params = HnswParams(args.m, args.ef_construction, args.ef_search, args.n)
    kinds = (("usearch", "f32"), ("usearch", "i8"), ("ruvector", "f32"))
    index_rows = []
    for backend, dtype in kinds:
        log.info("index: %s %s, %d entries", backend, dtype, args.n)
        index_rows.append(bench_index(backend, dtype, args.n, params))
    cache_rows = []
    for backend, dtype in kinds:
        log.info("cache workload: %s %s", backend, dtype)
        cache_rows.append(bench_cache(backend, dtype, args.formulas, args.repeats))
    sizes = {(r.backend, r.dtype): r.size_mb for r in index_rows}
    lines = [
        f"Index: {args.n} synthetic 512-d unit vectors, M={args.m}, "
        f"ef_construction={args.ef_construction}, ef_search={args.ef_search}, k=4 per lookup.",
        "",
        "| backend | dtype | insert/s | search p50 ms | search p99 ms | recall@10 "
        "| near-copy in top 4 | index MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.backend} | {r.dtype} | {r.insert_per_s:,.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} "
        f"| {r.recall10:.3f} | {r.dup_at4:.3f} | {r.size_mb:.1f} |"
        for r in index_rows
    ]
    ratio = sizes[("usearch", "f32")] / sizes[("usearch", "i8")]
    lines += ["", f"usearch index size f32 / i8: {ratio:.2f}x", ""]
    lines += [
        "Cache: repeated-expression workload (real rendered formulas, re-encoded repeats).",
        "",
        "| backend | dtype | formulas | repeats | repeats hit | wrong hits | exact-tier share "
        "| lookup p50 ms | lookup p99 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.backend} | {r.dtype} | {r.formulas} | {r.repeats} | {r.hit_rate:.1%} | {r.wrong} "
        f"| {r.exact_share:.0%} | {r.p50_ms:.2f} | {r.p99_ms:.2f} |"
        for r in cache_rows
    ]
    sys.stdout.write("\n".join(lines) + "\n")  # the report itself


if __name__ == "__main__":
    main()
