"""The book's chapter 7 SimpleConvNet (Deep Learning from Scratch,
ch07/simple_convnet.py) trained as ch07/train_convnet.py trains it, with the
book's Trainer (common/trainer.py), for side-by-side benchmarks with kobai.

The network: Conv (30 filters 5x5, stride 1, pad 0) -> ReLU -> max Pool
(2x2, stride 2) -> Affine 100 -> ReLU -> Affine 10 -> SoftmaxWithLoss;
weights 0.01 * N(0, 1), biases 0; Adam lr 0.001; batches of 100 drawn with
np.random.choice(train_size, 100) (with replacement). The layers are
conv_layers.py's (Convolution, Pooling, im2col, col2im) and two_layer_net.py's
(Relu, Affine, SoftmaxWithLoss); the optimizer is optimizers.py's Adam.

The Trainer, as the book's: max_iter = int(epochs * 600) steps; each step is
network.gradient + optimizer.update, then network.loss on the same batch
(the book's train loss, kept); at every iteration i with i % 600 == 0
(i = 0 included, so `epochs` evaluations) the accuracy on the first 1000
training and the first 1000 test images (evaluate_sample_num_per_epoch=1000);
after the last step the accuracy on the whole test set.

Data: the four IDX files (raw or .gz) in --data, loaded as the book's
load_mnist(flatten=False): images float32 x / 255 of shape (N, 1, 28, 28),
labels as indices. With --dtype float64 (the book's) the parameters are
float64 and the images stay the book's float32 (its im2col copies them into
a float64 buffer); with --dtype float32 the parameters and images are
float32 and every buffer is float32 (see conv_layers.py). Adam's step size is
a NumPy float64 scalar (the book's lr_t), so under NumPy 2 its update makes
a float64 temporary before writing into the float32 parameter.

Usage (from the repository root):
    bench/.venv/bin/python bench/numpy/simple_convnet.py                  # 20 epochs (12000 steps)
    bench/.venv/bin/python bench/numpy/simple_convnet.py --step-only 20   # median ms per step
    bench/.venv/bin/python bench/numpy/simple_convnet.py --quick          # smoke test, ~300 steps
    bench/.venv/bin/python bench/numpy/simple_convnet.py --dtype float32 --iters 1000

    --epochs N      the Trainer's epochs (default 20; 6 with --quick)
    --iters N       train exactly N steps instead (evaluations still every 600,
                    or every 50 with --quick)
    --seed S        np.random.seed(S) once, before the network is built (default 1)
    --dtype T       float64 (the book's, default) or float32
    --data DIR      the IDX files (default /usr/share/datasets/fashion-mnist)
    --step-only N   no training run: build the network, take one fixed batch of
                    100 training images, warm up (5 steps), then time N steps
                    (gradient + Adam update on that batch) and print the
                    median ms per step
    --quick         the reduction the book leaves commented out in
                    train_convnet.py: the first 5000 training and 1000 test
                    images, 6 epochs of 50 steps (300 steps)
    --threads N     BLAS threads via threadpoolctl (default 1; 0 keeps the
                    library's default)
    --out FILE      the JSON file (default bench/results/simple-convnet-numpy.json
                    for a full default run, bench/results/partial.simple-convnet-numpy.json
                    otherwise)

Output: one JSON object per run on stdout, and the same object written to
--out. It holds the settings, the per-epoch accuracies (iteration, train and
test accuracy over 1000 images each), the final test accuracy (whole test
set), the step times (median / p10 / p90 ms of gradient + update; and of the
Trainer's whole iteration, which adds the loss pass), the seconds of the
training loop and of the whole run (data loading included), the peak RSS,
and the BLAS library and kernel (threadpoolctl). Progress goes to stderr.

OpenBLAS picks its kernel at load time; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
in the environment make it pick slow ones on this machine, so this script
re-executes itself without them (and notes it in the JSON)."""

import os
import sys

