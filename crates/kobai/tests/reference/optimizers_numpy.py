"""Chapter 6's optimizers in NumPy, as the book's code runs them: the classes of
common/optimizer.py verbatim, driven by ch06/optimizer_compare_naive.py (figure
6-8: f(x, y) = x**2/20 + y**2 from (-7, 2)), plus RMSprop(lr=0.1) alongside.
tests/optimizers.rs pins the numbers this prints (NumPy 2.4.6, Python 3.11,
glibc 2.36, x86-64). Run: python3 optimizers_numpy.py
"""
import numpy as np
from collections import OrderedDict


# ---- common/optimizer.py: the code verbatim (docstrings, comments, Nesterov left out) ----
class SGD():
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Momentum():
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)

        for key in params.keys():
            self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
            params[key] += self.v[key]


class AdaGrad():
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)

        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class RMSprop():
    def __init__(self, lr=0.01, decay_rate = 0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)

        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam():
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)

        self.iter += 1
        lr_t  = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)

        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])

            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


# ---- ch06/optimizer_compare_naive.py (the history and the plotting left out) ----
def f(x, y):
    return x**2 / 20.0 + y**2


def df(x, y):
    return x / 10.0, 2.0*y

init_pos = (-7.0, 2.0)
params = {}
params['x'], params['y'] = init_pos[0], init_pos[1]
grads = {}
grads['x'], grads['y'] = 0, 0


def make_optimizers():
    optimizers = OrderedDict()
    optimizers["SGD"] = SGD(lr=0.95)
    optimizers["Momentum"] = Momentum(lr=0.1)
    optimizers["AdaGrad"] = AdaGrad(lr=1.5)
    optimizers["RMSprop"] = RMSprop(lr=0.1)   # not in figure 6-8
    optimizers["Adam"] = Adam(lr=0.3)
    return optimizers


finals = {}
optimizers = make_optimizers()
for key in optimizers:
    optimizer = optimizers[key]
    params['x'], params['y'] = init_pos[0], init_pos[1]

    for i in range(30):
        grads['x'], grads['y'] = df(params['x'], params['y'])
        optimizer.update(params, grads)

    finals[key] = (float(params['x']), float(params['y']))
    print(f"{key}: x = {finals[key][0]!r}, y = {finals[key][1]!r}")

# The same runs with one parameter array [x, y] instead of two scalars give the
# same bits: every operation is element by element.
optimizers = make_optimizers()
for key in optimizers:
    xy = {'xy': np.array(init_pos)}
    for i in range(30):
        gx, gy = df(xy['xy'][0], xy['xy'][1])
        optimizers[key].update(xy, {'xy': np.array([gx, gy])})
    assert (float(xy['xy'][0]), float(xy['xy'][1])) == finals[key], key
print("one array [x, y]: same bits")
