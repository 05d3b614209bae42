"""The notebook's cells in NumPy, as the book's code runs them, with simpleNet's W
set to the matrix the notebook printed. tests/notebook.rs pins the numbers this
prints (NumPy 2.4.6, x86-64). Run: python3 notebook_numpy.py
"""
import numpy as np
def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size); y = y.reshape(1, y.size)
    if t.size == y.size: t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size
def function_2(x): return x[0]**2 + x[1]**2
def numerical_gradient(f, x):
    h = 1e-4; grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]; x[idx] = tmp_val + h; fxh1 = f(x)
        x[idx] = tmp_val - h; fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2*h); x[idx] = tmp_val
    return grad
def ng_nd(f, x):
    h = 1e-4; grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index; tmp_val = x[idx]
        x[idx] = float(tmp_val) + h; fxh1 = f(x)
        x[idx] = tmp_val - h; fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2*h); x[idx] = tmp_val; it.iternext()
    return grad
def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for i in range(step_num):
        grad = numerical_gradient(f, x); x -= lr * grad
    return x
for p in ([3.0,4.0],[0.0,2.0],[3.0,0.0]):
    print(repr(list(map(float,numerical_gradient(function_2, np.array(p))))))
init_x = np.array([-3.0, 4.0])
print(repr(list(map(float, gradient_descent(function_2, init_x=init_x, lr=0.1, step_num=100)))))
print(repr(list(map(float,gradient_descent(function_2, init_x=init_x, lr=10.0, step_num=100)))))
print(repr(list(map(float,gradient_descent(function_2, init_x=init_x, lr=1e-10, step_num=100)))))
print(repr(list(map(float,gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=10.0, step_num=100)))))
print(repr(list(map(float,gradient_descent(function_2, init_x=np.array([-3.0, 4.0]), lr=1e-10, step_num=100)))))
W = np.array([[ 0.42875037, -1.09670346,  0.24866542], [-2.38228839,  0.47330153, -0.20017261]])
x = np.array([0.6, 0.9]); t = np.array([0, 0, 1])
p = np.dot(x, W); print(repr(list(map(float,p)))); print(p)
print(repr(float(cross_entropy_error(softmax(p), t))))
def f(Wv): return cross_entropy_error(softmax(np.dot(x, W)), t)
dW = ng_nd(f, W); print(repr(dW.tolist())); print(dW)
