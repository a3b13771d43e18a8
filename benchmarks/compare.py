"""udiff against autograd, PyTorch and JAX (eager and jit) on seven workloads, each
library in its own process.

Run with::

    uv run --group bench python benchmarks/compare.py \\
        --python torch=/path/to/venv/bin/python --python jax=/path/to/venv/bin/python \\
        --python jax-jit=/path/to/venv/bin/python

Importing one library slows another (their thread pools and allocators), so
each library's workloads run in a fresh process of their own: the interpreter
running this script (if it can import the library), or the one given with
``--python LIB=PATH``.  Processes of the libraries alternate, ``--rounds``
times, so that changes in the machine's load hit all of them; each
workload's time is the best over the rounds of the best of its repeats.
Every process first checks its derivatives against NumPy's hand-written
ones.  BLAS and the libraries' own pools run on one thread.  The table is
printed in Markdown, with udiff's time over each other library's.

Workloads (float64, CPU):

* per-example gradients of ``(tanh(w . x_i) - y_i)^2``, w of 30, batch 64 and
  1024: ``udiff.vmap(udiff.grad(f))``, ``torch.func.vmap(torch.func.grad(f))``,
  ``jax.vmap(jax.grad(f))`` (eager), autograd's ``grad`` in a Python loop;
* the gradient of 200 steps of ``y = sin(y) * 0.5 + y`` on 10 elements;
* the gradient of ``sum(tanh(x) * exp(-x * x) + sin(x))`` on 10^6 elements,
  and NumPy's forward pass alone;
* the Jacobian of ``tanh(W @ x)``, W 200 x 200, in reverse and forward mode
  (``jacrev``/``jacfwd`` of udiff, ``torch.func`` and JAX; autograd's
  ``jacobian``, one sweep per output, reverse only);
* the gradient of an MLP loss (784 -> 256 tanh -> 10, mean squared error,
  batch 128) with respect to its four weight arrays (PyTorch: ``backward``);
* the Hessian of a function of 40 parameters (``torch.func.hessian``,
  ``jax.hessian``, autograd's ``hessian``).

``jax-jit`` is JAX with every workload under ``jax.jit`` (compiled once,
before timing), as JAX users run it; ``jax`` is JAX eager.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

LIBRARIES = ("udiff", "autograd", "torch", "jax", "jax-jit")
MODULES = {"jax-jit": "jax"}  # the module a library's process imports, where not its name
WORKLOADS = {
    "pe64": "per-example gradients, batch 64",
    "pe1024": "per-example gradients, batch 1024",
    "chain": "grad of 200 x `y = sin(y)*0.5 + y`, 10 elements",
    "big": "grad of `sum(tanh(x)*exp(-x*x) + sin(x))`, 10^6 elements",
    "jacrev": "Jacobian of `tanh(W @ x)`, n=200, reverse mode",
    "jacfwd": "Jacobian of `tanh(W @ x)`, n=200, forward mode",
    "mlp": "grad of an MLP loss, 784-256-10, batch 128 (4 weight arrays)",
    "hessian": "Hessian of `sum(tanh(P @ 1)**2) + sum(p**4)`, 40 parameters",
    "numpy": "NumPy's forward pass alone, 10^6 elements",
    "mlp-numpy": "the MLP's gradient written by hand in NumPy",
}


# -- one library's process ------------------------------------------------------------------
def _best(fn, repeat, min_time):
    fn()
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        if time.perf_counter() - start > min_time or n > 1 << 20:
            break
        n *= 2
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return min(times)


def _data():
    import numpy

    rng = numpy.random.default_rng(0)
    d = dict(w=rng.normal(size=30), x64=rng.normal(size=(64, 30)), y64=rng.normal(size=64),
             x1024=rng.normal(size=(1024, 30)), y1024=rng.normal(size=1024),
             small=numpy.linspace(0.0, 1.0, 10), big=rng.normal(size=10**6))
    d.update(W=rng.normal(size=(200, 200)) / numpy.sqrt(200), x200=rng.normal(size=200),
             X=rng.normal(size=(128, 784)), Y=rng.normal(size=(128, 10)),
             W1=rng.normal(size=(784, 256)) / 28, b1=numpy.zeros(256),
             W2=rng.normal(size=(256, 10)) / 16, b2=numpy.zeros(10),
             p40=rng.normal(size=40) / 4)
    return d


def _expected(d):
    """The derivatives, by hand with NumPy, to check every library against."""
    import numpy

    def per_example(x, y):
        t = numpy.tanh(x @ d["w"])
        return (2 * (t - y) * (1 - t * t))[:, None] * x

    y, dy = d["small"], numpy.ones(10)
    for _ in range(200):
        dy = dy * (numpy.cos(y) * 0.5 + 1.0)
        y = numpy.sin(y) * 0.5 + y
    x = d["big"]
    big = (1 - numpy.tanh(x) ** 2) * numpy.exp(-x * x) \
        - 2 * x * numpy.tanh(x) * numpy.exp(-x * x) + numpy.cos(x)
    jac = (1 - numpy.tanh(d["W"] @ d["x200"]) ** 2)[:, None] * d["W"]
    h = numpy.tanh(d["X"] @ d["W1"] + d["b1"])
    dout = 2 * (h @ d["W2"] + d["b2"] - d["Y"]) / d["Y"].size
    dz = (dout @ d["W2"].T) * (1 - h * h)
    mlp = (d["X"].T @ dz, dz.sum(0), h.T @ dout, dout.sum(0))
    t = numpy.tanh(d["p40"].reshape(4, 10).sum(1))
    hessian = numpy.kron(numpy.diag(2 * (1 - t * t) * (1 - 3 * t * t)), numpy.ones((10, 10))) \
        + numpy.diag(12 * d["p40"] ** 2)
    return dict(pe64=per_example(d["x64"], d["y64"]), pe1024=per_example(d["x1024"], d["y1024"]),
                chain=dy, big=big, jacrev=jac, jacfwd=jac, mlp=mlp, hessian=hessian)


def _mlp_by_hand(d):
    """The MLP's loss and gradient written out in NumPy: the floor for any NumPy-based
    library (its matrix products are NumPy's BLAS)."""
    import numpy

    h = numpy.tanh(d["X"] @ d["W1"] + d["b1"])
    out = h @ d["W2"] + d["b2"]
    loss = numpy.mean((out - d["Y"]) ** 2)
    dout = 2 * (out - d["Y"]) / d["Y"].size
    dz = (dout @ d["W2"].T) * (1 - h * h)
    return loss, (d["X"].T @ dz, dz.sum(0), h.T @ dout, dout.sum(0))


def _udiff(d):
    import numpy

    import udiff
    import udiff.numpy as np

    def loss(w, x, y):
        return (np.tanh(np.dot(w, x)) - y) ** 2

    def chain(x):
        y = x
        for _ in range(200):
            y = np.sin(y) * 0.5 + y
        return np.sum(y)

    per_example = udiff.vmap(udiff.grad(loss), in_axes=(None, 0, 0))
    chain_grad = udiff.grad(chain)
    big_grad = udiff.grad(lambda x: np.sum(np.tanh(x) * np.exp(-x * x) + np.sin(x)))

    def forward(x):
        return numpy.sum(numpy.tanh(x) * numpy.exp(-x * x) + numpy.sin(x))

    layer = lambda x: np.tanh(d["W"] @ x)  # noqa: E731
    jacrev = udiff.jacrev(layer)
    jacfwd = udiff.jacfwd(layer)

    def mlp(W1, b1, W2, b2):
        h = np.tanh(d["X"] @ W1 + b1)
        return np.mean((h @ W2 + b2 - d["Y"]) ** 2)

    mlp_grad = udiff.grad(mlp, argnums=(0, 1, 2, 3))
    hessian = udiff.hessian(
        lambda p: np.sum(np.tanh(np.reshape(p, (4, 10)) @ numpy.ones(10)) ** 2) + np.sum(p ** 4))
    return dict(pe64=lambda: per_example(d["w"], d["x64"], d["y64"]),
                pe1024=lambda: per_example(d["w"], d["x1024"], d["y1024"]),
                chain=lambda: chain_grad(d["small"]), big=lambda: big_grad(d["big"]),
                jacrev=lambda: jacrev(d["x200"]), jacfwd=lambda: jacfwd(d["x200"]),
                mlp=lambda: mlp_grad(d["W1"], d["b1"], d["W2"], d["b2"]),
                hessian=lambda: hessian(d["p40"]),
                numpy=lambda: forward(d["big"]),
                **{"mlp-numpy": lambda: _mlp_by_hand(d)})


def _autograd(d):
    import autograd
    import autograd.numpy as anp
    import numpy

    def loss(w, x, y):
        return (anp.tanh(anp.dot(w, x)) - y) ** 2

    def chain(x):
        y = x
        for _ in range(200):
            y = anp.sin(y) * 0.5 + y
        return anp.sum(y)

    g = autograd.grad(loss)
    chain_grad = autograd.grad(chain)
    big_grad = autograd.grad(lambda x: anp.sum(anp.tanh(x) * anp.exp(-x * x) + anp.sin(x)))

    def loop(x, y):
        return numpy.stack([g(d["w"], x[i], y[i]) for i in range(len(x))])

    jac = autograd.jacobian(lambda x: anp.tanh(anp.dot(d["W"], x)))

    def mlp(params):
        W1, b1, W2, b2 = params
        h = anp.tanh(anp.dot(d["X"], W1) + b1)
        return anp.mean((anp.dot(h, W2) + b2 - d["Y"]) ** 2)

    mlp_grad = autograd.grad(mlp)
    hessian = autograd.hessian(
        lambda p: anp.sum(anp.tanh(anp.dot(anp.reshape(p, (4, 10)), numpy.ones(10))) ** 2)
        + anp.sum(p ** 4))
    return dict(pe64=lambda: loop(d["x64"], d["y64"]), pe1024=lambda: loop(d["x1024"], d["y1024"]),
                chain=lambda: chain_grad(d["small"]), big=lambda: big_grad(d["big"]),
                jacrev=lambda: jac(d["x200"]),
                mlp=lambda: tuple(mlp_grad([d["W1"], d["b1"], d["W2"], d["b2"]])),
                hessian=lambda: hessian(d["p40"]))


def _torch(d):
    import torch

    torch.set_num_threads(1)
    t = {k: torch.from_numpy(v) for k, v in d.items()}

    def loss(w, x, y):
        return (torch.tanh(torch.dot(w, x)) - y) ** 2

    per_example = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))

    def chain_grad(x):
        x = x.clone().requires_grad_()
        y = x
        for _ in range(200):
            y = torch.sin(y) * 0.5 + y
        y.sum().backward()
        return x.grad

    def big_grad(x):
        x = x.clone().requires_grad_()
        (torch.tanh(x) * torch.exp(-x * x) + torch.sin(x)).sum().backward()
        return x.grad

    layer = lambda x: torch.tanh(t["W"] @ x)  # noqa: E731
    jacrev = torch.func.jacrev(layer)
    jacfwd = torch.func.jacfwd(layer)

    def mlp_grad(*params):
        params = [p.clone().requires_grad_() for p in params]
        W1, b1, W2, b2 = params
        h = torch.tanh(t["X"] @ W1 + b1)
        loss = torch.mean((h @ W2 + b2 - t["Y"]) ** 2)
        return torch.autograd.grad(loss, params)

    ones = torch.ones(10, dtype=torch.float64)
    hessian = torch.func.hessian(
        lambda p: torch.sum(torch.tanh(p.reshape(4, 10) @ ones) ** 2) + torch.sum(p ** 4))
    return dict(pe64=lambda: per_example(t["w"], t["x64"], t["y64"]),
                pe1024=lambda: per_example(t["w"], t["x1024"], t["y1024"]),
                chain=lambda: chain_grad(t["small"]), big=lambda: big_grad(t["big"]),
                jacrev=lambda: jacrev(t["x200"]), jacfwd=lambda: jacfwd(t["x200"]),
                mlp=lambda: tuple(g.numpy() for g in mlp_grad(t["W1"], t["b1"], t["W2"], t["b2"])),
                hessian=lambda: hessian(t["p40"]))


