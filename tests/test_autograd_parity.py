"""What HIPS/autograd's own tests use that udiff lacked (issue 18): arrays built from lists of
DiffArrays in both modes, functions called on such lists, ``r_``/``c_``, and the tests of
values and dtypes (``allclose``, ``isclose``, ``iscomplex``, ``isreal``, ``iscomplexobj``).
On NumPy and on Dask split into several chunks."""
import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff.testing import check_grads

from conftest import chunked, compute

A = numpy.array([0.3, -1.2, 0.8, 2.5])
B = numpy.array([1.5, 0.1, -0.4, 0.7])

# name: function of two arrays of shape (4,), built from lists holding DiffArrays
LISTS = {
    "array": lambda x, y: np.array([x, y * x]),
    "array_with_constants": lambda x, y: np.array([x, [1.0, 2.0, 3.0, 4.0], np.sin(y)]),
    "array_of_scalars": lambda x, y: np.array([[x[0], 1.0], (x[1] * y[2], 2.0)]),
    "asarray": lambda x, y: np.asarray([x[0], 3.0, y[1]]),
    "norm_of_a_list": lambda x, y: np.linalg.norm([x, x + 2.0]),
    "norm_of_a_list_of_scalars": lambda x, y: np.linalg.norm([x[0], y[1] + 2.0]),
    "sum_of_a_list": lambda x, y: np.sum([x, y * y], axis=0),
    "sin_of_a_list": lambda x, y: np.sin([x[0], 1.0, y[3]]),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_arrays_from_lists_of_diffarrays(name, inner):
    """``np.array([x, y])`` in forward mode failed ('list' object has no attribute 'dtype'),
    and ``np.linalg.norm([x, x + 2])`` in reverse mode."""
    fun = LISTS[name]
    args = [chunked(A, inner), chunked(B, inner)]
    check_grads(fun, args, modes=("fwd", "rev"), order=2, inner=inner)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_array_of_diffarrays_jacobian(mode, inner):
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(numpy.array([1.0, 2.0]), inner))
        y = np.array([x, x * 2.0, [3.0, 4.0]])
        jac = compute(y.to(x, jacobian=True))
    want = numpy.zeros((3, 2, 2))
    want[0] = numpy.eye(2)
    want[1] = 2 * numpy.eye(2)
    numpy.testing.assert_array_equal(jac, want)


def test_array_of_diffarrays_under_vmap():
    X = numpy.arange(6.0).reshape(3, 2)
    g = udiff.vmap(udiff.grad(lambda x: np.sum(np.array([x, x * 2.0]) ** 2)))(X)
    numpy.testing.assert_allclose(g, 10 * X)


@pytest.mark.parametrize("name", list(LISTS))
def test_lists_of_batched_arrays_under_vmap(name, inner):
    """Inside vmap a list of batched arrays is one array-like per example, as in NumPy (the
    rules took it for an array whose first axis was the list's: norm([x, x + 2]) gave one
    value per list entry, not per example)."""
    fun = LISTS[name]
    xs, ys = numpy.stack([A, A[::-1] * 2]), numpy.stack([B, B + 1.0])
    want = numpy.stack([numpy.asarray(fun(x, y)) for x, y in zip(xs, ys)])
    got = udiff.vmap(fun)(chunked(xs, inner), chunked(ys, inner))
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-12)
    grads = udiff.vmap(udiff.grad(lambda x, y: np.sum(fun(x, y)), inner=inner))(
        chunked(xs, inner), chunked(ys, inner))
    for x, y, g in zip(xs, ys, compute(grads)):
        numpy.testing.assert_allclose(g, udiff.grad(lambda x: np.sum(fun(x, y)))(x), rtol=1e-12)


