"""Item assignment on DiffArrays and on vmap's arrays: ``x[index] = v`` is the functional
update ``x.at[index].set(v)``, after which ``x`` stands for the updated array while what
was computed from it before keeps its value.

Each function is checked with ``check_grads`` (JAX's definition, both modes, order 2) on
NumPy and on Dask with several chunks, and under vmap and its compositions against a loop.
"""
import pickle

import dask.array as da
import numpy
import pytest

import udiff
import udiff.numpy as np
from udiff.testing import check_grads

X = numpy.array([0.3, -1.2, 2.0, 0.7])
M = numpy.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def _into_zeros(x):
    z = np.zeros_like(x)  # (inside vmap, np.zeros(4) would be a NumPy array: see below)
    z[1] = x[0] * x[1]  # an entry
    z[2:] = np.sin(x[2:])  # a slice
    return np.sum(z ** 2)


def _earlier_uses_keep_their_value(x):
    x = x * 1.0
    y = x * 2.0
    x[0] = 5.0
    x[1:3] = x[1:3] ** 2  # the update reads x as it is now
    return np.sum(y * y) + np.sum(x ** 2)


def _the_variable_itself(x):
    x[0] = x[1] ** 2
    return np.sum(x * x)


def _mask_with_a_scalar(x):
    y = np.exp(x)
    y[y > 1.5] = 2.0
    return np.sum(y * x)


def _mask_with_a_traced_scalar(x):
    y = x * x
    y[x < 0] = x[2] * 3.0
    return np.sum(y * np.cos(x))


def _negative_step(x):
    y = x + 0.0
    y[::-2] = np.tanh(x[:2])  # entries 3 and 1
    return np.sum(y ** 3)


def _zero_d(x):
    s = np.sum(x)
    t = np.array(s * 1.0)  # (a 0-d array: NumPy's sum is a scalar)
    t[()] = s * s
    return t + s


def _broadcast_and_cast(x):
    z = np.ones_like(x, shape=(2, 4))
    z[:, 1:3] = x[1:3]  # broadcast over the rows
    return np.sum(np.sin(z) * x)


def _matrix(m):
    m = m + 0.0
    m[:, 0] = m[:, 1] * m[:, 2]
    m[1] = np.exp(m[0])
    return np.sum(m ** 2)


CASES = {
    "into_zeros": (_into_zeros, X),
    "earlier_uses_keep_their_value": (_earlier_uses_keep_their_value, X),
    "the_variable_itself": (_the_variable_itself, X),
    "mask_with_a_scalar": (_mask_with_a_scalar, X),
    "mask_with_a_traced_scalar": (_mask_with_a_traced_scalar, X),
    "negative_step": (_negative_step, X),
    "zero_d": (_zero_d, X),
    "broadcast_and_cast": (_broadcast_and_cast, X),
    "matrix": (_matrix, M),
}


