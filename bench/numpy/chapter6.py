"""The book's chapter 6 experiments (Deep Learning from Scratch, ch06/*.py) on
Fashion-MNIST, with MultiLayerNetExtend and the book's optimizers.

Experiments (names for --only):
    adam-100-100   784-100-100-10 ReLU, He init, Adam lr 0.001, batch 100,
                   6000 iterations: final train/test accuracy, ms per step
    optimizers     ch06/optimizer_compare_mnist.py: 4 x 100, He init, batch 128,
                   2000 iterations; SGD 0.01, Momentum 0.01, AdaGrad 0.01, Adam 0.001
    weight-init    ch06/weight_init_compare.py: 4 x 100 ReLU, SGD 0.01, batch 128,
                   2000 iterations; init std 0.01, Xavier ('sigmoid'), He ('relu')
    batchnorm      ch06/batch_norm_test.py at one weight scale (0.05): 5 x 100,
                   first 1000 training images, SGD 0.01, batch 100, max_epochs 20,
                   with and without Batch Normalization
    overfit        ch06/overfit_weight_decay.py: 6 x 100, first 300 training
                   images, SGD 0.01, batch 100, max_epochs 201, lambda 0 and 0.1
    dropout        ch06/overfit_dropout.py: 6 x 100, first 300 training images,
                   dropout ratio 0.2, Trainer with SGD 0.01, batch 100, 301 epochs

Each experiment seeds NumPy's global generator (np.random.seed(SEED)) once,
before its networks are built, as if the book's script began with it; the
two runs of `overfit` are two scripts in the book, so each is seeded. Labels
are indices, as the book's chapter 6 loads them (load_mnist(normalize=True)).

One JSON object per experiment goes to stdout; all of them, with a header
(NumPy, BLAS kernel, threads, load average), to bench/results/chapter6-numpy.json,
rewritten after each experiment (a --quick or --only run writes
bench/results/partial.chapter6-numpy.json instead). --quick divides every
iteration or epoch count by 10 (a smoke test).

OpenBLAS picks its kernel at load time; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
in the environment make it pick slow ones on this machine, so this script
re-executes itself without them (and notes it in the header)."""

import os
import sys

_OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if any(v in os.environ for v in _OPENBLAS_VARS) and "_CHAPTER6_REEXEC" not in os.environ:
    _env = {k: v for k, v in os.environ.items() if k not in _OPENBLAS_VARS}
    _env["_CHAPTER6_REEXEC"] = ";".join(f"{v}={os.environ[v]}" for v in _OPENBLAS_VARS if v in os.environ)
    print(f"chapter6.py: re-running without {', '.join(v for v in _OPENBLAS_VARS if v in os.environ)}",
          file=sys.stderr, flush=True)
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mnist import load_mnist  # noqa: E402
from multi_layer_net_extend import MultiLayerNetExtend  # noqa: E402
from optimizers import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum  # noqa: E402

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(BENCH, "results")
EXPERIMENTS = ["adam-100-100", "optimizers", "weight-init", "batchnorm", "overfit", "dropout"]

# The figures the issue expects, kept beside the measured ones for review.
EXPECTED = {
    "adam-100-100": {"test_accuracy": 0.886, "train_accuracy": 0.915},
    "optimizers": {"Momentum": 0.862, "AdaGrad": 0.870, "Adam": 0.871},
    "weight-init": {"std=0.01": 0.10, "Xavier": 0.80, "He": 0.83},
    "batchnorm": {"with_batchnorm": 0.74, "without_batchnorm": 0.18},
    "overfit": {"gap_lambda_0": 0.25, "gap_lambda_0.1": 0.08},
    "dropout": {},
}

_DATA = None


def data():
    """((x_train, t_train), (x_test, t_test)): images float32 in [0, 1],
    labels as indices (the book's chapter 6: load_mnist(normalize=True))."""
    global _DATA
    if _DATA is None:
        _DATA = load_mnist(normalize=True, one_hot_label=False)
    return _DATA


def r4(x):
    return round(float(x), 4)


