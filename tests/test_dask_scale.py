"""udiff on Dask at scale (issue #5): laziness, chunk structure, distributed.

Every input here is a multi-chunk Dask array.  The tests check that

* the forward pass, ``.to`` and the functional API compute nothing (a Dask
  callback and a counting scheduler both see zero tasks run);
* values and gradients equal the NumPy backend's;
* gradients keep the input's chunk structure (no axis collapsed into one
  chunk), so that a gradient with respect to a 10**8-row array is never one
  12.8 GB block;
* the gradient graph is a small multiple of the forward graph;
* gradients computed on a real ``dask.distributed`` LocalCluster (separate
  worker processes, so everything a rule puts in the graph must pickle) equal
  NumPy's;
* misaligned chunks and unknown chunk sizes give a correct gradient or a
  clear error.
"""
import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff

da = pytest.importorskip("dask.array")
import dask  # noqa: E402
from dask.callbacks import Callback  # noqa: E402

DASK = udiff.DiffArrayBackend(udiff.dask_backend)
NUMPY = udiff.DiffArrayBackend(udiff.numpy_backend)

RNG = numpy.random.default_rng(5)
A = RNG.standard_normal((8, 6))  # chunks (2, 3): 4 x 2 blocks
W = RNG.standard_normal((6, 4))  # chunks (3, 2): 2 x 2 blocks
B = RNG.standard_normal(6)  # chunks (3,): 2 blocks
CHUNKS = {"x": (2, 3), "w": (3, 2), "b": (3,)}
S = numpy.where(A @ numpy.linspace(-1.0, 1.0, 6) > 0, 1.0, -1.0)  # labels, +-1


def _inputs():
    return (
        da.from_array(A, chunks=CHUNKS["x"]),
        da.from_array(W, chunks=CHUNKS["w"]),
        da.from_array(B, chunks=CHUNKS["b"]),
    )


def _labels(x):
    """The +-1 labels S, as a chunked Dask constant when ``x`` is on Dask."""
    return da.from_array(S, chunks=2) if isinstance(x.value, da.Array) else S


def _logistic(x, w, b):
    # labels derived from the data, loss = mean(log(1 + exp(-s z)))
    s = np.sign(x[:, 0] - 0.1)
    z = (x + b) @ w[:, 0]
    return np.sum(np.logaddexp(0.0, -s * z)) / x.shape[0]


def _least_squares(x, w, b):
    r = x @ w[:, 0] - x[:, 1]
    return np.sum(r * r) / (2 * x.shape[0])


# Scalar functions of (x, w, b); each exercises a rule family on several chunks.
CASES = {
    "logistic": _logistic,
    "least_squares": _least_squares,
    # the examples' form: a weight vector, labels a (chunked) constant
    "logistic_vector": lambda x, w, b: np.sum(np.logaddexp(0.0, -_labels(x) * (x @ b))) / 8,
    "least_squares_vector": lambda x, w, b: np.sum((x @ b - _labels(x)) ** 2) / 16,
    "sum_axis0": lambda x, w, b: np.sum(np.sum(x, axis=0) ** 2 * b),
    "sum_axis1": lambda x, w, b: np.sum(np.sum(x, axis=1) ** 2),
    "sum_all": lambda x, w, b: np.sum(x) * np.sum(b),
    "max_axis0": lambda x, w, b: np.sum(np.max(x, axis=0) * b),
    "max_axis1": lambda x, w, b: np.sum(np.max(x, axis=1) ** 2),
    "min_keepdims": lambda x, w, b: np.sum(np.min(x, axis=1, keepdims=True) * x),
    "std_axis0": lambda x, w, b: np.sum(np.std(x, axis=0) * b),
    "std_axis1": lambda x, w, b: np.sum(np.std(x, axis=1)),
    "var_all": lambda x, w, b: np.var(x) + np.sum(w * w),
    "prod_axis1": lambda x, w, b: np.sum(np.prod(x, axis=1)),
    "matmul": lambda x, w, b: np.sum(np.exp(x @ w)),
    "matmul_chain": lambda x, w, b: np.sum(np.tanh(x @ w) @ w.T * b),
    "broadcast_add": lambda x, w, b: np.sum(np.sin(x + b)),
    "broadcast_mul_log": lambda x, w, b: np.sum(np.log(1.0 + (x * b) ** 2)),
    "exp_logaddexp": lambda x, w, b: np.sum(np.logaddexp(x, b) * np.exp(-x * x)),
    "transpose_slice": lambda x, w, b: np.sum(x.T[1:5, ::2] ** 3),
}


