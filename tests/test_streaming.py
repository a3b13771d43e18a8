"""udiff.value_grad_and_hessian(rows=...): row sums differentiated chunk by chunk on Dask.

Checks values against udiff's ordinary value_and_grad/hessian, the shape of
the graph (one task per row chunk, each reading one block of each row
argument, and a reduction tree; the same number of tasks whatever the number
of parameters), that computing value, gradient and Hessian together holds
few chunks of the data at once, and the errors.
"""
import numpy
import pytest

import udiff
import udiff.numpy as np

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402
from dask.core import get_dependencies  # noqa: E402

RNG = numpy.random.default_rng(0)
XN = RNG.standard_normal((120, 4))
YN = (RNG.random(120) > 0.5).astype(float)
W = RNG.standard_normal(4) * 0.3


def logistic(w, X, y):
    eta = X @ w
    return np.sum(np.logaddexp(0.0, eta) - y * eta)


def logistic_mean(w, X, y):
    eta = X @ w
    return np.mean(np.logaddexp(0.0, eta) - y * eta)


def _reference(f, argnums, *args, **kwargs):
    value, g = udiff.value_and_grad(f, argnums)(*args, **kwargs)
    return value, g, udiff.hessian(f, argnums)(*args, **kwargs)


def _close(got, expected):
    got_leaves, got_def = udiff.tree_flatten(got)
    exp_leaves, exp_def = udiff.tree_flatten(expected)
    assert got_def == exp_def
    for a, b in zip(got_leaves, exp_leaves):
        assert numpy.shape(a) == numpy.shape(b)
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("chunks", [(30, 4), (25, 2), (120, 4)])
def test_dask_rows_match_the_ordinary_derivatives(chunks):
    X = da.from_array(XN, chunks=chunks)
    y = da.from_array(YN, chunks=chunks[0])
    out = udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, X, y)
    assert all(isinstance(a, da.Array) for a in out)
    _close(dask.compute(*out), _reference(logistic, 0, W, XN, YN))


@pytest.mark.parametrize("block_rows", [None, 7, 4096])
def test_mean_and_numpy_rows_among_dask_ones(block_rows):
    # block_rows=7 splits each chunk of 40 rows into 6 slices (the last of 5).
    X = da.from_array(XN, chunks=(40, 4))
    out = udiff.value_grad_and_hessian(logistic_mean, rows=(1, 2), mean=True,
                                       block_rows=block_rows)(W, X, YN)
    _close(dask.compute(*out), _reference(logistic_mean, 0, W, XN, YN))
    out = udiff.value_grad_and_hessian(logistic, rows=(1, 2), block_rows=block_rows)(W, X, YN)
    _close(dask.compute(*out), _reference(logistic, 0, W, XN, YN))


def test_containers_tuple_argnums_and_keywords():
    def f(params, b, X, y, scale=1.0):
        eta = X @ params["w"] + params["c"] * b
        return scale * np.sum(np.logaddexp(0.0, eta) - y * eta)

    params = {"w": W, "c": numpy.array([0.5])}
    b = numpy.array(0.2)
    X = da.from_array(XN, chunks=(30, 4))
    y = da.from_array(YN, chunks=30)
    got = udiff.value_grad_and_hessian(f, argnums=(0, 1), rows=(2, 3))(
        params, b, X, y, scale=2.0)
    _close(dask.compute(*got), _reference(f, (0, 1), params, b, XN, YN, scale=2.0))


def test_numpy_rows_are_the_ordinary_derivatives():
    out = udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, XN, YN)
    assert all(isinstance(a, (numpy.ndarray, numpy.generic)) for a in out)
    _close(out, _reference(logistic, 0, W, XN, YN))
    out = udiff.value_grad_and_hessian(logistic_mean, rows=(1, 2), mean=True)(W, XN, YN)
    _close(out, _reference(logistic_mean, 0, W, XN, YN))


# -- the graph: one task per chunk, one block each, a reduction tree ------------------


def _graph(arr):
    return dict(arr.__dask_graph__())


def _prefix(key):
    return (key[0] if isinstance(key, tuple) else key).rsplit("-", 1)[0]