def scaled(n, quick):
    return max(1, n // 10) if quick else n


def step_stats(times):
    ms = sorted(t * 1000.0 for t in times)
    return {
        "median_ms": statistics.median(ms),
        "p10_ms": ms[len(ms) // 10],
        "p90_ms": ms[(len(ms) * 9) // 10],
        "steps_timed": len(ms),
    }


def timed_step(network, optimizer, x_batch, t_batch):
    """One training step (backprop gradient + update), timed."""
    start = time.perf_counter()
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)
    return time.perf_counter() - start


# --- a. adam-100-100 -------------------------------------------------------

def exp_adam(args):
    (x_train, t_train), (x_test, t_test) = data()
    iters = scaled(6000, args.quick)
    batch_size = 100
    settings = {"hidden_size_list": [100, 100], "activation": "relu", "weight_init_std": "relu (He)",
                "optimizer": "Adam", "lr": 0.001, "beta1": 0.9, "beta2": 0.999, "batch_size": batch_size,
                "iterations": iters, "batch_sampling": "np.random.choice(train_size, batch_size)",
                "step_timed": "network.gradient + optimizer.update (not the batch selection)",
                "accuracy_over": "full training (60000) and test (10000) sets"}
    np.random.seed(args.seed)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10,
                                  activation="relu", weight_init_std="relu")
    optimizer = Adam(lr=0.001)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // batch_size, 1)
    times, losses, epochs = [], [], []
    for i in range(iters):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        times.append(timed_step(network, optimizer, x_batch, t_batch))
        losses.append(network.last_layer.loss)  # the gradient's own forward pass
        if (i + 1) % iter_per_epoch == 0 and i + 1 < iters:
            epochs.append({"iteration": i + 1, "train_accuracy": r4(network.accuracy(x_train, t_train)),
                           "test_accuracy": r4(network.accuracy(x_test, t_test))})
            progress(f"adam-100-100: {epochs[-1]}")
    train_acc = network.accuracy(x_train, t_train)
    test_acc = network.accuracy(x_test, t_test)
    results = {"train_accuracy": float(train_acc), "test_accuracy": float(test_acc),
               **step_stats(times), "train_loop_s": sum(times),
               "loss_last_100_mean": float(np.mean(losses[-100:])), "per_epoch": epochs}
    return settings, results


# --- b. optimizers ---------------------------------------------------------

def compare(args, networks, optimizers, batch_size, iters):
    """The loop of optimizer_compare_mnist.py and weight_init_compare.py:
    every network takes the same batch; after its update the book computes
    the loss on that batch again (kept, not timed)."""
    (x_train, t_train), (x_test, t_test) = data()
    train_size = x_train.shape[0]
    times = {key: [] for key in networks}
    train_loss = {key: [] for key in networks}
    for i in range(iters):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        for key in networks:
            times[key].append(timed_step(networks[key], optimizers[key], x_batch, t_batch))
            loss = networks[key].loss(x_batch, t_batch)
            train_loss[key].append(loss)
        if i % 500 == 0:
            progress(f"{args.current}: iteration {i}: "
                     + ", ".join(f"{k} {float(v[-1]):.4f}" for k, v in train_loss.items()))
    results = {}
    for key, network in networks.items():
        results[key] = {"test_accuracy": float(network.accuracy(x_test, t_test)),
                        "train_accuracy": float(network.accuracy(x_train, t_train)),
                        "loss_last_100_mean": float(np.mean(train_loss[key][-100:])),
                        "median_step_ms": step_stats(times[key])["median_ms"]}
    return results


def exp_optimizers(args):
    iters = scaled(2000, args.quick)
    batch_size = 128
    settings = {"hidden_size_list": [100] * 4, "activation": "relu", "weight_init_std": "relu (He)",
                "optimizers": {"SGD": {"lr": 0.01}, "Momentum": {"lr": 0.01, "momentum": 0.9},
                               "AdaGrad": {"lr": 0.01}, "Adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}},
                "batch_size": batch_size, "iterations": iters,
                "accuracy_over": "full training and test sets, after the last iteration"}
    np.random.seed(args.seed)
    optimizers = {"SGD": SGD(), "Momentum": Momentum(), "AdaGrad": AdaGrad(), "Adam": Adam()}
    networks = {key: MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10)
                for key in optimizers}
    return settings, compare(args, networks, optimizers, batch_size, iters)


# --- c. weight-init --------------------------------------------------------

def exp_weight_init(args):
    iters = scaled(2000, args.quick)
    batch_size = 128
    weight_init_types = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
    settings = {"hidden_size_list": [100] * 4, "activation": "relu", "weight_init_std": weight_init_types,
                "optimizer": "SGD", "lr": 0.01, "batch_size": batch_size, "iterations": iters,
                "accuracy_over": "full training and test sets, after the last iteration"}
    np.random.seed(args.seed)
    optimizer = SGD(lr=0.01)
    networks = {key: MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100], output_size=10,
                                         weight_init_std=weight_type)
                for key, weight_type in weight_init_types.items()}
    optimizers = {key: optimizer for key in networks}
    return settings, compare(args, networks, optimizers, batch_size, iters)


# --- d. batchnorm ----------------------------------------------------------

