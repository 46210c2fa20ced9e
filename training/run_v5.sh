#!/usr/bin/env bash
# The symbolseq-v5 training runs (training/README.md, step 10), as run on one lent NVIDIA H100:
# a model's weights rebuilt from its ONNX files (training states are not committed), then two
# continuations side by side on the one GPU (the model is too small to fill it) over new
# renders of the training pool and new synthetic formulas, at two learning rates.
# Usage on the GPU machine (the defaults are the first run, from the shipped v4):
#   OUT=/some/dir [INIT_DIR=... INIT_NAME=... DATA="..." MINUTES=... LR_A=... LR_B=...
#   SEED_A=... SEED_B=... WARMUP=...] training/run_v5.sh
set -euo pipefail
OUT=${OUT:-training/.cache/out}
C=training/.cache
PY=${PY:-python3}
INIT_DIR=${INIT_DIR:-training/.cache/v4files}  # v4 files: git show 1f13fcd:src/scipix/models/...
INIT_NAME=${INIT_NAME:-symbolseq-v4}
read -r -a DATA <<<"${DATA:-$C/pk21_tex $C/pk21_syn $C/pk21_m1 $C/pk21_m2}"
mkdir -p "$OUT/a" "$OUT/b" "$C/init"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
$PY training/onnx_to_state.py --models "$INIT_DIR" --name "$INIT_NAME" --out "$C/init" --no-check
common=(--data "${DATA[@]}" --init "$C/init/state.pt" --minutes "${MINUTES:-6.8}"
    --warmup "${WARMUP:-200}" --val "${VAL:-1000}" --save-every 60)
$PY training/train.py "${common[@]}" --out "$OUT/a" --lr "${LR_A:-3e-4}" --seed "${SEED_A:-21}" >"$OUT/a/train.log" 2>&1 &
$PY training/train.py "${common[@]}" --out "$OUT/b" --lr "${LR_B:-7e-4}" --seed "${SEED_B:-22}" >"$OUT/b/train.log" 2>&1 &
wait
tail -n 5 "$OUT/a/train.log" "$OUT/b/train.log"
