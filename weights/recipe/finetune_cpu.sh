#!/usr/bin/env bash
# Round 3 of the shipped weights: the GPU rounds' best Mercutio and Romeo were taken at a high learning
# rate (they overfit soon after), so each is fine-tuned here with a short cosine that anneals to 2 % of
# its peak, on this project's 2-core CPU, one thread each, both at once, 50 minutes. The best of
# (the shipped file, the fine-tune's best, its last) by full validation loss replaces the shipped file.
#   usage: weights/recipe/finetune_cpu.sh DATA_FILE [RUNS_DIR]
set -eu
DATA=$1; RUNS=${2:-/tmp/ft}
mkdir -p "$RUNS"
COMMON="--data $DATA --threads 1 --min-lr-ratio 0.02 --warmup-steps 20 --weight-decay 0.1 --max-seconds 3000
        --eval-seconds 100000 --eval-batches 14 --quiet"
shakes-train --init mercutio --batch-size 64 --seq-len 128 --lr 1e-3 --eval-interval 150 $COMMON \
  --out "$RUNS/mercutio" > "$RUNS/mercutio.log" 2>&1 &
shakes-train --init romeo --batch-size 32 --seq-len 256 --lr 3e-4 --eval-interval 100 $COMMON \
  --out "$RUNS/romeo" > "$RUNS/romeo.log" 2>&1 &
wait
# keep the GPU round's summary: a fine-tune that wins records it as its base
python -c "import json, sys; from shakes_tui.engine.weights import read_metadata as m
json.dump({n: json.loads(m(f'weights/{n}.safetensors')['summary']) for n in ('mercutio', 'romeo')}, sys.stdout)" \
  > "$RUNS/base-summaries.json"
python weights/recipe/select_best.py --data "$DATA" --out weights --dtype float16 \
  mercutio=weights/mercutio.safetensors mercutio="$RUNS/mercutio/best.safetensors" \
  mercutio="$RUNS/mercutio/weights.safetensors" \
  romeo=weights/romeo.safetensors romeo="$RUNS/romeo/best.safetensors" romeo="$RUNS/romeo/weights.safetensors"
python -c "import json; from shakes_tui.engine.weights import read_metadata as m, update_summary
for n, base in json.load(open('$RUNS/base-summaries.json')).items():
    if 'init_from' in json.loads(m(f'weights/{n}.safetensors')['summary']):
        update_summary(f'weights/{n}.safetensors', init_from=f'weights/{n}.safetensors of GPU round 1',
                       base={k: base[k] for k in ('step', 'elapsed_s', 'device', 'command', 'val_loss')})"