# -- r_ and c_ -----------------------------------------------------------------------------------
CONCATENATORS = {
    "r_[x, y]": lambda np, x, y: np.r_[x, y],
    "r_[x, 0, y, 1:3]": lambda np, x, y: np.r_[x, 0, y, 1:3],
    "r_[x, -1:1:5j]": lambda np, x, y: np.r_[x, -1:1:5j],
    "r_[2.0, x * y]": lambda np, x, y: np.r_[2.0, x * y],
    "r_[[1, 2], x]": lambda np, x, y: np.r_[[1, 2], x],
    "r_['0,2', x, y]": lambda np, x, y: np.r_["0,2", x, y],
    "r_['1,2,0', x, y]": lambda np, x, y: np.r_["1,2,0", x, y],
    "r_['-1', rows]": lambda np, x, y: np.r_["-1", np.reshape(x, (2, 2)), np.reshape(y, (2, 2))],
    "c_[x, y]": lambda np, x, y: np.c_[x, y],
    "c_[x, sin(y), x * y]": lambda np, x, y: np.c_[x, np.sin(y), x * y],
    "c_[row, 0, 0, row]": lambda np, x, y: np.c_[np.reshape(x, (1, 4)), 0, 0,
                                                 np.reshape(y, (1, 4))],
}


@pytest.mark.parametrize("name", list(CONCATENATORS))
def test_r_and_c_match_numpy_and_differentiate(name, inner):
    fun = CONCATENATORS[name]
    want = fun(numpy, A, B)
    args = [chunked(A, inner), chunked(B, inner)]
    got = fun(np, *args)  # outside any backend: on the arguments' library
    assert type(got) is type(args[0])
    numpy.testing.assert_array_equal(compute(got), want)
    assert compute(got).dtype == want.dtype
    check_grads(lambda x, y: fun(np, x, y), args, modes=("fwd", "rev"), order=2, inner=inner)


def test_r_and_c_refuse_matrix_directives():
    with pytest.raises(NotImplementedError, match="matrix"):
        np.r_["r", A, B]
    with pytest.raises(NotImplementedError, match="matrix"):
        np.r_["1 2; 3 4"]
    with pytest.raises(ValueError, match="first entry"):
        np.r_[A, "0"]


# -- tests of values and dtypes: not differentiable, plain results -----------------------------
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_value_and_dtype_tests_on_diffarrays(mode, inner):
    z0 = numpy.array([1.0 + 1.0j, 2.0, -0.5j, 3.0])
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(A, inner))
        z = np.asarray(chunked(z0, inner))
        # plain bools where NumPy returns one (Dask's allclose is a lazy 0-d array)
        assert np.iscomplexobj(z) is True and np.iscomplexobj(x) is False
        assert np.isrealobj(x) is True and np.isrealobj(z) is False
        assert bool(np.allclose(x, x * (1 + 1e-12))) and not bool(np.allclose(x, x + 1.0))
        if inner is udiff.numpy_backend:
            assert type(np.allclose(x, x)) is bool
        numpy.testing.assert_array_equal(compute(np.isclose(x, x + 1e-12)), True)
        numpy.testing.assert_array_equal(compute(np.iscomplex(z)), numpy.iscomplex(z0))
        numpy.testing.assert_array_equal(compute(np.isreal(z)), numpy.isreal(z0))
        for mask in (np.isclose(x, x), np.iscomplex(z), np.isreal(z)):
            assert compute(mask).dtype == bool
            assert not getattr(mask, "_parents", ())  # constants: nothing recorded
        # usable in a differentiated expression
        y = np.sum(np.where(np.isreal(z), x, 0.0) ** 2)
        g = compute(y.to(x, grad_variables=numpy.ones(4)) if mode == "jvp" else y.to(x))
    mask = numpy.isreal(z0)
    want = numpy.sum(2 * A * mask) if mode == "jvp" else 2 * A * mask
    numpy.testing.assert_allclose(g, want)


def test_value_and_dtype_tests_under_grad():
    f = lambda x: np.sum(x) if np.allclose(x, 1.0) else np.sum(x * x)  # noqa: E731
    numpy.testing.assert_allclose(udiff.grad(f)(numpy.ones(2)), [1.0, 1.0])
    numpy.testing.assert_allclose(udiff.grad(f)(A), 2 * A)
    assert np.iscomplexobj([1.0, 2.0j]) and not np.iscomplexobj(A)
