#!/usr/bin/env bash
# The GPU benchmark: training chars/s for each model (eager and torch.compile), then the wall time for Romeo at
# nanoGPT's baby-GPT configuration (6 layers, 6 heads, 384 wide, context 256, batch 64, dropout 0.2) to reach a
# validation estimate of 1.47 (nanoGPT: about 3 minutes on an A100), and that model's full validation loss.
#   usage: bench/gpu.sh [DATA_FILE] [OUT_DIR]        (PYTHON=... picks the interpreter; default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DATA=${1:-${SHAKES_DATA:-../shared/data/tinyshakespeare.txt}}
OUT=${2:-runs/gpu-bench}
TARGET=1.47

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "bench/gpu.sh: no CUDA GPU here (torch.cuda.is_available() is False): nothing was measured" >&2
  exit 2
fi
[ -f "$DATA" ] || { echo "bench/gpu.sh: no corpus at $DATA (pass DATA_FILE or set SHAKES_DATA)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
train() { "$PY" -m shakes_tui.engine train --data "$DATA" --device cuda --quiet "$@"; }
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"

echo "== training speed: 300 steps each, the shipped sizes, batch 64 =="
for model in benvolio mercutio romeo; do
  for mode in eager compile; do
    flags=(); [ "$mode" = compile ] && flags=(--compile)
    train --model "$model" --out "$OUT/speed-$model-$mode" --max-steps 300 --batch-size 64 --eval-interval 100000 \
      --eval-batches 1 --checkpoint-interval 100000 "${flags[@]}"
  done
done
"$PY" -m shakes_tui.bench.gpu_report speed "$OUT"/speed-*

echo "== Romeo, baby GPT (6x6x384, context 256, batch 64), until validation $TARGET or 5000 steps =="
train --model romeo --out "$OUT/baby-gpt" --n-layer 6 --n-head 6 --n-embd 384 --block-size 256 --seq-len 256 \
  --batch-size 64 --dropout 0.2 --lr 1e-3 --min-lr-ratio 0.1 --warmup-steps 100 --weight-decay 0.1 \
  --max-steps 5000 --eval-interval 250 --eval-batches 50 --checkpoint-interval 100000 --compile
"$PY" -m shakes_tui.bench.gpu_report target "$TARGET" "$OUT/baby-gpt" || true
"$PY" -m shakes_tui.engine eval --data "$DATA" --device cuda --weights "$OUT/baby-gpt/best.safetensors"
