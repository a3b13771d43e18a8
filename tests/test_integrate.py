"""udiff.scipy.integrate.odeint: values are SciPy's; derivatives (adjoint method in reverse
mode, forward sensitivities in forward mode) match an analytic solution and central finite
differences to second order in both modes, and compose with vmap."""
import numpy
import pytest
import scipy.integrate

import udiff
import udiff.numpy as np
from udiff.scipy.integrate import odeint
from udiff.testing import check_grads

from conftest import chunked, compute

TOL = dict(rtol=1e-10, atol=1e-10)


def decay(y, t, k):
    return -k * y


def coupled(y, t, k, a):
    """A nonlinear system with time, state and argument dependence."""
    return np.stack([-k * y[0] + a[0] * y[1], -a[1] * y[0] * y[1] + np.sin(t)])


Y0 = numpy.array([1.0, 0.5])
T = numpy.array([0.0, 0.4, 1.0])
K = numpy.array(0.7)
A = numpy.array([0.2, 0.3])


def loss(y0, t, k, a):
    return np.sum(odeint(coupled, y0, t, k, a, **TOL) ** 2)


@pytest.mark.parametrize("case", [
    (coupled, Y0, T, (0.7, A), {}),
    (coupled, Y0, T, (K, A), TOL),
    (decay, 2.0, [0.0, 0.5, 2.0], (1.5,), {}),  # a number as y0, lists
    (decay, numpy.array([1.0, -2.0, 3.0]), numpy.linspace(1.0, 0.0, 4), (0.5,), {}),  # backwards
    (lambda y, t: np.cos(t) * y, numpy.array([1.0]), T, (), {"mxstep": 1000}),
])
def test_values_are_scipys(case):
    func, y0, t, args, kw = case
    ours = odeint(func, y0, t, *args, **kw)
    ref = scipy.integrate.odeint(lambda y, s: numpy.asarray(func(y, s, *args)), y0, t,
                                 **kw)
    assert type(ours) is numpy.ndarray
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    numpy.testing.assert_array_equal(ours, ref)


def test_analytic_decay():
    # y' = -k y: y(t) = y0 exp(-k (t - t0)).
    y0, t, k = numpy.array([2.0]), numpy.array([0.5, 1.0, 2.5]), 0.8

    def last(y0, t, k):
        return odeint(decay, y0, t, k, **TOL)[-1, 0]

    dt = t[-1] - t[0]
    exact = y0[0] * numpy.exp(-k * dt)
    numpy.testing.assert_allclose(last(y0, t, k), exact, rtol=1e-8)
    g_y0, g_t, g_k = udiff.grad(last, argnums=(0, 1, 2))(y0, t, k)
    numpy.testing.assert_allclose(g_k, -dt * exact, rtol=1e-7)
    numpy.testing.assert_allclose(g_y0, [exact / y0[0]], rtol=1e-7)
    numpy.testing.assert_allclose(g_t, [k * exact, 0.0, -k * exact], rtol=1e-7, atol=1e-12)
    # Forward mode and second order (d2/dk2 = dt^2 y).
    _, tangent = udiff.jvp(lambda k: last(y0, t, k), (k,), (1.0,))
    numpy.testing.assert_allclose(tangent, -dt * exact, rtol=1e-7)
    numpy.testing.assert_allclose(udiff.grad(udiff.grad(last, argnums=2), argnums=2)(y0, t, k),
                                  dt ** 2 * exact, rtol=1e-6)


@pytest.mark.parametrize("argnums", [(0,), (1,), (2, 3)])
def test_check_grads_second_order(argnums):
    check_grads(loss, (Y0, T, K, A), modes=("fwd", "rev"), order=2, argnums=argnums,
                rtol=1e-4, atol=1e-6)


def test_jacobians_agree():
    f = lambda y0, k: odeint(coupled, y0, T, k, A, **TOL)  # noqa: E731
    for argnums in (0, 1):
        rev = udiff.jacrev(f, argnums=argnums)(Y0, K)
        fwd = udiff.jacfwd(f, argnums=argnums)(Y0, K)
        assert rev.shape == fwd.shape == (3, 2) + numpy.shape((Y0, K)[argnums])
        numpy.testing.assert_allclose(rev, fwd, rtol=1e-6, atol=1e-8)
    h = udiff.hessian(lambda k: loss(Y0, T, k, A))(K)
    numpy.testing.assert_allclose(
        h, udiff.jacfwd(udiff.grad(lambda k: loss(Y0, T, k, A)))(K), rtol=1e-6)


