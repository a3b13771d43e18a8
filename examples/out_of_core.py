"""Out-of-core logistic regression with udiff on Dask.

The design matrix has ``--rows`` x 16 float64 features (10**8 rows is
12.8 GB).  It is never in memory: Dask generates each chunk of ~10**6 rows
from its seed when a task needs it, and drops it once the forward and the
backward tasks of that chunk have used it.  The loss is written with udiff.numpy;
udiff records it and builds the gradient graph, lazily, on Dask.  Each step
computes the loss and the gradient together (``dask.compute(loss, grad)``,
which runs the shared forward pass once) on whatever scheduler is active:
Dask's threads by default, or a ``dask.distributed`` cluster.

    uv run python examples/out_of_core.py                       # 10**6 rows, threads
    uv run python examples/out_of_core.py --rows 100000000      # 12.8 GB, with a progress bar
    uv run python examples/out_of_core.py --local-cluster 2     # two worker processes
    uv run python examples/out_of_core.py --address tcp://scheduler:8786
"""
import argparse
import time

import dask
import dask.array as da
import numpy
import udiff.numpy as np

import udiff

FEATURES = 16


def make_data(rows, chunk_rows, seed=0):
    """A lazy design matrix and +-1 labels from a known weight vector."""
    X = da.random.default_rng(seed).standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    w_true = numpy.linspace(-1.0, 1.0, FEATURES)
    s = da.where(X @ w_true > 0, 1.0, -1.0)  # labels, derived lazily from X
    return X, s, w_true


def logistic_loss(X, s):
    n = X.shape[0]

    def loss(w):
        # mean log(1 + exp(-s * Xw)), the logistic loss, with udiff.numpy functions
        return np.sum(np.logaddexp(0.0, -s * (X @ w))) / n

    return loss


def main(argv=None):
    p = argparse.ArgumentParser(description="out-of-core logistic regression with udiff on Dask")
    p.add_argument("--rows", type=int, default=10**6)
    p.add_argument("--chunk-rows", type=int, default=10**6 // 4)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--lr", type=float, default=2.0)
    p.add_argument("--address", help="a dask.distributed scheduler, e.g. tcp://scheduler:8786")
    p.add_argument("--local-cluster", type=int, metavar="N", help="start N local worker processes")
    args = p.parse_args(argv)

    client = cluster = None
    if args.address or args.local_cluster:
        from distributed import Client, LocalCluster

        if args.address:
            client = Client(args.address)  # becomes Dask's default scheduler
        else:
            cluster = LocalCluster(n_workers=args.local_cluster, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
        print(client)

    X, s, w_true = make_data(args.rows, min(args.chunk_rows, args.rows))
    print(f"X: {X.shape[0]:_} x {X.shape[1]}, {X.nbytes / 1e9:.2f} GB in {X.numblocks[0]} chunks")

    value_and_grad = udiff.value_and_grad(logistic_loss(X, s), inner=udiff.dask_backend)
    w = numpy.zeros(FEATURES)
    for step in range(args.steps):
        loss, g = value_and_grad(w)  # lazy Dask arrays: nothing has run yet
        t0 = time.perf_counter()
        if client is None and args.rows >= 10**7:
            from dask.diagnostics import ProgressBar

            with ProgressBar(dt=2.0):
                loss, g = dask.compute(loss, g)
        else:
            loss, g = dask.compute(loss, g)  # one pass over X for both
        w = w - args.lr * g
        cos = w @ w_true / (numpy.linalg.norm(w) * numpy.linalg.norm(w_true))
        print(f"step {step}: loss {loss:.5f}  |grad| {numpy.linalg.norm(g):.2e}  "
              f"cos(w, w_true) {cos:.4f}  {time.perf_counter() - t0:.2f} s")

    if client is not None:
        client.close()
    if cluster is not None:
        cluster.close()
    return w


if __name__ == "__main__":
    main()