def _numpy_reference(f):
    with ua.set_backend(NUMPY, coerce=True):
        x, w, b = np.asarray(A), np.asarray(W), np.asarray(B)
        y = f(x, w, b)
        grads = y.to([x, w, b])
    return (y.value,) + tuple(g.value for g in grads)


def _dask_run(f):
    with ua.set_backend(DASK, coerce=True):
        x, w, b = (np.asarray(v) for v in _inputs())
        y = f(x, w, b)
        grads = y.to([x, w, b])
    return y, grads


class CountTasks(Callback):
    """Counts the tasks Dask's local schedulers start."""

    def __init__(self):
        super().__init__()
        self.started = 0
        self.tasks = 0
        self.keys = []

    def _start(self, dsk):
        self.started += 1

    def _pretask(self, key, dsk, state):
        self.tasks += 1
        if not str(key).startswith("finalize-"):  # dask.compute's own wrapper task
            self.keys.append(key)


class CountingScheduler:
    """A ``scheduler=`` that records every graph it is asked to run."""

    def __init__(self):
        self.calls = 0

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        return dask.get(dsk, keys, **kwargs)


@pytest.fixture
def nothing_computed():
    """Asserts that the test body runs no Dask task and calls no scheduler."""
    counter, scheduler = CountTasks(), CountingScheduler()
    with dask.config.set(scheduler=scheduler), counter:
        yield
    assert scheduler.calls == 0, f"the scheduler was called {scheduler.calls} times"
    assert counter.started == 0 and counter.tasks == 0, (
        f"{counter.started} computations ran {counter.tasks} tasks"
    )


def _close(a, b):
    numpy.testing.assert_allclose(numpy.asarray(a), numpy.asarray(b), rtol=1e-10, atol=1e-12)


# -- 1. laziness ------------------------------------------------------------------


def test_counting_scheduler_sees_a_compute():
    # The detector itself works: one compute is seen by both counters.
    counter, scheduler = CountTasks(), CountingScheduler()
    with dask.config.set(scheduler=scheduler), counter:
        da.ones(4, chunks=2).sum().compute()
    assert scheduler.calls == 1 and counter.tasks > 0


@pytest.mark.parametrize("name", list(CASES))
def test_forward_and_to_compute_nothing(name, nothing_computed):
    y, grads = _dask_run(CASES[name])
    assert isinstance(y.value, da.Array)
    assert all(isinstance(g, udiff.DiffArray) and isinstance(g.value, da.Array) for g in grads)


def test_functional_api_computes_nothing(nothing_computed):
    x, w, b = _inputs()
    inner = udiff.dask_backend
    g = udiff.grad(_logistic, argnums=(0, 1, 2), inner=inner)(x, w, b)
    value, g1 = udiff.value_and_grad(_logistic, argnums=1, inner=inner)(x, w, b)
    out, vjp_fn = udiff.vjp(lambda w: x @ w, w, inner=inner)
    (vj,) = vjp_fn(da.ones((8, 4), chunks=(2, 2)))
    _, jv = udiff.jvp(lambda w: np.sum(np.exp(x @ w)), (w,), (da.ones((6, 4), chunks=(3, 2)),), inner=inner)
    for arr in (*g, value, g1, out, vj, jv):
        assert isinstance(arr, da.Array), type(arr)


def test_functional_api_values():
    x, w, b = _inputs()
    ref = _numpy_reference(_logistic)
    value, grads = udiff.value_and_grad(_logistic, argnums=(0, 1, 2), inner=udiff.dask_backend)(x, w, b)
    computed = dask.compute(value, *grads)
    for got, want in zip(computed, ref):
        _close(got, want)


# -- 5. values and gradients on multi-chunk arrays ------------------------------------


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_numpy(name):
    y, grads = _dask_run(CASES[name])
    computed = dask.compute(y.value, *(g.value for g in grads))
    for got, want in zip(computed, _numpy_reference(CASES[name])):
        _close(got, want)


def test_computing_loss_and_gradient_together_shares_the_forward_pass():
    y, grads = _dask_run(_logistic)
    # Unoptimized graphs, so that task keys are the graph's own and comparable.
    with CountTasks() as alone_loss:
        dask.compute(y.value, optimize_graph=False)
    with CountTasks() as alone_grad:
        dask.compute(grads[1].value, optimize_graph=False)
    with CountTasks() as together:
        loss, g = dask.compute(y.value, grads[1].value, optimize_graph=False)
    # Each task runs once, and the forward pass is part of the gradient's graph:
    # computing both runs the gradient's tasks plus only the loss's last steps.
    assert len(together.keys) == len(set(together.keys))
    assert set(together.keys) == set(alone_grad.keys) | set(alone_loss.keys)
    forward_only = set(alone_loss.keys) - set(alone_grad.keys)
    assert len(forward_only) <= len(alone_loss.keys) // 4, sorted(map(str, forward_only))
    ref = _numpy_reference(_logistic)
    _close(loss, ref[0])
    _close(g, ref[2])


