"""The book's SimpleConvNet (chapter 7) trained in NumPy for 200 steps, then
evaluated once on the whole training and test sets: the `conv_run` item of
bench/side_by_side.py.

Fashion-MNIST as the book's load_mnist(flatten=False) loads it (images
float32 x / 255 of shape (N, 1, 28, 28), index labels), the book's
SimpleConvNet from simple_convnet.py with the book's im2col layers
(conv_layers.py): Conv 30 filters 5x5 stride 1 pad 0 -> ReLU -> max Pool 2x2
stride 2 -> Affine 100 -> ReLU -> Affine 10 -> SoftmaxWithLoss (delta 1e-7);
weights 0.01 * N(0, 1), zero biases; the book's Adam (optimizers.py, lr
0.001); batches of 100 drawn with replacement (np.random.choice(60000, 100));
200 iterations (gradient + update each, no extra loss pass); then ONE
evaluation, the book's network.accuracy (batches of 100 images) over the
whole training set (60 000) and the whole test set (10 000).

--dtype float64 is the book's (float64 parameters; the float32 images are
copied into float64 im2col buffers); --dtype float32 makes the parameters,
images and every buffer float32 (impl "numpy-f32" in the output, its own row
and peer in the table).

Threads: the BLAS library's own choice; the harness's one-thread row sets
OPENBLAS_NUM_THREADS=1 and friends.

Prints one JSON line at the end:
    {"item": "conv_run", "impl": "numpy" | "numpy-f32", "median_s": <wall time of the run>, "runs": 1,
     "extra": {"test_accuracy": ..., "train_accuracy": ..., "step_ms_median": ..., ...}}
step_ms_median is the median time of one training step (network.gradient +
optimizer.update, not the batch draw). The wall time counts from the start of
this script (after Python's own start-up) to the end; the harness times the
whole process anyway.

Usage: python bench/numpy/conv_run.py [--iters N] [--seed S] [--dtype float64|float32]
                                      [--eval-size N] [--eval-batch N] [--data DIR]
    --eval-size N   evaluate on the first N training and N test images only
                    (a smoke test; the item evaluates all of them)"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mnist import data_dir  # noqa: E402
from optimizers import Adam  # noqa: E402
from simple_convnet import load, network  # noqa: E402

BATCH = 100


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=200, help="iterations (default 200, the issue's run)")
    p.add_argument("--seed", type=int, default=1, help="np.random.seed before the weights and batches")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--eval-size", type=int, help="evaluate the first N images of each set only (smoke test)")
    p.add_argument("--eval-batch", type=int, default=100, help="images per evaluation batch (the book's 100)")
    p.add_argument("--data", default=data_dir(), help="the IDX files")
    args = p.parse_args()
    if args.iters < 1:
        p.error("--iters must be at least 1")

    (x_train, t_train), (x_test, t_test) = load(args)
    if args.dtype == "float32":
        x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    net = network(args)  # np.random.seed(args.seed), then the book's init
    optimizer = Adam(lr=0.001)

    train_size = x_train.shape[0]
    step_times = []
    loss = float("nan")
    for _ in range(args.iters):
        batch_mask = np.random.choice(train_size, BATCH)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        t0 = time.perf_counter()
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        step_times.append(time.perf_counter() - t0)
        loss = float(net.last_layer.loss)
    train_s = sum(step_times)

    n_train = x_train.shape[0] if args.eval_size is None else min(args.eval_size, x_train.shape[0])
    n_test = x_test.shape[0] if args.eval_size is None else min(args.eval_size, x_test.shape[0])
    eval_start = time.perf_counter()
    train_acc = float(net.accuracy(x_train[:n_train], t_train[:n_train], batch_size=args.eval_batch))
    test_acc = float(net.accuracy(x_test[:n_test], t_test[:n_test], batch_size=args.eval_batch))
    eval_s = time.perf_counter() - eval_start
    print(f"train acc, test acc | {train_acc}, {test_acc}", file=sys.stderr, flush=True)

    wall = time.perf_counter() - START
    impl = "numpy" if args.dtype == "float64" else "numpy-f32"
    print(json.dumps({"item": "conv_run", "impl": impl, "median_s": wall, "runs": 1,
                      "extra": {"test_accuracy": test_acc, "train_accuracy": train_acc,
                                "step_ms_median": statistics.median(step_times) * 1000,
                                "train_loop_s": train_s, "eval_s": eval_s,
                                "iterations": args.iters, "batch": BATCH, "seed": args.seed,
                                "dtype": args.dtype, "network": "SimpleConvNet conv30x5x5-pool2-100-10",
                                "optimizer": "adam", "lr": optimizer.lr, "final_batch_loss": loss,
                                "eval_images": [n_train, n_test], "eval_batch": args.eval_batch,
                                "epochs": [{"epoch": 1, "iteration": args.iters,
                                            "train_accuracy": train_acc, "test_accuracy": test_acc}]}}),
          flush=True)


if __name__ == "__main__":
    main()