def _on(inner, a):
    if inner == "numpy":
        return a.copy()
    return da.from_array(a.copy(), chunks=tuple(max(1, n // 2) for n in a.shape))


def _np(a):
    return numpy.asarray(a.compute() if hasattr(a, "compute") else a)


def _plain_numpy(f, x):
    """``f`` run by NumPy itself: the value udiff's must equal (``x`` copied first, as
    NumPy's item assignment changes its argument)."""
    return f(numpy.array(x, copy=True))


@pytest.mark.parametrize("inner", ["numpy", "dask"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_derivatives_of_item_assignment(name, inner):
    f, x = CASES[name]
    backend = udiff.numpy_backend if inner == "numpy" else udiff.dask_backend
    check_grads(f, (_on(inner, x),), order=2, modes=("fwd", "rev"), inner=backend)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_equal_numpys_and_arguments_are_not_changed(name):
    f, x = CASES[name]
    arg = x.copy()
    value, g = udiff.value_and_grad(f)(arg)
    numpy.testing.assert_array_equal(arg, x)  # the caller's array is left as it was
    numpy.testing.assert_allclose(_np(value), _plain_numpy(f, x), rtol=1e-14)
    assert g.shape == x.shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_of_grad_and_grad_of_vmap_equal_loops(name):
    f, x = CASES[name]
    xs = numpy.stack([x, 0.5 * x + 0.1, -x])
    per_example = numpy.stack([udiff.grad(f)(row) for row in xs])
    numpy.testing.assert_allclose(udiff.vmap(udiff.grad(f))(xs), per_example, rtol=1e-12)
    total = udiff.grad(lambda a: np.sum(udiff.vmap(f)(a)))(xs)
    numpy.testing.assert_allclose(total, per_example, rtol=1e-12)
    numpy.testing.assert_allclose(udiff.vmap(f)(xs), [_plain_numpy(f, r) for r in xs],
                                  rtol=1e-14)


def test_hessian_and_forward_over_reverse():
    f, x = CASES["earlier_uses_keep_their_value"]
    h = udiff.hessian(f)(x)
    numpy.testing.assert_allclose(udiff.jacfwd(udiff.grad(f))(x), h, rtol=1e-12)
    numpy.testing.assert_allclose(udiff.jacrev(udiff.grad(f))(x), h, rtol=1e-12)
    eps = 1e-6
    fd = numpy.stack([(udiff.grad(f)(x + eps * e) - udiff.grad(f)(x - eps * e)) / (2 * eps)
                      for e in numpy.eye(x.size)])
    numpy.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-6)


def test_graph_api_and_pickling():
    import uarray as ua

    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray(X)
        x0 = x
        before = np.sin(x)
        x[1] = 3.0
        y = np.sum(before * x)
        g = y.to(x0)
        again = pickle.loads(pickle.dumps((y, x0)))
    expected = numpy.cos(X) * numpy.where(numpy.arange(4) == 1, 3.0, X) \
        + numpy.sin(X) * (numpy.arange(4) != 1)
    numpy.testing.assert_allclose(g.value, expected, rtol=1e-14)
    numpy.testing.assert_allclose(again[0].to(again[1]).value, expected, rtol=1e-14)
    assert len(udiff.graph(y).nodes) > 0  # draws the updated array's graph


def test_repeated_indices_raise():
    def f(x):
        x[[0, 0]] = x[1:3]
        return np.sum(x)

    with pytest.raises(ValueError, match=r"x\[index\] = value.*more than once.*at\[index\]\.add"):
        udiff.grad(f)(X.copy())


def test_assigning_into_a_numpy_array_raises():
    out = numpy.zeros(4)

    def f(x):
        out[:] = x
        return np.sum(x)

    with pytest.raises(TypeError, match="silently drop its derivative"):
        udiff.grad(f)(X.copy())


def test_a_value_traced_by_an_inner_vmap_raises():
    def f(x):
        def body(r):
            x[0] = r[0]  # x is the outer grad's array, r one example of the vmap inside
            return r

        udiff.vmap(body)(np.stack([x, x]))
        return np.sum(x)

    with pytest.raises(TypeError, match=r"x\[index\] = value: x is a DiffArray"):
        udiff.grad(f)(numpy.array([1.0]))


def test_inside_vmap_an_array_made_from_constants_is_numpys():
    # Under vmap alone, np.zeros(3) is a NumPy array (it is the same for every example):
    # NumPy's own item assignment then meets a batched value, which udiff refuses.
    def f(x):
        z = np.zeros(3)
        z[0] = x[0]
        return z

    with pytest.raises((TypeError, ValueError)) as caught:  # NumPy's, raised from udiff's
        udiff.vmap(f)(numpy.ones((2, 3)))
    reasons = str(caught.value) + str(caught.value.__context__ or caught.value.__cause__)
    assert "inside udiff.vmap" in reasons or "setting an array element" in reasons
    # Made from the batched argument, the array is batched and takes the update.
    g = lambda x: np.zeros_like(x).at[0].set(x[0])  # noqa: E731

    def h(x):
        z = np.zeros_like(x)
        z[0] = x[0]
        return z

    numpy.testing.assert_array_equal(udiff.vmap(h)(M), udiff.vmap(g)(M))
