"""The book's SimpleConvNet (chapter 7) in JAX on the CPU, 200 training steps
then one evaluation on the whole training and test sets: the `conv_run` item
of bench/side_by_side.py, the way a JAX user writes it.

Fashion-MNIST (the IDX gz files, read by bench/numpy/mnist.py: pixels float32
x / 255, reshaped to (N, 1, 28, 28); integer labels). The network, all
float32: Conv 30 filters 5x5 stride 1 pad 0 (jax.lax.conv_general_dilated,
NCHW images, OIHW filters) + bias -> ReLU -> max Pool 2x2 stride 2
(jax.lax.reduce_window) -> Affine 4320x100 -> ReLU -> Affine 100x10; the
book's loss (softmax, then -mean(log(y[t] + 1e-7))) and its gradient by
jax.value_and_grad. Weights 0.01 * np.random.randn in the book's order (W1
(30, 1, 5, 5), W2 (4320, 100), W3 (100, 10)) from NumPy's seeded generator,
cast to float32; zero biases. The book's Adam (common/optimizer.py) written
out by hand, as in deep_run.py: lr 0.001, beta1 0.9, beta2 0.999,
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g^2 - v)
    p -= lr_t * m / (sqrt(v) + 1e-7)
Batches of 100 drawn with replacement by np.random.choice(60000, 100); the
training images stay on the device and the jitted step gathers the batch.
After the last of the 200 steps, the accuracy over the whole training set and
the whole test set, by a jitted evaluation over chunks of 1000 images
(lax.map), so its memory stays small.

The training step and the evaluation are compiled (jax.jit) on their first
call; that time counts, as it does for the user. step_ms_median in the output
is the median time of one training step (the dispatch and a wait for its
loss, block_until_ready), the first (compiling) step included in the count.

Prints one JSON line at the end:
    {"item": "conv_run", "impl": "jax <version>", "median_s": <wall time of the run>, "runs": 1,
     "extra": {"test_accuracy": ..., "train_accuracy": ..., "step_ms_median": ..., ...}}

Threads: XLA picks its own (one per core). The harness's one-thread row sets
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".

Usage: python bench/jax/conv_run.py [--iters N] [--seed S] [--eval-size N]
    --eval-size N   evaluate on the first N training and N test images only
                    (a multiple of 1000 or below it; a smoke test)"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import device_data, os_threads  # noqa: E402

FILTERS = 30
FILTER_SIZE = 5
HIDDEN = 100
OUTPUT = 10
POOLED = FILTERS * 12 * 12  # 30 x 12 x 12 after the 24 x 24 conv output and the 2 x 2 pool
BATCH = 100
LR = 0.001
BETA1 = 0.9
BETA2 = 0.999
EPS = 1e-7  # the book's, added to sqrt(v)
CHUNK = 1000  # images per evaluation chunk


def init_params():
    """The book's SimpleConvNet init: 0.01 * randn, in its order; zero biases."""
    def w(*shape):
        return jnp.asarray((0.01 * np.random.randn(*shape)).astype(np.float32))

    w1 = w(FILTERS, 1, FILTER_SIZE, FILTER_SIZE)
    w2 = w(POOLED, HIDDEN)
    w3 = w(HIDDEN, OUTPUT)
    z = lambda n: jnp.zeros(n, jnp.float32)  # noqa: E731
    return {"W1": w1, "b1": z(FILTERS), "W2": w2, "b2": z(HIDDEN), "W3": w3, "b3": z(OUTPUT)}


def predict(params, x):
    """x: (n, 1, 28, 28) -> logits (n, 10)."""
    h = jax.lax.conv_general_dilated(x, params["W1"], window_strides=(1, 1), padding="VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
    h = jax.nn.relu(h + params["b1"][None, :, None, None])
    h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    h = h.reshape(h.shape[0], -1)  # (n, 30 * 12 * 12), channel-major as the book's Pooling
    h = jax.nn.relu(h @ params["W2"] + params["b2"])
    return h @ params["W3"] + params["b3"]


def loss_fn(params, x, t):
    """The book's SoftmaxWithLoss: softmax, cross-entropy with delta 1e-7."""
    y = jax.nn.softmax(predict(params, x), axis=-1)
    p = jnp.take_along_axis(y, t[:, None], axis=1)[:, 0]
    return -jnp.mean(jnp.log(p + 1e-7))


def adam_init(params):
    def zeros():  # m and v each their own buffers (both are donated to the step)
        return jax.tree_util.tree_map(jnp.zeros_like, params)

    return {"t": jnp.zeros((), jnp.int32), "m": zeros(), "v": zeros()}


def adam_update(params, grads, state):
    """The book's Adam (common/optimizer.py), bias correction folded into lr_t."""
    t = state["t"] + 1
    tf = t.astype(jnp.float32)
    lr_t = LR * jnp.sqrt(1.0 - BETA2**tf) / (1.0 - BETA1**tf)
    m = jax.tree_util.tree_map(lambda m, g: m + (1 - BETA1) * (g - m), state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: v + (1 - BETA2) * (g * g - v), state["v"], grads)
    params = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + EPS), params, m, v)
    return params, {"t": t, "m": m, "v": v}


