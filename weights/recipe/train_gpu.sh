#!/usr/bin/env bash
# The recipe that trained the shipped weights on one GPU: two variants of each model train in
# parallel for about seven minutes; the best of each (full validation loss) is exported to fp16.
#   usage: weights/recipe/train_gpu.sh DATA_FILE OUT_DIR [SECONDS]
set -u
DATA=$1; OUT=$2; SECS=${3:-360}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
RUNS=/tmp/shakes-runs; rm -rf "$RUNS"; mkdir -p "$RUNS" "$OUT"
train() { python3 -m shakes_tui.engine train --data "$DATA" --device cuda --threads 2 --quiet "$@"; }

nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

# 1. smoke: every model runs 5 steps on the GPU, or nothing else is tried
for m in benvolio mercutio romeo; do
  train --model $m --out "$RUNS/smoke-$m" --max-steps 5 --eval-interval 5 || { echo "SMOKE FAILED: $m"; exit 1; }
done
echo "smoke ok"

# 2. the variants, all at once
COMMON="--max-seconds $SECS --eval-interval 400 --eval-batches 30 --checkpoint-interval 100000"
train --model benvolio --out $RUNS/benvolio-a --batch-size 64 --seq-len 128 --lr 2e-3 --dropout 0.05 $COMMON \
  > $RUNS/benvolio-a.log 2>&1 &
train --model benvolio --out $RUNS/benvolio-b --batch-size 64 --seq-len 128 --lr 2e-3 --n-layer 3 --n-hidden 280 \
  --dropout 0.05 $COMMON > $RUNS/benvolio-b.log 2>&1 &
train --model mercutio --out $RUNS/mercutio-a --batch-size 64 --seq-len 128 --lr 2e-3 --dropout 0.3 \
  --weight-decay 0.01 $COMMON > $RUNS/mercutio-a.log 2>&1 &
train --model mercutio --out $RUNS/mercutio-b --batch-size 64 --seq-len 128 --lr 2e-3 --dropout 0.45 \
  --weight-decay 0.05 $COMMON > $RUNS/mercutio-b.log 2>&1 &
train --model romeo --out $RUNS/romeo-a --batch-size 64 --seq-len 256 --block-size 256 --lr 1e-3 --dropout 0.2 \
  --warmup-steps 200 --max-steps 6000 $COMMON > $RUNS/romeo-a.log 2>&1 &
train --model romeo --out $RUNS/romeo-b --batch-size 32 --seq-len 512 --block-size 512 --lr 1e-3 --dropout 0.25 \
  --warmup-steps 200 --max-steps 8000 $COMMON > $RUNS/romeo-b.log 2>&1 &
sleep 45; tail -n 2 $RUNS/*/metrics.jsonl | cut -c1-200
wait
for r in $RUNS/*-[ab]; do echo "== $r"; tail -n 3 $r.log; grep '"eval"' $r/metrics.jsonl | tail -n 2 | cut -c1-160; done

# 3. the best of each, exported to fp16 and measured as stored
args=()
for r in $RUNS/*-[ab]; do m=$(basename $r); m=${m%-?}; args+=("$m=$r/best.safetensors" "$m=$r/weights.safetensors"); done
python3 weights/recipe/select_best.py --data "$DATA" --out "$OUT" --dtype float16 --device cuda "${args[@]}"
tar czf "$OUT/runs.tar.gz" -C $RUNS --exclude '*.pt' --exclude '*.safetensors' .
