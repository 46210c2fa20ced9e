"""Fit the recognizer's confidence calibration on formulas it was not trained on.

Takes formulas from the training pool's shuffle *after* the ones build_dataset.py used
(so neither training data nor the im2latex benchmark), renders them with TeX at mixed dpi,
recognises them, labels each result correct when its rendering matches the truth's image,
and fits a logistic regression over the confidence features. Prints the coefficients for
``ModelConfig.calibration`` and the AUROC before/after.

    python training/calibrate.py --skip 130000 --n 600
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_dataset import load_formulas
from scipix.evaluation import auroc, image_match
from scipix.postprocess import compact_latex
from scipix.recognizer import Recognizer
from scipix.render import TexRenderer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", type=int, default=130_000)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--all-dpis", action="store_true", help="every formula at 100, 150 and 300 dpi")
    ap.add_argument("--save", type=Path, help="also write the features and labels here (.npz)")
    args = ap.parse_args()
    formulas, _ = load_formulas(args.seed, 5)
    pool = formulas[args.skip : args.skip + args.n]
    rec = Recognizer.from_name()
    renderer = TexRenderer()
    feats, labels, base = [], [], []
    for dpi in (100, 150, 300):
        part = pool if args.all_dpis else pool[dpi % 3 :: 3]
        imgs = renderer.render(part, dpi)
        preds, keep = [], []
        for k, img in enumerate(imgs):
            if img is None:
                continue
            reading = rec.read(img)  # with the rescaled retry, as the recognizer answers
            if reading is None:
                continue
            preds.append(compact_latex(reading.tokens))
            keep.append(k)
            base.append(rec.confidence(reading))
            feats.append(list(reading.confidence_features()))
        rimgs = renderer.render(preds, dpi)
        for j, k in enumerate(keep):
            labels.append(rimgs[j] is not None and image_match(rimgs[j], imgs[k]))  # type: ignore[arg-type]
    x = np.asarray(feats, np.float64)
    y = np.asarray(labels, np.float64)
    if args.save:
        np.savez(args.save, x=x, y=y, base=np.asarray(base))
    # fit on standardised features (plain gradient descent converges there), then fold the
    # scaling back into the weights the recognizer applies to the raw features
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    xb = np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    for _ in range(args.steps):
        p = 1 / (1 + np.exp(-xb @ w))
        w -= 0.5 * (xb.T @ (p - y) / len(y) + 1e-3 * np.r_[w[:-1], 0])
    raw = np.r_[w[:-1] / sd, w[-1] - float(np.sum(w[:-1] * mu / sd))]
    p = 1 / (1 + np.exp(-(np.hstack([x, np.ones((len(x), 1))]) @ raw)))
    print(f"n={len(y)} accuracy={y.mean():.3f}")
    print(
        f"AUROC before={auroc(base, list(y.astype(bool))):.3f} after={auroc(list(p), list(y.astype(bool))):.3f}"
    )
    print("calibration=(" + ", ".join(f"{v:.4f}" for v in raw) + ")")


if __name__ == "__main__":
    main()