_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _OPENBLAS_VARS) and "_CONVNET_REEXEC" not in os.environ:
    _env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
    _env["_CONVNET_REEXEC"] = ";".join(f"{v}={os.environ[v]}" for v in _OPENBLAS_VARS if v in os.environ)
    print(f"simple_convnet.py: re-running without {', '.join(v for v in _OPENBLAS_VARS if v in os.environ)}",
          file=sys.stderr, flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import OrderedDict  # noqa: E402

_START = time.perf_counter()

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conv_layers import Convolution, Pooling  # noqa: E402
from mnist import DEFAULT_DIR, load_mnist  # noqa: E402
from optimizers import OPTIMIZERS  # noqa: E402
from two_layer_net import Affine, Relu, SoftmaxWithLoss  # noqa: E402

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(BENCH, "results")
BATCH = 100
WARMUP_STEPS = 5


class SimpleConvNet:
    """The book's ch07/simple_convnet.py: conv - relu - pool - affine - relu -
    affine - softmax. `dtype` (not the book's) casts the parameters after they
    are drawn, before the layers take them; None keeps the book's float64."""

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01, dtype=None):
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        # weights
        self.params = {}
        self.params["W1"] = weight_init_std * \
            np.random.randn(filter_num, input_dim[0], filter_size, filter_size)
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * \
            np.random.randn(pool_output_size, hidden_size)
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * \
            np.random.randn(hidden_size, output_size)
        self.params["b3"] = np.zeros(output_size)
        if dtype is not None:
            self.params = {key: val.astype(dtype) for key, val in self.params.items()}
        dtype = self.params["W1"].dtype

        # layers
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(self.params["W1"], self.params["b1"],
                                           conv_param["stride"], conv_param["pad"])
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2, dtype=dtype)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])

        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)

        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1:
            t = np.argmax(t, axis=1)

        acc = 0.0

        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i * batch_size:(i + 1) * batch_size]
            tt = t[i * batch_size:(i + 1) * batch_size]
            y = self.predict(tx)
            y = np.argmax(y, axis=1)
            acc += np.sum(y == tt)

        return acc / x.shape[0]

    def gradient(self, x, t):
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        grads["W1"], grads["b1"] = self.layers["Conv1"].dW, self.layers["Conv1"].db
        grads["W2"], grads["b2"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W3"], grads["b3"] = self.layers["Affine2"].dW, self.layers["Affine2"].db

        return grads


class Trainer:
    """The book's common/trainer.py (verbose off), timing each step: the
    gradient and the update (`step_times`), and the whole iteration with the
    book's extra loss pass (`iter_times`). The accuracy evaluations are timed
    apart (`eval_s`)."""

    def __init__(self, network, x_train, t_train, x_test, t_test,
                 epochs=20, mini_batch_size=100,
                 optimizer="SGD", optimizer_param={"lr": 0.01},
                 evaluate_sample_num_per_epoch=None, max_iter=None):
        self.network = network
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        self.optimizer = OPTIMIZERS[optimizer.lower()](**optimizer_param)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch) if max_iter is None else max_iter
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []
        self.per_epoch = []
        self.step_times = []
        self.iter_times = []
        self.eval_s = 0.0

    def train_step(self):
        start = time.perf_counter()
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        step_start = time.perf_counter()
        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)
        self.step_times.append(time.perf_counter() - step_start)

        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(float(loss))
        self.iter_times.append(time.perf_counter() - start)

        if self.current_iter % self.iter_per_epoch == 0:
            eval_start = time.perf_counter()
            self.current_epoch += 1

            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            if self.evaluate_sample_num_per_epoch is not None:
                t = self.evaluate_sample_num_per_epoch
                x_train_sample, t_train_sample = self.x_train[:t], self.t_train[:t]
                x_test_sample, t_test_sample = self.x_test[:t], self.t_test[:t]

            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            self.per_epoch.append({"epoch": self.current_epoch, "iteration": self.current_iter,
                                   "train_accuracy": r4(train_acc), "test_accuracy": r4(test_acc),
                                   "train_loss": r4(loss)})
            self.eval_s += time.perf_counter() - eval_start
            progress(f"=== epoch:{self.current_epoch}, iteration {self.current_iter}, "
                     f"train acc:{train_acc:.4f}, test acc:{test_acc:.4f}, loss {float(loss):.4f}, "
                     f"median step {statistics.median(self.step_times) * 1000:.1f} ms ===")
        self.current_iter += 1

    def train(self):
        for i in range(self.max_iter):
            self.train_step()

        eval_start = time.perf_counter()
        test_acc = self.network.accuracy(self.x_test, self.t_test)
        self.eval_s += time.perf_counter() - eval_start
        progress(f"=============== Final Test Accuracy ===============\ntest acc:{test_acc}")
        return test_acc


