"""The sequence model at inference: two ONNX graphs run with onnxruntime.

The encoder reads every component (crop + box features) at once and returns the
cross-attention keys/values of each decoder layer; the decoder-step graph takes one token and
each layer's self-attention cache and returns the next token's log-probabilities, the grown
caches and the component the token was read from. Greedy or beam
decoding runs here. Every file's SHA-256 is checked before it is loaded.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from scipix.errors import ModelError

F32 = NDArray[np.float32]
# per decoder layer, a (keys, values) pair of shape (1, heads, length, head size)
Cache = tuple[tuple[F32, F32], ...]
PAD, BOS, EOS = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Decoded:
    """Tokens (without BOS/EOS) and the probability the model gave each one."""

    tokens: list[str]
    probs: list[float]
    finished: bool
    alignment: list[int]  # for each token, the component the decoder read it from
    end_logp: float = 0.0  # log-probability of the end token after them (when finished)
    # the decoder's self-attention cache after them (position 0: the start token), so that
    # another reading sharing their first tokens can be scored from where the two part
    cache: Cache | None = field(default=None, repr=False, compare=False)

    @property
    def logp(self) -> float:
        """The reading's total log-probability, its end included."""
        return float(np.log(np.maximum(self.probs, 1e-30)).sum()) + self.end_logp


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The three files of a model and their expected SHA-256, and optionally its table of
    predictable tokens (``training/ngrams.py``: it only speeds up greedy decoding)."""

    encoder: Path
    decoder: Path
    vocab: Path
    sha256: tuple[str, str, str]
    ngrams: Path | None = None
    ngrams_sha256: str = ""

    @classmethod
    def in_folder(cls, folder: Path, name: str) -> ModelFiles:
        """The files ``NAME-encoder.onnx``, ``NAME-decoder.onnx``, ``NAME-vocab.json`` (and
        ``NAME-ngrams.json`` when present) in ``folder``, expected to be as they are: for
        development tools comparing models outside the registry, whose files carry no
        recorded SHA-256."""
        enc, dec, vocab, ngrams = (
            folder / f"{name}-{part}"
            for part in ("encoder.onnx", "decoder.onnx", "vocab.json", "ngrams.json")
        )
        sums = (sha256_file(enc), sha256_file(dec), sha256_file(vocab))
        if not ngrams.is_file():
            return cls(enc, dec, vocab, sums)
        return cls(enc, dec, vocab, sums, ngrams, sha256_file(ngrams))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _checked(path: Path, expected: str) -> Path:
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    if sha256_file(path) != expected:
        raise ModelError(f"model file {path.name} fails its SHA-256 check (corrupt or replaced)")
    return path


class SequenceModel:
    """Loads once; ``encode`` then ``decode`` per formula. Thread-safe (ORT sessions are)."""

    def __init__(self, files: ModelFiles, num_threads: int = 1) -> None:
        enc = _checked(files.encoder, files.sha256[0])
        dec = _checked(files.decoder, files.sha256[1])
        meta = json.loads(_checked(files.vocab, files.sha256[2]).read_text(encoding="utf-8"))
        self.vocab: list[str] = meta["vocab"]
        self._index = {t: i for i, t in enumerate(self.vocab)}
        self.cfg: dict[str, int] = meta["config"]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(num_threads, 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            providers = ["CPUExecutionProvider"]
            self._enc = ort.InferenceSession(str(enc), opts, providers=providers)
            self._dec = ort.InferenceSession(str(dec), opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(f"cannot load the model: {exc}") from None
        self._layers = int(self.cfg["dec_layers"])
        # older decoder graphs take exactly one token per run: no speculative decoding
        tok_shape = next(i.shape for i in self._dec.get_inputs() if i.name == "tok")
        self.multi_token = len(tok_shape) == 2 and tok_shape[1] != 1
        # context (oldest token first) -> the likeliest next token and its share
        self.ngrams: dict[tuple[int, ...], tuple[int, float]] | None = None
        if files.ngrams is not None and self.multi_token:
            self.ngrams = self._load_ngrams(_checked(files.ngrams, files.ngrams_sha256))
        # the longest context in the table
        self._ngram_order = max(map(len, self.ngrams or ()), default=0)
        heads = int(self.cfg["heads"])
        empty = np.zeros((1, heads, 0, int(self.cfg["d"]) // heads), np.float32)
        self._empty_cache: Cache = tuple((empty, empty) for _ in range(self._layers))
        # the decoder's outputs asked for by name: log-probabilities, each layer's grown
        # keys and values, the component read
        self._outputs = [
            "logp",
            *(f"new_{kv}{i}" for i in range(self._layers) for kv in "kv"),
            "align",
        ]

    def _load_ngrams(self, path: Path) -> dict[tuple[int, ...], tuple[int, float]]:
        rows = json.loads(path.read_text(encoding="utf-8"))["rows"]
        table: dict[tuple[int, ...], tuple[int, float]] = {}
        for context, nxt, share in rows:
            ids = [self._index.get(t, -1) for t in (*context, nxt)]
            if min(ids) < 0 or not context:
                raise ModelError(f"{path.name}: token not in the vocabulary in {context, nxt}")
            table[tuple(ids[:-1])] = (ids[-1], float(share))
        return table

    def encode(self, crops: NDArray[np.uint8], feats: F32) -> Cache:
        """Each decoder layer's cross-attention keys and values over the components."""
        # (layers, heads, n, head size) each
        k, v = self._enc.run(None, {"crops": crops.astype(np.float32), "feats": feats})
        return tuple((k[i : i + 1], v[i : i + 1]) for i in range(self._layers))

    def _run(
        self, toks: list[int], pos: int, past: Cache, cross: Cache
    ) -> tuple[F32, Cache, NDArray[np.int64]]:
        """Feed ``toks`` at positions ``pos``, ``pos + 1``, ...: each one's log-probabilities
        of the token after it (len(toks), V), the caches grown by len(toks), and the
        component each one was read from."""
        feed: dict[str, NDArray[np.int64] | F32] = {
            "tok": np.array([toks], np.int64),
            "pos": np.arange(pos, pos + len(toks), dtype=np.int64)[None],
        }
        for i in range(self._layers):
            feed[f"past_k{i}"], feed[f"past_v{i}"] = past[i]
            feed[f"cross_k{i}"], feed[f"cross_v{i}"] = cross[i]
        logp, *caches, align = self._dec.run(self._outputs, feed)
        grown = tuple((caches[2 * i], caches[2 * i + 1]) for i in range(self._layers))
        return logp[0], grown, align

    def _step(self, tok: int, pos: int, past: Cache, cross: Cache) -> tuple[F32, Cache, int]:
        """Log-probabilities of the next token, the grown caches, and the component attended."""
        logp, grown, align = self._run([tok], pos, past, cross)
        return logp[0], grown, int(align[0])

    def decode(
        self, cross: Cache, *, max_len: int = 200, beam: int = 1, draft: Decoded | None = None
    ) -> Decoded:
        """Greedy (``beam`` <= 1) or beam decoding. ``draft``: another reading of the same
        formula (e.g. of the image at another size); greedy decoding then checks many of its
        tokens in one run of the decoder instead of one run per token. The result is the
        greedy reading all the same: a draft only saves time, and a wrong one costs little."""
        max_len = min(max_len, int(self.cfg["max_len"]) - 1)
        if beam <= 1:
            ids = [] if draft is None or not self.multi_token else self._ids(draft.tokens)
            return self._greedy(cross, max_len, ids)
        return self._beam(cross, max_len, beam)

    def _ids(self, tokens: list[str]) -> list[int]:
        """Token ids; a token outside the vocabulary becomes PAD (a valid input the model
        never agrees with in practice: a wrong draft token only costs its place in a run)."""
        return [self._index.get(t, PAD) for t in tokens]

    def _decoded(self, hyp: _Hypothesis, finished: bool, end_logp: float = 0.0) -> Decoded:
        tokens = [self.vocab[t] for t in hyp.ids]
        return Decoded(tokens, hyp.probs, finished, hyp.align, end_logp, hyp.past)

    def score(self, cross: Cache, tokens: list[str], own: Decoded | None = None) -> float:
        """The total log-probability of ``tokens`` and then the end token, read from the
        encoding ``cross`` (teacher forcing: one decoder run; one per token with an older
        one-token graph). ``own``: the greedy reading of ``cross``, whose probabilities and
        cache stand for the tokens the two share at the start, so the run starts where they
        part. A token outside the vocabulary scores as PAD."""
        ids = self._ids(tokens)[: int(self.cfg["max_len"]) - 1]
        target = [*ids, EOS]
        if self.multi_token:
            start, known, past = 0, 0.0, self._empty_cache
            if own is not None and own.cache is not None:
                start = _shared(ids, self._ids(own.tokens))
                known = float(np.log(np.maximum(own.probs[:start], 1e-30)).sum())
                past = _trimmed(own.cache, start)
            logp, _, _ = self._run([BOS, *ids][start:], start, past, cross)
            return known + float(logp[np.arange(len(target) - start), target[start:]].sum())
        total, past = 0.0, self._empty_cache
        for pos, (tok, nxt) in enumerate(zip([BOS, *ids], target, strict=True)):
            step, past, _ = self._step(tok, pos, past, cross)
            total += float(step[nxt])
        return total

    def _greedy(self, cross: Cache, max_len: int, draft: list[int]) -> Decoded:
        """Greedy decoding; each run of the decoder also feeds the next tokens of ``draft``
        it expects (speculative decoding with another reading as the draft): the tokens the
        model agrees with are all accepted from that one run, the rest are dropped with their
        cache entries. After a disagreement the draft is followed from where the latest
        tokens occur in it; while it cannot be found again (or without a draft), the n-gram
        table's likeliest next tokens are fed instead."""
        past = self._empty_cache
        hyp = _Hypothesis(0.0, [], [], [], past)
        tok, pos = BOS, 0
        at, chunk = 0, _CHUNK_START  # the draft's token expected after ``tok``
        lost = 0  # runs since the draft was last followed
        while pos < max_len:
            if at < len(draft) and lost < 2:
                proposal = draft[at : at + min(chunk, max_len - pos - 1)]
            else:
                proposal = self._predictable(hyp.ids, max_len - pos - 1)
            logp, grown, where = self._run([tok, *proposal], pos, past, cross)
            best = logp.argmax(-1)
            n = _shared(best[: len(proposal)].tolist(), proposal)  # the guesses it agrees with
            past = grown if n == len(proposal) else _trimmed(grown, pos + n + 1)
            hyp.past = past  # the inputs fed so far: every token read but the newest
            for m in range(n + 1):
                tok = int(best[m])
                if tok == EOS:
                    return self._decoded(hyp, True, float(logp[m, EOS]))
                hyp.ids.append(tok)
                hyp.probs.append(math.exp(float(logp[m, tok])))
                hyp.align.append(int(where[m]))
            pos += n + 1
            at += n  # where the draft has the token read last
            if at < len(draft) and draft[at] == tok:
                grow = n == len(proposal) and lost == 0
                at, lost = at + 1, 0
                chunk = min(chunk * 4, _CHUNK_MAX) if grow else _CHUNK_START
            elif draft:
                found = _resync(draft, at, hyp.ids)
                at, lost = (at + 1, lost + 1) if found is None else (found, 0)
                chunk = _CHUNK_AFTER_MISS
        return self._decoded(hyp, False)

    def _predictable(self, ids: list[int], limit: int) -> list[int]:
        """The likeliest tokens after ``ids`` by the model's n-gram table (``{`` after ``_``,
        ...), while the chain's share stays over ``_NGRAM_MIN_SHARE``: fed with the next
        token, each costs about a tenth of a run and saves a run when the model agrees."""
        table, order = self.ngrams, self._ngram_order
        if table is None or limit <= 0:
            return []
        h = [BOS] * order + ids[-order:]
        out: list[int] = []
        share = 1.0
        while len(out) < min(limit, _NGRAM_MAX):
            entry = None
            for n in range(order, 0, -1):  # the longest context the table knows
                entry = table.get(tuple(h[-n:]))
                if entry is not None:
                    break
            if entry is None:
                break
            share *= entry[1]
            if out and share < _NGRAM_MIN_SHARE:
                break
            out.append(entry[0])
            h.append(entry[0])
        return out

    def _beam(self, cross: Cache, max_len: int, width: int) -> Decoded:
        beams = [_Hypothesis(0.0, [], [], [], self._empty_cache)]
        finished: list[_Hypothesis] = []
        for pos in range(max_len):
            cand: list[tuple[float, _Hypothesis, int, float, Cache, int]] = []
            for hyp in beams:
                logp, new_past, where = self._step(
                    hyp.ids[-1] if hyp.ids else BOS, pos, hyp.past, cross
                )
                for t in np.argsort(-logp)[:width]:
                    lp = float(logp[t])
                    cand.append((hyp.score + lp, hyp, int(t), lp, new_past, where))
            cand.sort(key=lambda c: -c[0])
            beams = []
            for score, hyp, t, lp, new_past, where in cand:
                if t == EOS:
                    finished.append(_Hypothesis(score, hyp.ids, hyp.probs, hyp.align, new_past))
                else:
                    beams.append(
                        _Hypothesis(
                            score,
                            [*hyp.ids, t],
                            [*hyp.probs, math.exp(lp)],
                            [*hyp.align, where],
                            new_past,
                        )
                    )
                if len(beams) >= width:
                    break
            best_open = max((b.normalised for b in beams), default=-math.inf)
            if not beams or (finished and max(f.normalised for f in finished) >= best_open):
                break
        if not finished:
            return self._decoded(beams[0], False)
        best = max(finished, key=lambda f: f.normalised)
        end = best.score - float(np.log(np.maximum(best.probs, 1e-30)).sum())
        return self._decoded(best, True, end)


