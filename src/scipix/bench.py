"""Recognizer accuracy and latency on rendered real formulas (``scipix bench``).

    python benchmarks/accuracy.py                       # 1000 im2latex + textbook, 100/150/300 dpi
    python benchmarks/accuracy.py --n 200 --dpis 150    # quicker
    python benchmarks/accuracy.py --write-docs          # also update docs/BENCHMARKS.md
    python benchmarks/accuracy.py --kinds \
        tex,katex_x1,katex_x2,mathjax_x1,mathjax_x2,mathtext_stix,scan150,scan150_white,tilt150,dark \
        --n 200 --dpis 150 --write-docs                 # robustness table (its own block)
    scipix bench --im2latex PATH/im2latex_val.txt       # the same from the CLI

Formulas: a seeded sample of im2latex_val.txt (read from ../shared/data/ by default, never
shipped) and the textbook set shipped in scipix/data/textbook.txt. Each is rendered with TeX (latex + dvipng, 12pt
display style) at each dpi; the recognizer reads the PNG; its prediction is rendered the
same way and compared with the truth's image. Latency is measured on one core
(OPENBLAS_NUM_THREADS=1, set before numpy loads). Rendered images are cached under
benchmarks/.cache/.

``--kinds`` renders the same formulas as other input kinds (:mod:`scipix.render.kinds`: KaTeX
and MathJax screenshots in headless Chromium, matplotlib mathtext, degraded scans on grey or
white paper, tilted renders, dark mode);
the recognizer reads those, and its prediction is still rendered with TeX and compared with
the truth's TeX render at the same dpi. Formulas a kind cannot render are skipped and counted.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from scipix.evaluation import (
    auroc,
    corpus_bleu,
    image_match,
    normalise,
    normalised_edit_distance,
)
from scipix.recognizer import Recognizer
from scipix.render import TexRenderer
from scipix.render.kinds import KINDS, render_kind

TEXTBOOK = Path(__file__).resolve().parent / "data" / "textbook.txt"
IM2LATEX = Path("../shared/data/im2latex_val.txt")
CACHE = Path("benchmarks/.cache")
DOCS = Path("docs/BENCHMARKS.md")
BEGIN, END = "<!-- accuracy:begin -->", "<!-- accuracy:end -->"
ROBUST_BEGIN, ROBUST_END = "<!-- robustness:begin -->", "<!-- robustness:end -->"


@dataclass
class SetResult:
    name: str
    dpi: int
    kind: str = "tex"
    n: int = 0
    skipped: int = 0
    image_ok: int = 0
    exact: int = 0
    preds: list[list[str]] = field(default_factory=list)
    truths: list[list[str]] = field(default_factory=list)
    ned: list[float] = field(default_factory=list)
    conf: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    reasons: list[str] = field(default_factory=list)

    def row(self, with_kind: bool = False) -> str:
        lat = np.asarray(self.latency) * 1000 if self.latency else np.zeros(1)
        kind = f"{self.kind} | " if with_kind else ""
        return (
            f"| {self.name} | {kind}{self.dpi} | {self.n} | {self.skipped} | "
            f"{100 * self.image_ok / max(self.n, 1):.1f}% | {100 * self.exact / max(self.n, 1):.1f}% | "
            f"{corpus_bleu(self.preds, self.truths):.3f} | {np.mean(self.ned):.3f} | "
            f"{auroc(self.conf, self.correct):.3f} | {np.median(lat):.1f} | "
            f"{np.percentile(lat, 95):.1f} |"
        )


def load_set(name: str, n: int, seed: int, im2latex: Path = IM2LATEX) -> list[str]:
    if name == "textbook":
        return [ln.strip() for ln in TEXTBOOK.read_text().splitlines() if ln.strip()]
    if not im2latex.is_file():
        raise SystemExit(f"im2latex formulas not found at {im2latex} (use --im2latex PATH)")
    lines = [ln.strip() for ln in im2latex.read_text().splitlines() if ln.strip()]
    return random.Random(seed).sample(lines, min(n, len(lines)))


def rendered(
    name: str, formulas: list[str], dpi: int, key: str, kind: str = "tex", seed: int = 0
) -> list[np.ndarray | None]:
    """The formulas rendered as input kind ``kind`` (cached; see :mod:`scipix.render.kinds`)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tag = "" if kind == "tex" else f"{kind}-s{seed}-"
    path = CACHE / f"{name}-{key}-{tag}{dpi}.npz"
    if path.exists():
        z = np.load(path)
        return [z[f"i{k}"] if f"i{k}" in z.files else None for k in range(len(formulas))]
    images = render_kind(kind, formulas, dpi, seed)
    arrays: dict[str, Any] = {f"i{k}": im for k, im in enumerate(images) if im is not None}
    np.savez_compressed(path, **arrays)
    return images


