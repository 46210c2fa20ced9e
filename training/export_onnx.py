"""Export a trained sequence model (state.pt from train.py) to two ONNX graphs.

``encoder``: crops (N, 24, 24) float32 and features (N, F) -> memory's cross-attention keys
and values for every decoder layer, (L, H, N, Dh) each.
``decoder step``: one token, its position, the self-attention cache (L, H, T, Dh) and the
cross keys/values -> log-probabilities of the next token and the cache grown by one.
Both are then int8-quantized (dynamic, per-channel) with onnxruntime's tools, the encoder's
matrix products only. Prints the
SHA-256 of each file for ``scipix.recognizer.config``.

    python training/export_onnx.py --state training/.cache/run/state.pt --out src/scipix/models
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import SymbolSeqModel


class EncoderGraph(nn.Module):
    def __init__(self, m: SymbolSeqModel) -> None:
        super().__init__()
        self.m = m

    def forward(
        self, crops: torch.Tensor, feats: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n = feats.shape[0]
        pad = torch.zeros(1, n, dtype=torch.bool)
        mem = self.m.encode(crops[None], feats[None], pad)[0]
        h = self.m.cfg["heads"]
        d = self.m.cfg["d"]
        ks, vs = [], []
        for layer in self.m.dec:
            ks.append(layer.cross.k(mem).view(n, h, d // h).transpose(0, 1))
            vs.append(layer.cross.v(mem).view(n, h, d // h).transpose(0, 1))
        return torch.stack(ks), torch.stack(vs)


class DecoderStep(nn.Module):
    def __init__(self, m: SymbolSeqModel) -> None:
        super().__init__()
        self.m = m
        # one matrix product for the self-attention's query, key and value (fewer graph nodes
        # per decoding step; the same numbers)
        self.qkv = nn.ModuleList()
        for layer in m.dec:
            a = layer.self_att
            fused = nn.Linear(a.q.in_features, 3 * a.q.out_features)
            with torch.no_grad():
                fused.weight.copy_(torch.cat([a.q.weight, a.k.weight, a.v.weight]))
                fused.bias.copy_(torch.cat([a.q.bias, a.k.bias, a.v.bias]))
            self.qkv.append(fused)

    def forward(
        self,
        tok: torch.Tensor,
        pos: torch.Tensor,
        past_k: torch.Tensor,
        past_v: torch.Tensor,
        cross_k: torch.Tensor,
        cross_v: torch.Tensor,
    ):
        m = self.m
        h, d = m.cfg["heads"], m.cfg["d"]
        dh = d // h
        x = m.tok(tok) + m.pos(pos)  # (1, d)
        new_k, new_v = [], []
        for i, layer in enumerate(m.dec):
            y = layer.ln1(x)
            a = layer.self_att
            qkv = self.qkv[i](y).view(3, h, dh)
            q = qkv[0:1].transpose(0, 1)  # (h, 1, dh)
            k = torch.cat([past_k[i], qkv[1:2].transpose(0, 1)], 1)
            v = torch.cat([past_v[i], qkv[2:3].transpose(0, 1)], 1)
            new_k.append(k)
            new_v.append(v)
            att = torch.softmax(q @ k.transpose(1, 2) / dh**0.5, -1) @ v
            x = x + a.o(att.transpose(0, 1).reshape(1, d))
            c = layer.cross
            q2 = c.q(layer.ln2(x)).view(1, h, dh).transpose(0, 1)
            weights = torch.softmax(q2 @ cross_k[i].transpose(1, 2) / dh**0.5, -1)
            att2 = weights @ cross_v[i]
            x = x + c.o(att2.transpose(0, 1).reshape(1, d))
            x = x + layer.ff(layer.ln3(x))
        logits = m.out(m.dec_ln(x))[0]
        # where the last layer looked: which component the token was read from
        align = weights.mean(0)[0]
        return F.log_softmax(logits, -1), torch.stack(new_k), torch.stack(new_v), align


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(state: Path, out: Path, name: str, keep_fp32: bool = False) -> dict[str, str]:
    ck = torch.load(state, map_location="cpu")
    m = SymbolSeqModel(**ck["cfg"])
    m.load_state_dict({k: v.float() for k, v in ck["state"].items()})
    m.eval()
    cfg = ck["cfg"]
    L, h, dh = cfg["dec_layers"], cfg["heads"], cfg["d"] // cfg["heads"]
    out.mkdir(parents=True, exist_ok=True)
    tmp_enc, tmp_dec = out / f"{name}-encoder.fp32.onnx", out / f"{name}-decoder.fp32.onnx"
    n = 7
    with torch.no_grad():
        torch.onnx.export(
            EncoderGraph(m),
            (torch.zeros(n, 24, 24), torch.zeros(n, cfg["n_feat"])),
            tmp_enc,
            input_names=["crops", "feats"],
            output_names=["cross_k", "cross_v"],
            dynamic_axes={
                "crops": {0: "n"},
                "feats": {0: "n"},
                "cross_k": {2: "n"},
                "cross_v": {2: "n"},
            },
            opset_version=17,
            dynamo=False,
        )
        t = 3
        torch.onnx.export(
            DecoderStep(m),
            (
                torch.tensor([5]),
                torch.tensor([3]),
                torch.zeros(L, h, t, dh),
                torch.zeros(L, h, t, dh),
                torch.zeros(L, h, n, dh),
                torch.zeros(L, h, n, dh),
            ),
            tmp_dec,
            input_names=["tok", "pos", "past_k", "past_v", "cross_k", "cross_v"],
            output_names=["logp", "new_k", "new_v", "align"],
            dynamic_axes={
                "past_k": {2: "t"},
                "past_v": {2: "t"},
                "cross_k": {2: "n"},
                "cross_v": {2: "n"},
                "new_k": {2: "t1"},
                "new_v": {2: "t1"},
                "align": {0: "n"},
            },
            opset_version=17,
            dynamo=False,
        )
    from onnxruntime.quantization import QuantType, quantize_dynamic

    files = {}
    for tmp, kind in ((tmp_enc, "encoder"), (tmp_dec, "decoder")):
        final = out / f"{name}-{kind}.onnx"
        # The encoder's convolutions stay fp32: onnxruntime's ConvInteger is slower than the
        # float conv at this size (encoder 17 ms -> 4.6 ms per formula, one core).
        ops = ["MatMul"] if kind == "encoder" else None
        quantize_dynamic(
            tmp, final, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=ops
        )
        if not keep_fp32:
            tmp.unlink()
        files[kind] = final.name
        print(f"{final.name}: {final.stat().st_size / 1e6:.2f} MB sha256 {sha256(final)}")
    vocab_path = out / f"{name}-vocab.json"
    vocab_path.write_text(json.dumps({"vocab": ck["vocab"], "config": cfg}), encoding="utf-8")
    print(f"{vocab_path.name}: sha256 {sha256(vocab_path)}")
    return files


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--name", default="symbolseq-v4")
    args = ap.parse_args()
    export(args.state, args.out, args.name)


if __name__ == "__main__":
    main()
