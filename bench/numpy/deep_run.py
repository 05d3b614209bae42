"""The whole training run of a deeper network with the book's chapter-6 code,
in NumPy: the `deep_run` item of bench/side_by_side.py.

Fashion-MNIST (load_mnist(normalize=True, one_hot_label=True): pixels float32
in [0, 1], one-hot targets), the book's MultiLayerNetExtend
(bench/numpy/multi_layer_net_extend.py) 784-100-100-100-10 with ReLU and
weight_init_std='relu' (He: sqrt(2 / fan_in) * N(0, 1), float64), zero
biases, SoftmaxWithLoss (delta 1e-7 in the log), the book's Adam
(bench/numpy/optimizers.py: lr 0.001, beta1 0.9, beta2 0.999,
lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), eps 1e-7 added to sqrt(v)),
batch 100 drawn with replacement (np.random.choice(train_size, batch_size)),
6000 iterations; after every epoch (every 600 iterations) the accuracy over
the whole training set and the whole test set.

The loop is train_run.py's (the book's train_neuralnet.py) with this network
and optimizer, and the same two differences from the book, shared by every
program of the item: the loss recorded is the one the gradient's own forward
pass computed (network.last_layer.loss), and the evaluation runs after
iterations 600, 1200, ..., 6000.

Prints one JSON line at the end:
    {"item": "deep_run", "impl": "numpy", "median_s": <wall time of the run>, "runs": 1,
     "extra": {"test_accuracy": ..., "train_accuracy": ..., "epochs": [...]}}
The wall time counts from the start of this script (after Python's own
start-up) to the end; the harness times the whole process anyway.

Usage: python bench/numpy/deep_run.py [--iters N] [--seed S]"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mnist import load_mnist  # noqa: E402
from multi_layer_net_extend import MultiLayerNetExtend  # noqa: E402
from optimizers import Adam  # noqa: E402

HIDDEN = [100, 100, 100]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=6000, help="iterations (default 6000, the issue's run)")
    p.add_argument("--seed", type=int, default=1, help="np.random.seed before the weights and batches")
    args = p.parse_args()

    np.random.seed(args.seed)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

    network = MultiLayerNetExtend(input_size=784, hidden_size_list=HIDDEN, output_size=10,
                                  activation="relu", weight_init_std="relu")
    optimizer = Adam(lr=0.001)

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = 100

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []
    epochs = []

    iter_per_epoch = max(train_size // batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)

        loss = network.last_layer.loss
        train_loss_list.append(float(loss))

        if (i + 1) % iter_per_epoch == 0 or i + 1 == iters_num:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(float(train_acc))
            test_acc_list.append(float(test_acc))
            since = len(epochs) * iter_per_epoch
            epochs.append({"epoch": len(epochs) + 1, "iteration": i + 1,
                           "mean_loss": float(np.mean(train_loss_list[since:])),
                           "train_accuracy": float(train_acc), "test_accuracy": float(test_acc)})
            print(f"train acc, test acc | {train_acc}, {test_acc}", file=sys.stderr, flush=True)

    wall = time.perf_counter() - START
    print(json.dumps({"item": "deep_run", "impl": "numpy", "median_s": wall, "runs": 1,
                      "extra": {"test_accuracy": test_acc_list[-1], "train_accuracy": train_acc_list[-1],
                                "iterations": iters_num, "batch": batch_size, "seed": args.seed,
                                "network": "784-" + "-".join(map(str, HIDDEN)) + "-10",
                                "optimizer": "adam", "lr": optimizer.lr,
                                "final_batch_loss": train_loss_list[-1], "epochs": epochs}}), flush=True)


if __name__ == "__main__":
    main()
