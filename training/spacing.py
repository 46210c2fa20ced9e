"""The spacing table: symbol heights and natural gaps in em, measured on TeX renders.

Takes training-pool formulas that contain explicit spaces (the shuffled pool of
``build_dataset.py``, seed 1234; ``--n`` formulas from each ``--start``), renders them with
TeX at 12 pt (1 em = 12 / 72.27 inch) at each ``--dpis``, segments them as inference does
and finds each truth token's component by teacher forcing the shipped model (the
cross-attention's choice, as greedy decoding reports it). Then, with
``scipix.recognizer.spacing.slots`` (pairs of base-level symbols side by side):

- ``heights``: each symbol's median ink height in em (seen 15+ times; symbols TeX may
  enlarge left out);
- ``natural``: each pair class's (left atom > right atom > what closes between) median ink
  gap in em where no explicit space stands between (seen 20+ times);
- ``after`` / ``before``: each symbol's side bearing, how much wider than its class's the
  gap after / before it is (medians of what is left, alternating, shrunk towards 0; seen
  15+ times): ``\\left(`` opens an inner atom that TeX spaces from a letter, ``f`` leans over.

It prints how the gaps left over after the natural gap spread for each explicit space
(what ``respace`` reads them by). Deterministic for a given model and TeX installation.

    python training/spacing.py --model symbolseq-v4 --model-dir training/.cache/v4files \
        --out src/scipix/models/spacing-v2.json

(the shipped table was aligned by v4, whose files are in git: training/README.md, step 10).

Prints the file's SHA-256 for ``scipix.recognizer.config``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

from build_dataset import load_formulas, segmented
from scipix.recognizer.atoms import OPS, SIZES, SPACE_WIDTHS, slots
from scipix.recognizer.config import MODELS
from scipix.recognizer.delimiters import sized_residuals
from scipix.recognizer.model import BOS, ModelFiles, SequenceModel
from scipix.recognizer.segment import Components
from scipix.recognizer.spacing import Ink, SpacingTable, pair
from scipix.render import TexRenderer

FONT_PT = 12


def measure(
    formulas: list[str], dpi: int, model: SequenceModel
) -> list[tuple[list[str], list[int], Components, float]]:
    """Each rendered formula's tokens (control spaces as ``\\ ``), teacher-forced alignment,
    components and em in pixels."""
    out = []
    images = TexRenderer(font_size=FONT_PT).render(formulas, dpi)
    for f, comps in segmented(formulas, images):
        raw = f.split()
        ids = model._ids(raw)
        if len(ids) >= int(model.cfg["max_len"]) - 1:
            continue
        memory = model.encode(comps.crops, comps.features)
        _, _, align = model._run([BOS, *ids], 0, model._empty_cache, memory)
        tokens = ["\\ " if t == "\\" else t for t in raw]
        out.append((tokens, [int(a) for a in align[: len(ids)]], comps, FONT_PT / 72.27 * dpi))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--model", default="symbolseq-v5", help="aligns the tokens to components")
    ap.add_argument(
        "--model-dir", type=Path, default=None, help="the model's files (default: the shipped ones)"
    )
    ap.add_argument("--dpis", default="100,150,300")
    ap.add_argument("--n", type=int, default=1000, help="formulas per dpi")
    ap.add_argument("--start", type=int, default=0, help="first formula of the shuffled pool")
    args = ap.parse_args()
    pool, _ = load_formulas(1234, 5)
    files = (
        MODELS[args.model].files()
        if args.model_dir is None
        else ModelFiles.in_folder(args.model_dir, args.model)
    )
    model = SequenceModel(files)
    heights: dict[str, list[float]] = defaultdict(list)
    gaps: list[Gap] = []
    renders: list[tuple[list[str], list[int], Components, float]] = []
    start = args.start
    for dpi in (int(d) for d in args.dpis.split(",")):
        chosen: list[str] = []
        while len(chosen) < args.n:
            f = pool[start]
            start += 1
            if set(f.split()) & (set(SPACE_WIDTHS) | {"\\"}):
                chosen.append(f)
        for tokens, align, comps, em in measure(chosen, dpi, model):
            renders.append((tokens, align, comps, em))
            ink = Ink(comps)
            for s in slots(tokens):
                a, b = align[s.left], align[s.right]
                if a == b or not (0 <= a < len(comps) and 0 <= b < len(comps)):
                    continue
                for k in s.base_sized:
                    t, c = tokens[k], align[k]
                    sized = k > 0 and tokens[k - 1] in SIZES  # \\big( and the like
                    if not t.startswith(("\\left", "\\right")) and t not in OPS and not sized:
                        heights[t].append(float(comps.boxes[c][3] - comps.boxes[c][1]) / em)
                gap = ink.slot_gap(tokens, align, s)
                if gap is not None:
                    width = sum(SPACE_WIDTHS[tokens[i]] for i in s.spaces)
                    gaps.append(Gap(*pair(tokens, s), gap / em, width))
        print(f"{dpi} dpi: {len(chosen)} formulas", flush=True)
    table: dict[str, Any] = fit(heights, gaps)
    learned = SpacingTable(**table)
    table["sized"] = fit_sized(learned, renders)
    learned = SpacingTable(**table)
    for w in sorted({round(g.width, 3) for g in gaps}):
        r = [
            g.em - natural
            for g in gaps
            if round(g.width, 3) == w
            and (natural := learned.natural_gap(g.key, g.after, g.before)) is not None
        ]
        if len(r) >= 20:
            q = np.percentile(r, [2, 10, 50, 90, 98]).round(3).tolist()
            print(f"spaces {w:.3f} em: {len(r)} gaps, residual 2/10/50/90/98%: {q}")
    args.out.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(
        f"{args.out}: {len(table['heights'])} heights, {len(table['natural'])} pairs, sha256 {digest}"
    )


def fit_sized(
    table: SpacingTable, renders: list[tuple[list[str], list[int], Components, float]]
) -> dict[str, list[float | None]]:
    """Delimiters drawn larger than plain: the median excess of each of their four gaps over
    the plain glyph's natural gap, per glyph and size (10+ samples, else None)."""
    excess: dict[str, list[list[float]]] = defaultdict(lambda: [[], [], [], []])
    for tokens, align, comps, em in renders:
        for key, values in sized_residuals(tokens, align, comps, em, table):
            for k, v in enumerate(values):
                if v is not None:
                    excess[key][k].append(v)
    out = {
        key: [round(float(np.median(v)), 4) if len(v) >= 10 else None for v in sides]
        for key, sides in sorted(excess.items())
    }
    for key, sides in out.items():
        counts = [len(v) for v in excess[key]]
        print(f"sized {key}: {sides} from {counts}")
    return {key: sides for key, sides in out.items() if any(v is not None for v in sides)}


