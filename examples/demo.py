"""Fit a logistic regression by gradient descent with udiff.

The model is written with udiff.numpy functions; under ``DiffArrayBackend`` each
call returns a ``DiffArray`` that remembers how it was computed, and
``loss.to([w, b])`` gives the gradient of the loss with respect to both
parameters in one reverse sweep.

Run with::

    uv run --frozen python examples/demo.py
"""
import time

import numpy
import uarray as ua
import udiff.numpy as np

import udiff

# Synthetic data: 500 points in 5 dimensions, labels from a known linear rule.
rng = numpy.random.default_rng(0)
n, d = 500, 5
X = rng.normal(size=(n, d))
true_w = rng.normal(size=d)
labels = (X @ true_w + 0.3 * rng.normal(size=n) > 0).astype(numpy.float64)

backend = udiff.DiffArrayBackend(udiff.numpy_backend)


def loss_and_grads(w_value, b_value):
    with ua.set_backend(backend, coerce=True):
        # Arrays made by udiff.numpy inside the block are differentiable leaves;
        # X and labels are plain NumPy arrays, i.e. constants.
        w = np.asarray(w_value)
        b = np.asarray(b_value)
        logits = X @ w + b
        # Mean binary cross-entropy, written stably:
        # log(1 + exp(z)) - y * z, with log(1 + exp(z)) = logaddexp(0, z).
        loss = np.sum(np.logaddexp(0.0, logits) - labels * logits) / n
        grad_w, grad_b = loss.to([w, b])
    return float(loss.value), grad_w.value, grad_b.value


def main():
    w, b = numpy.zeros(d), numpy.zeros(())
    lr = 0.5
    start = time.perf_counter()
    for step in range(201):
        loss, grad_w, grad_b = loss_and_grads(w, b)
        if step % 20 == 0:
            print(f"step {step:3d}  loss {loss:.4f}")
        w = w - lr * grad_w
        b = b - lr * grad_b
    elapsed = time.perf_counter() - start
    accuracy = numpy.mean(((X @ w + b) > 0) == (labels > 0.5))
    cosine = w @ true_w / (numpy.linalg.norm(w) * numpy.linalg.norm(true_w))
    print(f"training accuracy {accuracy:.3f}; cosine(w, true w) {cosine:.3f}; {elapsed:.2f} s")


if __name__ == "__main__":
    main()
