"""Indexing at its edges, on NumPy and on Dask split into several chunks per axis.

``INDEX_CASES`` holds index expressions of every kind NumPy accepts: slices
with every sign of start, stop and step, steps above 1, bounds out of range,
empty selections, ``None``, Ellipsis, integers, integer arrays (empty,
repeated, negative, multi-dimensional), boolean masks and scalars, and
mixtures of advanced and basic entries, on inputs that are 0-d, have size-1
or size-0 axes, or are 1-D to 3-D.  Each is checked for its value, shape and
dtype against NumPy's, for its exact Jacobian (a 0/1 matrix) in both modes,
and with :func:`udiff.testing.check_grads` in both modes to order 2.  The
functional updates ``x.at[i]`` and the functions built on indexing (``flip``,
``take``, ``take_along_axis``, ``roll``, ``compress``, ``diagonal``) are
checked the same way on size-0 and multi-chunk inputs.
"""
import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff.testing import check_grads

from conftest import chunked, compute

E = numpy.array([], dtype=int)
B = numpy.array


def _slice_grid(n):
    """Slices of an axis of length ``n``: start and stop absent, inside from either
    end or out of range on either side; steps 1, 2, -1 and -3."""
    ends = [None, 1, -2, n + 2, -n - 2]
    return [slice(start, stop, step) for start in ends for stop in ends
            for step in [None, 2, -1, -3]]


# (shape, index); shapes with 0 are size-0 inputs.
INDEX_CASES = (
    [((5,), s) for s in _slice_grid(5)]
    + [((3, 4), (slice(None), s)) for s in _slice_grid(4)[::3]]
    + [
        # 0-d inputs
        ((), ()), ((), None), ((), Ellipsis), ((), (None, Ellipsis)), ((), (Ellipsis, None)),
        ((), True), ((), False), ((), (None, True)),
        # integers
        ((5,), 0), ((5,), -1), ((5,), numpy.int64(3)), ((5,), B(2)), ((3, 4), (1, -1)),
        ((3, 4), -3), ((2, 3, 4), (1, ..., -2)), ((2, 3, 4), (-1, slice(None, None, -2), 0)),
        ((1, 4), (0, slice(None, None, -1))), ((2, 4, 1), (0, slice(None, None, -1))),
        ((2, 4), (0, slice(None, None, -1))),
        # empty selections and size-0 inputs
        ((2, 4), slice(1, 1)), ((2, 4), slice(5, None)), ((2, 4), (slice(None), slice(3, 0))),
        ((0,), slice(None)), ((0,), slice(None, None, -1)), ((0, 2), slice(1, None)),
        ((0, 2), slice(None, None, -1)), ((0, 2), (slice(None), 1)), ((2, 0), (1, slice(None))),
        ((3, 0, 2), (slice(None, None, -2), slice(None), 1)), ((0, 2), (Ellipsis, None)),
        ((2, 4), (slice(None), E)), ((2, 4), E), ((2, 4), (E, E)), ((0, 2), (slice(None), E)),
        ((0, 3), (E, slice(None, None, -1))), ((0, 3), (slice(None), B([0, 2]))),
        ((3,), []), ((3, 2), (E, 1)),
        # size-1 axes
        ((1,), 0), ((1,), slice(None, None, -1)), ((1, 3), (slice(None), B([2, 2, 0]))),
        ((3, 1), (B([0, 0]), 0)), ((1, 1, 1), (0, ..., None, 0)),
        # None and Ellipsis
        ((3, 4), (None, slice(1, None), None)), ((3, 4), (Ellipsis, None)),
        ((3, 4), (None, Ellipsis, 2)), ((2, 3, 4), (Ellipsis, slice(None, None, -1), None)),
        ((2, 3, 4), (1, None, Ellipsis, None)), ((2, 3, 4), (Ellipsis,)),
        ((3, 4), (slice(None), None, slice(None, None, -2))),
        # integer arrays
        ((5,), B([0, 3, 3, 1])), ((5,), B([-1, -5, 2])), ((5,), [4, 4, 4]),
        ((5,), B([[0, 1], [4, -1]])), ((3, 4), B([2, 0])), ((3, 4), (slice(None), B([-1, 0, -1]))),
        ((3, 4), (B([0, 2, 2]), B([1, 0, 1]))), ((3, 4), (B([[0], [2]]), B([[1, 3]]))),
        ((3, 4), (B([[0, 1], [2, 2]]), slice(None, None, -1))),
        ((2, 3, 4), (slice(None), B([0, 2]), B([1, 3]))),
        ((2, 3, 4), (B([0, 1]), slice(None), B([1, 3]))),
        ((2, 3, 4), (0, slice(None), B([1, 3]))),
        ((2, 3, 4), (B([1, 0]), Ellipsis, 1)),
        ((2, 3, 4), (slice(None), 1, B([[0, 3], [2, 2]]))),
        ((2, 3, 4), (B([1]), None, B([0, 2]))),
        ((2, 3, 4), (None, B([1, 1]), slice(1, None), B([0, 2]))),
        ((2, 3, 4), (slice(None, None, -1), B([2, 0]), slice(None, None, 2))),
        ((2, 3, 4), (B([[1]]), slice(None), slice(None), None)),
        ((2, 3, 4), (slice(None), B([0, 2]), None)),
        # boolean masks and scalars (constants: the result's shape is known)
        ((3,), B([True, False, True])), ((3, 4), B([False, True, True])),
        ((3, 4), (slice(None), B([True, False, False, True]))),
        ((3, 4), B([[True, False, True, False]] * 3)), ((3, 4), B([[False] * 4] * 3)),
        ((2, 3, 4), (B([True, False]), slice(None), B([1, 2]))),
        ((2, 3, 4), (slice(None), B([[True, False, True, False]] * 3))),
        ((3, 4), True), ((3, 4), False), ((3, 4), (slice(None), True, B([1]))),
        ((3, 4), (0, True)), ((0, 2), B([], dtype=bool)),
    ]
)


