"""Benchmark: udiff gradients on an out-of-core Dask design matrix (issue #5).

Logistic regression and least squares on a lazily generated design matrix of
``--rows`` x 16 float64 features (10**8 rows is 12.8 GB and is never held in
memory: each chunk of ~10**6 rows is generated from its seed when a task needs
it and dropped after).  For a few full-batch gradient-descent steps it
measures, in one run:

* the peak RSS of the process (and of each worker on a LocalCluster), polled
  with psutil in a background thread;
* seconds per step (best of ``--steps``) of: the forward loss alone, a hand-written Dask gradient
  (``X.T @ (sigmoid(X @ w) - y) / n``), udiff's gradient alone, and udiff's
  loss and gradient computed together (the training step);
* the ratios udiff-gradient / hand-written and udiff-gradient / forward;
* tasks(gradient graph) / tasks(forward graph).

Usage::

    uv run python benchmarks/bench_dask.py                      # 10**7 rows, threads
    uv run python benchmarks/bench_dask.py --rows 1000000 --steps 2
    uv run python benchmarks/bench_dask.py --scheduler distributed
    uv run python benchmarks/bench_dask.py --rows 100000000 --progress   # 12.8 GB

The markdown table it prints is the one in ``docs/dask.md``.
"""
import argparse
import contextlib
import os
import platform
import sys
import threading
import time

import dask
import dask.array as da
import numpy
import psutil
import udiff.numpy as np

import udiff

FEATURES = 16


class PeakRSS:
    """Polls the RSS of this process and of each child process in a thread."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.main = 0
        self.children = {}
        self._stop = threading.Event()
        self._proc = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                self.main = max(self.main, self._proc.memory_info().rss)
                for child in self._proc.children(recursive=True):
                    try:
                        rss = child.memory_info().rss
                    except psutil.Error:
                        continue
                    self.children[child.pid] = max(self.children.get(child.pid, 0), rss)
            except psutil.Error:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def make_data(rows, chunk_rows, seed=0):
    """Lazy design matrix, true weights, labels (+-1 and 0/1) and regression targets."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    w_true = numpy.linspace(-1.0, 1.0, FEATURES)
    z = X @ w_true
    y01 = (z > 0).astype(numpy.float64)  # logistic labels in {0, 1}
    s = 2.0 * y01 - 1.0  # the same labels in {-1, +1}
    noise = da.random.default_rng(seed + 1).standard_normal(rows, chunks=chunk_rows)
    t = z + 0.1 * noise  # least-squares targets
    return X, w_true, y01, s, t


def logistic_loss(X, s):
    n = X.shape[0]

    def loss(w):  # mean(log(1 + exp(-s * Xw))), written with udiff.numpy
        return np.sum(np.logaddexp(0.0, -s * (X @ w))) / n

    def hand_grad(w):
        p = 1.0 / (1.0 + da.exp(-(X @ w)))
        y01 = (s + 1.0) / 2.0
        return X.T @ (p - y01) / n

    return loss, hand_grad


def least_squares_loss(X, t):
    n = X.shape[0]

    def loss(w):  # mean((Xw - t)**2) / 2
        r = X @ w - t
        return np.sum(r * r) / (2 * n)

    def hand_grad(w):
        return X.T @ (X @ w - t) / n

    return loss, hand_grad


def ntasks(*arrays):
    graph = {}
    for a in arrays:
        graph.update(dict(a.__dask_graph__()))
    return len(graph)


def timed(*arrays):
    t0 = time.perf_counter()
    out = dask.compute(*arrays)
    return time.perf_counter() - t0, out


