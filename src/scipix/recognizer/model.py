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
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The three files of a model and their expected SHA-256."""

    encoder: Path
    decoder: Path
    vocab: Path
    sha256: tuple[str, str, str]


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

    def encode(self, crops: NDArray[np.uint8], feats: F32) -> Cache:
        """Each decoder layer's cross-attention keys and values over the components."""
        # (layers, heads, n, head size) each
        k, v = self._enc.run(None, {"crops": crops.astype(np.float32), "feats": feats})
        return tuple((k[i : i + 1], v[i : i + 1]) for i in range(self._layers))

    def _step(self, tok: int, pos: int, past: Cache, cross: Cache) -> tuple[F32, Cache, int]:
        """Log-probabilities of the next token, the grown caches, and the component attended."""
        feed: dict[str, NDArray[np.int64] | F32] = {
            "tok": np.array([[tok]], np.int64),
            "pos": np.array([[pos]], np.int64),
        }
        for i in range(self._layers):
            feed[f"past_k{i}"], feed[f"past_v{i}"] = past[i]
            feed[f"cross_k{i}"], feed[f"cross_v{i}"] = cross[i]
        logp, *caches, align = self._dec.run(self._outputs, feed)
        grown = tuple((caches[2 * i], caches[2 * i + 1]) for i in range(self._layers))
        return logp.reshape(-1), grown, int(align.reshape(-1)[0])

    def decode(self, cross: Cache, *, max_len: int = 200, beam: int = 1) -> Decoded:
        max_len = min(max_len, int(self.cfg["max_len"]) - 1)
        if beam <= 1:
            return self._greedy(cross, max_len)
        return self._beam(cross, max_len, beam)

    def _decoded(self, hyp: _Hypothesis, finished: bool) -> Decoded:
        return Decoded([self.vocab[t] for t in hyp.ids], hyp.probs, finished, hyp.align)

    def _greedy(self, cross: Cache, max_len: int) -> Decoded:
        past = self._empty_cache
        hyp = _Hypothesis(0.0, [], [], [], past)
        tok = BOS
        for pos in range(max_len):
            logp, past, where = self._step(tok, pos, past, cross)
            tok = int(logp.argmax())
            if tok == EOS:
                return self._decoded(hyp, True)
            hyp.ids.append(tok)
            hyp.probs.append(math.exp(float(logp[tok])))
            hyp.align.append(where)
        return self._decoded(hyp, False)

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
        return self._decoded(max(finished, key=lambda f: f.normalised), True)


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