def test_vmap_of_grad_is_a_loop():
    ks = numpy.array([0.5, 0.7, 0.9])
    g = udiff.grad(loss, argnums=(0, 2))
    batched = udiff.vmap(g, in_axes=(None, None, 0, None))(Y0, T, ks, A)
    for i, k in enumerate(ks):
        for b, one in zip(batched, g(Y0, T, k, A)):
            numpy.testing.assert_allclose(b[i], one, rtol=1e-7)
    # Batched times: one system per example.
    ts = numpy.array([[0.0, 0.4, 1.0], [0.1, 0.5, 0.8]])
    gt = udiff.grad(loss, argnums=1)
    batched = udiff.vmap(gt, in_axes=(None, 0, None, None))(Y0, ts, K, A)
    numpy.testing.assert_allclose(batched, [gt(Y0, t, K, A) for t in ts], rtol=1e-7)


def test_grad_of_vmap_and_vmap_values():
    y0s = numpy.array([[1.0, 0.5], [0.3, 0.2]])
    sol = udiff.vmap(lambda y0: odeint(coupled, y0, T, K, A, **TOL))(y0s)
    ref = numpy.stack([scipy.integrate.odeint(lambda y, s: numpy.asarray(coupled(y, s, K, A)),
                                              y0, T, **TOL) for y0 in y0s])
    numpy.testing.assert_allclose(sol, ref, rtol=1e-8, atol=1e-9)
    g = udiff.grad(lambda y0s: np.sum(udiff.vmap(
        lambda y0: odeint(coupled, y0, T, K, A, **TOL))(y0s) ** 2))(y0s)
    numpy.testing.assert_allclose(g, [udiff.grad(loss)(y0, T, K, A) for y0 in y0s], rtol=1e-6)


def test_dask_inputs_are_computed():
    y0 = chunked(Y0, udiff.dask_backend)
    assert y0.numblocks == (2,)
    out = odeint(coupled, y0, T, K, A, **TOL)
    assert type(out) is numpy.ndarray
    numpy.testing.assert_array_equal(out, odeint(coupled, Y0, T, K, A, **TOL))
    g = udiff.grad(lambda y: np.sum(odeint(coupled, y, T, K, A, **TOL) ** 2),
                   inner=udiff.dask_backend)(y0)
    numpy.testing.assert_allclose(compute(g), udiff.grad(loss)(Y0, T, K, A), rtol=1e-10)


def test_errors():
    with pytest.raises(TypeError, match="odeint: func must be callable"):
        odeint(1.0, Y0, T)
    with pytest.raises(ValueError, match="odeint: the initial state y0 must be one-dimensional"):
        odeint(decay, numpy.ones((2, 2)), T, 1.0)
    with pytest.raises(ValueError, match="odeint: the times t must be one-dimensional"):
        odeint(decay, Y0, 1.0, 1.0)
    with pytest.raises(ValueError, match="odeint: func returned an array of shape"):
        odeint(lambda y, t: np.sum(y), Y0, T)
    # A closed-over variable would get no derivative: an error, not a zero.
    with pytest.raises(TypeError, match="closes over an array being differentiated"):
        udiff.grad(lambda k: odeint(lambda y, t: -k * y, Y0, T)[-1, 0])(1.0)
    with pytest.raises(TypeError, match="closes over an array being differentiated or vmapped"):
        udiff.vmap(lambda k: odeint(lambda y, t: -k * y, Y0, T))(numpy.array([1.0, 2.0]))


def test_one_time():
    # t = [t0]: the solution is y0, whatever t0 is.
    y, tangent = udiff.jvp(lambda y0, t: odeint(decay, y0, t, 2.0), (Y0, numpy.array([0.5])),
                           (numpy.array([1.0, -1.0]), numpy.array([3.0])))
    numpy.testing.assert_array_equal(y, [Y0])
    numpy.testing.assert_array_equal(tangent, [[1.0, -1.0]])
    g = udiff.grad(lambda t: np.sum(odeint(decay, Y0, t, 2.0)))(numpy.array([0.5]))
    numpy.testing.assert_array_equal(g, [0.0])