def exp_batchnorm(args):
    (x_train, t_train), (x_test, t_test) = data()
    x_train = x_train[:1000]
    t_train = t_train[:1000]
    max_epochs = scaled(20, args.quick)
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.01
    weight_init_std = 0.05
    settings = {"hidden_size_list": [100] * 5, "activation": "relu", "weight_init_std": weight_init_std,
                "optimizer": "SGD", "lr": learning_rate, "batch_size": batch_size, "train_size": train_size,
                "max_epochs": max_epochs,
                "iterations": int((max_epochs - 1) * train_size / batch_size) + 1,
                "loop": "the book's __train: accuracy when i % iter_per_epoch == 0, stop after max_epochs "
                        "evaluations, so (max_epochs - 1) * 10 + 1 updates",
                "train_accuracy_over": "the 1000 training images (the book's plot)",
                "test_accuracy_over": "the full test set (10000)"}
    np.random.seed(args.seed)
    bn_network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                     weight_init_std=weight_init_std, use_batchnorm=True)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100], output_size=10,
                                  weight_init_std=weight_init_std)
    optimizer = SGD(lr=learning_rate)

    train_acc_list = []
    bn_train_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    updates = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        for _network in (bn_network, network):
            grads = _network.gradient(x_batch, t_batch)
            optimizer.update(_network.params, grads)
        updates += 1

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            bn_train_acc = bn_network.accuracy(x_train, t_train)
            train_acc_list.append(r4(train_acc))
            bn_train_acc_list.append(r4(bn_train_acc))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    progress(f"batchnorm: train accuracy without {train_acc_list[-1]}, with {bn_train_acc_list[-1]}")
    settings["iterations"] = updates
    results = {
        "with_batchnorm": {"test_accuracy": float(bn_network.accuracy(x_test, t_test)),
                           "train_accuracy": float(bn_network.accuracy(x_train, t_train)),
                           "train_accuracy_per_epoch": bn_train_acc_list},
        "without_batchnorm": {"test_accuracy": float(network.accuracy(x_test, t_test)),
                              "train_accuracy": float(network.accuracy(x_train, t_train)),
                              "train_accuracy_per_epoch": train_acc_list},
    }
    return settings, results


# --- e. overfit (weight decay) and dropout ---------------------------------

def overfit_weight_decay(args, weight_decay_lambda, max_epochs):
    """ch06/overfit_weight_decay.py, from a fresh seed."""
    (x_train, t_train), (x_test, t_test) = data()
    x_train = x_train[:300]
    t_train = t_train[:300]
    np.random.seed(args.seed)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100], output_size=10,
                                  weight_decay_lambda=weight_decay_lambda)
    optimizer = SGD(lr=0.01)
    train_size = x_train.shape[0]
    batch_size = 100
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    updates = 0
    for i in range(1000000000):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        updates += 1

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(r4(train_acc))
            test_acc_list.append(r4(test_acc))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    train_acc = float(network.accuracy(x_train, t_train))
    test_acc = float(network.accuracy(x_test, t_test))
    progress(f"overfit lambda {weight_decay_lambda}: train {train_acc:.4f}, test {test_acc:.4f}")
    return updates, {"train_accuracy": train_acc, "test_accuracy": test_acc, "gap": train_acc - test_acc,
                     "train_accuracy_per_epoch": train_acc_list, "test_accuracy_per_epoch": test_acc_list}


def exp_overfit(args):
    max_epochs = scaled(201, args.quick)
    settings = {"hidden_size_list": [100] * 6, "activation": "relu", "weight_init_std": "relu (He)",
                "optimizer": "SGD", "lr": 0.01, "batch_size": 100, "train_size": 300, "max_epochs": max_epochs,
                "weight_decay_lambda": [0, 0.1],
                "loop": "the book's: accuracy when i % 3 == 0, stop after max_epochs evaluations, "
                        "so (max_epochs - 1) * 3 + 1 updates; each lambda from a fresh seed",
                "accuracy_over": "the 300 training images and the full test set (10000)"}
    results = {}
    for lam in (0, 0.1):
        updates, results[f"lambda_{lam}"] = overfit_weight_decay(args, lam, max_epochs)
    settings["iterations"] = updates
    return settings, results