@dataclass(frozen=True, slots=True)
class Gap:
    key: str  # the slot's pair class
    after: str  # the left symbol when the atom is that symbol alone, else ""
    before: str  # the right symbol
    em: float  # the measured ink gap in em
    width: float  # the explicit spaces between, in em


def fit(heights: dict[str, list[float]], gaps: list[Gap]) -> dict[str, dict[str, float]]:
    """Medians: heights (15+ samples), each pair class's gap without spaces (20+), then each
    symbol's bearing after / before it (15+; alternating, shrunk towards 0 by n / (n + 20))."""
    bare = [g for g in gaps if g.width == 0]
    by_key: dict[str, list[float]] = defaultdict(list)
    for g in bare:
        by_key[g.key].append(g.em)
    natural = {k: float(np.median(v)) for k, v in by_key.items() if len(v) >= 20}
    bare = [g for g in bare if g.key in natural]
    after: dict[str, float] = {}
    before: dict[str, float] = {}

    def shrunk(groups: dict[str, list[float]]) -> dict[str, float]:
        return {
            t: float(np.median(v)) * len(v) / (len(v) + 20)
            for t, v in groups.items()
            if t and len(v) >= 15
        }

    for _ in range(4):
        groups: dict[str, list[float]] = defaultdict(list)
        for g in bare:
            groups[g.after].append(g.em - natural[g.key] - before.get(g.before, 0.0))
        after = shrunk(groups)
        groups = defaultdict(list)
        for g in bare:
            groups[g.before].append(g.em - natural[g.key] - after.get(g.after, 0.0))
        before = shrunk(groups)
    return {
        "heights": {
            t: round(float(np.median(v)), 4) for t, v in sorted(heights.items()) if len(v) >= 15
        },
        "natural": {k: round(v, 4) for k, v in sorted(natural.items())},
        "after": {t: round(v, 4) for t, v in sorted(after.items()) if abs(v) >= 0.005},
        "before": {t: round(v, 4) for t, v in sorted(before.items()) if abs(v) >= 0.005},
    }


if __name__ == "__main__":
    main()
