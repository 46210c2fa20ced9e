"""The n-gram table of predictable tokens that speeds up greedy decoding.

Counts, over the training formulas' token sequences, which token follows each context of
1 to ``--order`` tokens, and keeps each context's most frequent next token with its share
when that share is at least ``--min-share`` and the context was seen at least
``--min-count`` times (``{`` after ``_`` or ``\\frac``: 0.99; ``(`` after ``\\left``; ...). At inference
(``SequenceModel._predictable``) the likeliest continuation is fed to the decoder together
with the token just read, so one run checks it: where the model agrees, a run per token is
saved; where it does not, the extra tokens are dropped. Feeding one more token costs about a
tenth of a run (one core), so even a guess right a third of the time pays (min share 0.3
measured best of 0.15-0.9 on 250 im2latex formulas). Contexts of up to 4 tokens seen 40+
times give 1.62 tokens per run on 3,000 held-out training formulas, against 1.50 for up to
2 tokens seen 20+ times, but a 1.1 MB table (30,686 contexts) bought only x0.98 on the
median im2latex formula, so the defaults stay at 2 and 20. The table never changes what is read,
only how many decoder runs it takes (up to int8 rounding of a run over several tokens).

    python training/ngrams.py --data training/.cache/pk21_tex training/.cache/pk21_syn \\
        training/.cache/pk21_m1 training/.cache/pk21_m2 --vocab src/scipix/models/symbolseq-v5-vocab.json \\
        --out src/scipix/models/symbolseq-v5-ngrams.json

Deterministic (no sampling): the same data gives the same file byte for byte. Prints the
file's SHA-256 for ``scipix.recognizer.config``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pack import load_arrays

BOS, EOS = 1, 2


def count(data_dirs: list[Path], order: int) -> dict[tuple[int, ...], Counter[int]]:
    """For each context of 1 to ``order`` tokens (a formula starts after ``order`` BOS), the
    tokens that follow it."""
    follow: dict[tuple[int, ...], Counter[int]] = defaultdict(Counter)
    for d in data_dirs:
        arrays = load_arrays(d)
        tokens, offsets = arrays["tokens"], arrays["tok_off"]
        for i in range(len(offsets) - 1):
            seq = [BOS] * order + tokens[offsets[i] : offsets[i + 1]].tolist() + [EOS]
            for j in range(order, len(seq)):
                for n in range(1, order + 1):
                    follow[tuple(seq[j - n : j])][seq[j]] += 1
    return follow


def table(
    follow: dict[tuple[int, ...], Counter[int]], min_share: float, min_count: int
) -> list[tuple[tuple[int, ...], int, float]]:
    """(context, next, share of next) for the contexts kept, sorted."""
    rows = []
    for ctx, nxt in follow.items():
        tok, k = nxt.most_common(1)[0]
        n = sum(nxt.values())
        if n >= min_count and k / n >= min_share and tok != EOS:
            rows.append((ctx, tok, round(k / n, 3)))
    return sorted(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--vocab", type=Path, required=True, help="the model's vocab JSON")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--min-share", type=float, default=0.3)
    ap.add_argument("--min-count", type=int, default=20)
    ap.add_argument("--order", type=int, default=2, help="longest context, in tokens")
    args = ap.parse_args()
    vocab = json.loads(args.vocab.read_text(encoding="utf-8"))["vocab"]
    rows = table(count(args.data, args.order), args.min_share, args.min_count)
    about = (
        f"context (1-{args.order} tokens, oldest first) -> the token that follows it most "
        f"often and its share (>= {args.min_share:g}, {args.min_count}+ training occurrences; "
        "training/ngrams.py)"
    )
    lines = [
        json.dumps([[vocab[t] for t in ctx], vocab[nxt], share], ensure_ascii=False)
        for ctx, nxt, share in rows
    ]
    rows_text = ",\n".join(lines)
    text = f'{{"about": {json.dumps(about)},\n"rows": [\n{rows_text}\n]}}\n'
    args.out.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.out.name}: {len(rows)} contexts, sha256 {sha}")


if __name__ == "__main__":
    main()
