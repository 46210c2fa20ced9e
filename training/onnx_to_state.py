"""Rebuild a trainable state.pt from the shipped ONNX files (the inverse of export_onnx.py).

The shipped files are the source of truth: training states are not committed (they are
generated, 14 MB each), so a new training run continues from the weights users have. The
export quantized the matrix products to int8 per output channel and the embeddings to uint8
per tensor; dequantized, they differ from the trained fp32 weights by at most half a
quantization step (about 0.4% of each channel's largest weight). The convolutions, biases
and layer norms were kept in fp32 and come back exactly.

    python training/onnx_to_state.py --models src/scipix/models --name symbolseq-v4 \\
        --out training/.cache/v4

It checks the rebuilt torch model against the ONNX encoder (cross-attention keys and values)
and decoder step (log-probabilities) on real component crops and prints the differences.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from model import SymbolSeqModel
from train import save


def _initializers(path: Path) -> tuple[onnx.GraphProto, dict[str, np.ndarray]]:
    graph = onnx.load(str(path)).graph
    return graph, {i.name: numpy_helper.to_array(i) for i in graph.initializer}


def _dequantized(w: dict[str, np.ndarray], base: str) -> np.ndarray:
    """``base``_quantized as float: (q - zero_point) * scale, per output channel or tensor."""
    q = w[f"{base}_quantized"].astype(np.float32)
    zp = w[f"{base}_zero_point"].astype(np.float32)
    return (q - zp) * w[f"{base}_scale"].astype(np.float32)


def _encoder_names(graph: onnx.GraphProto) -> dict[str, str]:
    """Quantized weight base name -> torch parameter name, from the exporter's node names
    ("/enc.0/att/q/MatMul_quant" reads ``onnx::MatMul_804_quantized``)."""
    out = {}
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weight = node.input[1].removesuffix("_quantized")
        if weight.startswith("m."):  # named by the exporter: m.crop.fc.weight_Transposed
            out[weight] = weight.removeprefix("m.").removesuffix("_Transposed")
            continue
        module = node.name.strip("/").split("/")[:-1]  # ["enc.0", "att", "q"]
        out[weight] = ".".join(module) + ".weight"
    return out


def rebuild(models: Path, name: str) -> tuple[SymbolSeqModel, list[str]]:
    meta = json.loads((models / f"{name}-vocab.json").read_text(encoding="utf-8"))
    cfg, vocab = meta["config"], meta["vocab"]
    model = SymbolSeqModel(**cfg)
    state: dict[str, torch.Tensor] = {}

    def put(key: str, value: np.ndarray) -> None:
        state[key] = torch.from_numpy(np.array(value, dtype=np.float32))

    graph, w = _initializers(models / f"{name}-encoder.onnx")
    for key, value in w.items():
        if key.startswith("m.") and not key.endswith(("_scale", "_zero_point", "_quantized")):
            put(key.removeprefix("m."), value)
    for base, key in _encoder_names(graph).items():
        put(key, _dequantized(w, base).T)  # MatMul weights are (in, out)

    _, w = _initializers(models / f"{name}-decoder.onnx")
    put("tok.weight", _dequantized(w, "tok_embedding"))
    put("pos.weight", _dequantized(w, "pos_embedding"))
    d = cfg["d"]
    for i in range(cfg["dec_layers"]):
        p, m = f"l{i}", f"dec.{i}"
        qkv_w, qkv_b = _dequantized(w, f"{p}.qkv.weight").T, w[f"{p}.qkv.bias"]
        for j, part in enumerate("qkv"):
            put(f"{m}.self_att.{part}.weight", qkv_w[j * d : (j + 1) * d])
            put(f"{m}.self_att.{part}.bias", qkv_b[j * d : (j + 1) * d])
        for onnx_name, torch_name in (
            ("o", "self_att.o"),
            ("cross_q", "cross.q"),
            ("cross_o", "cross.o"),
            ("ff_a", "ff.a"),
            ("ff_b", "ff.b"),
        ):
            put(f"{m}.{torch_name}.weight", _dequantized(w, f"{p}.{onnx_name}.weight").T)
            put(f"{m}.{torch_name}.bias", w[f"{p}.{onnx_name}.bias"])
        for ln in ("ln1", "ln2", "ln3"):
            put(f"{m}.{ln}.weight", w[f"{p}.{ln}.weight"])
            put(f"{m}.{ln}.bias", w[f"{p}.{ln}.bias"])
    put("dec_ln.weight", w["dec_ln.weight"])
    put("dec_ln.bias", w["dec_ln.bias"])
    put("out.weight", _dequantized(w, "logits.weight").T)
    put("out.bias", w["logits.bias"])

    missing = set(model.state_dict()) - set(state)
    extra = set(state) - set(model.state_dict())
    if missing or extra:
        raise SystemExit(f"weights not mapped: missing {sorted(missing)}, extra {sorted(extra)}")
    model.load_state_dict(state)
    model.eval()
    return model, vocab


FORMULAS = [
    r"\frac{a+b}{\sqrt{x_{1}^{2}+y}}=\sum_{i=1}^{n}\alpha_{i}",
    r"\int_{0}^{\infty}e^{-x^{2}}dx=\frac{\sqrt{\pi}}{2}",
    r"f(x)=\left(\begin{array}{cc}a&b\\c&d\end{array}\right)",
    r"\lim_{n\to\infty}\left(1+\frac{1}{n}\right)^{n}=e",
]


def check(model: SymbolSeqModel, models: Path, name: str) -> tuple[float, int]:
    """The rebuilt model against the shipped ONNX on real crops (formulas rendered with
    TeX): the largest relative difference of the first layer's cross-attention keys,
    and how many formulas the two read to the same tokens (greedy)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from scipix.preprocess import Preprocessor
    from scipix.recognizer.model import ModelFiles, SequenceModel
    from scipix.recognizer.segment import box_features, reference_scale, segment
    from scipix.render import TexRenderer
    from train import EOS, greedy

    onnx_model = SequenceModel(ModelFiles.in_folder(models, name))
    worst, same = 0.0, 0
    for formula, img in zip(FORMULAS, TexRenderer().render(FORMULAS, 150), strict=True):
        assert img is not None, formula
        comps = segment(Preprocessor()(img).ink)
        feats = box_features(comps.boxes, comps.areas, reference_scale(comps.boxes))
        feats = feats.astype(np.float32)
        cross = onnx_model.encode(comps.crops, feats)
        want = onnx_model.decode(cross).tokens
        crops = torch.from_numpy(comps.crops.astype(np.float32))[None]
        feats_t = torch.from_numpy(feats)[None]
        pad = torch.zeros(1, len(comps.crops), dtype=torch.bool)
        with torch.no_grad():
            mem = model.encode(crops, feats_t, pad)
            n, h, d = len(comps.crops), model.cfg["heads"], model.cfg["d"]
            k0 = model.dec[0].cross.k(mem[0]).view(n, h, d // h).transpose(0, 1).numpy()
            seq = greedy(model, crops, feats_t, pad)[0].tolist()  # BOS first
        ref = cross[0][0][0]
        worst = max(worst, float(np.abs(k0 - ref).max() / np.abs(ref).max()))
        ids = seq[1 : seq.index(EOS)] if EOS in seq else seq[1:]
        got = [onnx_model.vocab[i] for i in ids]
        same += got == want
        print(" ".join(want), "|", "same" if got == want else " ".join(got))
    return worst, same


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=Path, default=Path("src/scipix/models"))
    ap.add_argument("--name", default="symbolseq-v5")
    ap.add_argument("--out", type=Path, required=True, help="folder: state.pt is written there")
    ap.add_argument(
        "--no-check", action="store_true", help="skip the check (it needs TeX and scipix)"
    )
    args = ap.parse_args()
    model, vocab = rebuild(args.models, args.name)
    save(model, vocab, args.out)  # as train.py writes its states: out/state.pt
    if args.no_check:
        print(f"wrote {args.out} (not checked)")
        return
    worst, same = check(model, args.models, args.name)
    print(
        f"wrote {args.out}: cross-attention keys within {worst:.1e} of the ONNX encoder's "
        f"(relative), {same}/{len(FORMULAS)} formulas read the same"
    )


if __name__ == "__main__":
    main()
