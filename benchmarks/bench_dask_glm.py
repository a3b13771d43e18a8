"""Benchmark: dask-glm's solvers with udiff's family against dask-glm's hand-written one.

Logistic regression on a lazily generated design matrix of ``--rows`` x 16
float64 features in chunks of ``--chunk`` rows (2e6 rows is 256 MB; each
chunk is generated from its seed when a task needs it).  Each run is a
fresh Python process, so its peak RSS (``resource.getrusage`` of the child,
``ru_maxrss``) is its own; the variants alternate in order over ``--repeats``
rounds.  Variants:

* ``hand``: ``dask_glm.families.Logistic`` (hand-written gradient and Hessian);
* ``udiff``: ``udiff.contrib.dask_glm.family(loss)``, one task per row chunk
  and a tree sum (streaming); ``--loss`` picks the formula of the loss;
* ``graph`` (with ``--with-graph``): a family whose gradient and Hessian are
  ``udiff.grad`` / ``udiff.hessian`` of the whole sum on the Dask backend,
  i.e. the ordinary graphs, for the before/after comparison.

Usage::

    uv run python benchmarks/bench_dask_glm.py                        # 2e6 rows, newton
    uv run python benchmarks/bench_dask_glm.py --rows 500000 --repeats 1
    uv run python benchmarks/bench_dask_glm.py --solver lbfgs --with-graph
    uv run python benchmarks/bench_dask_glm.py --scheduler distributed   # LocalCluster(2)
    uv run python benchmarks/bench_dask_glm.py --direct    # value, grad, Hessian, no solver
    uv run python benchmarks/bench_dask_glm.py --persist   # X and y in memory: no generation

Prints a markdown table: seconds per solve (the best of the repeats), the
ratio to ``hand``, the peak RSS, and the number of Hessian (Newton) or
gradient calls.
"""
import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

FEATURES = 16


def _data(rows, chunk):
    import dask.array as da
    import numpy

    X = da.random.default_rng(0).standard_normal((rows, FEATURES), chunks=(chunk, FEATURES))
    w = numpy.linspace(-1.0, 1.0, FEATURES)
    noise = da.random.default_rng(1).logistic(size=rows, chunks=chunk)
    y = ((X @ w + noise) > 0).astype(float)
    return X, y


def _graph_family():
    """Derivatives from udiff's ordinary graphs of the whole sum (no streaming)."""
    import numpy

    import udiff
    import udiff.numpy as np

    def total(c, eta, X, y):
        e = eta + X @ c
        return np.sum(np.logaddexp(0.0, e) - y * e)

    class GraphLogistic:
        @staticmethod
        def loglike(Xbeta, y):
            import dask.array as da

            return da.sum(da.logaddexp(0.0, Xbeta) - y * Xbeta)

        @staticmethod
        def gradient(Xbeta, X, y):
            return udiff.grad(total, inner=udiff.dask_backend)(
                numpy.zeros(X.shape[1]), Xbeta, X, y)

        @staticmethod
        def hessian(Xbeta, X):
            return udiff.hessian(total, inner=udiff.dask_backend)(
                numpy.zeros(X.shape[1]), Xbeta, X, Xbeta * 0)

        @staticmethod
        def pointwise_loss(beta, X, y):
            return GraphLogistic.loglike(X @ beta, y)

        @staticmethod
        def pointwise_gradient(beta, X, y):
            return GraphLogistic.gradient(X @ beta, X, y)

    return GraphLogistic


def direct(args):
    """One ``dask.compute(value, grad, hess)`` of the summed logistic loss at w = 0."""
    import dask
    import numpy
    import psutil

    import udiff
    import udiff.numpy as np

    def loss(w, X, y):
        eta = X @ w
        return np.sum(eta + np.log1p(np.exp(-eta)) - y * eta)

    X, y = _data(args.rows, args.chunk)
    w = numpy.zeros(FEATURES)
    if args.child == "stream":
        out = udiff.value_grad_and_hessian(loss, rows=(1, 2))(w, X, y)
    else:
        value, g = udiff.value_and_grad(loss, inner=udiff.dask_backend)(w, X, y)
        out = value, g, udiff.hessian(loss, inner=udiff.dask_backend)(w, X, y)
    baseline = psutil.Process().memory_info().rss
    t = time.perf_counter()
    value, g, h = dask.compute(*out, scheduler="threads")
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"variant": args.child, "seconds": seconds, "rss": rss,
                      "baseline": baseline, "calls": 1, "beta": [float(v) for v in g]}))


def _warm_up():
    """Dask's first compute in a process imports distributed (~2 s): not what is timed."""
    import dask
    import dask.array as da

    dask.compute(da.ones(4, chunks=2).sum(), scheduler="threads")


def _import_families():
    import dask_glm.families  # noqa: F401
    import udiff.contrib.dask_glm  # noqa: F401


