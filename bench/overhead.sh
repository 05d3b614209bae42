#!/usr/bin/env bash
# The per-evaluation overhead of kobai's numerical gradient, in instructions
# (valgrind's callgrind counts instructions, so the ratio does not depend on
# what else the machine is doing): the book's central difference of a sum of
# N squares (2N calls of f) against 2N calls of f alone.
# Goal (issue 4): gradient ≤ 1.1 × (2N × one call).
# Usage: bash bench/overhead.sh [N]   (default 4000; needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-4000}
cargo build --quiet --release -p kobai --example overhead_count
bin=${CARGO_TARGET_DIR:-target}/release/examples/overhead_count
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
one=$(count calls "$n" 1)
many=$(count calls "$n" $((2 * n + 1)))
gradient=$(count gradient "$n")
python3 - "$n" "$one" "$many" "$gradient" <<'PY'
import sys
n, one, many, gradient = map(int, sys.argv[1:])
per_call = (many - one) / (2 * n)          # instructions in one call of f
startup = one - per_call                    # the program around it
work = gradient - startup                   # the gradient alone
print(f"n = {n}: one call of f = {per_call:,.0f} instructions")
print(f"gradient = {work:,.0f} instructions; 2n calls = {2 * n * per_call:,.0f}")
print(f"ratio = {work / (2 * n * per_call):.4f}  (goal ≤ 1.1); "
      f"overhead per call = {(work - 2 * n * per_call) / (2 * n):,.0f} instructions")
PY
