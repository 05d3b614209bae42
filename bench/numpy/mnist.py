"""Fashion-MNIST (or MNIST) from the four IDX gz files, the way the book's
dataset/mnist.py load_mnist(normalize=True, one_hot_label=True) returns it:
images float32 in [0, 1], one row of 784 per image; labels one-hot (float64)."""

import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"

FILES = {
    "train_img": "train-images-idx3-ubyte",
    "train_label": "train-labels-idx1-ubyte",
    "test_img": "t10k-images-idx3-ubyte",
    "test_label": "t10k-labels-idx1-ubyte",
}


def data_dir():
    return os.environ.get("FASHION_MNIST_DIR", DEFAULT_DIR)


def _read(path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read()
    with gzip.open(path + ".gz", "rb") as f:
        return f.read()


def _load_img(path):
    # the book: np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    return np.frombuffer(_read(path), np.uint8, offset=16).reshape(-1, 784)


def _load_label(path):
    return np.frombuffer(_read(path), np.uint8, offset=8)


def _change_one_hot_label(X):
    T = np.zeros((X.size, 10))
    for idx, row in enumerate(T):
        row[X[idx]] = 1
    return T


def load_mnist(normalize=True, one_hot_label=True, directory=None, parts=("train", "test")):
    """((x_train, t_train), (x_test, t_test)); a part not asked for is (None, None)."""
    directory = directory or data_dir()
    out = {}
    for part in ("train", "test"):
        if part not in parts:
            out[part] = (None, None)
            continue
        x = _load_img(os.path.join(directory, FILES[part + "_img"]))
        t = _load_label(os.path.join(directory, FILES[part + "_label"]))
        if normalize:
            x = x.astype(np.float32)
            x /= 255.0
        if one_hot_label:
            t = _change_one_hot_label(t)
        out[part] = (x, t)
    return out["train"], out["test"]
