"""Train the recognizer's sequence model on a dataset from build_dataset.py.

    python training/train.py --data training/.cache/ds --out training/.cache/run --minutes 7

Runs on CUDA when present (bf16 autocast), else on the CPU (slow: smoke tests only).
The learning-rate schedule follows elapsed time, so a run ends on time. Writes
``state.pt`` (fp16 weights, config and vocabulary); training/export_onnx.py turns it into
the ONNX files the package ships. Seeded: --seed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from model import SymbolSeqModel
from pack import load_arrays


def _load_segment() -> ModuleType:
    """scipix.recognizer.segment alone (numpy + cv2), without the package's server deps."""
    path = Path(__file__).resolve().parents[1] / "src" / "scipix" / "recognizer" / "segment.py"
    spec = importlib.util.spec_from_file_location("scipix_segment", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


_seg = _load_segment()
CROP, N_FEATURES = _seg.CROP, _seg.N_FEATURES
box_features, reference_scale = _seg.box_features, _seg.reference_scale

MAX_COMP = 256
MAX_TOK = 152
PAD, BOS, EOS = 0, 1, 2


def load(data_dirs: list[Path]) -> dict[str, np.ndarray]:
    """Concatenate data sets (plain data.npz or packed, see pack.py); crop ids offset."""
    parts = [load_arrays(p) for p in data_dirs]
    d: dict[str, np.ndarray] = {}
    base = 0
    idx_parts, comp_off, tok_off = [], [np.zeros(1, np.int64)], [np.zeros(1, np.int64)]
    for part in parts:
        idx_parts.append(part["comp_idx"].astype(np.int64) + base)
        base += len(part["crops"])
        comp_off.append(part["comp_off"][1:] + comp_off[-1][-1])
        tok_off.append(part["tok_off"][1:] + tok_off[-1][-1])
    d["crops"] = np.concatenate([p["crops"] for p in parts])
    d["comp_idx"] = np.concatenate(idx_parts)
    d["comp_off"] = np.concatenate(comp_off)
    d["tok_off"] = np.concatenate(tok_off)
    for k in ("areas", "boxes", "tokens"):
        d[k] = np.concatenate([p[k] for p in parts])
    crops = np.unpackbits(d["crops"], axis=1)[:, : CROP * CROP].reshape(-1, CROP, CROP)
    n = len(d["comp_off"]) - 1
    idx = np.full((n, MAX_COMP), -1, np.int32)
    feats = np.zeros((n, MAX_COMP, N_FEATURES), np.float16)
    toks = np.zeros((n, MAX_TOK), np.int16)
    ncomp = np.zeros(n, np.int32)
    keep = np.ones(n, bool)
    for i in range(n):
        a, b = d["comp_off"][i], d["comp_off"][i + 1]
        m = min(b - a, MAX_COMP)
        boxes = d["boxes"][a : a + m].astype(np.int32)
        areas = d["areas"][a : a + m].astype(np.float32)
        idx[i, :m] = d["comp_idx"][a : a + m]
        feats[i, :m] = box_features(boxes, areas, reference_scale(boxes))
        ncomp[i] = m
        ta, tb = d["tok_off"][i], d["tok_off"][i + 1]
        if tb - ta + 2 > MAX_TOK:
            keep[i] = False
            continue
        toks[i, 0] = BOS
        toks[i, 1 : tb - ta + 1] = d["tokens"][ta:tb]
        toks[i, tb - ta + 1] = EOS
    return {
        "crops": crops,
        "idx": idx[keep],
        "feats": feats[keep],
        "toks": toks[keep],
        "ncomp": ncomp[keep],
    }


def batches(ncomp: np.ndarray, bs: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(len(ncomp))
    out = []
    group = bs * 50
    for g in range(0, len(order), group):
        chunk = order[g : g + group]
        chunk = chunk[np.argsort(ncomp[chunk], kind="stable")]
        out += [chunk[i : i + bs] for i in range(0, len(chunk), bs)]
    rng.shuffle(out)  # type: ignore[arg-type]
    return out


def make_batch(t: dict[str, torch.Tensor], ids: torch.Tensor, train: bool):
    n = int(t["ncomp"][ids].max())
    idx = t["idx"][ids, :n]
    pad = idx < 0
    crops = t["crops"][idx.clamp(min=0)].float()
    feats = t["feats"][ids, :n].float()
    if train:
        noise = torch.randn_like(feats[..., :6]) * 0.02
        feats = torch.cat([feats[..., :6] + noise, feats[..., 6:]], dim=-1)
        crops = stroke_jitter(crops)
    tok = t["toks"][ids].long()
    tl = int((tok != PAD).sum(1).max())
    return crops, feats, pad, tok[:, :tl]


def stroke_jitter(crops: torch.Tensor, p: float = 0.05) -> torch.Tensor:
    """Thicken (dilate) or thin (erode) a random few component crops by one pixel."""
    b, n, h, w = crops.shape
    flat = crops.reshape(b * n, 1, h, w)
    thick = F.max_pool2d(flat, 2, stride=1, padding=1)[..., :h, :w]
    thin = 1 - F.max_pool2d(1 - flat, 2, stride=1, padding=1)[..., 1:, 1:]
    r = torch.rand(b * n, 1, 1, 1, device=crops.device)
    out = torch.where(r < p, thick, torch.where(r < 2 * p, thin, flat))
    return out.reshape(b, n, h, w)


@torch.no_grad()
def greedy(model: SymbolSeqModel, crops, feats, pad, max_len: int = MAX_TOK) -> torch.Tensor:
    mem = model.encode(crops, feats, pad)
    b = crops.shape[0]
    seq = torch.full((b, 1), BOS, dtype=torch.long, device=crops.device)
    done = torch.zeros(b, dtype=torch.bool, device=crops.device)
    for _ in range(max_len - 1):
        logits = model.decode(seq, mem, pad)[:, -1]
        nxt = logits.argmax(-1)
        nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
        seq = torch.cat([seq, nxt[:, None]], 1)
        done |= nxt == EOS
        if bool(done.all()):
            break
    return seq


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="one or more data sets")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--bs", type=int, default=384)
    ap.add_argument("--lr", type=float, default=8e-4)
    ap.add_argument("--d", type=int, default=256)
    ap.add_argument("--enc", type=int, default=4)
    ap.add_argument("--dec", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--val", type=int, default=1000)
    ap.add_argument("--init", type=Path, default=None, help="continue from a state.pt")
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--save-every", type=float, default=120.0, help="checkpoint every N seconds")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    t0 = time.time()
    data = load(args.data)
    vocabs = [json.loads((p / "vocab.json").read_text()) for p in args.data]
    if any(v != vocabs[0] for v in vocabs):
        raise SystemExit("data sets have different vocabularies")
    vocab = ["<pad>", "<s>", "</s>", *vocabs[0]]
    print(
        f"loaded {len(data['ncomp'])} formulas, {len(data['crops'])} crops in "
        f"{time.time() - t0:.0f}s on {dev}",
        flush=True,
    )
    t = {k: torch.from_numpy(v).to(dev) for k, v in data.items()}
    n = len(data["ncomp"])
    val_ids = torch.arange(n - args.val, n, device=dev)
    train_n = n - args.val
    model = SymbolSeqModel(
        len(vocab),
        N_FEATURES,
        d=args.d,
        heads=8,
        ff=4 * args.d,
        enc_layers=args.enc,
        dec_layers=args.dec,
        max_len=256,
    ).to(dev)
    if args.init is not None:
        ck = torch.load(args.init, map_location="cpu")
        model.load_state_dict({k: v.float() for k, v in ck["state"].items()})
        print(f"continuing from {args.init}", flush=True)
    print(f"params {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M", flush=True)
    amp = dev.type == "cuda"
    if args.init is not None:
        model.eval()
        exact, total = evaluate(model, t, val_ids, amp)
        print(f"before: val exact token match {exact}/{total} = {exact / total:.3f}", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), weight_decay=0.01)
    budget = args.minutes * 60
    start = time.time()
    step, epoch, warm = 0, 0, args.warmup
    last_save = start
    model.train()
    stop = False
    while not stop:
        for b in batches(data["ncomp"][:train_n], args.bs, rng):
            frac = (time.time() - start) / budget
            if frac >= 1:
                stop = True
                break
            lr = (
                args.lr
                * min(1.0, (step + 1) / warm)
                * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            )
            for g in opt.param_groups:
                g["lr"] = lr
            crops, feats, pad, tok = make_batch(t, torch.from_numpy(b).to(dev), True)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
                logits = model(crops, feats, pad, tok[:, :-1])
            loss = F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]),
                tok[:, 1:].reshape(-1),
                ignore_index=PAD,
                label_smoothing=0.05,
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            if time.time() - last_save > args.save_every:
                save(model, vocab, args.out)  # a run cut off by its time limit still leaves weights
                last_save = time.time()
            if step % 200 == 0:
                print(
                    f"step {step} epoch {epoch} {time.time() - start:.0f}s loss {loss.item():.4f} "
                    f"lr {lr:.2e}",
                    flush=True,
                )
        epoch += 1
    model.eval()
    exact, total = evaluate(model, t, val_ids, amp)
    print(
        f"done: {step} steps, {epoch} epochs, val exact token match {exact}/{total} "
        f"= {exact / max(total, 1):.3f}",
        flush=True,
    )
    save(model, vocab, args.out)
    print("wrote", args.out, flush=True)


def evaluate(model: SymbolSeqModel, t, val_ids: torch.Tensor, amp: bool) -> tuple[int, int]:
    """Exact token match of greedy decoding on the held-out formulas."""
    exact = total = 0
    for s in range(0, len(val_ids), 250):
        ids = val_ids[s : s + 250]
        crops, feats, pad, tok = make_batch(t, ids, False)
        with torch.autocast(crops.device.type, dtype=torch.bfloat16, enabled=amp):
            pred = greedy(model, crops, feats, pad)
        for p, g in zip(pred.tolist(), tok.tolist(), strict=True):
            p = p[1 : p.index(EOS)] if EOS in p else p[1:]
            g = g[1 : g.index(EOS)]
            exact += p == g
            total += 1
    return exact, total


def save(model: SymbolSeqModel, vocab: list[str], out: Path) -> None:
    """fp16 weights, config and vocabulary to out/state.pt (written atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().float().cpu().half() for k, v in model.state_dict().items()}
    tmp = out / "state.pt.tmp"
    torch.save({"state": state, "cfg": model.cfg, "vocab": vocab}, tmp)
    tmp.replace(out / "state.pt")


if __name__ == "__main__":
    main()
