#!/usr/bin/env bash
# The symbolseq-v2 training run (training/README.md), as run on one lent NVIDIA H100:
# two continuations of symbolseq-v1 on the same packed data at two learning rates, side by
# side on the one GPU (the model is too small to fill it); the one with the better held-out
# exact match is exported. Usage on the GPU machine: OUT=/some/dir training/run_v2.sh
set -euo pipefail
OUT=${OUT:-training/.cache/out}
C=training/.cache
mkdir -p "$OUT/a" "$OUT/b"
common=(--data "$C/pk_old" "$C/pk_rob" "$C/pk_new" --init "$C/init3/state.pt"
    --minutes "${MINUTES:-7.3}" --warmup 200 --val "${VAL:-1000}" --save-every 90)
python training/train.py "${common[@]}" --out "$OUT/a" --lr 4e-4 --seed 9 >"$OUT/a/train.log" 2>&1 &
python training/train.py "${common[@]}" --out "$OUT/b" --lr 8e-4 --seed 10 >"$OUT/b/train.log" 2>&1 &
wait
tail -n 4 "$OUT/a/train.log" "$OUT/b/train.log"
