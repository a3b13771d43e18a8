"""Transformations compose: derivatives with respect to tangents and cotangents,
operators nested in operators, values taken when the call is made.

Each case computes a quantity by nesting udiff's operators and compares it with
the same quantity computed another way (a closed form, a Jacobian, finite
differences), on NumPy and on Dask with several chunks on every axis.
"""
import dask.array as da
import numpy
import pytest

import udiff
import udiff.numpy as np
from udiff import grad, hessian, jacfwd, jacrev, jvp, vjp

X = numpy.array([1.0, 2.0, 3.0])
INNERS = ["numpy", "dask"]


def _inner(name):
    return udiff.numpy_backend if name == "numpy" else udiff.dask_backend


def _arr(a, name):
    a = numpy.asarray(a, dtype=float)
    return a if name == "numpy" else da.from_array(a, chunks=1)


def _np(a):
    return numpy.asarray(a.compute() if hasattr(a, "compute") else a)


def _plain(a):
    """Fails unless ``a`` is an inner array (never a DiffArray)."""
    assert type(a) is not udiff.DiffArray, "an operator leaked a DiffArray"
    return _np(a)


@pytest.mark.parametrize("inner", INNERS)
def test_gradient_with_respect_to_a_tangent(inner):
    x, b = _arr(X, inner), _inner(inner)
    g = grad(lambda t: np.sum(jvp(np.sin, (x,), (t,), inner=b)[1]), inner=b)(_arr(numpy.ones(3), inner))
    numpy.testing.assert_allclose(_plain(g), numpy.cos(X))


@pytest.mark.parametrize("inner", INNERS)
def test_gradient_with_respect_to_a_cotangent(inner):
    x, b = _arr(X, inner), _inner(inner)
    g = grad(lambda c: np.sum(vjp(np.sin, x, inner=b)[1](c)[0]), inner=b)(_arr(numpy.ones(3), inner))
    numpy.testing.assert_allclose(_plain(g), numpy.cos(X))


def _stacked(x):
    return np.stack([x[0] * x[1], np.sin(x[2])])


@pytest.mark.parametrize("inner", INNERS)
def test_jacobian_of_a_pullback_is_the_transposed_jacobian(inner):
    x, b = _arr(X, inner), _inner(inner)
    J = _np(jacrev(_stacked, inner=b)(x))
    for op in (jacfwd, jacrev):
        JT = op(lambda c: vjp(_stacked, x, inner=b)[1](c)[0], inner=b)(_arr(numpy.ones(2), inner))
        numpy.testing.assert_allclose(_plain(JT), J.T)


@pytest.mark.parametrize("inner", INNERS)
def test_tangent_that_is_the_primal(inner):
    x, b = _arr(X, inner), _inner(inner)
    g = grad(lambda x: np.sum(jvp(np.sin, (x,), (x,), inner=b)[1]), inner=b)(x)
    numpy.testing.assert_allclose(_plain(g), numpy.cos(X) - X * numpy.sin(X))


@pytest.mark.parametrize("inner", INNERS)
def test_forward_over_forward_is_the_contracted_hessian(inner):
    x, b = _arr(X, inner), _inner(inner)
    u, w = numpy.array([0.3, -1.0, 2.0]), numpy.array([1.5, 0.5, -0.2])

    def f(x):
        return np.sum(np.sin(x) * x[0]) + np.prod(x)

    second = jvp(lambda y: jvp(f, (y,), (_arr(u, inner),), inner=b)[1], (x,),
                 (_arr(w, inner),), inner=b)[1]
    H = _np(hessian(f, inner=b)(x))
    numpy.testing.assert_allclose(_plain(second), w @ H @ u)


@pytest.mark.parametrize("inner", INNERS)
def test_directional_derivative_of_a_traced_seed_in_a_with_block(inner):
    # y.to(x, grad_variables=s) with a recorded seed s is differentiable in s
    import uarray as ua

    with ua.set_backend(udiff.DiffArrayBackend(_inner(inner)), coerce=True):
        x = np.asarray(_arr(X, inner))
        s = np.asarray(_arr(numpy.ones(3), inner))
        d = np.sin(x).to(x, grad_variables=s)
        numpy.testing.assert_allclose(_np(np.sum(d * d).to(s).value), 2 * numpy.cos(X) ** 2)


def _f(x):
    return np.sum(np.sin(x) ** 2 * x[0]) + np.prod(np.exp(x / 4))


NESTINGS = {
    "jacfwd(jacrev)": lambda f, b: jacfwd(jacrev(f, inner=b), inner=b),
    "jacrev(jacfwd)": lambda f, b: jacrev(jacfwd(f, inner=b), inner=b),
    "jacfwd(grad)": lambda f, b: jacfwd(grad(f, inner=b), inner=b),
    "jacrev(grad)": lambda f, b: jacrev(grad(f, inner=b), inner=b),
    "jacrev(jacrev)": lambda f, b: jacrev(jacrev(f, inner=b), inner=b),
    "jacfwd(jacfwd)": lambda f, b: jacfwd(jacfwd(f, inner=b), inner=b),
}


@pytest.mark.parametrize("inner", INNERS)
@pytest.mark.parametrize("name", NESTINGS)
def test_nested_operators_return_inner_arrays(name, inner):
    x, b = _arr(X, inner), _inner(inner)
    H = _np(hessian(_f, inner=b)(x))
    numpy.testing.assert_allclose(_plain(NESTINGS[name](_f, b)(x)), H, rtol=1e-12)


@pytest.mark.parametrize("inner", INNERS)
def test_jvp_of_grad_returns_inner_arrays(inner):
    x, b = _arr(X, inner), _inner(inner)
    u = numpy.array([1.0, -2.0, 0.5])
    out, t = jvp(grad(_f, inner=b), (x,), (_arr(u, inner),), inner=b)
    numpy.testing.assert_allclose(_plain(t), _np(hessian(_f, inner=b)(x)) @ u)
    numpy.testing.assert_allclose(_plain(out), _np(grad(_f, inner=b)(x)))


def test_an_argument_named_twice_in_argnums():
    g0, g1 = grad(lambda a: np.sum(a * a), argnums=(0, 0))(X)
    numpy.testing.assert_allclose(_plain(g0), 2 * X)
    numpy.testing.assert_allclose(_plain(g1), 2 * X)


@pytest.mark.parametrize("inner", ["numpy"])
def test_vjp_takes_the_values_when_called(inner):
    x = X.copy()
    out, f_vjp = vjp(lambda x: np.sum(x ** 2), x)
    x[:] = 0.0
    numpy.testing.assert_allclose(f_vjp(numpy.array(1.0))[0], 2 * X)
    numpy.testing.assert_allclose(out, 14.0)


def test_vjp_does_not_alias_the_callers_array():
    x = X.copy()
    out, _ = vjp(lambda x: x, x)
    out[0] = 100.0
    numpy.testing.assert_allclose(x, X)
