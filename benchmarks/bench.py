"""udiff against autograd on five workloads, in one run.

Run with::

    uv run --group bench python benchmarks/bench.py

Every workload is timed end to end (tracing the function and sweeping the
graph), after a warm-up call, as the best of several repeats of a loop long
enough to be timed reliably; udiff's and autograd's repeats alternate.  Both libraries compute in float64 on NumPy; the
results of the two are checked against each other before timing.  The table
is printed in Markdown.

BLAS runs on one thread (``--threads`` changes it) so that the comparison
measures differentiation, not how two libraries share a busy machine's cores.
"""
import argparse
import importlib.metadata
import os
import platform
import sys
import time
import timeit

if __name__ == "__main__":  # before NumPy loads its BLAS
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _threads

import numpy
import udiff.numpy as np

import udiff

try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # pragma: no cover
    sys.exit("autograd is missing: run with `uv run --group bench python benchmarks/bench.py`")


def calibrate(fn, min_time):
    """A ``timeit.Timer`` for ``fn`` and a loop count that lasts at least ``min_time``."""
    fn()  # warm-up
    timer = timeit.Timer(fn)
    number = 1
    while True:  # like timeit.Timer.autorange, with a configurable floor
        elapsed = timer.timeit(number)
        if elapsed >= min_time:
            return timer, number
        number = max(number * 2, int(number * min_time / max(elapsed, 1e-9) * 1.1))


def best_times(thunks, repeat, min_time):
    """Best seconds per call of each thunk.

    The thunks' timed loops alternate, so that a change in the machine's load
    during the run affects both libraries alike.
    """
    timers = {name: calibrate(fn, min_time) for name, fn in thunks.items()}
    best = {name: float("inf") for name in thunks}
    for _ in range(repeat):
        for name, (timer, number) in timers.items():
            best[name] = min(best[name], timer.timeit(number) / number)
    return best


def check(name, a, b):
    a = [numpy.asarray(x) for x in (a if isinstance(a, (tuple, list)) else [a])]
    b = [numpy.asarray(x) for x in (b if isinstance(b, (tuple, list)) else [b])]
    for x, y in zip(a, b):
        if not numpy.allclose(x, y, rtol=1e-6, atol=1e-9):
            raise AssertionError(f"{name}: udiff and autograd disagree")


# -- (a) per-operation overhead ---------------------------------------------------------
def overhead(xp, steps=200):
    def f(x):
        y = x
        for _ in range(steps):
            y = xp.sin(y) * 0.5 + y
        return xp.sum(y)

    return f


# -- (b) MLP loss gradient --------------------------------------------------------------
def mlp_loss(xp, X, Y):
    def loss(W1, b1, W2, b2):
        h = xp.tanh(X @ W1 + b1)
        logits = h @ W2 + b2
        m = xp.max(logits, axis=1, keepdims=True)
        shifted = logits - m
        log_z = xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
        return -xp.sum(Y * (shifted - log_z)) / X.shape[0]

    return loss


def mlp_data(rng, batch, n_in, n_hidden, n_out):
    X = rng.normal(size=(batch, n_in))
    Y = numpy.eye(n_out)[rng.integers(0, n_out, size=batch)]
    params = (
        rng.normal(size=(n_in, n_hidden)) / numpy.sqrt(n_in),
        numpy.zeros(n_hidden),
        rng.normal(size=(n_hidden, n_out)) / numpy.sqrt(n_hidden),
        numpy.zeros(n_out),
    )
    return X, Y, params


# -- (c) shared subexpressions: every intermediate is used twice ------------------------
def chain(xp, n):
    def f(x):
        y = x
        for _ in range(n):
            y = xp.sin(y) + xp.cos(y)  # 2**n paths from x to y, n nodes deep
        return xp.sum(y)

    return f


# -- (d) Jacobian of tanh(W @ x) -------------------------------------------------------
def layer(xp, W):
    return lambda x: xp.tanh(W @ x)


