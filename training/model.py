"""The recognizer's sequence model in torch (training only; inference is numpy).

Input: the connected components of a formula (a 24x24 crop and box features each).
Output: im2markup LaTeX tokens. Written with explicit layers so that
``scipix.recognizer.model`` can mirror it operation for operation in numpy.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

N_FREQ = 8


def fourier(feats: torch.Tensor) -> torch.Tensor:
    """Sin/cos of the component's centre (in symbol heights) at N_FREQ scales."""
    xc = 0.5 * (feats[..., 0] + feats[..., 1])
    yc = 0.5 * (feats[..., 2] + feats[..., 3])
    freqs = (
        2 * math.pi / (0.5 * 2.0 ** torch.arange(N_FREQ, device=feats.device, dtype=feats.dtype))
    )
    ax = xc[..., None] * freqs
    ay = yc[..., None] * freqs
    return torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()], dim=-1)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.k = nn.Linear(d, d)
        self.v = nn.Linear(d, d)
        self.o = nn.Linear(d, d)

    def forward(
        self, x: torch.Tensor, mem: torch.Tensor, key_pad: torch.Tensor | None, causal: bool
    ) -> torch.Tensor:
        b, n, d = x.shape
        m = mem.shape[1]
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)
        k = self.k(mem).view(b, m, h, d // h).transpose(1, 2)
        v = self.v(mem).view(b, m, h, d // h).transpose(1, 2)
        mask = None
        if key_pad is not None:
            mask = (~key_pad)[:, None, None, :]  # True = attend
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal and mask is None
        )
        return self.o(out.transpose(1, 2).reshape(b, n, d))


class FeedForward(nn.Module):
    def __init__(self, d: int, ff: int) -> None:
        super().__init__()
        self.a = nn.Linear(d, ff)
        self.b = nn.Linear(ff, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(F.gelu(self.a(x), approximate="tanh"))


class EncoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ff: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.att = Attention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.ff = FeedForward(d, ff)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        y = self.ln1(x)
        x = x + self.att(y, y, pad, False)
        return x + self.ff(self.ln2(x))


class DecoderLayer(nn.Module):
    def __init__(self, d: int, heads: int, ff: int) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.self_att = Attention(d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.cross = Attention(d, heads)
        self.ln3 = nn.LayerNorm(d)
        self.ff = FeedForward(d, ff)

    def forward(self, x: torch.Tensor, mem: torch.Tensor, mem_pad: torch.Tensor) -> torch.Tensor:
        y = self.ln1(x)
        x = x + self.self_att(y, y, None, True)
        x = x + self.cross(self.ln2(x), mem, mem_pad, False)
        return x + self.ff(self.ln3(x))


class CropEncoder(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(64 * 3 * 3, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, 1, 24, 24)
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        return self.fc(x.flatten(1))


class SymbolSeqModel(nn.Module):
    def __init__(
        self,
        vocab: int,
        n_feat: int,
        d: int = 256,
        heads: int = 8,
        ff: int = 1024,
        enc_layers: int = 4,
        dec_layers: int = 3,
        max_len: int = 256,
    ) -> None:
        super().__init__()
        self.cfg = dict(
            vocab=vocab,
            n_feat=n_feat,
            d=d,
            heads=heads,
            ff=ff,
            enc_layers=enc_layers,
            dec_layers=dec_layers,
            max_len=max_len,
        )
        self.crop = CropEncoder(d)
        self.feat1 = nn.Linear(n_feat + 4 * N_FREQ, d)
        self.feat2 = nn.Linear(d, d)
        self.enc = nn.ModuleList([EncoderLayer(d, heads, ff) for _ in range(enc_layers)])
        self.enc_ln = nn.LayerNorm(d)
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d)
        self.dec = nn.ModuleList([DecoderLayer(d, heads, ff) for _ in range(dec_layers)])
        self.dec_ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, vocab)

    def encode(self, crops: torch.Tensor, feats: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        b, n = feats.shape[:2]
        c = self.crop(crops.reshape(b * n, 1, 24, 24)).view(b, n, -1)
        f = torch.cat([feats, fourier(feats)], dim=-1)
        x = c + self.feat2(F.gelu(self.feat1(f), approximate="tanh"))
        for layer in self.enc:
            x = layer(x, pad)
        return self.enc_ln(x)

    def decode(self, tokens: torch.Tensor, mem: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        x = self.tok(tokens) + self.pos(torch.arange(t, device=tokens.device))[None]
        for layer in self.dec:
            x = layer(x, mem, pad)
        return self.out(self.dec_ln(x))

    def forward(
        self, crops: torch.Tensor, feats: torch.Tensor, pad: torch.Tensor, tokens: torch.Tensor
    ) -> torch.Tensor:
        return self.decode(tokens, self.encode(crops, feats, pad), pad)
