#!/usr/bin/env bash
# Round 3, phase 2: phase 1 (round3_cpu.sh, one reset in ten batches) left the recurrent models well behind Romeo
# when they may see only 1-4 characters (Benvolio at k = 1: 2.92 nats against Romeo's 2.46), because a window's
# first characters, the only ones read from the initial state, were 1 in 1,280 of what they trained on. Phase 2
# continues from phase 1's averaged weights with a reset in every other batch (--reset-prob 0.5: as many
# cold-start positions as Romeo's windows give it), at a lower learning rate.
#   usage: weights/recipe/round3_cpu_phase2.sh DATA_FILE [RUNS_DIR]   (RUNS_DIR: phase 1's)
set -eu
DATA=$1; RUNS=${2:-/tmp/round3}
COMMON="--data $DATA --threads 1 --min-lr-ratio 0.02 --eval-seconds 100000 --eval-batches 14 --quiet --reset-prob 0.5"
shakes-train --init "$RUNS/mercutio-ft/weights.safetensors" --batch-size 64 --seq-len 128 --lr 4e-4 \
  --warmup-steps 20 --weight-decay 0.1 --ema 0.995 --max-seconds 1800 --eval-interval 150 $COMMON \
  --out "$RUNS/mercutio-ft2" > "$RUNS/mercutio-ft2.log" 2>&1 &
shakes-train --resume "$RUNS/benvolio-330" --reset-prob 0.5 --max-seconds 2700 --quiet --threads 1 \
  > "$RUNS/benvolio-330-resumed.log" 2>&1 &
wait
# phase 3 (Benvolio only): after phase 2 it was within 0.15 of Romeo at k = 1 and 16 but 0.22 behind at k = 4.
# Shorter windows put four times as many of its training characters within a few of a reset.
shakes-train --init "$RUNS/benvolio-330/weights.safetensors" --batch-size 128 --seq-len 32 --lr 3e-4 \
  --warmup-steps 20 --ema 0.998 --max-seconds 900 --eval-interval 300 $COMMON \
  --out "$RUNS/benvolio-330-short" > "$RUNS/benvolio-330-short.log" 2>&1
# phase 3 for Mercutio (phase 2 with windows of 128 lost 0.026 on the whole split): the same short windows
shakes-train --init "$RUNS/mercutio-ft/weights.safetensors" --batch-size 128 --seq-len 32 --lr 3e-4 \
  --warmup-steps 20 --weight-decay 0.1 --ema 0.995 --max-seconds 840 --eval-interval 150 \
  --data $DATA --threads 2 --min-lr-ratio 0.02 --eval-seconds 100000 --eval-batches 14 --quiet --reset-prob 0.5 \
  --out "$RUNS/mercutio-short" > "$RUNS/mercutio-short.log" 2>&1