def _ntasks(arr):
    return len(dict(arr.__dask_graph__()))


@pytest.mark.parametrize(
    "name", ["logistic", "least_squares", "logistic_vector", "least_squares_vector", "matmul"]
)
def test_gradient_graph_is_small_multiple_of_forward_graph(name):
    y, grads = _dask_run(CASES[name])
    ratio = _ntasks(dask.delayed(tuple)([g.value for g in grads])) / _ntasks(y.value)
    assert ratio <= 3.0, f"tasks(gradient)/tasks(forward) = {ratio:.2f}"


# -- 4. chunk structure of gradients ---------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_gradients_stay_chunked(name):
    y, grads = _dask_run(CASES[name])
    for g, inp in zip(grads, _inputs()):
        for axis, (got, had) in enumerate(zip(g.value.chunks, inp.chunks)):
            if len(had) > 1:
                assert len(got) > 1, (
                    f"gradient axis {axis} collapsed into one chunk: {g.value.chunks} "
                    f"(input chunks {inp.chunks})"
                )


def test_matmul_and_broadcast_gradients_keep_the_input_chunks():
    with ua.set_backend(DASK, coerce=True):
        x, w, b = (np.asarray(v) for v in _inputs())
        y = np.sum(np.exp((x + b) @ w))
        gx, gw, gb = y.to([x, w, b])
    assert gx.value.chunks == ((2, 2, 2, 2), (3, 3))
    assert gw.value.chunks == ((3, 3), (2, 2))
    assert gb.value.chunks == ((3, 3),)


def test_gradient_of_plain_sum_is_chunked_like_its_input():
    with ua.set_backend(DASK, coerce=True):
        x = np.asarray(da.from_array(A, chunks=(2, 3)))
        g = np.sum(x).to(x)
    assert g.value.chunks == ((2, 2, 2, 2), (3, 3))


