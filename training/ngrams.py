"""The n-gram table of predictable tokens that speeds up greedy decoding.

Counts, over the training formulas' token sequences, which token follows each token and
each pair of tokens, and keeps each context's most frequent next token with its share when
that share is at least ``--min-share`` and the context was seen at least ``--min-count``
times (``{`` after ``_`` or ``\\frac``: 0.99; ``(`` after ``\\left``; ...). At inference
(``SequenceModel._predictable``) the likeliest continuation is fed to the decoder together
with the token just read, so one run checks it: where the model agrees, a run per token is
saved; where it does not, the extra tokens are dropped. Feeding one more token costs about a
tenth of a run (one core), so even a guess right a third of the time pays (min share 0.3
measured best of 0.15-0.9 on 250 im2latex formulas). The table never changes what is read,
only how many decoder runs it takes (up to int8 rounding of a run over several tokens).

    python training/ngrams.py --data training/.cache/pk_old training/.cache/pk_rob \\
        training/.cache/pk_new --vocab src/scipix/models/symbolseq-v4-vocab.json \\
        --out src/scipix/models/symbolseq-v4-ngrams.json

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


def count(data_dirs: list[Path]) -> dict[tuple[int, int], Counter[int]]:
    """For each context (token before last or -1 for any, last token), the next tokens."""
    follow: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    for d in data_dirs:
        arrays = load_arrays(d)
        tokens, offsets = arrays["tokens"], arrays["tok_off"]
        for i in range(len(offsets) - 1):
            seq = [BOS, BOS, *tokens[offsets[i] : offsets[i + 1]].tolist(), EOS]
            for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):
                follow[(-1, b)][c] += 1
                follow[(a, b)][c] += 1
    return follow


def table(
    follow: dict[tuple[int, int], Counter[int]], min_share: float, min_count: int
) -> list[tuple[int, int, int, float]]:
    """(before or -1, last, next, share of next) for the contexts kept, sorted."""
    rows = []
    for (a, b), nxt in follow.items():
        tok, k = nxt.most_common(1)[0]
        n = sum(nxt.values())
        if n >= min_count and k / n >= min_share and tok != EOS:
            rows.append((a, b, tok, round(k / n, 3)))
    return sorted(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, nargs="+", required=True)
    ap.add_argument("--vocab", type=Path, required=True, help="the model's vocab JSON")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--min-share", type=float, default=0.3)
    ap.add_argument("--min-count", type=int, default=20)
    args = ap.parse_args()
    vocab = json.loads(args.vocab.read_text(encoding="utf-8"))["vocab"]
    rows = table(count(args.data), args.min_share, args.min_count)

    def name(t: int) -> str | None:
        return None if t < 0 else vocab[t]

    about = (
        "context (token before last, null: any; last token) -> the token that follows it most "
        f"often and its share (>= {args.min_share:g}, {args.min_count}+ training occurrences; "
        "training/ngrams.py)"
    )
    lines = [
        json.dumps([name(a), name(b), name(c), share], ensure_ascii=False)
        for a, b, c, share in rows
    ]
    rows_text = ",\n".join(lines)
    text = f'{{"about": {json.dumps(about)},\n"rows": [\n{rows_text}\n]}}\n'
    args.out.write_text(text, encoding="utf-8")
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"{args.out.name}: {len(rows)} contexts, sha256 {sha}")


if __name__ == "__main__":
    main()
