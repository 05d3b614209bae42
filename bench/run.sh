#!/usr/bin/env bash
# Reruns the whole side-by-side table: kobai against NumPy (the book's
# algorithms, bench/numpy), candle (bench/candle) and, for train_run,
# deep_run and conv_run, JAX (bench/jax), in one run.
# Usage: bash bench/run.sh [--quick] [--only ITEM,...] [--repeat N]
#   (arguments go to bench/side_by_side.py; see bench/README.md)
# Writes bench/results/latest.md and latest.json (a --quick or --only run:
# bench/results/partial.*). Run it on a quiet machine: see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=bench/.venv
if [ ! -x "$venv/bin/python" ]; then
    echo "--- creating $venv"
    python3 -m venv "$venv"
fi
echo "--- pip install numpy matplotlib threadpoolctl into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check numpy matplotlib threadpoolctl
# JAX (CPU) for the train_run, deep_run and conv_run items only: one that does not install is a
# warning, and the table has no jax rows.
echo "--- pip install jax[cpu] into $venv"
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "jax[cpu]"; then
    echo "warning: JAX did not install; the train_run, deep_run and conv_run tables will have no jax rows" >&2
fi

# Fashion-MNIST from Debian's package, as .ci/run installs it.
if [ -z "${FASHION_MNIST_DIR:-}" ] && [ ! -e /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz ]; then
    echo "--- installing Fashion-MNIST (dataset-fashion-mnist)"
    apt-get update
    apt-get install -y --no-install-recommends dataset-fashion-mnist
fi

echo "--- building kobai (release) for the notebook, train_run, deep_run and conv_run items"
cargo build --quiet --release --bin kobai

echo "--- building bench/kobai-side"
cargo build --quiet --release --manifest-path bench/kobai-side/Cargo.toml \
    --target-dir bench/kobai-side/target

echo "--- building bench/candle"
if [ -e bench/candle/Cargo.toml ] &&
    cargo build --quiet --release --manifest-path bench/candle/Cargo.toml \
        --target-dir bench/candle/target; then
    :
else
    echo "warning: bench/candle did not build; the table will have no candle rows" >&2
fi

exec "$venv/bin/python" bench/side_by_side.py "$@"