def _jax(d, jit=False):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    compiled = jax.jit if jit else (lambda f, **kwargs: f)

    def loss(w, x, y):
        return (jnp.tanh(jnp.dot(w, x)) - y) ** 2

    def chain(x):
        y = x
        for _ in range(200):
            y = jnp.sin(y) * 0.5 + y
        return jnp.sum(y)

    per_example = compiled(jax.vmap(jax.grad(loss), in_axes=(None, 0, 0)))
    chain_grad = compiled(jax.grad(chain))
    big_grad = compiled(jax.grad(lambda x: jnp.sum(jnp.tanh(x) * jnp.exp(-x * x) + jnp.sin(x))))
    layer = lambda x: jnp.tanh(d["W"] @ x)  # noqa: E731
    jacrev = compiled(jax.jacrev(layer))
    jacfwd = compiled(jax.jacfwd(layer))

    def mlp(W1, b1, W2, b2):
        h = jnp.tanh(d["X"] @ W1 + b1)
        return jnp.mean((h @ W2 + b2 - d["Y"]) ** 2)

    mlp_grad = compiled(jax.grad(mlp, argnums=(0, 1, 2, 3)))
    hessian = compiled(jax.hessian(
        lambda p: jnp.sum(jnp.tanh(jnp.reshape(p, (4, 10)) @ jnp.ones(10)) ** 2) + jnp.sum(p ** 4)))
    ready = lambda f: lambda: jax.block_until_ready(f())  # noqa: E731  (JAX runs asynchronously)
    return dict(pe64=ready(lambda: per_example(d["w"], d["x64"], d["y64"])),
                pe1024=ready(lambda: per_example(d["w"], d["x1024"], d["y1024"])),
                chain=ready(lambda: chain_grad(d["small"])), big=ready(lambda: big_grad(d["big"])),
                jacrev=ready(lambda: jacrev(d["x200"])), jacfwd=ready(lambda: jacfwd(d["x200"])),
                mlp=ready(lambda: mlp_grad(d["W1"], d["b1"], d["W2"], d["b2"])),
                hessian=ready(lambda: hessian(d["p40"])))