def child(args):
    import warnings

    warnings.simplefilter("ignore")
    _warm_up()
    if args.child in ("stream", "ordinary"):
        return direct(args)
    import dask
    from dask_glm import algorithms, families

    import udiff.numpy as np
    from udiff.contrib.dask_glm import family

    if args.loss == "logaddexp":
        def logistic(eta, y):
            return np.logaddexp(0.0, eta) - y * eta
    else:  # dask-glm's own formula for Logistic.loglike, term by term
        def logistic(eta, y):
            return eta + np.log1p(np.exp(-eta)) - y * eta

    fam = {"hand": families.Logistic, "udiff": family(logistic, "logistic"),
           "graph": _graph_family()}[args.child]
    calls = {"n": 0}
    counted = "hessian" if args.solver == "newton" else (
        "pointwise_gradient" if args.solver == "lbfgs" else "gradient")

    class Counted:
        def __getattr__(self, name):
            method = getattr(fam, name)
            if name != counted:
                return method

            def wrapped(*a):
                calls["n"] += 1
                return method(*a)
            return wrapped

    X, y = _data(args.rows, args.chunk)
    client = None
    if args.scheduler == "distributed":
        from distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     host="127.0.0.1", dashboard_address=None))
        # Each worker process imports what either family's tasks need before the clock
        # starts (both variants alike), as _warm_up does for this process.
        client.run(_import_families)
    else:
        dask.config.set(scheduler="threads")
    if args.persist:  # X and y in memory (of the workers): the timing is the fit's work alone
        X, y = dask.persist(X, y)
        dask.compute(X[:1, :1], y[:1])
        if client is not None:
            from distributed import wait

            wait([X, y])
    import psutil

    solve = getattr(algorithms, args.solver)
    baseline = psutil.Process().memory_info().rss
    t = time.perf_counter()
    beta = solve(X, y, family=Counted(), normalize=False, max_iter=args.max_iter)
    seconds = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if client is not None:
        rss = max([rss] + [w["metrics"]["memory"] for w in
                           client.scheduler_info()["workers"].values()])
    print(json.dumps({"variant": args.child, "seconds": seconds, "rss": rss,
                      "baseline": baseline,
                      "calls": calls["n"], "beta": [float(b) for b in beta]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=2e6)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--solver", default="newton",
                        choices=["newton", "lbfgs", "gradient_descent"])
    parser.add_argument("--max-iter", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--scheduler", default="threads", choices=["threads", "distributed"])
    parser.add_argument("--with-graph", action="store_true",
                        help="also run the family built on udiff's ordinary graphs")
    parser.add_argument("--loss", default="dask-glm", choices=["dask-glm", "logaddexp"],
                        help="udiff's loss: dask-glm's formula eta + log1p(exp(-eta)) - y eta "
                             "(the same function as the hand-written family), or "
                             "logaddexp(0, eta) - y eta (stable; NumPy's logaddexp costs "
                             "about 3 times exp)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads in each process (default 1)")
    parser.add_argument("--persist", action="store_true",
                        help="generate X and y once and keep them in memory before the fit: "
                             "times the derivatives and the solver without the generation")
    parser.add_argument("--direct", action="store_true",
                        help="instead of a solver, time one dask.compute(value, grad, hess) "
                             "of the summed loss: value_grad_and_hessian (stream) against "
                             "udiff.value_and_grad and udiff.hessian (ordinary)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.rows = int(args.rows)
    if args.child:
        return child(args)

    variants = ["hand", "udiff"] + (["graph"] if args.with_graph else [])
    if args.direct:
        variants = ["ordinary", "stream"]
    results = {v: [] for v in variants}
    # Dask's threads run the tasks; BLAS inside each task runs on one thread (more would
    # oversubscribe the cores, and OpenBLAS's waiting threads slow every small product).
    threads = str(args.blas_threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    for r in range(args.repeats):
        order = variants if r % 2 == 0 else variants[::-1]
        for v in order:
            cmd = [sys.executable, __file__, "--child", v, "--rows", str(args.rows),
                   "--chunk", str(args.chunk), "--solver", args.solver,
                   "--max-iter", str(args.max_iter), "--scheduler", args.scheduler,
                   "--loss", args.loss] + (["--persist"] if args.persist else [])
            out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            results[v].append(res)
            above = (res["rss"] - res["baseline"]) / 2**30
            print(f"# round {r} {v}: {res['seconds']:.2f} s, {res['rss'] / 2**30:.2f} GiB "
                  f"({above:.2f} above the imports), {res['calls']} calls", file=sys.stderr)

    import numpy

    base = variants[0]
    hand_best = min(x["seconds"] for x in results[base])
    hand_beta = numpy.array(results[base][0]["beta"])
    what = "value, gradient, Hessian" if args.direct else args.solver
    data = "in memory" if args.persist else "generated lazily"
    print(f"\n{what}, {args.rows:.0e} x {FEATURES} rows ({data}) in chunks of {args.chunk}, "
          f"scheduler {args.scheduler}, {args.blas_threads} BLAS thread(s), "
          f"udiff loss {args.loss}, best of {args.repeats}; "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print(f"| family | s/solve (best) | all runs (s) | / {base} | peak RSS (GiB) "
          "| peak RSS above imports (GiB) | "
          f"{'Newton iterations' if args.solver == 'newton' else 'gradient calls'} "
          f"| max abs coef diff vs {base} |")
    print("|---|---|---|---|---|---|---|---|")
    for v in variants:
        best = min(x["seconds"] for x in results[v])
        rss = max(x["rss"] for x in results[v]) / 2**30
        above = max(x["rss"] - x["baseline"] for x in results[v]) / 2**30
        diff = float(numpy.max(numpy.abs(numpy.array(results[v][0]["beta"]) - hand_beta)))
        runs = ", ".join(f"{x['seconds']:.1f}" for x in results[v])
        print(f"| {v} | {best:.2f} | {runs} | {best / hand_best:.2f} | {rss:.2f} | {above:.2f} | "
              f"{results[v][0]['calls']} | {diff:.1e} |")


if __name__ == "__main__":
    main()