# draft tokens fed per decoder run: at the start, after a disagreement, at most (a run of
# S tokens costs about a step plus S * 0.1 of a step, one core)
_CHUNK_START, _CHUNK_AFTER_MISS, _CHUNK_MAX = 16, 4, 64
_NGRAM_MAX = 4  # predictable tokens fed at most per run
_NGRAM_MIN_SHARE = 0.15  # and while the chain of their shares stays over this


def _trimmed(cache: Cache, length: int) -> Cache:
    """The caches cut to their first ``length`` positions."""
    return tuple(
        (np.ascontiguousarray(k[:, :, :length]), np.ascontiguousarray(v[:, :, :length]))
        for k, v in cache
    )


def _shared(a: list[int], b: list[int]) -> int:
    """How many tokens ``a`` and ``b`` share at the start."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _resync(draft: list[int], at: int, ids: list[int]) -> int | None:
    """Where to follow ``draft`` after the reading (``ids``) left it at index ``at``: after
    the nearest occurrence of the reading's last two tokens, else of its last token (the
    draft skipped or doubled a token); None when neither is near (a token substituted, or
    the readings differ more)."""
    last = ids[-1]
    prev = ids[-2] if len(ids) > 1 else BOS
    window = sorted(range(max(at - 4, 0), min(at + 6, len(draft))), key=lambda q: abs(q - at))
    for q in window:
        if draft[q] == last and (draft[q - 1] if q else BOS) == prev:
            return q + 1
    for q in window:
        if abs(q - at) <= 2 and draft[q] == last:
            return q + 1
    return None


@dataclass(slots=True)
class _Hypothesis:
    """A partial decoding: summed log-probability, tokens, their probabilities and alignment."""

    score: float
    ids: list[int]
    probs: list[float]
    align: list[int]
    past: Cache

    @property
    def normalised(self) -> float:
        return float(self.score / (len(self.ids) + 1) ** 0.6)
