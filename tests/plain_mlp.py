"""An ordinary NumPy program: a 2-layer MLP with softmax cross-entropy.

Nothing here knows about udiff.  tests/test_real_model.py runs it as written
and again with only its import line swapped for udiff's NumPy namespace.
"""
import numpy as np


def init(rng, sizes):
    params = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        params.append(rng.standard_normal((m, n)) / np.sqrt(m))
        params.append(np.zeros(n) + 0.1)
    return params


def loss(params, x, labels):
    w1, b1, w2, b2 = params
    h = np.tanh(np.dot(x, w1) + b1)
    logits = np.dot(h, w2) + b2
    top = np.max(logits, axis=1, keepdims=True)
    logsumexp = top[:, 0] + np.log(np.sum(np.exp(logits - top), axis=1))
    n = x.shape[0]
    return np.mean(logsumexp - logits[np.arange(n), labels])
