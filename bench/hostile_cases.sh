#!/usr/bin/env bash
# Hostile cases on the command line (issue 26): each prints its exit status and the last line of its stderr.
# Usage: bench/hostile_cases.sh   (BIN: where the console commands are, default .venv/bin; DATA: the corpus)
cd "$(dirname "$0")/.."; B=${BIN:-.venv/bin}; T=$(mktemp -d)
$B/python -c "
import sys; sys.path.insert(0, '.')
from pathlib import Path; from tests.hostile import hostile_weights
f = hostile_weights(Path('$T'), Path('$T/marker'))
f['nested-header'].rename('$T/deep.safetensors'); f['surrogate-vocabulary'].rename('$T/surrogate.safetensors')
f['nested-config'].rename('$T/deepconfig.safetensors')"
run() { out=$(timeout 120 "$@" 2>&1 >/dev/null); rc=$?; echo "rc=$rc | $(echo "$out" | grep -v '^$' | tail -1 | cut -c1-150) | $*" | sed "s|$T|T|g"; }
D=${DATA:-../shared/data/tinyshakespeare.txt}
for f in deep deepconfig surrogate; do
  run $B/shakes-sample --weights $T/$f.safetensors -n 5
  run $B/shakes-eval --weights $T/$f.safetensors --data $D
  run $B/shakes-trace --weights $T/$f.safetensors --out $T/tr-$f ab
  run $B/shakes-inspect surprise --weights $T/$f.safetensors -- "ab"
  run $B/shakes-train --init $T/$f.safetensors --model benvolio --data $D --max-steps 1 --out $T/r-$f
done
BIG=99999999999999999999999
run $B/shakes-train --model benvolio --data $D --threads $BIG --max-steps 1 --out $T/r1
run $B/shakes-sample --threads $BIG -n 5
run $B/shakes-eval --threads $BIG --data $D
run $B/shakes-train --model benvolio --data $D --n-hidden $BIG --out $T/r2
run $B/shakes-train --model romeo --data $D --n-embd $BIG --out $T/r3
run $B/shakes-train --model romeo --data $D --n-layer $BIG --out $T/r4
run $B/shakes-sample -n $BIG
run $B/shakes-train --model benvolio --data $D --eval-batches $BIG --out $T/r5
run $B/shakes-train --model benvolio --data $D --lr 1e30 --out $T/r6
run $B/shakes-train --model benvolio --data $D --weight-decay 1e30 --out $T/r7
# a run folder whose metrics.jsonl is a FIFO
mkdir -p $T/fiforun; mkfifo $T/fiforun/metrics.jsonl
run $B/shakes-tui --watch $T/fiforun
rm -rf $T
