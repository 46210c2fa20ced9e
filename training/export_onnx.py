"""Export a trained sequence model (state.pt from train.py) to two ONNX graphs.

``encoder``: crops (N, 24, 24) float32 and features (N, F) -> memory's cross-attention keys
and values for every decoder layer, (L, H, N, Dh) each.
``decoder step``: one or more tokens, their positions, each layer's self-attention cache
(1, H, T, Dh) and cross keys/values -> log-probabilities of the token after each, the caches
grown by as many and the components read (written node by node with onnxruntime's fused
operators by ``decoder_graph.py`` and checked against the torch step, token by token,
before quantizing).
Both are then int8-quantized (dynamic, per-channel) with onnxruntime's tools, the encoder's
matrix products only. Prints the SHA-256 of each file for ``scipix.recognizer.config``.

    python training/export_onnx.py --state training/.cache/run/state.pt --out src/scipix/models
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import onnx
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import decoder_graph
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


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export(state: Path, out: Path, name: str, keep_fp32: bool = False) -> dict[str, str]:
    ck = torch.load(state, map_location="cpu")
    m = SymbolSeqModel(**ck["cfg"])
    m.load_state_dict({k: v.float() for k, v in ck["state"].items()})
    m.eval()
    cfg = ck["cfg"]
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
    decoder_graph.build(m, tmp_dec)
    print(f"decoder graph matches the torch step (max diff {decoder_graph.check(m, tmp_dec):.1e})")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    files = {}
    for tmp, kind in ((tmp_enc, "encoder"), (tmp_dec, "decoder")):
        final = out / f"{name}-{kind}.onnx"
        # The encoder's convolutions stay fp32: onnxruntime's ConvInteger is slower than the
        # float conv at this size (encoder 17 ms -> 4.6 ms per formula, one core).
        ops = ["MatMul"] if kind == "encoder" else None
        quantize_dynamic(
            tmp,
            final,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=ops,
            # the decoder's fused operators have no ONNX type inference
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
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
    ap.add_argument("--name", default="symbolseq-v5")
    args = ap.parse_args()
    export(args.state, args.out, args.name)


if __name__ == "__main__":
    main()