# --- harness ---------------------------------------------------------------

def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def r4(x):
    return round(float(x), 4)


def step_stats(times):
    ms = sorted(t * 1000.0 for t in times)
    if not ms:
        return {"median_ms": None, "p10_ms": None, "p90_ms": None, "steps_timed": 0}
    return {
        "median_ms": statistics.median(ms),
        "p10_ms": ms[len(ms) // 10],
        "p90_ms": ms[(len(ms) * 9) // 10],
        "steps_timed": len(ms),
    }


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")
    return [{k: p.get(k) for k in keys} for p in threadpool_info() if p.get("user_api") == "blas"]


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def write_json(path, doc):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".simple-convnet-", suffix=".json",
                               dir=os.path.dirname(os.path.abspath(path)))
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def load(args, parts=("train", "test")):
    """The book's load_mnist(flatten=False): (N, 1, 28, 28) float32 images in
    [0, 1] and index labels; float32 or the book's float32 either way."""
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=False,
                                                      directory=args.data, parts=parts)
    out = []
    for x, t in ((x_train, t_train), (x_test, t_test)):
        out.append((None, None) if x is None else (x.reshape(-1, 1, 28, 28), t))
    return out


def network(args):
    np.random.seed(args.seed)
    return SimpleConvNet(input_dim=(1, 28, 28),
                         conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                         hidden_size=100, output_size=10, weight_init_std=0.01,
                         dtype=np.float32 if args.dtype == "float32" else None)


def settings(args):
    return {
        "network": "SimpleConvNet: Conv 30x5x5 stride 1 pad 0 - ReLU - MaxPool 2x2 stride 2 - "
                   "Affine 4320x100 - ReLU - Affine 100x10 - SoftmaxWithLoss",
        "weight_init_std": 0.01, "optimizer": "Adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999,
        "batch_size": BATCH, "dtype": args.dtype,
        "images": "float32 x / 255 (the book's)" if args.dtype == "float64" else "float32 x / 255",
        "seed": args.seed, "data_dir": args.data,
    }


def run_step_only(args):
    (x_train, t_train), _ = load(args, parts=("train",))
    net = network(args)
    optimizer = OPTIMIZERS["adam"](lr=0.001)
    batch_mask = np.random.choice(x_train.shape[0], BATCH)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    if args.dtype == "float32":
        x_batch = x_batch.astype(np.float32)
    times = []
    for i in range(WARMUP_STEPS + args.step_only):
        start = time.perf_counter()
        grads = net.gradient(x_batch, t_batch)
        optimizer.update(net.params, grads)
        if i >= WARMUP_STEPS:
            times.append(time.perf_counter() - start)
    stats = step_stats(times)
    progress(f"median step: {stats['median_ms']:.2f} ms over {len(times)} steps "
             f"(after {WARMUP_STEPS} warm-up steps)")
    return {**settings(args),
            "step": "network.gradient + Adam update on one fixed batch of 100 training images "
                    "(np.random.choice after seeding and building)",
            "warmup_steps": WARMUP_STEPS}, {
        "step": stats, "median_step_ms": stats["median_ms"],
        "last_loss": float(net.last_layer.loss)}


