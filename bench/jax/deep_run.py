"""The deeper network's whole training run in JAX on the CPU: the `deep_run`
item of bench/side_by_side.py, the way a JAX user writes it.

Fashion-MNIST (the IDX gz files, read by bench/numpy/mnist.py: pixels float32
in [0, 1]; integer labels), the network 784-100-100-100-10 with ReLU, He
initialisation as the book's MultiLayerNetExtend(weight_init_std='relu')
draws it (sqrt(2 / fan_in) * np.random.randn(fan_in, fan_out), layer by layer,
from NumPy's seeded generator) cast to float32, zero biases, the book's loss
(softmax, then -mean(log(y[t] + 1e-7))), its gradient by jax.value_and_grad,
and the book's Adam (common/optimizer.py) written out by hand (optax is not
installed, and its Adam puts eps elsewhere): lr 0.001, beta1 0.9, beta2 0.999,
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    m += (1 - beta1) * (g - m);  v += (1 - beta2) * (g^2 - v)
    p -= lr_t * m / (sqrt(v) + 1e-7)
all float32. Batches of 100 drawn with replacement by
np.random.choice(train_size, 100), as the book's loop draws them; the training
images stay on the device and the jitted step gathers the batch from them.
After every epoch (every 600 iterations) the accuracy over the whole training
set and the whole test set, by a jitted evaluation over chunks of 10 000
images (lax.map), so its memory stays small.

The training step and the evaluation are compiled (jax.jit) on their first
call; that time counts, as it does for the user.

Prints one JSON line at the end:
    {"item": "deep_run", "impl": "jax <version>", "median_s": <wall time of the run>, "runs": 1,
     "extra": {"test_accuracy": ..., "train_accuracy": ..., "epochs": [...]}}
The wall time counts from the start of this script (after Python's own
start-up, before importing JAX) to the end; the harness times the whole
process anyway.

Threads: XLA picks its own (one per core). The harness's one-thread row sets
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1".

Usage: python bench/jax/deep_run.py [--iters N] [--seed S]"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import device_data, os_threads  # noqa: E402

SIZES = [784, 100, 100, 100, 10]
BATCH = 100
LR = 0.001
BETA1 = 0.9
BETA2 = 0.999
EPS = 1e-7  # the book's, added to sqrt(v)
CHUNK = 10_000  # images per evaluation chunk


def init_params():
    """The book's MultiLayerNetExtend with weight_init_std='relu': He weights
    from np.random.randn, layer by layer, zero biases."""
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = np.sqrt(2.0 / fan_in) * np.random.randn(fan_in, fan_out)
        params.append((jnp.asarray(w.astype(np.float32)), jnp.zeros(fan_out, jnp.float32)))
    return params


def predict(params, x):
    for w, b in params[:-1]:
        x = jax.nn.relu(x @ w + b)
    w, b = params[-1]
    return x @ w + b


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
    xs = x_all.reshape(n // chunk, chunk, x_all.shape[1])
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
    p.add_argument("--iters", type=int, default=6000, help="iterations (default 6000, the issue's run)")
    p.add_argument("--seed", type=int, default=1, help="np.random.seed before the weights and batches")
    args = p.parse_args()

    np.random.seed(args.seed)
    (x_train_d, t_train_d), (x_test_d, t_test_d) = device_data()

    params = init_params()
    opt_state = adam_init(params)

    train_size = x_train_d.shape[0]
    iter_per_epoch = max(train_size // BATCH, 1)
    losses = []
    epochs = []
    for i in range(args.iters):
        batch_mask = np.random.choice(train_size, BATCH)
        params, opt_state, loss = train_step(params, opt_state, x_train_d, t_train_d, batch_mask)
        losses.append(loss)  # a device scalar: no wait for the step here
        if (i + 1) % iter_per_epoch == 0 or i + 1 == args.iters:
            train_acc = accuracy(params, x_train_d, t_train_d)
            test_acc = accuracy(params, x_test_d, t_test_d)
            since = len(epochs) * iter_per_epoch
            epochs.append({"epoch": len(epochs) + 1, "iteration": i + 1,
                           "mean_loss": float(np.mean(jax.device_get(losses[since:]))),
                           "train_accuracy": train_acc, "test_accuracy": test_acc})
            print(f"train acc, test acc | {train_acc}, {test_acc}", file=sys.stderr, flush=True)

    wall = time.perf_counter() - START
    print(json.dumps({"item": "deep_run", "impl": f"jax {jax.__version__}", "median_s": wall, "runs": 1,
                      "extra": {"test_accuracy": epochs[-1]["test_accuracy"],
                                "train_accuracy": epochs[-1]["train_accuracy"],
                                "iterations": args.iters, "batch": BATCH, "seed": args.seed,
                                "network": "-".join(map(str, SIZES)), "optimizer": "adam", "lr": LR,
                                "final_batch_loss": float(losses[-1]), "dtype": "float32",
                                "xla_flags": os.environ.get("XLA_FLAGS", ""), "os_threads": os_threads(),
                                "epochs": epochs}}),
          flush=True)


if __name__ == "__main__":
    main()
