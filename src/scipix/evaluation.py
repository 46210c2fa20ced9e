"""Accuracy metrics: exact match, BLEU-4, token edit distance, image match, AUROC.

Token metrics use im2markup tokenisation (:func:`scipix.postprocess.tokenize_latex`). Image
match renders prediction and truth the same way and compares the ink after cropping.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def normalise(latex: str) -> list[str]:
    from scipix.postprocess import tokenize_latex

    return tokenize_latex(latex)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def normalised_edit_distance(pred: Sequence[str], truth: Sequence[str]) -> float:
    n = max(len(pred), len(truth))
    return edit_distance(pred, truth) / n if n else 0.0


def corpus_bleu(preds: Sequence[Sequence[str]], truths: Sequence[Sequence[str]]) -> float:
    """Corpus BLEU-4 with the brevity penalty (uniform weights, no smoothing)."""
    match = [0] * 4
    total = [0] * 4
    plen = tlen = 0
    for p, t in zip(preds, truths, strict=True):
        plen += len(p)
        tlen += len(t)
        for n in range(1, 5):
            pc = Counter(tuple(p[i : i + n]) for i in range(len(p) - n + 1))
            tc = Counter(tuple(t[i : i + n]) for i in range(len(t) - n + 1))
            match[n - 1] += sum(min(c, tc[g]) for g, c in pc.items())
            total[n - 1] += max(len(p) - n + 1, 0)
    if min(match) == 0 or plen == 0:
        return 0.0
    logp = sum(math.log(m / t) for m, t in zip(match, total, strict=True)) / 4
    bp = 1.0 if plen > tlen else math.exp(1 - tlen / plen)
    return bp * math.exp(logp)


def _ink(img: NDArray[np.uint8]) -> NDArray[np.bool_]:
    ink = img < 128
    if not ink.any():
        return np.zeros((0, 0), dtype=bool)
    ys, xs = np.nonzero(ink)
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def image_match(a: NDArray[np.uint8], b: NDArray[np.uint8], tolerance: float = 0.005) -> bool:
    """Same ink after cropping to ink, within a 1 px shift (and ``tolerance`` of the ink)."""
    ia, ib = _ink(a), _ink(b)
    if ia.size == 0 or ib.size == 0:
        return ia.size == ib.size
    if abs(ia.shape[0] - ib.shape[0]) > 1 or abs(ia.shape[1] - ib.shape[1]) > 1:
        return False
    h, w = max(ia.shape[0], ib.shape[0]) + 2, max(ia.shape[1], ib.shape[1]) + 2
    pa = np.zeros((h, w), bool)
    pa[1 : 1 + ia.shape[0], 1 : 1 + ia.shape[1]] = ia
    allowed = max(2, int(tolerance * max(int(ia.sum()), int(ib.sum()))))
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy + ib.shape[0] > h or dx + ib.shape[1] > w:
                continue
            pb = np.zeros((h, w), bool)
            pb[dy : dy + ib.shape[0], dx : dx + ib.shape[1]] = ib
            if int(np.count_nonzero(pa ^ pb)) <= allowed:
                return True
    return False


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Probability that a random correct result scores above a random wrong one."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return float("nan")
    allv = np.asarray(pos + neg)
    ranks = np.empty(len(allv))
    order = np.argsort(allv, kind="mergesort")
    ranks[order] = np.arange(1, len(allv) + 1)
    for v in np.unique(allv):  # average ranks of ties
        m = allv == v
        ranks[m] = ranks[m].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


__all__ = [
    "auroc",
    "corpus_bleu",
    "edit_distance",
    "image_match",
    "normalise",
    "normalised_edit_distance",
]
