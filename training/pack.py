"""Pack a build_dataset.py data set small enough to carry to a GPU machine.

The lent GPU machine takes at most 64 MiB of files beside the repository, so data sets travel
packed: crops sorted by frequency (common glyphs get small ids), each array xz-compressed
(boxes through a delta filter), about half the size of ``data.npz``. ``train.py`` reads a
packed directory (``pack.json`` + ``*.xz``) or a plain ``data.npz`` alike.

    python training/pack.py training/.cache/ds training/.cache/pk_ds --limit 60000
"""

from __future__ import annotations

import argparse
import json
import lzma
import shutil
from pathlib import Path

import numpy as np

_PLAIN = [{"id": lzma.FILTER_LZMA2, "preset": 6}]
# boxes are int16 x0, y0, x1, y1 rows: a byte delta at distance 8 turns them into small steps
_BOXES = [{"id": lzma.FILTER_DELTA, "dist": 8}, {"id": lzma.FILTER_LZMA2, "preset": 6}]


def subset(d: dict[str, np.ndarray], limit: int | None) -> dict[str, np.ndarray]:
    """The first ``limit`` formulas, crops renumbered by frequency."""
    n = len(d["comp_off"]) - 1
    m = n if limit is None else min(limit, n)
    ce, te = int(d["comp_off"][m]), int(d["tok_off"][m])
    idx = d["comp_idx"][:ce]
    counts = np.bincount(idx, minlength=len(d["crops"]))
    used = np.flatnonzero(counts)
    order = used[np.argsort(-counts[used], kind="stable")]
    remap = np.full(len(d["crops"]), -1, np.int64)
    remap[order] = np.arange(len(order))
    return {
        "crops": d["crops"][order],
        "comp_idx": remap[idx].astype(np.int32),
        "comp_off": d["comp_off"][: m + 1],
        "areas": d["areas"][:ce],
        "boxes": d["boxes"][:ce],
        "tokens": d["tokens"][:te],
        "tok_off": d["tok_off"][: m + 1],
    }


def save_pack(d: dict[str, np.ndarray], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    meta = {}
    for name, arr in d.items():
        arr = np.ascontiguousarray(arr)
        filters = _BOXES if name == "boxes" else _PLAIN
        (out / f"{name}.xz").write_bytes(
            lzma.compress(arr.tobytes(), format=lzma.FORMAT_XZ, filters=filters)
        )
        meta[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape)}
    (out / "pack.json").write_text(json.dumps(meta), encoding="utf-8")


def load_arrays(data_dir: Path) -> dict[str, np.ndarray]:
    """The arrays of a data set directory, packed or plain."""
    if (data_dir / "pack.json").exists():
        meta = json.loads((data_dir / "pack.json").read_text(encoding="utf-8"))
        return {
            name: np.frombuffer(
                lzma.decompress((data_dir / f"{name}.xz").read_bytes()), np.dtype(m["dtype"])
            ).reshape(m["shape"])
            for name, m in meta.items()
        }
    z = np.load(data_dir / "data.npz")
    return {k: z[k] for k in z.files}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="keep the first N formulas")
    args = ap.parse_args()
    d = subset(load_arrays(args.src), args.limit)
    save_pack(d, args.out)
    shutil.copy(args.src / "vocab.json", args.out / "vocab.json")
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"{len(d['comp_off']) - 1} formulas, {len(d['crops'])} crops, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
