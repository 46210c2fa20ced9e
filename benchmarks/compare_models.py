"""Two recognizer models timed in one run, alternating image by image (a fair latency ratio).

    git show <old-commit>:src/scipix/models/symbolseq-v3-encoder.onnx > /tmp/v3/...  (etc.)
    python benchmarks/compare_models.py /tmp/v3:symbolseq-v3 src/scipix/models:symbolseq-v4
    python benchmarks/compare_models.py src/scipix/models:symbolseq-v4:noretry \
        src/scipix/models:symbolseq-v4      # reading at the preferred size off / on

    python benchmarks/compare_models.py src/scipix/models:symbolseq-v4:plain \
        src/scipix/models:symbolseq-v4      # speculative decoding off / on

Each argument is DIR:NAME[:flag], flag one of noretry, nodraft, plain, nocross, nothird,
norespace, nodelim, below=X, where DIR holds
NAME-encoder.onnx, NAME-decoder.onnx, NAME-vocab.json and optionally NAME-ngrams.json and
the spacing table (SHA-256 taken from the files themselves); ``noretry`` reads every image once, as it is (no
resizing towards the preferred symbol size, no second reading); ``nodraft`` decodes the
second reading without checking the first reading's tokens many per run
(``draft_retry``); ``plain`` also leaves out the table of predictable tokens, so every
token takes a decoder run of its own; ``below=X`` reads the image a second way only when
the first reading's confidence is under X (``retry_below``; the default 1.0 always reads
it both ways); ``nocross`` keeps the more confident of two differing readings instead of
the one likelier under both images' encodings (``cross_check``); ``nothird`` reads no third
size when the two differ (``third_size``); ``norespace`` sets no explicit spaces from the
measured gaps, only drops those the ink does not show (``respace``); ``nodelim`` keeps the
model's delimiter forms (``delimiters``).
The images are the accuracy
benchmark's cached im2latex renders (``--n`` formulas, seed 2024, ``--dpi``). One core.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import io
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from scipix.bench import load_set, rendered
from scipix.evaluation import image_match
from scipix.recognizer import Recognizer, RecognizerSettings
from scipix.recognizer.config import MODELS
from scipix.recognizer.model import ModelFiles, SequenceModel, sha256_file
from scipix.render import TexRenderer


def build(spec: str) -> Recognizer:
    folder, _, name = spec.partition(":")
    name, _, flag = name.partition(":")
    d = Path(folder)
    files = ModelFiles.in_folder(d, name)  # n-grams optional: without, decoding is slower
    base = next(iter(MODELS.values()))
    cfg = replace(
        base,
        name=name,
        encoder=files.encoder.name,
        decoder=files.decoder.name,
        vocab=files.vocab.name,
        sha256=files.sha256,
        ngrams=None if files.ngrams is None else files.ngrams.name,
        ngrams_sha256=files.ngrams_sha256,
    )
    # the spacing table (shipped beside the models; optional for older model folders)
    spacing = d / (base.spacing or "")
    if base.spacing is None or not spacing.is_file():
        cfg = replace(cfg, spacing=None, spacing_sha256="")
    else:
        cfg = replace(cfg, spacing_sha256=sha256_file(spacing))
    settings = None
    if flag == "noretry":
        settings = RecognizerSettings(retry_scales=())
    elif flag == "nodraft":
        settings = RecognizerSettings(draft_retry=False)
    elif flag == "plain":  # every token decoded in a run of its own
        settings = RecognizerSettings(draft_retry=False)
        cfg = replace(cfg, ngrams=None, ngrams_sha256="")
    elif flag == "nocross":
        settings = RecognizerSettings(cross_check=False)
    elif flag == "nothird":
        settings = RecognizerSettings(third_size=False)
    elif flag == "norespace":
        settings = RecognizerSettings(respace=False)
    elif flag == "nodelim":
        settings = RecognizerSettings(delimiters=False)
    elif flag.startswith("below="):
        settings = RecognizerSettings(retry_below=float(flag.removeprefix("below=")))
    elif flag:
        raise SystemExit(
            f"unknown flag {flag!r} in {spec!r} (noretry, nodraft, plain, nocross, nothird, norespace, nodelim or below=X)"
        )
    model = SequenceModel(cfg.files(d), num_threads=1)
    return Recognizer(cfg, model, settings=settings, spacing=cfg.spacing_table(d))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("models", nargs=2, help="DIR:NAME for each model")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--dpi", type=int, default=150)
    args = ap.parse_args()
    formulas = load_set("im2latex", 1000, 2024)
    images = rendered("im2latex", formulas, args.dpi, "1000-2024")[: args.n]
    recs = [build(m) for m in args.models]
    lat: list[list[float]] = [[], []]
    preds: list[list[str]] = [[], []]
    keep = []
    for k, img in enumerate(images):
        if img is None:
            continue
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "PNG")
        keep.append(k)
        for j, rec in enumerate(recs):
            t = time.perf_counter()
            out = rec.recognize(buf.getvalue())
            lat[j].append(time.perf_counter() - t)
            preds[j].append(out.latex_styled)
    renderer = TexRenderer()
    for j, spec in enumerate(args.models):
        rimgs = renderer.render(preds[j], args.dpi)
        ok = sum(
            r is not None and image_match(r, images[k])  # type: ignore[arg-type]
            for r, k in zip(rimgs, keep, strict=True)
        )
        p95 = statistics.quantiles(lat[j], n=20)[-1]
        print(
            f"{spec}: median {1000 * statistics.median(lat[j]):.1f} ms, p95 {1000 * p95:.1f} ms, "
            f"image match {100 * ok / len(keep):.1f}% of {len(keep)}"
        )
    print(
        f"latency ratio (second / first): {statistics.median(lat[1]) / statistics.median(lat[0]):.3f}"
    )


if __name__ == "__main__":
    main()