def _id(case):
    shape, index = case
    return f"{shape}-{_index_repr(index)}"


def _index_repr(index):
    if isinstance(index, tuple):
        return "(" + ",".join(map(_index_repr, index)) + ")"
    if isinstance(index, slice):
        return ":".join("" if v is None else str(v) for v in (index.start, index.stop, index.step))
    if isinstance(index, numpy.ndarray):
        return f"a{index.tolist()}".replace(" ", "")
    return repr(index).replace(" ", "")


def _point(shape, dtype=numpy.float64):
    """Distinct values, so that a misplaced entry shows."""
    size = int(numpy.prod(shape, dtype=int))
    return (numpy.arange(size) * 0.5 - 1.0).astype(dtype).reshape(shape)


@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def _trace(f, args, inner, mode="vjp"):
    """``(y, xs)``: ``f`` run on DiffArrays of ``args`` (the floating ones) on ``inner``."""
    backend = udiff.DiffArrayBackend(inner, mode)
    xs = [udiff.DiffArray(chunked(a, inner), backend) if a.dtype.kind == "f" else a for a in args]
    with ua.set_backend(backend, coerce=True):
        return f(*xs), xs


def _exact_jacobian(shape, index):
    """d x[index] / d x: row by row, the one-hot inputs indexed by NumPy."""
    size = int(numpy.prod(shape, dtype=int))
    out_shape = numpy.zeros(shape)[index].shape
    if size == 0:
        return numpy.zeros(out_shape + shape)
    columns = [numpy.eye(size)[k].reshape(shape)[index] for k in range(size)]
    return numpy.stack(columns, axis=-1).reshape(out_shape + shape)


@pytest.mark.parametrize("case", INDEX_CASES, ids=map(_id, INDEX_CASES))
def test_index_value(case, inner):
    shape, index = case
    for dtype in (numpy.float64, numpy.float32):
        x = _point(shape, dtype)
        y, _ = _trace(lambda z: z[index], [x], inner)
        expected = x[index]
        assert y.shape == expected.shape and y.dtype == expected.dtype
        numpy.testing.assert_array_equal(compute(y), expected)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("case", INDEX_CASES, ids=map(_id, INDEX_CASES))
def test_index_jacobian(case, mode, inner):
    shape, index = case
    y, (x,) = _trace(lambda z: z[index], [_point(shape, numpy.float32)], inner, mode)
    jac = y.to(x, jacobian=True)
    assert jac.dtype == numpy.float32
    numpy.testing.assert_array_equal(compute(jac), _exact_jacobian(shape, index))


@pytest.mark.parametrize("case", INDEX_CASES, ids=map(_id, INDEX_CASES))
def test_index_grads(case, inner):
    shape, index = case
    check_grads(lambda z: z[index] * z[index], [chunked(_point(shape), inner)], inner=inner)


@pytest.mark.parametrize("case", INDEX_CASES, ids=map(_id, INDEX_CASES))
def test_index_hessian(case, inner):
    """Second derivatives with batch axes (Jacobian sweeps over recorded gradients):
    the Hessian of ``sum(x[index] ** 3)`` is ``J^T diag(6 x[index]) J``."""
    shape, index = case
    x = _point(shape)
    f = lambda z: np.sum(z[index] ** 3)  # noqa: E731
    jac = _exact_jacobian(shape, index).reshape(x[index].size, x.size)
    expected = (jac.T * 6 * x[index].ravel()) @ jac
    forward_over_reverse = udiff.hessian(f, inner=inner)(chunked(x, inner))
    grad = udiff.grad(f, inner=inner)
    reverse_over_reverse = udiff.jacobian(grad, inner=inner)(chunked(x, inner))
    for hess in (forward_over_reverse, reverse_over_reverse):
        numpy.testing.assert_allclose(compute(hess).reshape(x.size, x.size), expected, atol=1e-12)


