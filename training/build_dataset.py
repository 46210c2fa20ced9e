"""Build the recognizer's training set: render real formulas with TeX, segment them.

Recipe (deterministic for a given seed): formulas from ../shared/data/arxiv_formulas.txt with
at most MAX_TOKENS tokens, shuffled with the seed; rendered in chunks of CHUNK formulas, each
chunk at a dpi and a font size drawn from DPIS / FONT_SIZES; a fraction of chunks degraded
(blur, thinning/thickening, noise, JPEG) before segmentation. Every rendered formula is
segmented with scipix.recognizer.segment (the same code inference uses) into component crops
(deduplicated into one table) and pixel boxes. Nothing here is committed: only this script.

    python training/build_dataset.py --out training/.cache/ds --n 120000 --workers 2

With ``--synthetic`` the formulas come from training/synthetic.py's grammar instead (textbook
constructs the arXiv pool rarely nests), ``--n`` of them drawn with ``--seed``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from scipix.preprocess import Preprocessor
from scipix.recognizer.segment import Components, segment
from scipix.render import TexRenderer
from scipix.render.kinds import KINDS, MATHTEXT_KINDS, WEB_KINDS, render_kind, render_mathtext
from synthetic import formulas as synthetic_formulas

log = logging.getLogger("build_dataset")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MAX_TOKENS = 150
CHUNK = 400
DPIS = (80, 100, 120, 150, 150, 200, 250, 300)
FONT_SIZES = (10, 11, 12, 12)
DEGRADE_FRACTION = 0.25
MATHTEXT_DPIS = (100, 120, 150, 200, 300)


def degrade(img: np.ndarray, rng: random.Random) -> np.ndarray:
    g = img.astype(np.float32)
    kind = rng.choice(["blur", "thin", "thick", "noise", "jpeg"])
    if kind == "blur":
        g = cv2.GaussianBlur(g, (0, 0), rng.uniform(0.4, 0.9))
    elif kind in ("thin", "thick"):
        k = np.ones((2, 2), np.uint8)
        u8 = g.astype(np.uint8)
        g = (cv2.dilate(u8, k) if kind == "thin" else cv2.erode(u8, k)).astype(np.float32)
    elif kind == "noise":
        nrng = np.random.default_rng(rng.randrange(1 << 30))
        g = g + nrng.normal(0, rng.uniform(5, 20), g.shape)
    else:
        buf = io.BytesIO()
        Image.fromarray(g.astype(np.uint8)).save(buf, "JPEG", quality=rng.randint(50, 90))
        g = np.asarray(Image.open(buf).convert("L"), dtype=np.float32)
    return np.clip(g, 0, 255).astype(np.uint8)


def parse_mix(spec: str) -> list[tuple[str, float]]:
    """``"tex:3,katex_x1:1"`` -> [("tex", 3.0), ("katex_x1", 1.0)]; a bare kind weighs 1."""
    out = []
    for part in spec.split(","):
        name, _, w = part.strip().partition(":")
        if name not in KINDS:
            raise SystemExit(f"unknown kind {name!r}; known: {', '.join(KINDS)}")
        out.append((name, float(w or 1)))
    return out


def render_chunk(kind: str, formulas: list[str], rng: random.Random) -> list[np.ndarray | None]:
    """One chunk's images as input kind ``kind`` (see scipix.render.kinds), seeded by rng."""
    if kind == "tex":
        dpi, size = rng.choice(DPIS), rng.choice(FONT_SIZES)
        images = TexRenderer(font_size=size).render(formulas, dpi)
        if rng.random() < DEGRADE_FRACTION:
            images = [None if im is None else degrade(im, rng) for im in images]
        return images
    if kind in WEB_KINDS:
        from scipix.render.web import WebRenderer

        engine, scale = WEB_KINDS[kind]
        images = WebRenderer(engine, scale, crop_from_page=True).render(formulas)  # type: ignore[arg-type]
    elif kind in MATHTEXT_KINDS:
        dpi = rng.choice(MATHTEXT_DPIS)
        images = [render_mathtext(f, dpi, MATHTEXT_KINDS[kind]) for f in formulas]
    else:  # scan150, dark: the benchmark's own seeded degradations of a TeX render
        images = render_kind(kind, formulas, rng.choice(DPIS), seed=rng.randrange(1 << 30))
    # colour images (tinted scans) become grey the way scipix.io decodes them
    images = [
        im if im is None or im.ndim == 2 else np.asarray(Image.fromarray(im).convert("L"))
        for im in images
    ]
    if kind != "scan150" and rng.random() < DEGRADE_FRACTION:
        images = [None if im is None else degrade(im, rng) for im in images]
    return images


def segmented(
    formulas: list[str], images: list[np.ndarray | None]
) -> Iterator[tuple[str, Components]]:
    """Each rendered formula with its components, as inference segments them (formulas that
    failed to render, blank images and images without components left out)."""
    pre = Preprocessor()
    for f, img in zip(formulas, images, strict=True):
        if img is None:
            continue
        p = pre(img)
        if p.is_blank:
            continue
        c = segment(p.ink)
        if len(c):
            yield f, c