# -- (e) Hessian of a small MLP loss over a flat parameter vector -----------------------
def flat_mlp_loss(xp, X, Y, n_in, n_hidden, n_out):
    sizes = [n_in * n_hidden, n_hidden, n_hidden * n_out, n_out]
    bounds = numpy.cumsum([0] + sizes)
    inner = mlp_loss(xp, X, Y)

    def loss(p):
        W1 = xp.reshape(p[bounds[0]:bounds[1]], (n_in, n_hidden))
        b1 = p[bounds[1]:bounds[2]]
        W2 = xp.reshape(p[bounds[2]:bounds[3]], (n_hidden, n_out))
        b2 = p[bounds[3]:bounds[4]]
        return inner(W1, b1, W2, b2)

    return loss, int(bounds[-1])


def workloads(rng):
    """Yield ``(name, {label: thunk})``; each thunk computes the derivative once."""
    x = rng.normal(size=10)
    ours, theirs = udiff.grad(overhead(np)), autograd.grad(overhead(anp))
    check("overhead", ours(x), theirs(x))
    yield "(a) grad of 200 x `y = sin(y)*0.5 + y`, n=10", {
        "udiff": lambda: ours(x), "autograd": lambda: theirs(x)}

    X, Y, params = mlp_data(rng, 128, 784, 256, 10)
    ours = udiff.grad(mlp_loss(np, X, Y), argnums=(0, 1, 2, 3))
    ag_loss = mlp_loss(anp, X, Y)
    theirs = autograd.grad(lambda ps: ag_loss(*ps))
    check("mlp", ours(*params), theirs(params))
    yield "(b) MLP 784-256-10 loss grad, batch 128", {
        "udiff": lambda: ours(*params), "autograd": lambda: theirs(params)}

    for n in (30, 60):
        x = rng.normal(size=10)
        ours, theirs = udiff.grad(chain(np, n)), autograd.grad(chain(anp, n))
        check("chain", ours(x), theirs(x))
        yield f"(c) shared-subexpression chain, n={n}", {
            "udiff": (lambda o=ours, x=x: o(x)), "autograd": (lambda t=theirs, x=x: t(x))}

    n = 200
    W = rng.normal(size=(n, n)) / numpy.sqrt(n)
    x = rng.normal(size=n)
    rev = udiff.jacobian(layer(np, W), mode="rev")
    fwd = udiff.jacobian(layer(np, W), mode="fwd")
    theirs = autograd.jacobian(layer(anp, W))
    check("jacobian rev", rev(x), theirs(x))
    check("jacobian fwd", fwd(x), theirs(x))
    yield "(d) Jacobian of tanh(W @ x), n=200, reverse", {
        "udiff": lambda: rev(x), "autograd": lambda: theirs(x)}
    yield "(d) Jacobian of tanh(W @ x), n=200, forward", {
        "udiff": lambda: fwd(x), "autograd": lambda: theirs(x)}

    X, Y, _ = mlp_data(rng, 32, 20, 10, 3)
    ours_loss, size = flat_mlp_loss(np, X, Y, 20, 10, 3)
    theirs_loss, _ = flat_mlp_loss(anp, X, Y, 20, 10, 3)
    p = rng.normal(size=size) / 4
    ours, theirs = udiff.hessian(ours_loss), autograd.hessian(theirs_loss)
    check("hessian", ours(p), theirs(p))
    yield f"(e) Hessian of MLP 20-10-3 loss ({size} params), batch 32", {
        "udiff": lambda: ours(p), "autograd": lambda: theirs(p)}


def fmt(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed repeats (best is kept)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--min-time", type=float, default=0.2,
                        help="seconds each timed repeat lasts at least")
    args = parser.parse_args()

    rng = numpy.random.default_rng(0)
    print(f"# udiff vs autograd ({time.strftime('%Y-%m-%d')}, Python "
          f"{platform.python_version()}, NumPy {numpy.__version__}, autograd "
          f"{importlib.metadata.version('autograd')}, udiff {importlib.metadata.version('udiff')})")
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, BLAS threads {args.threads}; "
          f"best of {args.repeat} repeats, each >= {args.min_time} s; time per call\n")
    print("| workload | udiff | autograd | udiff / autograd |")
    print("|---|---:|---:|---:|")
    for name, thunks in workloads(rng):
        best = best_times(thunks, args.repeat, args.min_time)
        t_ours, t_theirs = best["udiff"], best["autograd"]
        print(f"| {name} | {fmt(t_ours)} | {fmt(t_theirs)} | {t_ours / t_theirs:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
