"""The decoder step as an ONNX graph written node by node with onnxruntime's fused operators.

torch.onnx.export spells one decoder step as about 150 small nodes (reshapes, transposes,
gathers, scale products, ...); at one token per run most of a step's time went to running
them. This builds the same computation from the trained weights with onnxruntime's
``com.microsoft`` operators instead: one ``MultiHeadAttention`` per attention (the
self-attention appends to its cache itself), ``SkipLayerNormalization`` for each residual
sum and the layer norm after it, and one matrix product for the self-attention's query, key
and value: about 50 nodes. :func:`check` compares it with the model's own torch code.

Inputs: ``tok`` and ``pos`` (1, S) int64: S tokens fed in one run (S = 1 for a plain step;
more to check a draft's tokens at once, speculative decoding); for each decoder layer ``i``
the self-attention cache ``past_k{i}``/``past_v{i}`` (1, H, T, Dh) and the encoder's cross
keys/values ``cross_k{i}``/``cross_v{i}`` (1, H, N, Dh). The self-attention is causal
(``unidirectional``): token j sees the cache and tokens 0..j. Outputs: ``logp`` (1, S, V)
log-probabilities of the token after each one, ``new_k{i}``/``new_v{i}`` (1, H, T+S, Dh), and
``align`` (S,) int64: the component the last layer's cross-attention weighed most for each
(mean over heads).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as nh

from model import SymbolSeqModel

MS = "com.microsoft"


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def const(self, name: str, value: torch.Tensor | np.ndarray) -> str:
        a = value.detach().numpy() if isinstance(value, torch.Tensor) else value
        a = a.astype(np.float32) if a.dtype.kind == "f" else a.astype(np.int64)
        self.weights.append(nh.from_array(np.ascontiguousarray(a), name))
        return name

    def node(
        self, op: str, ins: list[str], outs: list[str], domain: str = "", **attrs
    ) -> list[str]:
        self.nodes.append(
            oh.make_node(op, ins, outs, name=f"{outs[0]}_node", domain=domain, **attrs)
        )
        return outs

    def linear(self, x: str, weight: torch.Tensor, bias: torch.Tensor, name: str) -> str:
        """x @ weight.T + bias (quantization later turns the MatMul into an integer one)."""
        self.node("MatMul", [x, self.const(f"{name}.weight", weight.T)], [f"{name}.mm"])
        return self.node("Add", [f"{name}.mm", self.const(f"{name}.bias", bias)], [name])[0]

    def norm(self, x: str, skip: str | None, ln: torch.nn.LayerNorm, name: str) -> tuple[str, str]:
        """LayerNorm(x + skip) and x + skip (the residual stream); skip None: LayerNorm(x)."""
        g, b = self.const(f"{name}.weight", ln.weight), self.const(f"{name}.bias", ln.bias)
        if skip is None:
            y = self.node("LayerNormalization", [x, g, b], [name], axis=-1, epsilon=ln.eps)[0]
            return y, x
        outs = [name, f"{name}.mean", f"{name}.inv_std", f"{name}.sum"]
        y, _, _, total = self.node(
            "SkipLayerNormalization", [x, skip, g, b], outs, MS, epsilon=ln.eps
        )
        return y, total


def build(m: SymbolSeqModel, path: Path) -> None:
    """Write the decoder-step graph of ``m`` (fp32) to ``path``."""
    cfg = m.cfg
    d, h, layers = cfg["d"], cfg["heads"], cfg["dec_layers"]
    dh = d // h
    b = _Builder()
    f32 = TensorProto.FLOAT
    inputs = [
        oh.make_tensor_value_info("tok", TensorProto.INT64, [1, "s"]),
        oh.make_tensor_value_info("pos", TensorProto.INT64, [1, "s"]),
    ]
    inputs += [
        oh.make_tensor_value_info(f"{kind}{i}", f32, [1, h, axis, dh])
        for kind, axis in (("past_k", "t"), ("past_v", "t"), ("cross_k", "n"), ("cross_v", "n"))
        for i in range(layers)
    ]
    outputs = [oh.make_tensor_value_info("logp", f32, [1, "s", cfg["vocab"]])]
    b.node("Gather", [b.const("tok_embedding", m.tok.weight), "tok"], ["tok_vec"])
    b.node("Gather", [b.const("pos_embedding", m.pos.weight), "pos"], ["pos_vec"])
    x = b.node("Add", ["tok_vec", "pos_vec"], ["x0"])[0]  # (1, s, d)
    skip: str | None = None
    for i, layer in enumerate(m.dec):
        y, x = b.norm(x, skip, layer.ln1, f"l{i}.ln1")
        a = layer.self_att
        qkv = b.linear(
            y,
            torch.cat([a.q.weight, a.k.weight, a.v.weight]),
            torch.cat([a.q.bias, a.k.bias, a.v.bias]),
            f"l{i}.qkv",
        )
        q, k, v = b.node("Split", [qkv], [f"l{i}.q", f"l{i}.k", f"l{i}.v"], axis=-1, num_outputs=3)
        b.node(
            "MultiHeadAttention",
            [q, k, v, "", "", "", f"past_k{i}", f"past_v{i}"],
            [f"l{i}.self", f"new_k{i}", f"new_v{i}"],
            MS,
            num_heads=h,
            unidirectional=1,  # token j sees the cache and tokens up to j
        )
        outputs += [oh.make_tensor_value_info(f"new_{kv}{i}", f32, [1, h, "ts", dh]) for kv in "kv"]
        y, x = b.norm(
            b.linear(f"l{i}.self", a.o.weight, a.o.bias, f"l{i}.o"), x, layer.ln2, f"l{i}.ln2"
        )
        c = layer.cross
        q2 = b.linear(y, c.q.weight, c.q.bias, f"l{i}.cross_q")
        last = i == layers - 1
        outs = [f"l{i}.cross", "", "", "scores"] if last else [f"l{i}.cross"]
        b.node("MultiHeadAttention", [q2, f"cross_k{i}", f"cross_v{i}"], outs, MS, num_heads=h)
        o2 = b.linear(f"l{i}.cross", c.o.weight, c.o.bias, f"l{i}.cross_o")
        y, x = b.norm(o2, x, layer.ln3, f"l{i}.ln3")
        hidden = b.linear(y, layer.ff.a.weight, layer.ff.a.bias, f"l{i}.ff_a")
        b.node("Gelu", [hidden], [f"l{i}.gelu"], approximate="tanh")
        skip = b.linear(f"l{i}.gelu", layer.ff.b.weight, layer.ff.b.bias, f"l{i}.ff_b")
    y, _ = b.norm(x, skip, m.dec_ln, "dec_ln")
    b.node("LogSoftmax", [b.linear(y, m.out.weight, m.out.bias, "logits")], ["logp"], axis=-1)
    # where the last layer looked: softmax of its (scaled) scores, mean over heads, argmax
    b.node("Softmax", ["scores"], ["weights"], axis=-1)  # (1, H, s, N)
    b.node(
        "ReduceMean", ["weights", b.const("head_axis", np.array([1]))], ["mean_weights"], keepdims=0
    )
    b.node("ArgMax", ["mean_weights"], ["align_rows"], axis=-1, keepdims=0)  # (1, s)
    b.node("Reshape", ["align_rows", b.const("flat", np.array([-1]))], ["align"])
    outputs.append(oh.make_tensor_value_info("align", TensorProto.INT64, ["s"]))
    graph = oh.make_graph(
        b.nodes,
        "decoder_step",
        inputs,
        outputs,
        b.weights,
        value_info=[oh.make_tensor_value_info("scores", f32, [1, h, "s", "n"])],
    )
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 20), oh.make_opsetid(MS, 1)])
    model.ir_version = 10
    onnx.save(model, path)


def reference_step(
    m: SymbolSeqModel,
    tok: int,
    pos: int,
    past: list[tuple[torch.Tensor, torch.Tensor]],
    cross: list[tuple[torch.Tensor, torch.Tensor]],
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]], int]:
    """One decoder step with the model's own modules (what the graph must reproduce)."""
    h, d = m.cfg["heads"], m.cfg["d"]
    dh = d // h
    x = m.tok(torch.tensor([tok])) + m.pos(torch.tensor([pos]))  # (1, d)
    grown = []
    weights = torch.zeros(0)
    for i, layer in enumerate(m.dec):
        a, c = layer.self_att, layer.cross
        y = layer.ln1(x)
        q = a.q(y).view(h, 1, dh)
        k = torch.cat([past[i][0][0], a.k(y).view(h, 1, dh)], 1)
        v = torch.cat([past[i][1][0], a.v(y).view(h, 1, dh)], 1)
        grown.append((k[None], v[None]))
        att = torch.softmax(q @ k.transpose(1, 2) / dh**0.5, -1) @ v
        x = x + a.o(att.transpose(0, 1).reshape(1, d))
        q2 = c.q(layer.ln2(x)).view(h, 1, dh)
        weights = torch.softmax(q2 @ cross[i][0][0].transpose(1, 2) / dh**0.5, -1)
        x = x + c.o((weights @ cross[i][1][0]).transpose(0, 1).reshape(1, d))
        x = x + layer.ff(layer.ln3(x))
    logp = torch.log_softmax(m.out(m.dec_ln(x))[0], -1)
    return logp, grown, int(weights.mean(0)[0].argmax())