def failure_kind(pred: list[str], truth: list[str], reason: str) -> str:
    if reason:
        return "unfinished (length limit)"
    if not pred:
        return "empty output"
    if len(pred) == len(truth):
        diff = [(a, b) for a, b in zip(pred, truth, strict=True) if a != b]
        if len(diff) == 1:
            return "one token substituted"
        return "several tokens substituted"
    sp, st = Counter(pred), Counter(truth)
    if sum((sp - st).values()) + sum((st - sp).values()) <= 2:
        return "one token missing or extra"
    if re.search(r"\\begin|&|\\\\", " ".join(truth)):
        return "array / multi-line structure"
    return "structure (scripts, fractions, groups)"


def run_set(
    rec: Recognizer,
    name: str,
    formulas: list[str],
    dpi: int,
    key: str,
    kind: str = "tex",
    seed: int = 0,
) -> SetResult:
    """Recognize each formula rendered as ``kind``; score against its TeX render at ``dpi``."""
    res = SetResult(name, dpi, kind)
    images = rendered(name, formulas, dpi, key)
    inputs = images if kind == "tex" else rendered(name, formulas, dpi, key, kind, seed)
    renderer = TexRenderer()
    preds: list[str] = []
    keep: list[int] = []
    for k, img in enumerate(inputs):
        if img is None or images[k] is None:
            res.skipped += 1
            continue
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "PNG")
        t = time.perf_counter()
        out = rec.recognize(buf.getvalue())
        res.latency.append(time.perf_counter() - t)
        preds.append(out.latex_styled)
        keep.append(k)
        res.conf.append(out.confidence)
        res.reasons.append(out.reason)
    pred_imgs = renderer.render(preds, dpi)
    for j, k in enumerate(keep):
        truth = normalise(formulas[k])
        pred = normalise(preds[j])
        ok = pred_imgs[j] is not None and image_match(pred_imgs[j], images[k])  # type: ignore[arg-type]
        res.n += 1
        res.image_ok += ok
        res.exact += pred == truth
        res.preds.append(pred)
        res.truths.append(truth)
        res.ned.append(normalised_edit_distance(pred, truth))
        res.correct.append(ok)
        if not ok:
            kind = (
                "prediction does not compile"
                if pred_imgs[j] is None
                else failure_kind(pred, truth, res.reasons[j])
            )
            res.failures[kind] += 1
    return res


HEADER = (
    "| set | dpi | n | skipped | image match | exact match | BLEU-4 | edit dist | "
    "conf AUROC | median ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|---|---|"
)
KIND_HEADER = (
    "| set | input | dpi | n | skipped | image match | exact match | BLEU-4 | edit dist | "
    "conf AUROC | median ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--im2latex", type=Path, default=IM2LATEX)
    ap.add_argument("--n", type=int, default=1000, help="im2latex formulas sampled")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--dpis", default="100,150,300")
    ap.add_argument("--sets", default="textbook,im2latex")
    ap.add_argument(
        "--kinds", default="tex", help=f"input kinds, comma-separated: {','.join(KINDS)}"
    )
    ap.add_argument("--beam", type=int, default=0)
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    if unknown := [k for k in kinds if k not in KINDS]:
        raise SystemExit(f"unknown input kinds {unknown}; known: {', '.join(KINDS)}")
    robust = kinds != ["tex"]
    header = KIND_HEADER if robust else HEADER
    rec = Recognizer.from_name(beam_width=args.beam)
    results = []
    for name in args.sets.split(","):
        formulas = load_set(name, args.n, args.seed, args.im2latex)
        key = f"{len(formulas)}-{args.seed}" if name != "textbook" else str(len(formulas))
        for dpi in (int(d) for d in args.dpis.split(",")):
            for kind in kinds:
                t = time.time()
                r = run_set(rec, name, formulas, dpi, key, kind, args.seed)
                results.append(r)
                print(header if len(results) == 1 else "", end="\n" if len(results) == 1 else "")
                print(r.row(robust), f"  ({time.time() - t:.0f}s)", flush=True)
    lines = [header, *[r.row(robust) for r in results], "", "Failure kinds (image mismatch):", ""]
    for r in results:
        kinds_seen = ", ".join(f"{k}: {v}" for k, v in r.failures.most_common())
        where = f"{r.name} / {r.kind}" if robust else r.name
        lines.append(f"- {where} @ {r.dpi} dpi: {kinds_seen or 'none'}")
    table = "\n".join(lines)
    print("\n" + table)
    if args.write_docs:
        cmd = "python benchmarks/accuracy.py " + " ".join(
            f"--{k.replace('_', '-')} {v}"
            for k, v in vars(args).items()
            if k != "write_docs" and v is not None
        )
        if robust:
            _write_block(ROBUST_BEGIN, ROBUST_END, cmd, table, "Recognizer robustness")
        else:
            _write_block(BEGIN, END, cmd, table, "Recognizer accuracy")


def _write_block(begin: str, end: str, cmd: str, table: str, title: str) -> None:
    block = f"{begin}\nCommand: `{cmd} --write-docs`\n\n{table}\n{end}"
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if begin in text:
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    elif BEGIN in text and begin != BEGIN:  # right after the clean accuracy block
        text = text.replace(END, f"{END}\n\n## {title}\n\n{block}", 1)
    else:
        text += f"\n## {title}\n\n{block}\n"
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
