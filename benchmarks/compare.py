"""udiff against autograd, PyTorch and JAX on issue 11's three workloads, each library
in its own process.

Run with::

    uv run --group bench python benchmarks/compare.py \\
        --python torch=/path/to/venv/bin/python --python jax=/path/to/venv/bin/python

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
  and NumPy's forward pass alone.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

LIBRARIES = ("udiff", "autograd", "torch", "jax")
WORKLOADS = {
    "pe64": "per-example gradients, batch 64",
    "pe1024": "per-example gradients, batch 1024",
    "chain": "grad of 200 x `y = sin(y)*0.5 + y`, 10 elements",
    "big": "grad of `sum(tanh(x)*exp(-x*x) + sin(x))`, 10^6 elements",
    "numpy": "NumPy's forward pass alone, 10^6 elements",
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
    return dict(w=rng.normal(size=30), x64=rng.normal(size=(64, 30)), y64=rng.normal(size=64),
                x1024=rng.normal(size=(1024, 30)), y1024=rng.normal(size=1024),
                small=numpy.linspace(0.0, 1.0, 10), big=rng.normal(size=10**6))


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
    return dict(pe64=per_example(d["x64"], d["y64"]), pe1024=per_example(d["x1024"], d["y1024"]),
                chain=dy, big=big)


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

    return dict(pe64=lambda: per_example(d["w"], d["x64"], d["y64"]),
                pe1024=lambda: per_example(d["w"], d["x1024"], d["y1024"]),
                chain=lambda: chain_grad(d["small"]), big=lambda: big_grad(d["big"]),
                numpy=lambda: forward(d["big"]))


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

    return dict(pe64=lambda: loop(d["x64"], d["y64"]), pe1024=lambda: loop(d["x1024"], d["y1024"]),
                chain=lambda: chain_grad(d["small"]), big=lambda: big_grad(d["big"]))


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

    return dict(pe64=lambda: per_example(t["w"], t["x64"], t["y64"]),
                pe1024=lambda: per_example(t["w"], t["x1024"], t["y1024"]),
                chain=lambda: chain_grad(t["small"]), big=lambda: big_grad(t["big"]))


def _jax(d):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)

    def loss(w, x, y):
        return (jnp.tanh(jnp.dot(w, x)) - y) ** 2

    def chain(x):
        y = x
        for _ in range(200):
            y = jnp.sin(y) * 0.5 + y
        return jnp.sum(y)

    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
    chain_grad = jax.grad(chain)
    big_grad = jax.grad(lambda x: jnp.sum(jnp.tanh(x) * jnp.exp(-x * x) + jnp.sin(x)))
    ready = lambda f: lambda: f().block_until_ready()  # noqa: E731  (JAX dispatches asynchronously)
    return dict(pe64=ready(lambda: per_example(d["w"], d["x64"], d["y64"])),
                pe1024=ready(lambda: per_example(d["w"], d["x1024"], d["y1024"])),
                chain=ready(lambda: chain_grad(d["small"])), big=ready(lambda: big_grad(d["big"])))


def worker(library, repeat, min_time):
    """Time one library's workloads in this process; print them as JSON."""
    import numpy

    d = _data()
    thunks = {"udiff": _udiff, "autograd": _autograd, "torch": _torch, "jax": _jax}[library](d)
    expected = _expected(d)
    for name, fn in thunks.items():
        if name in expected:
            got = numpy.asarray(fn())
            numpy.testing.assert_allclose(got, expected[name], rtol=1e-9, atol=1e-12,
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
        if _can_import(python, library):
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
        if name == "numpy":
            continue
        row = [_fmt(best[(lib, name)]) if (lib, name) in best else "-" for lib in runnable]
        ratios = [f"{best[('udiff', name)] / best[(lib, name)]:.2f}"
                  if (lib, name) in best and ("udiff", name) in best else "-" for lib in others]
        print(f"| {title} | " + " | ".join(row) + " | " + " | ".join(ratios) + " |")
    if ("udiff", "numpy") in best:
        ratio = best[("udiff", "big")] / best[("udiff", "numpy")]
        print(f"\nNumPy's forward pass alone: {_fmt(best[('udiff', 'numpy')])}; udiff's gradient "
              f"takes {ratio:.2f} times that.")


if __name__ == "__main__":
    main()