# A 1-D integer Dask array as the index (argsort's result, say): lazy, never computed
# to build the graph; the other entries basic.  LAZY stands for it.
LAZY = numpy.array([3, -1, 0, 3])
LAZY_CASES = [
    ((2, 3, 4), (slice(None), slice(None), LAZY)), ((2, 3, 4), (0, slice(None), LAZY)),
    ((2, 3, 4), (1, LAZY[1:3])), ((2, 3, 4), (Ellipsis, None, LAZY)),
    ((2, 3, 4), (slice(None, None, -1), 1, LAZY)), ((5,), LAZY), ((5,), LAZY[:0]),
    ((0, 4), (slice(None), LAZY)),
]


def _lazy(index):
    import dask.array as da

    if isinstance(index, tuple):
        return tuple(_lazy(i) for i in index)
    return da.from_array(index, chunks=2) if isinstance(index, numpy.ndarray) else index


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("case", LAZY_CASES, ids=map(_id, LAZY_CASES))
def test_index_with_dask_array(case, mode):
    shape, index = case
    x, inner = _point(shape), udiff.dask_backend
    y, (z,) = _trace(lambda z: z[_lazy(index)], [x], inner, mode)
    assert y.shape == x[index].shape
    numpy.testing.assert_array_equal(compute(y), x[index])
    numpy.testing.assert_array_equal(compute(y.to(z, jacobian=True)), _exact_jacobian(shape, index))
    check_grads(lambda z: z[_lazy(index)] ** 2, [chunked(x, inner)], inner=inner)


def test_index_errors_match_numpy(inner):
    x = _point((3, 4))
    for index in [(0, 0, 0), 3, (slice(None), B([4])), B([True, False]), (B([-4]),), 1.5]:
        with pytest.raises(IndexError):
            x[index]
        with pytest.raises(IndexError):
            _trace(lambda z: z[index], [x], inner)


# -- x.at[index] updates ------------------------------------------------------------------------
AT_CASES = [
    ((5,), slice(None, None, -1)), ((5,), slice(4, 0, -2)), ((5,), slice(7, None)),
    ((3, 4), (0, slice(None, None, -1))), ((3, 4), (slice(None), B([3, 0]))),
    ((3, 4), (B([0, 2]), B([1, 1]))), ((3, 4), B([[True, False, True, False]] * 3)),
    ((3, 4), (Ellipsis, None, 2)), ((2, 3, 4), (B([0, 1]), slice(None), B([1, 3]))),
    ((0, 2), slice(None)), ((2, 4), (slice(None), E)), ((), ()),
]
AT_REPEATED = [((5,), B([1, 1, 4])), ((3, 4), (B([0, 0]), slice(None, None, -1)))]
AT_OPS = {"set": None, "add": numpy.add, "multiply": numpy.multiply, "divide": numpy.divide,
          "power": numpy.power, "min": numpy.minimum, "max": numpy.maximum}
AT_ALL = [(case, op) for case in AT_CASES for op in AT_OPS] + [
    (case, "add") for case in AT_REPEATED]


def _numpy_at(op, x, index, v):
    out = x.copy()
    if op == "set":
        out[index] = v
    else:
        AT_OPS[op].at(out, index, v)
    return out


@pytest.mark.parametrize("case, op", AT_ALL, ids=[f"{_id(c)}-{op}" for c, op in AT_ALL])
def test_at(case, op, inner):
    shape, index = case
    x = _point(shape)
    v = 0.75 - _point(x[index].shape)  # never equal to an entry of x: min and max have no ties
    if op == "power":
        x = numpy.asarray(numpy.abs(x) + 0.5)
    f = lambda z, w: getattr(z.at[index], op)(w) * (z + 1.0)  # noqa: E731
    y, _ = _trace(f, [x, v], inner)
    expected = _numpy_at(op, x, index, v) * (x + 1.0)
    assert y.shape == expected.shape
    numpy.testing.assert_allclose(compute(y), expected)
    check_grads(f, [chunked(x, inner), chunked(v, inner)], inner=inner)


@pytest.mark.parametrize("op", list(AT_OPS))
def test_at_keeps_dtype(op, inner):
    """As NumPy's ``x[i] = v`` and JAX's ``x.at[i].set(v)``: the result has ``x``'s dtype."""
    x = numpy.abs(_point((4,), numpy.float32)) + 0.5
    y, (z,) = _trace(lambda z: getattr(z.at[1:3], op)(numpy.float64(2.0)), [x], inner)
    assert y.dtype == numpy.float32
    assert y.to(z, grad_variables=numpy.ones(4, numpy.float32)).dtype == numpy.float32
    numpy.testing.assert_allclose(compute(y), _numpy_at(op, x, slice(1, 3), 2.0), rtol=1e-6)


