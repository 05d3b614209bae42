"""What bench/jax's programs share: the data on the device, and the thread count."""

import os
import sys

import jax.numpy as jnp
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "numpy"))

from mnist import load_mnist  # noqa: E402


def device_data(image_shape=(784,)):
    """Fashion-MNIST as bench/numpy/mnist.py loads it (float32 in [0, 1],
    integer labels), on the device: (x_train, t_train), (x_test, t_test),
    each image reshaped to `image_shape`."""
    (x_train, t_train), (x_test, t_test) = load_mnist(normalize=True, one_hot_label=False)
    return ((jnp.asarray(x_train.reshape(-1, *image_shape)), jnp.asarray(t_train.astype(np.int32))),
            (jnp.asarray(x_test.reshape(-1, *image_shape)), jnp.asarray(t_test.astype(np.int32))))


def os_threads():
    """Threads this process has at the end (XLA's pools included)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return None
