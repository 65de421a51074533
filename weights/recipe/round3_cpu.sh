#!/usr/bin/env bash
# Round 3 of the shipped weights, on this project's 2-core CPU (torch 2.13.0+cpu), one thread per run, two lanes
# at once. Every recurrent run trains with state resets (--reset-prob 0.1, the default: a stream starts again from
# the learned initial state in one batch of ten) and keeps an average of its weights (--ema), which it evaluates
# and saves as best.safetensors. weights/recipe/select_best.py then measures each candidate over the whole
# validation split and ships the best.
#   usage: weights/recipe/round3_cpu.sh DATA_FILE [RUNS_DIR]
set -eu
DATA=$1; RUNS=${2:-/tmp/round3}
mkdir -p "$RUNS"
COMMON="--data $DATA --threads 1 --min-lr-ratio 0.02 --eval-seconds 100000 --eval-batches 14 --quiet --reset-prob 0.1"
# lane 1: Mercutio, the shipped weights fine-tuned with resets
shakes-train --init mercutio --batch-size 64 --seq-len 128 --lr 1e-3 --warmup-steps 20 --weight-decay 0.1 \
  --ema 0.995 --max-seconds 4500 --eval-interval 150 $COMMON --out "$RUNS/mercutio-ft" > "$RUNS/mercutio-ft.log" 2>&1 &
# lane 2: Benvolio, the shipped weights fine-tuned with resets, then a wider one (3 x 330, 0.59 M) from scratch
( shakes-train --init benvolio --batch-size 64 --seq-len 128 --lr 1e-3 --warmup-steps 20 --ema 0.998 \
    --max-seconds 1200 --eval-interval 300 $COMMON --out "$RUNS/benvolio-ft" > "$RUNS/benvolio-ft.log" 2>&1
  shakes-train --model benvolio --n-layer 3 --n-hidden 330 --dropout 0.05 --batch-size 64 --seq-len 128 --lr 2e-3 \
    --warmup-steps 100 --ema 0.999 --max-seconds 2700 --eval-interval 400 $COMMON --out "$RUNS/benvolio-330" \
    > "$RUNS/benvolio-330.log" 2>&1 ) &
wait