def run_model(name, loss, hand_grad, w0, steps, lr, log):
    vg = udiff.value_and_grad(loss, inner=udiff.dask_backend)
    w = numpy.array(w0, dtype=numpy.float64)
    times = {"forward": [], "hand": [], "udiff": [], "together": []}
    first = None
    for step in range(steps):
        t_build = time.perf_counter()
        value, g = vg(w)  # lazy: builds graphs only
        build = time.perf_counter() - t_build
        forward = udiff.value_and_grad(loss, inner=udiff.dask_backend)(w)[0]
        if first is None:
            first = (ntasks(forward), ntasks(g), ntasks(value, g))
        dt, _ = timed(forward)
        times["forward"].append(dt)
        dt, (gh,) = timed(hand_grad(da.asarray(w)))
        times["hand"].append(dt)
        dt, (gu,) = timed(g)
        times["udiff"].append(dt)
        dt, (lv, gt) = timed(value, g)
        times["together"].append(dt)
        err = float(numpy.max(numpy.abs(gu - gh)) / max(1e-300, numpy.max(numpy.abs(gh))))
        log(
            f"  {name} step {step}: loss {float(lv):.6f}  |grad| {numpy.linalg.norm(gt):.3e}  "
            f"rel.diff vs hand {err:.1e}  build {build * 1e3:.1f} ms  "
            + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items())
        )
        assert err < 1e-8, f"udiff's gradient differs from the hand-written one by {err}"
        w = w - lr * gt
    # Best of the steps: the least disturbed by other work on the machine.
    med = {k: min(v) for k, v in times.items()}
    return {
        "model": name,
        "tasks_forward": first[0],
        "tasks_grad": first[1],
        "task_ratio": first[1] / first[0],
        **{f"t_{k}": v for k, v in med.items()},
        "ratio_hand": med["udiff"] / med["hand"],
        "ratio_forward": med["udiff"] / med["forward"],
        "ratio_together_forward": med["together"] / med["forward"],
        "w": w,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10**7)
    p.add_argument("--chunk-rows", type=int, default=10**6)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--models", default="logistic,least_squares")
    p.add_argument("--scheduler", choices=["threads", "distributed"], default="threads")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster workers (distributed)")
    p.add_argument("--address", default=None, help="an existing scheduler, tcp://host:8786")
    p.add_argument("--progress", action="store_true", help="dask.diagnostics.ProgressBar")
    args = p.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    cluster = client = None
    stack = contextlib.ExitStack()
    if args.scheduler == "distributed":
        from distributed import Client, LocalCluster

        if args.address:
            client = Client(args.address)
        else:
            cluster = LocalCluster(
                n_workers=args.workers,
                processes=True,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
        log(f"distributed: {client}")
    else:
        stack.enter_context(dask.config.set(scheduler="threads"))

    X, w_true, y01, s, t = make_data(args.rows, args.chunk_rows)
    gb = args.rows * FEATURES * 8 / 1e9
    log(
        f"X: {args.rows:_} x {FEATURES} float64 = {gb:.2f} GB in {X.numblocks[0]} chunks of "
        f"{args.chunk_rows:_} rows ({args.chunk_rows * FEATURES * 8 / 1e6:.0f} MB); "
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"{platform.python_version()}, dask {dask.__version__}"
    )
    models = {
        "logistic": (lambda: logistic_loss(X, s), 1.0),
        "least_squares": (lambda: least_squares_loss(X, t), 0.5),
    }
    progress = None
    if args.progress and client is None:
        from dask.diagnostics import ProgressBar

        progress = ProgressBar(dt=1.0)  # compute waits up to dt for the bar
        progress.register()
    results = []
    with PeakRSS() as rss:
        for name in args.models.split(","):
            make, lr = models[name]
            loss, hand_grad = make()
            results.append(
                run_model(name, loss, hand_grad, numpy.zeros(FEATURES), args.steps, lr, log)
            )
    if progress is not None:
        progress.unregister()

    workers = sorted(rss.children.values(), reverse=True)
    peak_worker = max(workers) if cluster is not None and workers else None
    cmd = "uv run python benchmarks/bench_dask.py " + " ".join(sys.argv[1:] if argv is None else argv)
    log("")
    log(f"command: `{cmd.strip()}`")
    log(f"peak RSS: main process {rss.main / 2**30:.2f} GiB"
        + (f", largest worker {peak_worker / 2**30:.2f} GiB" if peak_worker else ""))
    log("")
    log("| model | rows | scheduler | peak RSS (GiB) | forward s/step | hand grad s/step "
        "| udiff grad s/step | udiff loss+grad s/step | udiff/hand | udiff/forward "
        "| tasks grad/forward |")
    log("|---|---|---|---|---|---|---|---|---|---|---|")
    mem = rss.main if peak_worker is None else peak_worker
    where = args.scheduler if peak_worker is None else f"distributed ({args.workers} workers, per worker)"
    for r in results:
        log(
            f"| {r['model']} | {args.rows:.0e} | {where} | {mem / 2**30:.2f} | {r['t_forward']:.2f} "
            f"| {r['t_hand']:.2f} | {r['t_udiff']:.2f} | {r['t_together']:.2f} "
            f"| {r['ratio_hand']:.2f} | {r['ratio_forward']:.2f} "
            f"| {r['task_ratio']:.2f} ({r['tasks_grad']}/{r['tasks_forward']}) |"
        )
    stack.close()
    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
    return results


if __name__ == "__main__":
    main()