class _LargestResult(Callback):
    """The most elements any task's result held."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.largest = max(self.largest, int(numpy.prod(getattr(result, "shape", ()))))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_recorded_sweeps_keep_reduction_cotangents_chunked(reduction):
    # A Hessian is a recorded sweep: a reduction's cotangent broadcast back over
    # 1000 rows must come in the rows' chunks, not as one task of 1000 elements.
    X = da.from_array(numpy.linspace(-1.0, 1.0, 3000).reshape(1000, 3), chunks=(100, 3))
    reduce = getattr(np, reduction)
    H = udiff.hessian(lambda w, X: reduce(np.logaddexp(0.0, X @ w)),
                      inner=udiff.dask_backend)(numpy.ones(3), X)
    with _LargestResult() as biggest:
        h = H.compute(scheduler="sync")
    assert biggest.largest <= 300, biggest.largest  # one (100, 3) block of X
    x = X.compute()
    p = 1.0 / (1.0 + numpy.exp(-x @ numpy.ones(3)))
    scale = 1000 if reduction == "mean" else 1
    numpy.testing.assert_allclose(h, (x.T * (p * (1 - p))) @ x / scale, rtol=1e-10)


# -- bad input ----------------------------------------------------------------------


def test_misaligned_chunks_are_rechunked():
    with ua.set_backend(DASK, coerce=True):
        x = np.asarray(da.from_array(A, chunks=(2, 3)))
        z = np.asarray(da.from_array(A[::-1] * 2.0, chunks=(5, 2)))
        b = np.asarray(da.from_array(B, chunks=(4,)))
        y = np.sum(np.sin(x * z + b))
        gx, gz, gb = y.to([x, z, b])
    c = numpy.cos(A * A[::-1] * 2.0 + B)
    got = dask.compute(gx.value, gz.value, gb.value)
    _close(got[0], c * A[::-1] * 2.0)
    _close(got[1], c * A)
    _close(got[2], c.sum(axis=0))
    for g in (gx, gz):
        assert all(len(c) > 1 for c in g.value.chunks)


def _correct_or_clear(make, expected, words):
    """Either the gradient is right, or the error names what is wrong."""
    try:
        got = make()
    except Exception as err:  # noqa: BLE001 - any clear error is acceptable
        text = str(err).lower()
        assert any(w in text for w in words), f"unclear error {type(err).__name__}: {err}"
        return
    _close(numpy.asarray(got.value.compute()), expected)


def test_boolean_index_with_dask_mask():
    # x[x > 0] with a Dask mask: unknown chunk sizes on the result.
    def make():
        with ua.set_backend(DASK, coerce=True):
            x = np.asarray(da.from_array(A, chunks=(2, 3)))
            s = x[x > 0]
            return np.sum(s * s).to(x)

    _correct_or_clear(make, numpy.where(A > 0, 2 * A, 0.0), ("unknown", "chunk size", "compute"))


def test_boolean_index_with_numpy_mask():
    # Dask gives unknown chunk sizes even for a NumPy boolean mask.
    def make():
        with ua.set_backend(DASK, coerce=True):
            x = np.asarray(da.from_array(A, chunks=(2, 3)))
            s = x[A > 0]
            return np.sum(s * s).to(x)

    _correct_or_clear(make, numpy.where(A > 0, 2 * A, 0.0), ("unknown", "chunk size"))


def test_variable_with_unknown_chunk_sizes():
    xd = da.from_array(A, chunks=(2, 3))

    def make():
        with ua.set_backend(DASK, coerce=True):
            x = np.asarray(xd[xd > 0])
            return np.sum(x * x).to(x)

    _correct_or_clear(make, 2 * A[A > 0], ("unknown", "chunk size"))


def test_variable_with_computed_chunk_sizes():
    # The documented workaround: compute_chunk_sizes() first.
    xd = da.from_array(A, chunks=(2, 3))
    with ua.set_backend(DASK, coerce=True):
        x = np.asarray(xd[xd > 0].compute_chunk_sizes())
        g = np.sum(x * x).to(x)
    _close(g.value.compute(), 2 * A[A > 0])


def test_constant_with_unknown_chunk_sizes():
    xd = da.from_array(A, chunks=(2, 3))
    with ua.set_backend(DASK, coerce=True):
        x = np.asarray(xd)
        y = np.sum(x) * np.sum(np.asarray(xd[xd > 0]))
        g = y.to(x)
    _close(g.value.compute(), numpy.full(A.shape, A[A > 0].sum()))


# -- 2. dask.distributed --------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


DISTRIBUTED_CASES = ["logistic", "least_squares", "max_axis0", "std_axis1", "prod_axis1",
                     "matmul_chain", "broadcast_mul_log", "transpose_slice", "min_keepdims"]


def test_gradients_on_a_local_cluster(client):
    # Build every graph first (lazily), then compute them all on the cluster's
    # worker processes: every function a rule put in a graph is pickled.
    built = {name: _dask_run(CASES[name]) for name in DISTRIBUTED_CASES}
    futures = client.compute(
        {name: (y.value, *(g.value for g in grads)) for name, (y, grads) in built.items()}
    )
    results = client.gather(futures)
    assert len(client.scheduler_info()["workers"]) == 2
    for name in DISTRIBUTED_CASES:
        for got, want in zip(results[name], _numpy_reference(CASES[name])):
            _close(got, want)


def test_functional_api_on_a_local_cluster(client):
    x, w, b = _inputs()
    value, grads = udiff.value_and_grad(_logistic, argnums=(0, 1, 2), inner=udiff.dask_backend)(
        x, w, b
    )
    # dask.compute uses the client, the default scheduler once it exists.
    computed = dask.compute(value, *grads)
    for got, want in zip(computed, _numpy_reference(_logistic)):
        _close(got, want)


# -- 3. the example and the benchmark, at a tiny size ------------------------------------


def _load(relpath):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_out_of_core_example_learns(capsys):
    w = _load("examples/out_of_core.py").main(["--rows", "20000", "--chunk-rows", "5000"])
    w_true = numpy.linspace(-1.0, 1.0, 16)
    assert w @ w_true / (numpy.linalg.norm(w) * numpy.linalg.norm(w_true)) > 0.95
    assert "step 4" in capsys.readouterr().out


def test_benchmark_runs(capsys):
    results = _load("benchmarks/bench_dask.py").main(
        ["--rows", "8000", "--chunk-rows", "2000", "--steps", "1"]
    )
    assert {r["model"] for r in results} == {"logistic", "least_squares"}
    for r in results:
        assert r["task_ratio"] <= 3.0
    assert "| logistic |" in capsys.readouterr().out