def work(args: tuple[int, list[str], int, str]) -> dict[str, object]:
    chunk_id, formulas, seed, kind = args
    rng = random.Random(seed * 1_000_003 + chunk_id)
    images = render_chunk(kind, formulas, rng)
    crops: dict[bytes, np.ndarray] = {}
    items = []
    for f, c in segmented(formulas, images):
        keys = []
        for crop in c.crops:
            packed = np.packbits(crop).tobytes()
            key = hashlib.blake2b(packed, digest_size=8).digest()
            crops.setdefault(key, np.packbits(crop))
            keys.append(key)
        items.append(
            (f, keys, c.boxes.astype(np.int16), np.minimum(c.areas, 65535).astype(np.uint16))
        )
    return {"crops": crops, "items": items, "kind": kind, "failed": len(formulas) - len(items)}


def load_formulas(seed: int, min_count: int) -> tuple[list[str], list[str]]:
    """The shuffled training pool and its vocabulary (tokens seen at least min_count times)."""
    lines = (DATA / "arxiv_formulas.txt").read_text(encoding="utf-8").splitlines()
    formulas = [ln.strip() for ln in lines if 0 < len(ln.split()) <= MAX_TOKENS]
    counts = Counter(t for f in formulas for t in f.split())
    vocab = sorted(t for t, c in counts.items() if c >= min_count)
    vset = set(vocab)
    formulas = [f for f in formulas if all(t in vset for t in f.split())]
    random.Random(seed).shuffle(formulas)
    return formulas, vocab


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--n", type=int, default=120_000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--start", type=int, default=0, help="first formula of the shuffled pool")
    ap.add_argument(
        "--render-seed",
        type=int,
        default=None,
        help="seed of each chunk's kind, dpi, size and degradation (default --seed): another "
        "value renders the same formulas anew",
    )
    ap.add_argument(
        "--synthetic",
        action="store_true",
        help="--n formulas from training/synthetic.py (seed --seed) instead of the arXiv pool",
    )
    ap.add_argument(
        "--kinds",
        default="tex",
        help="input kinds with weights, one drawn per chunk: tex:4,katex_x1:1,scan150:1",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    formulas, vocab = load_formulas(args.seed, args.min_count)
    if args.synthetic:
        formulas = synthetic_formulas(args.n, args.seed, set(vocab))
    else:
        formulas = formulas[args.start : args.start + args.n]
    mix = parse_mix(args.kinds)
    log.info("%d formulas, vocab %d, kinds %s", len(formulas), len(vocab), mix)
    render_seed = args.seed if args.render_seed is None else args.render_seed
    pick = random.Random(render_seed + args.start)
    chunks = [
        (
            i,
            formulas[s : s + CHUNK],
            render_seed,
            pick.choices([k for k, _ in mix], [w for _, w in mix])[0],
        )
        for i, s in enumerate(range(0, len(formulas), CHUNK))
    ]
    table: dict[bytes, int] = {}
    crop_rows: list[np.ndarray] = []
    idx_l, off_l, feat_l, box_l, tok_l, tok_off = [], [0], [], [], [], [0]
    tok_id = {t: i + 3 for i, t in enumerate(vocab)}  # 0 pad, 1 bos, 2 eos
    failed = 0
    with ProcessPoolExecutor(args.workers) as ex:
        for n_done, res in enumerate(ex.map(work, chunks), 1):
            failed += int(res["failed"])  # type: ignore[call-overload]
            crops = res["crops"]
            for f, keys, boxes, areas in res["items"]:  # type: ignore[attr-defined]
                ids = []
                for k in keys:
                    if k not in table:
                        table[k] = len(crop_rows)
                        crop_rows.append(crops[k])  # type: ignore[index]
                    ids.append(table[k])
                idx_l.append(np.array(ids, np.int32))
                off_l.append(off_l[-1] + len(ids))
                box_l.append(boxes)
                feat_l.append(areas)
                t = [tok_id[x] for x in f.split()]
                tok_l.append(np.array(t, np.int16))
                tok_off.append(tok_off[-1] + len(t))
            if n_done % 20 == 0:
                log.info(
                    "%d/%d chunks, %d formulas, %d unique crops, %d failed",
                    n_done,
                    len(chunks),
                    len(idx_l),
                    len(crop_rows),
                    failed,
                )
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "data.npz",
        crops=np.stack(crop_rows),
        comp_idx=np.concatenate(idx_l),
        comp_off=np.array(off_l, np.int64),
        areas=np.concatenate(feat_l),
        boxes=np.concatenate(box_l),
        tokens=np.concatenate(tok_l),
        tok_off=np.array(tok_off, np.int64),
    )
    (args.out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    log.info(
        "done: %d formulas, %d unique crops, %d failed to render",
        len(idx_l),
        len(crop_rows),
        failed,
    )


if __name__ == "__main__":
    main()