@pytest.mark.parametrize("p", [2, 16])
def test_one_task_per_chunk_reading_one_block_of_each_row_argument(p):
    nchunks = 8
    X = da.random.default_rng(1).standard_normal((800, p), chunks=(100, p))
    y = da.random.default_rng(2).random(800, chunks=100)
    _, _, h = udiff.value_grad_and_hessian(logistic, rows=(1, 2), split_every=2)(
        numpy.zeros(p), X, y)
    dsk = _graph(h)
    per_chunk = [k for k in dsk if _prefix(k) == "udiff-rows"]
    assert len(per_chunk) == nchunks
    x_keys = {k for k in X.__dask_keys__() for k in k}
    y_keys = set(y.__dask_keys__())
    for key in per_chunk:
        deps = get_dependencies(dsk, key)
        assert len(deps & x_keys) == 1 and len(deps & y_keys) == 1, deps
    # Inputs (8 + 8), per-chunk tasks (8), Dask's tree sum (8 per-block sums,
    # then 6 partial sums and 1 aggregate with split_every=2), then slicing
    # the Hessian out of the flat sum (2): fixed by the number of chunks.
    # Dask's optimizer fuses each per-chunk task with its first sum, and
    # keeps one task per chunk.
    (optimized,) = dask.optimize(h)
    fused = [k for k in _graph(optimized) if _prefix(k).startswith("udiff-rows")]
    assert len(fused) == nchunks
    tree = [k for k in dsk if _prefix(k).startswith("sum-")]
    assert 1 <= len(tree) <= nchunks
    assert len(dsk) - 2 * nchunks <= 3 * nchunks + 2, len(dsk)


def test_task_count_does_not_grow_with_the_number_of_parameters():
    counts = []
    for p in (2, 16):
        X = da.random.default_rng(1).standard_normal((800, p), chunks=(100, p))
        y = da.random.default_rng(2).random(800, chunks=100)
        counts.append(len(_graph(
            udiff.value_grad_and_hessian(logistic, rows=(1, 2))(numpy.zeros(p), X, y)[2])))
    assert counts[0] == counts[1]


class _LiveBytes(Callback):
    """The most bytes that the results of finished tasks held at once."""

    def __init__(self):
        super().__init__()
        self.most = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        live = sum(getattr(v, "nbytes", 0) for v in state["cache"].values())
        self.most = max(self.most, live)


def test_value_gradient_and_hessian_together_hold_few_chunks():
    X = da.random.default_rng(3).standard_normal((1600, 4), chunks=(100, 4))
    y = (X[:, 0] > 0).astype(float)
    w = numpy.full(4, 0.1)
    chunk = 100 * 4 * 8
    streamed = udiff.value_grad_and_hessian(logistic, rows=(1, 2))(w, X, y)
    with _LiveBytes() as live:
        got = dask.compute(*streamed, scheduler="sync")
    assert live.most <= 3 * chunk, live.most / chunk
    # The ordinary graphs of the same derivatives, computed together, hold
    # most of X's 16 chunks: the measurement above can tell them apart.
    value, g = udiff.value_and_grad(logistic, inner=udiff.dask_backend)(w, X, y)
    h = udiff.hessian(logistic, inner=udiff.dask_backend)(w, X, y)
    with _LiveBytes() as ordinary:
        expected = dask.compute(value, g, h, scheduler="sync")
    assert ordinary.most > 8 * chunk, ordinary.most / chunk
    _close(got, expected)


def test_tasks_need_no_uarray_state():
    # The tasks run in worker threads where no udiff backend was ever set; the
    # task function sets its own.  (The "processes" scheduler works too, but
    # starting its pool takes ~20 s on a loaded 2-core machine.)
    X = da.from_array(XN, chunks=(30, 4))
    y = da.from_array(YN, chunks=30)
    out = udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, X, y)
    _close(dask.compute(*out, scheduler="threads", num_workers=2),
           _reference(logistic, 0, W, XN, YN))


# -- errors ---------------------------------------------------------------------------


def test_rows_of_different_lengths():
    X = da.from_array(XN, chunks=(30, 4))
    with pytest.raises(ValueError, match="different numbers of rows.*120 and 100"):
        udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, X, YN[:100])


def test_rows_chunked_differently():
    X = da.from_array(XN, chunks=(30, 4))
    y = da.from_array(YN, chunks=40)
    with pytest.raises(ValueError, match="chunked differently along axis 0.*rechunk"):
        udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, X, y)


def test_unknown_chunk_sizes():
    X = da.from_array(XN, chunks=(30, 4))
    keep = da.from_array(YN > 0.5, chunks=30)
    with pytest.raises(ValueError, match="unknown chunk sizes.*compute_chunk_sizes"):
        udiff.value_grad_and_hessian(logistic, rows=(1, 2))(W, X[keep], X[keep][:, 0])


def test_differentiating_a_row_argument():
    X = da.from_array(XN, chunks=(30, 4))
    with pytest.raises(ValueError, match="both differentiated and a row argument"):
        udiff.value_grad_and_hessian(logistic, argnums=1, rows=(1, 2))(W, X, YN)