def worker(library, repeat, min_time):
    """Time one library's workloads in this process; print them as JSON."""
    import numpy

    d = _data()
    thunks = {"udiff": _udiff, "autograd": _autograd, "torch": _torch, "jax": _jax,
              "jax-jit": lambda d: _jax(d, jit=True)}[library](d)
    expected = _expected(d)
    for name, fn in thunks.items():
        if name in expected:
            got, want = fn(), expected[name]
            pairs = zip(got, want) if isinstance(want, tuple) else [(got, want)]
            for g, w in pairs:
                numpy.testing.assert_allclose(numpy.asarray(g), w, rtol=1e-9, atol=1e-12,
                                              err_msg=f"{library}: {name}")
    print(json.dumps({name: _best(fn, repeat, min_time) for name, fn in thunks.items()}))


# -- the driver ------------------------------------------------------------------------------
def _can_import(python, library):
    try:
        done = subprocess.run([python, "-c", f"import {library}"], capture_output=True)
    except OSError:  # no such interpreter
        return False
    return done.returncode == 0


def _fmt(seconds):
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", default=[], metavar="LIB=PATH",
                        help="the interpreter that runs library LIB (default: this one)")
    parser.add_argument("--rounds", type=int, default=3, help="processes per library")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats per process")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per repeat")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.repeat, args.min_time)

    pythons = dict(item.split("=", 1) for item in args.python)
    runnable = {}
    for library in LIBRARIES:
        python = pythons.get(library, sys.executable)
        if _can_import(python, MODULES.get(library, library)):
            runnable[library] = python
        else:
            print(f"(skipping {library}: {python} cannot import it)", file=sys.stderr)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    best = {}
    for _ in range(args.rounds):
        for library, python in runnable.items():
            out = subprocess.run(
                [python, os.path.abspath(__file__), "--worker", library, "--repeat",
                 str(args.repeat), "--min-time", str(args.min_time)],
                capture_output=True, text=True, env=env, check=True)
            for name, seconds in json.loads(out.stdout.strip().splitlines()[-1]).items():
                key = (library, name)
                best[key] = min(best.get(key, seconds), seconds)

    others = [lib for lib in runnable if lib != "udiff"]
    print(f"# udiff vs {', '.join(others)} ({time.strftime('%Y-%m-%d')}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, one thread each; best of {args.rounds} processes x "
          f"{args.repeat} repeats; time per call)\n")
    print("| workload | " + " | ".join(runnable) + " | "
          + " | ".join(f"udiff / {lib}" for lib in others) + " |")
    print("|---|" + "---:|" * (len(runnable) + len(others)))
    for name, title in WORKLOADS.items():
        if name in ("numpy", "mlp-numpy"):
            continue
        row = [_fmt(best[(lib, name)]) if (lib, name) in best else "-" for lib in runnable]
        ratios = [f"{best[('udiff', name)] / best[(lib, name)]:.2f}"
                  if (lib, name) in best and ("udiff", name) in best else "-" for lib in others]
        print(f"| {title} | " + " | ".join(row) + " | " + " | ".join(ratios) + " |")
    if ("udiff", "numpy") in best:
        ratio = best[("udiff", "big")] / best[("udiff", "numpy")]
        print(f"\nNumPy's forward pass alone: {_fmt(best[('udiff', 'numpy')])}; udiff's gradient "
              f"takes {ratio:.2f} times that.")
    if ("udiff", "mlp-numpy") in best:
        ratio = best[("udiff", "mlp")] / best[("udiff", "mlp-numpy")]
        print(f"The MLP's gradient written by hand in NumPy: {_fmt(best[('udiff', 'mlp-numpy')])}; "
              f"udiff's takes {ratio:.2f} times that.")


if __name__ == "__main__":
    main()
