"""udiff's own times on the benchmark workloads, to compare two checkouts of udiff.

Run it once per checkout, each in a process of its own, alternating, and keep
each workload's best time:

    git worktree add /tmp/udiff-old <commit>
    for i in 1 2 3; do for t in /tmp/udiff-old .; do
        OPENBLAS_NUM_THREADS=1 PYTHONPATH=$t uv run --frozen python benchmarks/ab_commits.py
    done; done

It prints one JSON line of seconds per workload (null where that checkout lacks
the feature).  compare.py measures against the other libraries.
"""
import json

import numpy
from compare import _best  # the timing loop of the comparison with other libraries

import udiff
import udiff.numpy as np


def best(fn):
    """The best seconds per call of ``fn``, over 7 timed loops of at least 0.2 s."""
    return _best(fn, 7, 0.2)


rng = numpy.random.default_rng(0)
n = 200
W = rng.normal(size=(n, n)) / numpy.sqrt(n); x = rng.normal(size=n)
rev = udiff.jacobian(lambda x: np.tanh(W @ x), mode="rev")
fwd = udiff.jacobian(lambda x: np.tanh(W @ x), mode="fwd")
w = rng.normal(size=30); xs = rng.normal(size=(64, 30)); ys = rng.normal(size=64)
loss = lambda w, x, y: (np.tanh(np.dot(w, x)) - y) ** 2
pe = udiff.vmap(udiff.grad(loss), in_axes=(None, 0, 0)) if hasattr(udiff, "vmap") else None
def chain(x):
    for _ in range(200):
        x = np.sin(x) * 0.5 + x
    return np.sum(x)
cg = udiff.grad(chain); x10 = rng.normal(size=10)
X = rng.normal(size=(128, 784)); Y = rng.normal(size=(128, 10))
params = [rng.normal(size=(784, 256)) / 28, numpy.zeros(256), rng.normal(size=(256, 10)) / 16, numpy.zeros(10)]
def mlp(W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 + b2 - Y) ** 2)
mg = udiff.grad(mlp, argnums=(0, 1, 2, 3))
p = rng.normal(size=40) / 4
hs = udiff.hessian(lambda p: np.sum(np.tanh(np.reshape(p, (4, 10)) @ numpy.ones(10)) ** 2) + np.sum(p ** 4))
out = {
    "jacobian rev n=200": best(lambda: rev(x)),
    "jacobian fwd n=200": best(lambda: fwd(x)),
    "per-example grads b=64": best(lambda: pe(w, xs, ys)) if pe else None,
    "grad 200-step chain": best(lambda: cg(x10)),
    "grad MLP 784-256-10 b=128": best(lambda: mg(*params)),
    "hessian 40 params": best(lambda: hs(p)),
}
print(json.dumps(out))