def test_at_broadcasts_values(inner):
    x = _point((3, 4))
    f = lambda z, w: z.at[:, ::-2].set(w) * z  # noqa: E731
    y, _ = _trace(f, [x, B([7.0, 8.0])], inner)
    expected = x.copy()
    expected[:, ::-2] = [7.0, 8.0]
    numpy.testing.assert_allclose(compute(y), expected * x)
    check_grads(f, [chunked(x, inner), chunked(B([7.0, 8.0]), inner)], inner=inner)


@pytest.mark.parametrize("op", [op for op in AT_OPS if op != "add"])
def test_at_repeated_is_refused(op, inner):
    with pytest.raises(ValueError, match="repeated"):
        _trace(lambda z: getattr(z.at[B([1, 1])], op)(2.0), [_point((3,))], inner)


# -- functions built on indexing ----------------------------------------------------------------
FUNCTION_CASES = [
    ("flip", lambda m, z: m.flip(z), (0, 2)), ("flip0", lambda m, z: m.flip(z, 0), (3, 4)),
    ("flip_axes", lambda m, z: m.flip(z, (0, 2)), (2, 3, 4)),
    ("flip_size0", lambda m, z: m.flip(z, 1), (2, 0)),
    ("fliplr", lambda m, z: m.fliplr(z), (3, 4)),
    ("flipud_size0", lambda m, z: m.flipud(z), (0, 3)),
    ("take", lambda m, z: m.take(z, [3, 0, 3], axis=1), (3, 4)),
    ("take_flat", lambda m, z: m.take(z, B([[5, -1], [0, 0]])), (3, 4)),
    ("take_empty", lambda m, z: m.take(z, E, axis=0), (3, 4)),
    ("take_size0", lambda m, z: m.take(z, E, axis=0), (0, 2)),
    ("take_size0_other", lambda m, z: m.take(z, [1, 0], axis=1), (0, 2)),
    ("take_wrap", lambda m, z: m.take(z, [5, -7], axis=0, mode="wrap"), (3, 2)),
    ("take_clip", lambda m, z: m.take(z, [5, -7], axis=1, mode="clip"), (3, 2)),
    ("take_along_axis", lambda m, z: m.take_along_axis(z, B([[2, 0], [1, 1], [0, 2]]), 1), (3, 3)),
    ("take_along_axis0", lambda m, z: m.take_along_axis(z, B([[2, 0, 0, 1]]), 0), (3, 4)),
    ("take_along_axis_size0", lambda m, z: m.take_along_axis(z, E.reshape(0, 1), 0), (0, 2)),
    ("take_along_axis_empty", lambda m, z: m.take_along_axis(z, E.reshape(3, 0), 1), (3, 4)),
    ("roll", lambda m, z: m.roll(z, -3, axis=1), (3, 4)),
    ("roll_flat", lambda m, z: m.roll(z, 5), (3, 4)),
    ("roll_axes", lambda m, z: m.roll(z, (1, -1), axis=(0, 1)), (3, 4)),
    ("roll_size0", lambda m, z: m.roll(z, 1, axis=0), (0, 3)),
    ("roll_size0_other", lambda m, z: m.roll(z, 1, axis=1), (0, 3)),
    ("compress", lambda m, z: m.compress(B([True, False, True]), z, axis=0), (3, 4)),
    ("compress_none", lambda m, z: m.compress(B([False, True]), z), (3, 4)),
    ("compress_all_false", lambda m, z: m.compress(B([False, False]), z, axis=1), (3, 2)),
    ("compress_size0", lambda m, z: m.compress(B([True, True]), z, axis=1), (0, 2)),
    ("diagonal", lambda m, z: m.diagonal(z), (3, 4)),
    ("diagonal_offset", lambda m, z: m.diagonal(z, 2), (3, 4)),
    ("diagonal_neg", lambda m, z: m.diagonal(z, -2, 0, 2), (3, 2, 4)),
    ("diagonal_empty", lambda m, z: m.diagonal(z, 5), (3, 4)),
    ("diagonal_size0", lambda m, z: m.diagonal(z), (0, 3)),
]


@pytest.mark.parametrize("name, f, shape", FUNCTION_CASES, ids=[c[0] for c in FUNCTION_CASES])
def test_function(name, f, shape, inner):
    x = _point(shape)
    y, _ = _trace(lambda z: f(np, z), [x], inner)
    expected = f(numpy, x)
    assert y.shape == expected.shape and y.dtype == expected.dtype
    numpy.testing.assert_array_equal(compute(y), expected)
    check_grads(lambda z: f(np, z) * f(np, z), [chunked(x, inner)], inner=inner)
