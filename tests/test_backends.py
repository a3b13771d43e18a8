"""Inner backends on their own, Dask graphs off the calling thread, and warnings."""
import pickle
import warnings

import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
from conftest import chunked, compute

pytestmark = pytest.mark.filterwarnings("ignore:uarray.skip_backend:DeprecationWarning")

A = numpy.array([[0.3, -1.2, 0.8, 2.5], [1.5, 0.1, -0.4, 0.0], [-2.0, 0.7, 0.7, 1.1]])


def _quiet_context(backend, **kwargs):
    # uarray 0.9 warns about itself on each set_backend call (not about udiff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ua.set_backend(backend, **kwargs)


OPERATIONS = {
    "sin": (lambda x: np.sin(x), lambda a: numpy.sin(a)),
    "exp_minus": (lambda x: np.exp(x) - x, lambda a: numpy.exp(a) - a),
    "maximum": (lambda x: np.maximum(x, 0.5), lambda a: numpy.maximum(a, 0.5)),
    "power": (lambda x: np.power(x, 2), lambda a: a**2),
    "arctan2": (lambda x: np.arctan2(x, x.T.T + 1.0), lambda a: numpy.arctan2(a, a + 1.0)),
    "sum": (lambda x: np.sum(x), lambda a: numpy.sum(a)),
    "sum_axis0": (lambda x: np.sum(x, axis=0), lambda a: a.sum(0)),
    "prod_axis1": (lambda x: np.prod(x, axis=1), lambda a: a.prod(1)),
    "max_axis1_keepdims": (lambda x: np.max(x, axis=1, keepdims=True), lambda a: a.max(1, keepdims=True)),
    "min": (lambda x: np.min(x), lambda a: a.min()),
    "add_reduce": (lambda x: np.add.reduce(x, axis=1), lambda a: numpy.add.reduce(a, axis=1)),
    "cumsum_accumulate": (lambda x: np.add.accumulate(x, axis=0), lambda a: numpy.add.accumulate(a, axis=0)),
    "sort_axis0": (lambda x: np.sort(x, axis=0), lambda a: numpy.sort(a, axis=0)),
    "sort_axis_last": (lambda x: np.sort(x, axis=-1), lambda a: numpy.sort(a, axis=-1)),
    "argsort_axis1": (lambda x: np.argsort(x, axis=1, kind="stable"), lambda a: numpy.argsort(a, axis=1, kind="stable")),
    "matmul": (lambda x: np.matmul(x, x.T), lambda a: a @ a.T),
    "where": (lambda x: np.where(x > 0, x, -x), lambda a: numpy.where(a > 0, a, -a)),
    "transpose_reshape": (lambda x: np.reshape(np.transpose(x), (12,)), lambda a: a.T.reshape(12)),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_dask_backend_directly(name):
    import dask.array as da

    op, reference = OPERATIONS[name]
    x = chunked(A, udiff.dask_backend)
    assert x.numblocks == (2, 2)
    with _quiet_context(udiff.dask_backend, coerce=True):
        out = op(x)
    assert isinstance(out, da.Array), type(out)  # lazy, never a NumPy array
    numpy.testing.assert_allclose(out.compute(), reference(A), rtol=1e-14)


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_numpy_backend_directly(name):
    op, reference = OPERATIONS[name]
    with _quiet_context(udiff.numpy_backend, coerce=True):
        out = op(A)
    assert isinstance(out, (numpy.ndarray, numpy.generic))
    numpy.testing.assert_allclose(out, reference(A), rtol=1e-14)


def test_dask_backend_coerces_numpy_inputs():
    import dask.array as da

    with _quiet_context(udiff.dask_backend, coerce=True):
        out = np.sin(A)
    assert isinstance(out, da.Array)
    numpy.testing.assert_allclose(out.compute(), numpy.sin(A))


def test_missing_function_named_directly():
    x = chunked(numpy.array([3.0, 1.0, 2.0, 0.5]), udiff.dask_backend)
    with _quiet_context(udiff.dask_backend, coerce=True):
        with pytest.raises(ua.BackendNotImplementedError, match=r"lexsort.*dask"):
            np.lexsort(x)


def test_missing_function_named_under_diffarraybackend():
    x = chunked(numpy.array([3.0, 1.0, 2.0, 0.5]), udiff.dask_backend)
    with _quiet_context(udiff.DiffArrayBackend(udiff.dask_backend), coerce=True):
        v = np.asarray(x)
        with pytest.raises(NotImplementedError, match=r"lexsort.*dask inner backend"):
            np.lexsort(v)


def test_backends_pickle_as_singletons():
    for backend in (udiff.numpy_backend, udiff.dask_backend, udiff.cupy_backend):
        assert pickle.loads(pickle.dumps(backend)) is backend
        assert repr(backend) == f"udiff.{backend.name}_backend"


def _loss(x, w):
    h = np.tanh(np.matmul(x, w))
    return np.sum(np.maximum(h, 0.0) * h) + np.sum(np.exp(x[0]) * x[:, 1:2]) + np.max(np.sum(h, axis=0))


def _fixture_data():
    rng = numpy.random.default_rng(3)
    return rng.normal(size=(4, 3)), rng.normal(size=(3, 5))


def test_dask_gradient_on_processes_scheduler():
    import dask

    xa, wa = _fixture_data()
    expected = udiff.grad(_loss, argnums=(0, 1))(xa, wa)
    gx, gw = udiff.grad(_loss, argnums=(0, 1), inner=udiff.dask_backend)(
        chunked(xa, udiff.dask_backend), chunked(wa, udiff.dask_backend)
    )
    # The graph pickles (what the processes scheduler needs) and computes the same.
    gx2, gw2 = pickle.loads(pickle.dumps((gx, gw)))
    numpy.testing.assert_allclose(gx2.compute(scheduler="sync"), expected[0], rtol=1e-12)
    # Worker processes have no uarray backend state: tasks must not need it.
    rx, rw = dask.compute(gx, gw, scheduler="processes", num_workers=2)
    numpy.testing.assert_allclose(rx, expected[0], rtol=1e-12)
    numpy.testing.assert_allclose(rw, expected[1], rtol=1e-12)


def test_dask_gradient_on_a_fresh_thread():
    import threading

    xa, wa = _fixture_data()
    expected = udiff.grad(_loss)(xa, wa)
    g = udiff.grad(_loss, inner=udiff.dask_backend)(chunked(xa, udiff.dask_backend), wa)
    out = {}
    thread = threading.Thread(target=lambda: out.setdefault("g", g.compute(scheduler="threads")))
    thread.start()
    thread.join()
    numpy.testing.assert_allclose(out["g"], expected, rtol=1e-12)


# -- CuPy -----------------------------------------------------------------------------------


def test_cupy_backend_missing_is_a_clear_error():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("CuPy is installed")
    with pytest.raises(ImportError, match="CuPy"):
        udiff.cupy_backend.array_types


def test_cupy_backend_gradient():
    cupy = pytest.importorskip("cupy")
    a = numpy.array([[0.5, 1.0], [1.5, -2.0]])
    with _quiet_context(udiff.DiffArrayBackend(udiff.cupy_backend), coerce=True):
        x = np.asarray(cupy.asarray(a))
        y = np.sum(np.sin(x) * x)
        g = y.to(x)
    assert isinstance(g.value, cupy.ndarray)
    numpy.testing.assert_allclose(cupy.asnumpy(g.value), numpy.cos(a) * a + numpy.sin(a))
    h = udiff.hessian(lambda x: np.sum(np.sort(x, axis=1) ** 3), inner=udiff.cupy_backend)(cupy.asarray(a))
    numpy.testing.assert_allclose(cupy.asnumpy(h).reshape(4, 4), numpy.diag(6 * a.ravel()))


def test_cupy_backend_directly():
    cupy = pytest.importorskip("cupy")
    with _quiet_context(udiff.cupy_backend, coerce=True):
        out = np.sum(np.exp(cupy.asarray(A)), axis=0)
    assert isinstance(out, cupy.ndarray)
    numpy.testing.assert_allclose(cupy.asnumpy(out), numpy.exp(A).sum(0))


# -- 8. no warnings leak ----------------------------------------------------------------------


def test_no_warnings_from_udiff(inner):
    xa, wa = _fixture_data()
    x, w = chunked(xa, inner), chunked(wa, inner)
    context = _quiet_context(udiff.DiffArrayBackend(inner), coerce=True)  # built before the filter
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with context:
            xv, wv = np.asarray(x), np.asarray(w)
            loss = _loss(xv, wv)
            gx, gw = loss.to([xv, wv])
            g2 = loss.to(xv, create_graph=True)
            g2.to(wv)
            np.tanh(xv).to(xv, jacobian=True)
            repr(loss)
        udiff.grad(_loss, argnums=(0, 1), inner=inner)(x, w)
        udiff.value_and_grad(_loss, inner=inner)(x, w)
        udiff.hessian(_loss, argnums=1, inner=inner)(x, w)
        udiff.jacfwd(lambda x: np.tanh(x) * 2.0, inner=inner)(x)
        udiff.jvp(lambda x: np.sum(x, axis=0), (x,), (x,), inner=inner)
        udiff.hvp(lambda w: _loss(x, w), (w,), (w,), inner=inner)
        results = [compute(gx), compute(gw)]
    expected = udiff.grad(_loss, argnums=(0, 1))(xa, wa)
    for r, e in zip(results, expected):
        numpy.testing.assert_allclose(r, e, rtol=1e-12)


# -- any other uarray backend of the numpy domain ------------------------------------------
class _PlainNumPy:
    """A third-party uarray backend udiff knows nothing about."""

    __ua_domain__ = "numpy"

    @staticmethod
    def __ua_convert__(dispatchables, coerce):
        return [numpy.asarray(d.value) if d.type is np.ndarray and d.value is not None
                else d.value for d in dispatchables]

    @staticmethod
    def __ua_function__(method, args, kwargs):
        # udiff's multimethods are NumPy's names in NumPy's modules: "sin" in
        # "numpy", "inv" in "numpy.linalg", "reduce" in "numpy.add".
        owner = numpy
        for part in method.domain.split(".")[1:]:
            owner = getattr(owner, part)
        func = getattr(owner, method.__name__, None)
        return NotImplemented if func is None else func(*args, **kwargs)


def test_foreign_uarray_backend_as_inner():
    foreign = _PlainNumPy()
    assert udiff.backends.inner_of(foreign) is udiff.backends.inner_of(foreign)  # wrapped once
    x = numpy.array([[0.5, 1.0], [2.0, 3.0]])
    f = lambda x: np.sum(np.sin(x) * x, axis=0) + np.add.reduce(x)  # noqa: E731
    d = numpy.sin(x) + x * numpy.cos(x) + 1.0
    expected = numpy.zeros((2, 2, 2))
    for j in range(2):
        expected[j, :, j] = d[:, j]
    for mode in ("vjp", "jvp"):
        with ua.set_backend(udiff.DiffArrayBackend(foreign, mode), coerce=True):
            v = np.asarray(x)
            y = f(v)
            numpy.testing.assert_allclose(compute(y), numpy.sum(numpy.sin(x) * x, axis=0) + x.sum(0))
            numpy.testing.assert_allclose(compute(y.to(v, jacobian=True)), expected)
    numpy.testing.assert_allclose(udiff.grad(lambda x: np.sum(f(x)), inner=foreign)(x), d)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atleast_nd_shapes_match_numpy(inner, n):
    # unumpy 0.6.1 turned atleast_1d(v) into atleast_1d((v,)): a (1, k) matrix.
    mm = getattr(np, f"atleast_{n}d")
    ref = getattr(numpy, f"atleast_{n}d")
    arrays = [numpy.float64(2.0), numpy.arange(3.0), numpy.ones((2, 3))]
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        values = [np.asarray(chunked(a, inner)) for a in arrays]
        for a, v in zip(arrays, values):
            numpy.testing.assert_array_equal(compute(mm(v)), ref(a))
        for got, want in zip(mm(*values), ref(*arrays)):
            numpy.testing.assert_array_equal(compute(got), want)


@pytest.mark.parametrize("name, args, kwargs", [
    ("vecdot", [(4, 3), (4, 3)], dict(axis=0)),
    ("matvec", [(3, 4), (4,)], {}),
    ("vecmat", [(4,), (4, 3)], {}),
])
def test_dask_generalized_ufuncs_on_chunked_core_axes(name, args, kwargs):
    # NumPy's gufuncs on Dask need one chunk per core axis: udiff runs its own versions.
    rng = numpy.random.default_rng(0)
    arrays = [rng.normal(size=s) + 1j * rng.normal(size=s) for s in args]
    with ua.set_backend(udiff.dask_backend, coerce=True):
        got = getattr(np, name)(*[chunked(a, udiff.dask_backend) for a in arrays], **kwargs)
    numpy.testing.assert_allclose(compute(got), getattr(numpy, name)(*arrays, **kwargs))


# Every way NumPy takes a reshape's shape (issue 18: Dask's reshape failed on an integer).
RESHAPE_SHAPES = [-1, 12, (12,), (-1,), (3, -1), (2, 3, 2), [4, 3], (1, 12, 1),
                  numpy.int64(12), numpy.array(-1), numpy.array(12), numpy.array([6, 2]),
                  (numpy.array(3), -1), (numpy.int64(2), numpy.int32(-1))]


@pytest.mark.parametrize("shape", RESHAPE_SHAPES, ids=[repr(s) for s in RESHAPE_SHAPES])
@pytest.mark.parametrize("how", ["function", "method", "differentiated"])
def test_reshape_takes_every_shape_numpy_does(inner, shape, how):
    want = numpy.reshape(A, shape)
    if how == "function":  # the inner backend alone
        with _quiet_context(inner, coerce=True):
            got = np.reshape(chunked(A, inner), shape)
        numpy.testing.assert_array_equal(compute(got), want)
        return
    backend = udiff.DiffArrayBackend(inner)
    with _quiet_context(backend, coerce=True):
        x = udiff.DiffArray(chunked(A, inner), backend)
        y = x.reshape(shape) if how == "method" else np.reshape(x, shape)
        numpy.testing.assert_array_equal(compute(y), want)
        w = numpy.arange(want.size, dtype=float).reshape(want.shape)
        g = np.sum(y * w).to(x)
    numpy.testing.assert_array_equal(compute(g), w.reshape(A.shape))


@pytest.mark.parametrize("shape", [(12,), (-1,), (3, -1), (numpy.array(2), 3, -1)])
def test_reshape_method_takes_separate_integers(inner, shape):
    backend = udiff.DiffArrayBackend(inner)
    with _quiet_context(backend, coerce=True):
        x = udiff.DiffArray(chunked(A, inner), backend)
        got = x.reshape(*shape)
    numpy.testing.assert_array_equal(compute(got), A.reshape(*shape))


def test_reshape_under_grad_on_dask():
    x = chunked(A, udiff.dask_backend)
    g = udiff.grad(lambda a: np.sum(np.reshape(a, -1) ** 2), inner=udiff.dask_backend)(x)
    numpy.testing.assert_allclose(compute(g), 2 * A)
