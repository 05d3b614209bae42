"""The whole training run of the book's ch05/train_neuralnet.py, in NumPy:
the `train_run` item of bench/side_by_side.py.

Fashion-MNIST (load_mnist(normalize=True, one_hot_label=True): pixels float32
in [0, 1], one-hot targets), TwoLayerNet 784-50-10 with ReLU (weights
0.01 * N(0, 1), zero biases, float64), SGD lr 0.1, batch 100 drawn with
replacement (np.random.choice(train_size, batch_size)), 6000 iterations; after
every epoch (every 600 iterations) the accuracy over the whole training set
and the whole test set, as train_neuralnet.py computes it.

Two differences from the book's loop, both shared by every program of the
item: the loss recorded is the one the gradient's own forward pass computed
(network.lastLayer.loss; the book runs network.loss(x_batch, t_batch) again
after the update), and the evaluation runs after iterations 600, 1200, ...,
6000 (the book's `i % iter_per_epoch == 0` evaluates after iterations 1, 601,
..., 5401, so its last accuracies are not those of the trained network).

Prints one JSON line at the end:
    {"item": "train_run", "impl": "numpy", "median_s": <wall time of the run>, "runs": 1,
     "extra": {"test_accuracy": ..., "train_accuracy": ..., "epochs": [...]}}
The wall time counts from the start of this script (after Python's own
start-up) to the end: loading the data, training, evaluating. The harness
times the whole process anyway.

Usage: python bench/numpy/train_run.py [--iters N] [--seed S]"""

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mnist import load_mnist  # noqa: E402
from two_layer_net import TwoLayerNet  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=6000, help="iterations (default 6000, the issue's run)")
    p.add_argument("--seed", type=int, default=1, help="np.random.seed before the weights and batches")
    args = p.parse_args()

    np.random.seed(args.seed)
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=True)

    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = 100
    learning_rate = 0.1

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []
    epochs = []

    iter_per_epoch = max(train_size // batch_size, 1)

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grad = network.gradient(x_batch, t_batch)

        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]

        loss = network.lastLayer.loss
        train_loss_list.append(float(loss))

        if (i + 1) % iter_per_epoch == 0 or i + 1 == iters_num:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(float(train_acc))
            test_acc_list.append(float(test_acc))
            since = (len(epochs)) * iter_per_epoch
            epochs.append({"epoch": len(epochs) + 1, "iteration": i + 1,
                           "mean_loss": float(np.mean(train_loss_list[since:])),
                           "train_accuracy": float(train_acc), "test_accuracy": float(test_acc)})
            print(f"train acc, test acc | {train_acc}, {test_acc}", file=sys.stderr, flush=True)

    wall = time.perf_counter() - START
    print(json.dumps({"item": "train_run", "impl": "numpy", "median_s": wall, "runs": 1,
                      "extra": {"test_accuracy": test_acc_list[-1], "train_accuracy": train_acc_list[-1],
                                "iterations": iters_num, "batch": batch_size, "seed": args.seed,
                                "final_batch_loss": train_loss_list[-1], "epochs": epochs}}), flush=True)


if __name__ == "__main__":
    main()
