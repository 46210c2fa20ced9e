"""The sequence model in numpy: component crops + boxes -> LaTeX tokens.

Mirrors ``training/model.py`` operation for operation. Weights are stored int8 per output
row with a float scale (``name.q``/``name.s``) or float32, in one ``.npz`` file whose SHA-256
is checked before loading. Greedy or beam decoding with cached keys/values.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from scipix.errors import ModelError

F32 = NDArray[np.float32]
N_FREQ = 8
PAD, BOS, EOS = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Decoded:
    """Token ids (without BOS/EOS) and the probability the model gave each one."""

    tokens: list[str]
    probs: list[float]
    finished: bool


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _gelu(x: F32) -> F32:
    return np.asarray(
        0.5 * x * (1.0 + np.tanh(0.7978845608028654 * (x + 0.044715 * x**3))), dtype=np.float32
    )


def _softmax(x: F32, axis: int = -1) -> F32:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return np.asarray(e / e.sum(axis=axis, keepdims=True), dtype=np.float32)


class SequenceModel:
    """Loads the weights once; ``encode`` then ``decode`` per formula."""

    def __init__(self, path: Path, sha256: str | None) -> None:
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
        if sha256 is not None and sha256_file(path) != sha256:
            raise ModelError(f"model file {path.name} fails its SHA-256 check")
        try:
            z = np.load(path, allow_pickle=False)
            raw = {k: z[k] for k in z.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read model file {path}: {exc}") from None
        self.cfg = json.loads(bytes(raw.pop("__config__")).decode())
        self.vocab: list[str] = json.loads(bytes(raw.pop("__vocab__")).decode())
        w: dict[str, F32] = {}
        for k, v in raw.items():
            if k.endswith(".q"):
                w[k[:-2]] = (v.astype(np.float32) * raw[k[:-2] + ".s"]).astype(np.float32)
            elif not k.endswith(".s"):
                w[k] = v.astype(np.float32)
        self.w = w
        self.d = int(self.cfg["d"])
        self.heads = int(self.cfg["heads"])
        # linear layers as (in, out) matrices for x @ W
        self.lin = {
            k[:-7]: np.ascontiguousarray(v.T)
            for k, v in w.items()
            if k.endswith(".weight") and v.ndim == 2 and not k.startswith(("tok.", "pos."))
        }
        self.freqs = (2 * math.pi / (0.5 * 2.0 ** np.arange(N_FREQ))).astype(np.float32)

    # ---- building blocks -------------------------------------------------------------
    def _linear(self, name: str, x: F32) -> F32:
        return np.asarray(x @ self.lin[name] + self.w[name + ".bias"], dtype=np.float32)

    def _ln(self, name: str, x: F32) -> F32:
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        y = (x - mu) / np.sqrt(var + 1e-5)
        return np.asarray(y * self.w[name + ".weight"] + self.w[name + ".bias"], dtype=np.float32)

    def _heads(self, x: F32) -> F32:
        n = x.shape[0]
        return x.reshape(n, self.heads, self.d // self.heads).transpose(1, 0, 2)

    def _attend(self, q: F32, k: F32, v: F32, mask: NDArray[np.bool_] | None) -> F32:
        # q (h, n, dh), k/v (h, m, dh)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
        if mask is not None:
            s = np.where(mask, s, -1e9)
        out = _softmax(s) @ v
        return np.asarray(out.transpose(1, 0, 2).reshape(q.shape[1], self.d), dtype=np.float32)

    def _conv_relu_pool(self, name: str, x: F32) -> F32:
        # x (n, c, h, w) -> conv3x3 pad 1 -> relu -> maxpool 2
        wt = self.w[name + ".weight"]  # (o, c, 3, 3)
        n, c, h, wd = x.shape
        p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        cols = np.stack([p[:, :, i : i + h, j : j + wd] for i in range(3) for j in range(3)], 2)
        cols = cols.reshape(n, c * 9, h * wd)  # channel-major, then kernel position
        out = np.einsum("ok,nkp->nop", wt.reshape(wt.shape[0], c * 9), cols, optimize=True)
        out = np.maximum(out + self.w[name + ".bias"][None, :, None], 0.0)
        out = out.reshape(n, -1, h // 2, 2, wd // 2, 2).max(axis=(3, 5))
        return np.asarray(out, dtype=np.float32)

    # ---- model ---------------------------------------------------------------------
    def encode(self, crops: NDArray[np.uint8], feats: F32) -> F32:
        x = crops.astype(np.float32)[:, None]
        for name in ("crop.c1", "crop.c2", "crop.c3"):
            x = self._conv_relu_pool(name, x)
        c = self._linear("crop.fc", x.reshape(x.shape[0], -1))
        xc = 0.5 * (feats[:, 0] + feats[:, 1])
        yc = 0.5 * (feats[:, 2] + feats[:, 3])
        ax, ay = xc[:, None] * self.freqs, yc[:, None] * self.freqs
        f = np.concatenate([feats, np.sin(ax), np.cos(ax), np.sin(ay), np.cos(ay)], 1)
        h = c + self._linear("feat2", _gelu(self._linear("feat1", f.astype(np.float32))))
        for i in range(int(self.cfg["enc_layers"])):
            p = f"enc.{i}"
            y = self._ln(p + ".ln1", h)
            q = self._heads(self._linear(p + ".att.q", y))
            k = self._heads(self._linear(p + ".att.k", y))
            v = self._heads(self._linear(p + ".att.v", y))
            h = h + self._linear(p + ".att.o", self._attend(q, k, v, None))
            h = h + self._linear(
                p + ".ff.b", _gelu(self._linear(p + ".ff.a", self._ln(p + ".ln2", h)))
            )
        return self._ln("enc_ln", h)

    def decode(self, mem: F32, *, max_len: int = 200, beam: int = 1) -> Decoded:
        layers = int(self.cfg["dec_layers"])
        cross = []
        for i in range(layers):
            p = f"dec.{i}.cross"
            cross.append(
                (self._heads(self._linear(p + ".k", mem)), self._heads(self._linear(p + ".v", mem)))
            )
        if beam <= 1:
            return self._greedy(cross, layers, max_len)
        return self._beam(cross, layers, max_len, beam)

    def _step(
        self, tok: int, pos: int, cache: list[tuple[F32, F32]], cross: list[tuple[F32, F32]]
    ) -> tuple[F32, list[tuple[F32, F32]]]:
        x = (self.w["tok.weight"][tok] + self.w["pos.weight"][pos])[None, :]
        new_cache = []
        for i, (ck, cv) in enumerate(cross):
            p = f"dec.{i}"
            y = self._ln(p + ".ln1", x)
            q = self._heads(self._linear(p + ".self_att.q", y))
            k = self._heads(self._linear(p + ".self_att.k", y))
            v = self._heads(self._linear(p + ".self_att.v", y))
            if cache:
                k = np.concatenate([cache[i][0], k], 1)
                v = np.concatenate([cache[i][1], v], 1)
            new_cache.append((k, v))
            x = x + self._linear(p + ".self_att.o", self._attend(q, k, v, None))
            q2 = self._heads(self._linear(p + ".cross.q", self._ln(p + ".ln2", x)))
            x = x + self._linear(p + ".cross.o", self._attend(q2, ck, cv, None))
            x = x + self._linear(
                p + ".ff.b", _gelu(self._linear(p + ".ff.a", self._ln(p + ".ln3", x)))
            )
        logits = self._linear("out", self._ln("dec_ln", x))[0]
        logp = logits - logits.max()
        logp = logp - np.log(np.exp(logp).sum())
        return np.asarray(logp, dtype=np.float32), new_cache

    def _greedy(self, cross: list[tuple[F32, F32]], layers: int, max_len: int) -> Decoded:
        cache: list[tuple[F32, F32]] = []
        tok, ids, probs = BOS, [], []
        max_len = min(max_len, int(self.cfg["max_len"]) - 1)
        for pos in range(max_len):
            logp, cache = self._step(tok, pos, cache, cross)
            tok = int(logp.argmax())
            if tok == EOS:
                return Decoded([self.vocab[t] for t in ids], probs, True)
            ids.append(tok)
            probs.append(float(np.exp(logp[tok])))
        return Decoded([self.vocab[t] for t in ids], probs, False)

    def _beam(self, cross: list[tuple[F32, F32]], layers: int, max_len: int, width: int) -> Decoded:
        max_len = min(max_len, int(self.cfg["max_len"]) - 1)
        # each hypothesis: (score, ids, probs, last token, cache)
        beams: list[tuple[float, list[int], list[float], int, list[tuple[F32, F32]]]] = [
            (0.0, [], [], BOS, [])
        ]
        finished: list[tuple[float, list[int], list[float]]] = []
        for pos in range(max_len):
            cand = []
            for score, ids, probs, last, cache in beams:
                logp, nc = self._step(last, pos, cache, cross)
                for t in np.argsort(-logp)[:width]:
                    cand.append((score + float(logp[t]), ids, probs, int(t), nc, float(logp[t])))
            cand.sort(key=lambda c: -c[0])
            beams = []
            for score, ids, probs, t, nc, lp in cand:
                if t == EOS:
                    finished.append((score / (len(ids) + 1) ** 0.6, ids, probs))
                else:
                    beams.append((score, [*ids, t], [*probs, math.exp(lp)], t, nc))
                if len(beams) >= width:
                    break
            best_open = max((b[0] / (len(b[1]) + 1) ** 0.6 for b in beams), default=-1e9)
            if finished and max(f[0] for f in finished) >= best_open:
                break
            if not beams:
                break
        if not finished:
            _s, ids, probs, _, _ = beams[0]
            return Decoded([self.vocab[t] for t in ids], probs, False)
        _, ids, probs = max(finished, key=lambda f: f[0])
        return Decoded([self.vocab[t] for t in ids], probs, True)