def check(m: SymbolSeqModel, path: Path, *, seed: int = 0, tol: float = 1e-4) -> float:
    """Run the graph at ``path`` (fp32) on random caches, one token and several tokens at a
    time, against the torch step run token by token; raise if they differ by more than
    ``tol`` or pick another component. Returns the largest difference."""
    import onnxruntime as ort

    cfg = m.cfg
    h, dh, layers = cfg["heads"], cfg["d"] // cfg["heads"], cfg["dec_layers"]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for t, n, s in ((0, 1, 1), (5, 9, 1), (40, 60, 1), (0, 12, 6), (17, 30, 9)):
        past = [
            (torch.randn(1, h, t, dh, generator=gen), torch.randn(1, h, t, dh, generator=gen))
            for _ in range(layers)
        ]
        cross = [
            (torch.randn(1, h, n, dh, generator=gen), torch.randn(1, h, n, dh, generator=gen))
            for _ in range(layers)
        ]
        toks = [int(x) for x in torch.randint(3, cfg["vocab"], (s,), generator=gen)]
        ref_logp, ref_align = [], []
        ref_past = past
        with torch.no_grad():
            for j, tok in enumerate(toks):
                logp, ref_past, where = reference_step(m, tok, t + j, ref_past, cross)
                ref_logp.append(logp.numpy())
                ref_align.append(where)
        feed: dict[str, np.ndarray] = {
            "tok": np.array([toks]),
            "pos": np.arange(t, t + s)[None],
        }
        for i in range(layers):
            feed[f"past_k{i}"], feed[f"past_v{i}"] = past[i][0].numpy(), past[i][1].numpy()
            feed[f"cross_k{i}"], feed[f"cross_v{i}"] = cross[i][0].numpy(), cross[i][1].numpy()
        got = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed), strict=True))
        diffs = [float(np.abs(got["logp"][0] - np.stack(ref_logp)).max())]
        for i in range(layers):
            diffs.append(float(np.abs(got[f"new_k{i}"] - ref_past[i][0].numpy()).max()))
            diffs.append(float(np.abs(got[f"new_v{i}"] - ref_past[i][1].numpy()).max()))
        worst = max(worst, *diffs)
        if worst > tol or got["align"].tolist() != ref_align:
            raise RuntimeError(f"decoder graph differs from the torch step (max diff {worst:.2e})")
    return worst
