"""Average the weights of training runs that started from the same state (a "model soup").

Two continuations of one model at different learning rates stay close enough in weight space
that their mean is a model too, and it read better than either (symbolseq-v5: im2latex at
150 dpi 70.3% and 70.6% alone, 71.3% averaged; training/README.md, step 10).

    python training/average.py run/a/state.pt run/b/state.pt --out run/ab/state.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("states", type=Path, nargs="+", help="state.pt files of train.py")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    cks = [torch.load(p, map_location="cpu") for p in args.states]
    if any(ck["cfg"] != cks[0]["cfg"] or ck["vocab"] != cks[0]["vocab"] for ck in cks):
        raise SystemExit("the states differ in configuration or vocabulary")
    state = {
        k: (sum(ck["state"][k].float() for ck in cks) / len(cks)).half() for k in cks[0]["state"]
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state": state, "cfg": cks[0]["cfg"], "vocab": cks[0]["vocab"]}, args.out)
    print(f"wrote {args.out}: the mean of {len(cks)} states")


if __name__ == "__main__":
    main()