def run_training(args):
    (x_train, t_train), (x_test, t_test) = load(args)
    if args.quick:
        # train_convnet.py: "処理に時間がかかる場合はデータを削減"
        x_train, t_train = x_train[:5000], t_train[:5000]
        x_test, t_test = x_test[:1000], t_test[:1000]
    if args.dtype == "float32":
        x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    net = network(args)
    trainer = Trainer(net, x_train, t_train, x_test, t_test,
                      epochs=args.epochs, mini_batch_size=BATCH,
                      optimizer="Adam", optimizer_param={"lr": 0.001},
                      evaluate_sample_num_per_epoch=1000, max_iter=args.iters)
    train_start = time.perf_counter()
    test_acc = trainer.train()
    train_s = time.perf_counter() - train_start
    s = {**settings(args), "train_size": int(x_train.shape[0]), "test_size": int(x_test.shape[0]),
         "epochs": args.epochs, "iter_per_epoch": trainer.iter_per_epoch, "iterations": trainer.max_iter,
         "batch_sampling": "np.random.choice(train_size, batch_size)",
         "evaluate_sample_num_per_epoch": 1000,
         "loop": "the book's Trainer: gradient, Adam update, loss on the same batch; accuracy on the "
                 "first 1000 training and test images when iteration % iter_per_epoch == 0; "
                 "final accuracy on the whole test set",
         "step_timed": "network.gradient + optimizer.update (not the batch selection, the loss pass "
                       "or the evaluations)"}
    step = step_stats(trainer.step_times)
    results = {
        "final_test_accuracy": float(test_acc),
        "per_epoch": trainer.per_epoch,
        "train_loss_last_100_mean": float(np.mean(trainer.train_loss_list[-100:])),
        "step": step, "median_step_ms": step["median_ms"],
        "iteration": step_stats(trainer.iter_times),
        "train_loop_s": train_s, "eval_s": trainer.eval_s,
    }
    return s, results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, help="the Trainer's epochs (default 20; 6 with --quick)")
    p.add_argument("--iters", type=int, help="train exactly this many steps (overrides --epochs)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64")
    p.add_argument("--data", default=DEFAULT_DIR, help=f"the IDX files (default {DEFAULT_DIR})")
    p.add_argument("--step-only", type=int, metavar="N",
                   help="time N training steps on a fixed batch (after warm-up); no training run")
    p.add_argument("--quick", action="store_true",
                   help="the first 5000 training / 1000 test images, 6 epochs (300 steps)")
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (threadpoolctl); 0 keeps the library's default (default: 1)")
    p.add_argument("--out", help="the JSON file (default: bench/results/simple-convnet-numpy.json, "
                                 "partial.simple-convnet-numpy.json unless a default full run)")
    args = p.parse_args()
    if args.epochs is None:
        args.epochs = 6 if args.quick else 20
    for name in ("epochs", "iters", "step_only"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")

    full_default = not (args.quick or args.step_only or args.iters is not None or args.epochs != 20
                        or args.dtype != "float64")
    out = args.out or os.path.join(
        RESULTS, "simple-convnet-numpy.json" if full_default else "partial.simple-convnet-numpy.json")

    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads, user_api="blas")

    header = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([os.path.relpath(sys.executable, os.getcwd())] + sys.argv),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "threads": args.threads or "default",
        "cores": os.cpu_count(),
        "openblas_env_removed": os.environ.get("_CONVNET_REEXEC") or None,
        "openblas_env_seen": {v: os.environ.get(v) for v in _OPENBLAS_VARS},
        "load_average_start": list(os.getloadavg()),
    }
    progress(f"BLAS: {header['blas']}")
    mode = "step-only" if args.step_only else ("quick" if args.quick else "train")
    if args.step_only:
        s, results = run_step_only(args)
    else:
        s, results = run_training(args)
    entry = {"experiment": "simple-convnet", "impl": "numpy", "mode": mode, "header": header,
             "settings": s, "results": results,
             "whole_run_s": time.perf_counter() - _START, "peak_rss_mb": peak_rss_mb(),
             "load_average_end": list(os.getloadavg())}
    print(json.dumps(entry), flush=True)
    write_json(out, entry)
    progress(f"wrote {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