@functools.partial(jax.jit, donate_argnums=(0, 1))
def train_step(params, opt_state, x_all, t_all, idx):
    """Gathers the batch, forward, backward, Adam update."""
    x = x_all[idx]
    t = t_all[idx]
    loss, grads = jax.value_and_grad(loss_fn)(params, x, t)
    params, opt_state = adam_update(params, grads, opt_state)
    return params, opt_state, loss


@functools.partial(jax.jit, static_argnums=3)
def correct(params, x_all, t_all, chunk):
    """The number of images whose largest logit is their label, chunk by chunk."""
    n = x_all.shape[0]
    xs = x_all.reshape(n // chunk, chunk, *x_all.shape[1:])
    ts = t_all.reshape(n // chunk, chunk)

    def one(xt):
        x, t = xt
        return jnp.sum(jnp.argmax(predict(params, x), axis=1) == t)

    return jnp.sum(jax.lax.map(one, (xs, ts)))


def accuracy(params, x_all, t_all):
    n = x_all.shape[0]
    chunk = CHUNK if n % CHUNK == 0 else n
    return int(correct(params, x_all, t_all, chunk)) / n



def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=200, help="iterations (default 200, the issue's run)")
    p.add_argument("--seed", type=int, default=1, help="np.random.seed before the weights and batches")
    p.add_argument("--eval-size", type=int, help="evaluate the first N images of each set only (smoke test)")
    args = p.parse_args()
    if args.iters < 1:
        p.error("--iters must be at least 1")

    np.random.seed(args.seed)
    (x_train_d, t_train_d), (x_test_d, t_test_d) = device_data((1, 28, 28))

    params = init_params()
    opt_state = adam_init(params)

    train_size = x_train_d.shape[0]
    step_times = []
    loss = None
    for _ in range(args.iters):
        batch_mask = np.random.choice(train_size, BATCH)
        t0 = time.perf_counter()
        params, opt_state, loss = train_step(params, opt_state, x_train_d, t_train_d, batch_mask)
        loss.block_until_ready()
        step_times.append(time.perf_counter() - t0)

    n_train, n_test = train_size, x_test_d.shape[0]
    if args.eval_size is not None:
        n_train, n_test = min(args.eval_size, n_train), min(args.eval_size, n_test)
    eval_start = time.perf_counter()
    train_acc = accuracy(params, x_train_d[:n_train], t_train_d[:n_train])
    test_acc = accuracy(params, x_test_d[:n_test], t_test_d[:n_test])
    eval_s = time.perf_counter() - eval_start
    print(f"train acc, test acc | {train_acc}, {test_acc}", file=sys.stderr, flush=True)

    wall = time.perf_counter() - START
    print(json.dumps({"item": "conv_run", "impl": f"jax {jax.__version__}", "median_s": wall, "runs": 1,
                      "extra": {"test_accuracy": test_acc, "train_accuracy": train_acc,
                                "step_ms_median": statistics.median(step_times) * 1000,
                                "first_step_ms": step_times[0] * 1000, "eval_s": eval_s,
                                "iterations": args.iters, "batch": BATCH, "seed": args.seed,
                                "network": "SimpleConvNet conv30x5x5-pool2-100-10", "optimizer": "adam",
                                "lr": LR, "final_batch_loss": float(loss), "dtype": "float32",
                                "eval_images": [n_train, n_test], "eval_chunk": CHUNK,
                                "xla_flags": os.environ.get("XLA_FLAGS", ""), "os_threads": os_threads(),
                                "epochs": [{"epoch": 1, "iteration": args.iters,
                                            "train_accuracy": train_acc, "test_accuracy": test_acc}]}}),
          flush=True)


if __name__ == "__main__":
    main()