def exp_dropout(args):
    """ch06/overfit_dropout.py with common/trainer.py's Trainer (verbose off)."""
    (x_train, t_train), (x_test, t_test) = data()
    x_train = x_train[:300]
    t_train = t_train[:300]
    epochs = scaled(301, args.quick)
    dropout_ratio = 0.2
    mini_batch_size = 100
    np.random.seed(args.seed)
    network = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100, 100, 100, 100, 100],
                                  output_size=10, use_dropout=True, dropout_ration=dropout_ratio)
    optimizer = OPTIMIZERS["sgd"](lr=0.01)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / mini_batch_size, 1)
    max_iter = int(epochs * iter_per_epoch)
    settings = {"hidden_size_list": [100] * 6, "activation": "relu", "weight_init_std": "relu (He)",
                "use_dropout": True, "dropout_ratio": dropout_ratio, "optimizer": "SGD", "lr": 0.01,
                "batch_size": mini_batch_size, "train_size": train_size, "epochs": epochs,
                "iterations": max_iter,
                "loop": "the book's Trainer: max_iter = int(epochs * 3) steps, each followed by "
                        "network.loss(x_batch, t_batch) (train_flg=False, no dropout draw)",
                "accuracy_over": "the 300 training images and the full test set (10000)"}
    train_acc_list, test_acc_list = [], []
    for current_iter in range(max_iter):
        batch_mask = np.random.choice(train_size, mini_batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        network.loss(x_batch, t_batch)
        if current_iter % iter_per_epoch == 0:
            train_acc_list.append(r4(network.accuracy(x_train, t_train)))
            test_acc_list.append(r4(network.accuracy(x_test, t_test)))
    train_acc = float(network.accuracy(x_train, t_train))
    test_acc = float(network.accuracy(x_test, t_test))
    progress(f"dropout: train {train_acc:.4f}, test {test_acc:.4f}")
    results = {"train_accuracy": train_acc, "test_accuracy": test_acc, "gap": train_acc - test_acc,
               "train_accuracy_per_epoch": train_acc_list, "test_accuracy_per_epoch": test_acc_list}
    return settings, results


RUNNERS = {
    "adam-100-100": exp_adam,
    "optimizers": exp_optimizers,
    "weight-init": exp_weight_init,
    "batchnorm": exp_batchnorm,
    "overfit": exp_overfit,
    "dropout": exp_dropout,
}


# --- harness ---------------------------------------------------------------

def progress(msg):
    print(msg, file=sys.stderr, flush=True)


def blas_info():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer", "filepath")
    return [{k: p.get(k) for k in keys} for p in threadpool_info() if p.get("user_api") == "blas"]


def header(args):
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([os.path.relpath(sys.executable, os.getcwd())] + sys.argv),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "threads": args.threads or "default",
        "cores": os.cpu_count(),
        "openblas_env_removed": os.environ.get("_CHAPTER6_REEXEC") or None,
        "openblas_env_seen": {v: os.environ.get(v) for v in _OPENBLAS_VARS},
        "data_dir": os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"),
        "dtype": "images float32, parameters float64 (the book's)",
        "seed": args.seed,
        "quick": args.quick,
        "load_average_start": list(os.getloadavg()),
    }


def write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".chapter6-", suffix=".json", dir=os.path.dirname(path))
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", help="comma-separated experiments: " + ",".join(EXPERIMENTS))
    p.add_argument("--quick", action="store_true", help="1/10 of the iterations (a smoke test)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="BLAS threads (threadpoolctl); 0 keeps the library's default (default: 1)")
    p.add_argument("--out", help="the JSON file (default: bench/results/chapter6-numpy.json, "
                                 "partial.chapter6-numpy.json for --quick or --only)")
    args = p.parse_args()

    names = EXPERIMENTS
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in RUNNERS]
        if unknown:
            p.error(f"unknown experiment(s) {', '.join(unknown)}; known: {', '.join(EXPERIMENTS)}")
    out = args.out or os.path.join(
        RESULTS, "partial.chapter6-numpy.json" if (args.quick or args.only) else "chapter6-numpy.json")

    limiter = None
    if args.threads:
        from threadpoolctl import threadpool_limits
        limiter = threadpool_limits(limits=args.threads, user_api="blas")  # noqa: F841 (kept alive)

    doc = {"header": header(args), "status": "running", "only": args.only, "experiments": [],
           "not_run": list(names)}
    progress(f"BLAS: {doc['header']['blas']}")
    write_json(out, doc)
    start_all = time.perf_counter()
    for name in names:
        args.current = name
        progress(f"--- {name}")
        load_start = list(os.getloadavg())
        start = time.perf_counter()
        settings, results = RUNNERS[name](args)
        entry = {"experiment": name, "impl": "numpy", "settings": settings, "results": results,
                 "expected": EXPECTED.get(name), "wall_s": time.perf_counter() - start,
                 "load_average_start": load_start, "load_average_end": list(os.getloadavg())}
        print(json.dumps(entry), flush=True)
        doc["experiments"].append(entry)
        doc["not_run"].remove(name)
        doc["header"]["load_average_end"] = list(os.getloadavg())
        doc["header"]["wall_s"] = time.perf_counter() - start_all
        write_json(out, doc)
    doc["status"] = "complete"
    write_json(out, doc)
    progress(f"wrote {os.path.relpath(out)}")


if __name__ == "__main__":
    main()
