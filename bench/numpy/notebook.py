"""The notebook on section 4.4 "Gradients", in NumPy as the book writes it:
the same cells `kobai notebook` replays, and the same two pictures (the
gradient field of figure 4-9 and the descent path of figure 4-10) saved as PNG
and SVG with matplotlib. bench/side_by_side.py times the whole process against
`kobai notebook --out DIR`.

Usage: python bench/numpy/notebook.py [--out DIR] [--no-plots]"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import cross_entropy_error, function_2, gradient_descent, numerical_gradient, softmax  # noqa: E402

# simpleNet's W as the notebook printed it in In[12] (it never seeded NumPy).
PRINTED_W = np.array([[0.42875037, -1.09670346, 0.24866542],
                      [-2.38228839, 0.47330153, -0.20017261]])


class simpleNet:  # noqa: N801 (the book's name)
    def __init__(self):
        self.W = PRINTED_W.copy()

    def predict(self, x):
        return np.dot(x, self.W)

    def loss(self, x, t):
        z = self.predict(x)
        y = softmax(z)
        loss = cross_entropy_error(y, t)
        return loss


def cells():
    # In[6]
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        print(numerical_gradient(function_2, np.array(point)))
    # In[8]: gradient_descent changes init_x in place, as in the notebook
    init_x = np.array([-3.0, 4.0])
    print(repr(gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)))
    # In[9]: chained from the changed init_x (the notebook's output), then fresh
    for lr in (10.0, 1e-10):
        print(gradient_descent(function_2, init_x=init_x, lr=lr, step_num=100))
    for lr in (10.0, 1e-10):
        print(gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=lr, step_num=100))
    # In[12]-In[15]
    net = simpleNet()
    print(net.W)
    x = np.array([0.6, 0.9])
    p = net.predict(x)
    print(p)
    t = np.array([0, 0, 1])
    print(net.loss(x, t))

    def f(W):
        return net.loss(x, t)

    dW = numerical_gradient(f, net.W)
    print(dW)


def pictures(out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out, exist_ok=True)
    files = []

    # Figure 4-9 (gradient_2d.py): -grad f on the grid np.arange(-2, 2.5, 0.25)
    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    X, Y = np.meshgrid(x0, x1)
    X = X.flatten()
    Y = Y.flatten()
    grad = np.array([numerical_gradient(function_2, np.array([a, b])) for a, b in zip(X, Y)]).T
    plt.figure()
    plt.quiver(X, Y, -grad[0], -grad[1], angles="xy", color="#666666")
    plt.xlim([-2, 2])
    plt.ylim([-2, 2])
    plt.xlabel("x0")
    plt.ylabel("x1")
    plt.title("−∇f for f(x0, x1) = x0² + x1²")
    plt.grid()
    for ext in ("png", "svg"):
        files.append(os.path.join(out, f"gradient_field.{ext}"))
        plt.savefig(files[-1])
    plt.close()

    # Figure 4-10 (gradient_method.py): 20 steps from (-3, 4), lr = 0.1,
    # over the contour lines of f (as kobai draws it)
    x = np.array([-3.0, 4.0])
    history = []
    for _ in range(20):
        history.append(x.copy())
        x -= 0.1 * numerical_gradient(function_2, x)
    history = np.array(history)
    plt.figure()
    gx, gy = np.meshgrid(np.linspace(-3.5, 3.5, 200), np.linspace(-4.5, 4.5, 200))
    plt.contour(gx, gy, gx**2 + gy**2, levels=10, colors="#8FA6C6")
    plt.plot([-5, 5], [0, 0], "--b")
    plt.plot([0, 0], [-5, 5], "--b")
    plt.plot(history[:, 0], history[:, 1], "o")
    plt.xlim(-3.5, 3.5)
    plt.ylim(-4.5, 4.5)
    plt.xlabel("X0")
    plt.ylabel("X1")
    plt.title("Gradient descent on f(x0, x1) = x0² + x1², lr = 0.1")
    for ext in ("png", "svg"):
        files.append(os.path.join(out, f"gradient_descent.{ext}"))
        plt.savefig(files[-1])
    plt.close()
    return files


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="numpy-out")
    p.add_argument("--no-plots", action="store_true")
    args = p.parse_args()
    cells()
    if not args.no_plots:
        print("Pictures:", ", ".join(pictures(args.out)))


if __name__ == "__main__":
    main()
