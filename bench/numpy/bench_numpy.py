"""NumPy's side of bench/side_by_side.py: the book's algorithms, timed.

Every measurement is printed as one JSON line on stdout:
    {"item": ..., "impl": "numpy", "median_s": ..., "runs": ..., "extra": {...}}

Subcommands:
    step              train_step: backprop gradient + SGD update, fixed batch of 100
    epoch             train_epoch: 600 iterations, batch 100 sampled with replacement
    numgrad           numgrad_bruteforce: the book's numerical_gradient of the net's loss
    sumsq N [N ...]   sumsq_grad_nN and sumsq_call_nN for f(x) = sum(x**2)

BENCH_QUICK=1 in the environment cuts the repetitions (a smoke test)."""

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import numerical_gradient  # noqa: E402
from mnist import load_mnist  # noqa: E402
from two_layer_net import TwoLayerNet  # noqa: E402

IMPL = "numpy"
SEED = 0
BATCH = 100
LR = 0.1
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def emit(item, times_or_median, runs=None, **extra):
    if isinstance(times_or_median, list):
        median, runs = statistics.median(times_or_median), len(times_or_median)
    else:
        median = times_or_median
    print(json.dumps({"item": item, "impl": IMPL, "median_s": median, "runs": runs,
                      "extra": extra}), flush=True)


def net():
    np.random.seed(SEED)
    return TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01)


def train_step(network, x_batch, t_batch):
    """One iteration of the book's ch05/train_neuralnet.py loop body, without
    its extra `network.loss(x_batch, t_batch)` after the update: the loss
    reported is the one the gradient's own forward pass computed."""
    grad = network.gradient(x_batch, t_batch)
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= LR * grad[key]
    return network.lastLayer.loss


def fixed_batch():
    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True, parts=("train",))
    return x_train[:BATCH].copy(), t_train[:BATCH].copy()


def cmd_step(args):
    x, t = fixed_batch()
    network = net()
    reps = args.reps or (50 if QUICK else 500)
    warmup = 5 if QUICK else 20
    for _ in range(warmup):
        train_step(network, x, t)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        loss = train_step(network, x, t)
        times.append(time.perf_counter() - start)
    emit("train_step", times, batch=BATCH, loss_last=float(loss))


def cmd_epoch(args):
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)
    network = net()
    train_size = x_train.shape[0]
    iters = args.iters
    start = time.perf_counter()
    for _ in range(iters):
        batch_mask = np.random.choice(train_size, BATCH)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        loss = train_step(network, x_batch, t_batch)
    elapsed = time.perf_counter() - start
    acc = network.accuracy(x_test, t_test)
    emit("train_epoch", elapsed, 1, iterations=iters, test_accuracy=float(acc),
         train_loss_last=float(loss))


def cmd_numgrad(args):
    x, t = fixed_batch()
    network = net()
    runs = args.runs or 1
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        grads = network.numerical_gradient(x, t)
        times.append(time.perf_counter() - start)
    backprop = network.gradient(x, t)
    diff = max(float(np.max(np.abs(grads[k] - backprop[k]))) for k in grads)
    params = sum(v.size for v in network.params.values())
    emit("numgrad_bruteforce", times, params=params, forward_passes=2 * params,
         max_abs_diff_vs_backprop=diff)


def function_sumsq(x):
    return np.sum(x**2)


def repeat(fn, min_reps, max_reps, budget_s):
    """Times fn() at least min_reps times, more while within budget_s."""
    times = []
    total = 0.0
    while len(times) < max_reps and (len(times) < min_reps or total < budget_s):
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        total += elapsed
    return times


def per_call_times(f, x, samples, target_s):
    """Median-able per-call times of f(x): each sample times a loop of k calls,
    k chosen so that a sample takes about target_s."""
    k = 1
    while True:
        start = time.perf_counter()
        for _ in range(k):
            f(x)
        if time.perf_counter() - start >= target_s or k >= 1 << 24:
            break
        k *= 2
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(k):
            f(x)
        times.append((time.perf_counter() - start) / k)
    return times, k


def cmd_sumsq(args):
    for n in args.n:
        x = np.arange(n, dtype=np.float64) / n
        f = function_sumsq
        min_reps, budget = (1, 0.3) if QUICK else (3, 2.0)
        grad_times = repeat(lambda: numerical_gradient(f, x), min_reps, 200, budget)
        call_times, k = per_call_times(f, x, 11 if QUICK else 51, 0.002 if QUICK else 0.01)
        emit(f"sumsq_grad_n{n}", grad_times, n=n, calls=2 * n)
        emit(f"sumsq_call_n{n}", call_times, n=n, calls_per_sample=k)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("step")
    s.add_argument("--reps", type=int)
    s.set_defaults(fn=cmd_step)
    s = sub.add_parser("epoch")
    s.add_argument("--iters", type=int, default=600)
    s.set_defaults(fn=cmd_epoch)
    s = sub.add_parser("numgrad")
    s.add_argument("--runs", type=int)
    s.set_defaults(fn=cmd_numgrad)
    s = sub.add_parser("sumsq")
    s.add_argument("n", type=int, nargs="*", default=[10, 1000, 40000])
    s.set_defaults(fn=cmd_sumsq)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
