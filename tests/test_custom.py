"""custom_vjp, custom_jvp, stop_gradient and checkpoint (issue 10, points 3 and 4)."""
import copy
import functools
import pickle
import threading

import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
from conftest import chunked, compute, rule_keys
from udiff.testing import check_grads

pytestmark = pytest.mark.filterwarnings("ignore:uarray.skip_backend:DeprecationWarning")

X = numpy.array([0.3, 1.2, -0.5])
Y = numpy.array([1.5, -0.7, 2.0])
T = numpy.array([0.7, -1.3, 0.4])
X2 = numpy.array([[0.3, 1.2], [-0.5, 0.8], [2.0, -1.1]])
Y2 = numpy.array([[1.5, -0.7], [2.0, 0.4], [-0.3, 1.1]])


# -- the functions under test ------------------------------------------------------------
@udiff.custom_vjp
def sin_times(x, y):
    return np.sin(x) * y


def _sin_times_fwd(x, y):
    return np.sin(x) * y, (np.cos(x), np.sin(x), y)


def _sin_times_bwd(res, g):
    cos, sin, y = res
    return cos * g * y, sin * g


sin_times.defvjp(_sin_times_fwd, _sin_times_bwd)


@udiff.custom_jvp
def sin_times_j(x, y):
    return np.sin(x) * y


@sin_times_j.defjvp
def _sin_times_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return sin_times_j(x, y), np.cos(x) * y * tx + np.sin(x) * ty


sin_times_ck = udiff.checkpoint(lambda x, y: np.sin(x) * y)


@udiff.custom_jvp
def log1pexp(x):
    return np.log(1.0 + np.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t / (1.0 + np.exp(-x))


@udiff.custom_vjp
def clip_gradient(x):
    return x


clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))


@functools.partial(udiff.custom_vjp, nondiff_argnums=(0, 1))
def fixed_point(step, inner, a, z0):
    """The fixed point of ``z = step(a, z)`` by iteration from ``z0``."""
    z = z0
    for _ in range(12):
        z = step(a, z)
    return z


def _fixed_point_fwd(step, inner, a, z0):
    z = fixed_point(step, inner, a, z0)
    return z, (a, z)


def _fixed_point_bwd(step, inner, res, g):
    # The implicit function theorem: w = g + w dstep/dz, then dz*/da = w dstep/da.
    # JAX's example as written: in a second derivative a and z are DiffArrays and
    # z depends on a, and each vjp still takes its own partial derivative.
    a, z = res
    _, vjp_a = udiff.vjp(lambda a: step(a, z), a, inner=inner)
    _, vjp_z = udiff.vjp(lambda z: step(a, z), z, inner=inner)
    w = g
    for _ in range(12):
        w = g + vjp_z(w)[0]
    return vjp_a(w)[0], None


fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)


@udiff.custom_vjp
def doubled_sin(x):
    """sin, whose bwd is twice its derivative: a test sees which of the two is used."""
    return np.sin(x)


def _doubled_sin_fwd(x):
    return np.sin(x), np.cos(x)


def _doubled_sin_bwd(cos, g):
    return (2.0 * cos * g,)


doubled_sin.defvjp(_doubled_sin_fwd, _doubled_sin_bwd)


@udiff.custom_jvp
def doubled_sin_j(x):
    """sin, whose jvp is twice its derivative."""
    return np.sin(x)


@doubled_sin_j.defjvp
def _doubled_sin_j_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return doubled_sin_j(x), 2.0 * np.cos(x) * t


def _cube(x):
    return x ** 3


def _cube_fwd(x):
    return x ** 3, x


def _cube_bwd(x, g):
    return (3.0 * x ** 2 * g,)


# Bound to another name than its function's: pickled by its functions.
cube = udiff.custom_vjp(_cube)
cube.defvjp(_cube_fwd, _cube_bwd)


def newton_sqrt_step(a, z):
    return 0.5 * (z + a / z)


def numeric_grad(f, x, eps=1e-6):
    """Central finite differences of scalar ``f`` at NumPy ``x``."""
    g = numpy.zeros_like(x)
    for i in numpy.ndindex(x.shape):
        e = numpy.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# -- custom_vjp ------------------------------------------------------------------------
def test_custom_vjp_reverse_to_order_2(inner):
    x, y = chunked(X, inner), chunked(Y, inner)
    check_grads(lambda x, y: sin_times(x, y) * x, [x, y], modes=("rev",), order=2, inner=inner)


def test_custom_vjp_uses_bwd_not_the_body(inner):
    @udiff.custom_vjp
    def double_gradient(x):
        return np.sin(x)

    double_gradient.defvjp(lambda x: (np.sin(x), np.cos(x)), lambda c, g: (2.0 * c * g,))
    g = udiff.grad(lambda x: np.sum(double_gradient(x)), inner=inner)(chunked(X, inner))
    numpy.testing.assert_allclose(compute(g), 2.0 * numpy.cos(X))


def test_custom_vjp_forward_over_reverse(inner):
    """hessian, hvp and jacfwd(grad) differentiate fwd's body and bwd, as JAX does."""
    x, y = chunked(X, inner), chunked(Y, inner)

    def loss(x):
        return np.sum(sin_times(x, y) ** 2)

    expected = udiff.hessian(lambda x: np.sum((np.sin(x) * y) ** 2), inner=inner)(x)
    numpy.testing.assert_allclose(compute(udiff.hessian(loss, inner=inner)(x)), compute(expected))
    numpy.testing.assert_allclose(
        compute(udiff.jacfwd(udiff.grad(loss, inner=inner), inner=inner)(x)), compute(expected))
    v = chunked(numpy.array([1.0, -2.0, 0.5]), inner)
    hv = udiff.hvp(loss, (x,), (v,), inner=inner)
    numpy.testing.assert_allclose(compute(hv), compute(expected) @ compute(v))


def test_custom_vjp_reverse_over_reverse_matches_finite_differences():
    def grad_sum(x):
        return np.sum(udiff.grad(lambda b: np.sum(sin_times(b, Y) ** 2))(x) * x)

    expected = numeric_grad(lambda a: numpy.sum(2 * numpy.sin(a) * Y ** 2 * numpy.cos(a) * a), X)
    numpy.testing.assert_allclose(udiff.grad(grad_sum)(X), expected, rtol=1e-6)


def test_custom_vjp_forward_mode_raises_naming_the_function():
    with pytest.raises(TypeError, match="forward-mode .* custom_vjp function sin_times"):
        udiff.jacfwd(lambda x: sin_times(x, Y))(X)
    with pytest.raises(TypeError, match="custom_vjp function sin_times"):
        udiff.jvp(lambda x: sin_times(x, Y), (X,), (X,))


def test_custom_vjp_jacrev_pushes_each_seed_through_bwd(inner):
    """A bwd written for one cotangent (np.sum(g)) is right under jacrev's batched seeds."""
    @udiff.custom_vjp
    def scaled(x):
        return x * np.sum(x)

    scaled.defvjp(lambda x: (x * np.sum(x), x),
                  lambda x, g: (g * np.sum(x) + np.sum(g * x),))
    jac = udiff.jacrev(scaled, inner=inner)(chunked(X, inner))
    numpy.testing.assert_allclose(compute(jac), numpy.sum(X) * numpy.eye(3) + X[:, None])


def test_custom_vjp_with_several_outputs(inner):
    @udiff.custom_vjp
    def polar(x, y):
        return np.sqrt(x * x + y * y), x * y

    def polar_fwd(x, y):
        return polar(x, y), (x, y, np.sqrt(x * x + y * y))

    def polar_bwd(res, g):
        x, y, r = res
        gr, gp = g
        return gr * x / r + gp * y, gr * y / r + gp * x

    polar.defvjp(polar_fwd, polar_bwd)
    x, y = chunked(X, inner), chunked(Y, inner)

    def f(x, y):
        r, p = polar(x, y)
        return r * 2.0 + np.sin(p)

    check_grads(f, [x, y], modes=("rev",), order=2, inner=inner)


def test_custom_vjp_nondiff_argnums_and_keywords():
    @functools.partial(udiff.custom_vjp, nondiff_argnums=(1,))
    def power(x, n=3):
        return x ** n

    power.defvjp(lambda x, n: (x ** n, x), lambda n, x, g: (n * x ** (n - 1) * g,))
    numpy.testing.assert_allclose(udiff.grad(lambda x: np.sum(power(x)))(X), 3 * X ** 2)
    numpy.testing.assert_allclose(udiff.grad(lambda x: np.sum(power(x, n=2)))(X), 2 * X)


def test_fixed_point_differentiated_implicitly(inner):
    a = chunked(numpy.array([2.0, 9.0, 0.5]), inner)
    z0 = chunked(numpy.ones(3), inner)

    def root(a):
        return fixed_point(newton_sqrt_step, inner, a, z0)

    numpy.testing.assert_allclose(compute(root(a)), numpy.sqrt(compute(a)))
    g = udiff.grad(lambda a: np.sum(root(a)), inner=inner)(a)
    numpy.testing.assert_allclose(compute(g), 0.5 / numpy.sqrt(compute(a)))
    second = udiff.grad(lambda a: np.sum(udiff.grad(lambda b: np.sum(root(b)), inner=inner)(a)),
                        inner=inner)(a)
    numpy.testing.assert_allclose(compute(second), -0.25 * compute(a) ** -1.5)
    fd = numeric_grad(lambda b: numpy.sum(0.5 / numpy.sqrt(b)), compute(a))
    numpy.testing.assert_allclose(compute(second), fd, rtol=1e-6)


def test_gradient_clipping_and_its_hessian():
    def loss(x):
        return np.sum(clip_gradient(x) ** 3)

    x = numpy.array([0.5, 2.0])
    numpy.testing.assert_allclose(udiff.grad(loss)(x), [0.75, 1.0])
    # JAX 0.10 gives [[3, 0], [0, 0]]: the clipped part of the gradient is constant.
    numpy.testing.assert_allclose(udiff.hessian(loss)(x), [[3.0, 0.0], [0.0, 0.0]])


# -- custom_jvp ------------------------------------------------------------------------
def test_custom_jvp_both_modes_to_order_2(inner):
    x, y = chunked(X, inner), chunked(Y, inner)
    check_grads(lambda x, y: sin_times_j(x, y) * x, [x, y], order=2, inner=inner)


def test_custom_jvp_jacobians(inner):
    x = chunked(X, inner)
    expected = numpy.diag(numpy.cos(X) * Y)
    for jac in (udiff.jacfwd, udiff.jacrev):
        got = jac(lambda x: sin_times_j(x, chunked(Y, inner)), inner=inner)(x)
        numpy.testing.assert_allclose(compute(got), expected, atol=1e-15)


def test_custom_jvp_uses_its_rule_in_both_modes():
    @udiff.custom_jvp
    def f(x):
        return np.sin(x)

    f.defjvp(lambda p, t: (f(p[0]), 3.0 * t[0]))
    numpy.testing.assert_allclose(udiff.grad(lambda x: np.sum(f(x)))(X), [3.0] * 3)
    numpy.testing.assert_allclose(udiff.jvp(f, (X,), (numpy.ones(3),))[1], [3.0] * 3)


def test_log1pexp_is_finite_at_large_x(inner):
    x = chunked(numpy.array([-3.0, 0.0, 1000.0]), inner)
    expected = numpy.array([1 / (1 + numpy.exp(3.0)), 0.5, 1.0])
    with numpy.errstate(over="ignore", invalid="ignore"):
        g = udiff.grad(lambda x: np.sum(log1pexp(x)), inner=inner)(x)
        t = udiff.jvp(log1pexp, (x,), (chunked(numpy.ones(3), inner),), inner=inner)[1]
        h = udiff.hessian(lambda x: np.sum(log1pexp(x)), inner=inner)(x)
        naive = udiff.grad(lambda x: np.sum(np.log(1.0 + np.exp(x))))(compute(x))
    numpy.testing.assert_allclose(compute(g), expected)
    numpy.testing.assert_allclose(compute(t), expected)
    s = expected * (1 - expected)
    numpy.testing.assert_allclose(compute(h), numpy.diag(s), atol=1e-15)
    assert not numpy.isfinite(naive[2])
    check_grads(lambda x: log1pexp(x), [chunked(numpy.array([-1.0, 0.3, 2.0]), inner)],
                order=2, inner=inner)


def test_custom_jvp_with_several_outputs(inner):
    @udiff.custom_jvp
    def sincos(x):
        return np.sin(x), np.cos(x)

    @sincos.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return sincos(x), (np.cos(x) * t, -np.sin(x) * t)

    def f(x):
        s, c = sincos(x)
        return s * c + c

    check_grads(f, [chunked(X, inner)], order=2, inner=inner)


# -- containers ------------------------------------------------------------------------
@udiff.custom_vjp
def affine_stats(params, x):
    """A dict of parameters in, a dict of outputs out."""
    y = params["w"] * x + params["b"]
    return {"y": y, "mean": np.mean(y)}


def _affine_stats_fwd(params, x):
    # Not affine_stats(params, x): hessian differentiates fwd's body forward (as JAX).
    y = params["w"] * x + params["b"]
    return {"y": y, "mean": np.mean(y)}, (params["w"], x)


def _affine_stats_bwd(res, g):
    w, x = res
    gy = g["y"] + g["mean"] / x.shape[0]
    return {"w": gy * x, "b": np.sum(gy)}, gy * w


affine_stats.defvjp(_affine_stats_fwd, _affine_stats_bwd)


def test_custom_vjp_of_containers(inner):
    params = {"w": chunked(Y, inner), "b": 0.5}

    def loss(params, x):
        out = affine_stats(params, x)
        return np.sum(np.sin(out["y"])) + out["mean"] ** 2

    def plain(params, x):
        y = params["w"] * x + params["b"]
        return np.sum(np.sin(y)) + np.mean(y) ** 2

    x = chunked(X, inner)
    got = udiff.grad(loss, (0, 1), inner=inner)(params, x)
    expected = udiff.grad(plain, (0, 1), inner=inner)(params, x)
    for a, b in zip(udiff.tree_leaves(got), udiff.tree_leaves(expected)):
        numpy.testing.assert_allclose(compute(a), compute(b))
    h = udiff.hessian(lambda x: loss(params, x), inner=inner)(x)
    numpy.testing.assert_allclose(compute(h), compute(
        udiff.hessian(lambda x: plain(params, x), inner=inner)(x)))


def test_custom_jvp_and_checkpoint_of_containers(inner):
    @udiff.custom_jvp
    def scaled(p):
        return [p["a"] * p["s"], np.exp(p["a"])]

    @scaled.defjvp
    def _(primals, tangents):
        (p,), (t,) = primals, tangents
        return scaled(p), [t["a"] * p["s"] + p["a"] * t["s"], np.exp(p["a"]) * t["a"]]

    layer = udiff.checkpoint(lambda p: {"out": np.tanh(p["a"] * p["s"])})
    p = {"a": chunked(X, inner), "s": chunked(numpy.array(1.5), inner)}
    for f, plain in [(lambda p: scaled(p)[0] + scaled(p)[1], lambda p: p["a"] * p["s"]
                      + np.exp(p["a"])),
                     (lambda p: layer(p)["out"], lambda p: np.tanh(p["a"] * p["s"]))]:
        for mode in ("fwd", "rev"):
            got = udiff.jacobian(f, mode=mode, inner=inner)(p)
            expected = udiff.jacobian(plain, mode=mode, inner=inner)(p)
            for k in p:
                numpy.testing.assert_allclose(compute(got[k]), compute(expected[k]))


# -- bad input ---------------------------------------------------------------------------
def _custom_vjp(bwd, fwd=lambda x, y: (x * y, (x, y))):
    @udiff.custom_vjp
    def product(x, y):
        return x * y

    product.defvjp(fwd, bwd)
    return product


def test_bwd_with_the_wrong_number_of_cotangents_raises():
    f = _custom_vjp(lambda res, g: (g * res[1],))
    with pytest.raises(ValueError, match="bwd of custom_vjp product must return a tuple of 2"):
        udiff.grad(lambda x: np.sum(f(x, Y)))(X)
    f = _custom_vjp(lambda res, g: g * res[1])
    with pytest.raises(ValueError, match="product .* not a numpy.ndarray"):
        udiff.grad(lambda x: np.sum(f(x, Y)))(X)


def test_bwd_with_a_wrong_shape_raises_naming_the_argument():
    f = _custom_vjp(lambda res, g: (g, np.sum(g)))
    with pytest.raises(ValueError, match=r"product returned a cotangent of shape \(\) for y,"):
        udiff.grad(lambda y: np.sum(f(X, y)))(Y)


def test_bwd_with_a_wrong_structure_raises_naming_the_argument():
    @udiff.custom_vjp
    def affine(params, x):
        return params["w"] * x + params["b"]

    affine.defvjp(lambda p, x: (affine(p, x), (p, x)),
                  lambda res, g: ({"w": g * res[1]}, None))
    with pytest.raises(ValueError, match=r"affine .* structure \{'w': \*\} for argument params"):
        udiff.grad(lambda p: np.sum(affine(p, X)))({"w": Y, "b": 1.0})
    affine.defvjp(lambda p, x: (affine(p, x), (p, x)),
                  lambda res, g: ({"w": g * res[1], "b": g}, None))
    with pytest.raises(ValueError, match=r"shape \(3,\) for params\['b'\], which has shape \(\)"):
        udiff.grad(lambda p: np.sum(affine(p, X)))({"w": Y, "b": 1.0})


def test_jvp_with_a_wrong_shape_raises():
    @udiff.custom_jvp
    def f(x):
        return x

    f.defjvp(lambda p, t: (p[0], np.sum(t[0])))
    for mode in ("fwd", "rev"):
        with pytest.raises(ValueError, match=r"custom_jvp f returned a tangent of shape \(\)"):
            udiff.jacobian(f, mode=mode)(X)


def test_undefined_rules_and_undecorated_functions_raise():
    @udiff.custom_vjp
    def f(x):
        return x

    @udiff.custom_jvp
    def h(x):
        return x

    numpy.testing.assert_allclose(f(X), X)  # outside differentiation: the body
    with pytest.raises(NotImplementedError, match="no VJP defined for the custom_vjp function f"):
        udiff.grad(lambda x: np.sum(f(x)))(X)
    with pytest.raises(NotImplementedError, match="no JVP defined for the custom_jvp function h"):
        udiff.grad(lambda x: np.sum(h(x)))(X)
    with pytest.raises(TypeError, match="custom_vjp"):
        udiff.defvjp(lambda x: x, lambda ans, x: lambda g: g)
    with pytest.raises(TypeError, match="pair"):
        _custom_vjp(lambda res, g: (g, g), fwd=lambda x, y: x * y)(udiff.DiffArray(
            X, udiff.DiffArrayBackend()), Y)


def test_closing_over_a_differentiated_array_raises():
    def loss(w):
        layer = udiff.checkpoint(lambda h: np.tanh(h * w))
        return np.sum(layer(2.0 * w))

    with pytest.raises(TypeError, match="checkpoint <lambda> closes over a DiffArray"):
        udiff.grad(loss)(Y)

    def loss2(w):
        scaled = udiff.custom_jvp(lambda h: h * w)
        scaled.defjvp(lambda p, t: (p[0] * w, t[0] * w))
        return np.sum(scaled(X))

    with pytest.raises(TypeError, match="custom_jvp <lambda> closes over a DiffArray"):
        udiff.grad(loss2)(Y)


# -- stop_gradient ---------------------------------------------------------------------
def test_stop_gradient(inner):
    x = chunked(X, inner)
    g = udiff.grad(lambda x: np.sum(x * udiff.stop_gradient(x)), inner=inner)(x)
    numpy.testing.assert_allclose(compute(g), X)
    t = udiff.jvp(lambda x: x * udiff.stop_gradient(x), (x,), (x,), inner=inner)[1]
    numpy.testing.assert_allclose(compute(t), X * X)
    assert udiff.stop_gradient(x) is x
    for mode in ("vjp", "jvp"):
        with ua.set_backend(udiff.DiffArrayBackend(inner, mode), coerce=True):
            v = np.asarray(x)
            a, b = udiff.stop_gradient((v * 2.0, v))
            y = a * v + b
            numpy.testing.assert_allclose(compute(y.to(v)), 2 * X)
    numpy.testing.assert_allclose(
        compute(udiff.hessian(lambda x: np.sum(udiff.stop_gradient(x) * x ** 2), inner=inner)(x)),
        numpy.diag(2 * X))


def test_stop_gradient_inside_vmap(inner):
    x, x2, t = chunked(X, inner), chunked(X2, inner), chunked(T, inner)
    square = udiff.vmap(lambda xi: xi * udiff.stop_gradient(xi))
    numpy.testing.assert_allclose(
        compute(udiff.grad(lambda x: np.sum(square(x)), inner=inner)(x)), X)  # not 2 x
    numpy.testing.assert_allclose(compute(udiff.jvp(square, (x,), (t,), inner=inner)[1]), X * T)
    numpy.testing.assert_allclose(compute(square(x)), X * X)
    nested = udiff.vmap(udiff.vmap(lambda e: e * udiff.stop_gradient(e)))
    numpy.testing.assert_allclose(
        compute(udiff.grad(lambda x: np.sum(nested(x)), inner=inner)(x2)), X2)
    per_row = udiff.vmap(udiff.grad(lambda r: np.sum(square(r)), inner=inner))(x2)
    numpy.testing.assert_allclose(compute(per_row), X2)
    h = udiff.hessian(lambda x: np.sum(udiff.vmap(lambda e: udiff.stop_gradient(e) * e ** 2)(x)),
                      inner=inner)(x)
    numpy.testing.assert_allclose(compute(h), numpy.diag(2 * X))


# -- checkpoint ------------------------------------------------------------------------
def test_checkpoint_both_modes_to_order_2(inner):
    x, y = chunked(X, inner), chunked(Y, inner)
    check_grads(lambda x, y: sin_times_ck(x, y) * x, [x, y], order=2, inner=inner)


def test_checkpoint_records_one_node_holding_inputs_and_output():
    layer = udiff.checkpoint(lambda h, w: np.tanh(h @ w))
    w = numpy.eye(3) * 0.5
    keys = rule_keys(lambda h, w: layer(layer(h, w), w), [numpy.ones((2, 3)), w])
    assert keys == {layer}
    backend = udiff.DiffArrayBackend()
    with ua.set_backend(backend, coerce=True):
        h, wd = np.ones((2, 3)), np.asarray(w)
        out = layer(h, wd)
    assert out._fn is layer and [p for _, _, p in out._parents] == [h, wd]
    assert out._args == ((h.value, wd.value),)


def test_checkpointed_network_matches_the_plain_one(inner):
    rng = numpy.random.default_rng(0)
    ws = [chunked(rng.standard_normal((4, 4)) * 0.5, inner) for _ in range(3)]
    h0 = chunked(rng.standard_normal((3, 4)), inner)
    layer = udiff.checkpoint(lambda h, w: np.tanh(h @ w))

    def net(ws, layer):
        h = h0
        for w in ws:
            h = layer(h, w)
        return np.sum(h * h)

    def plain(*ws):
        return net(ws, lambda h, w: np.tanh(h @ w))

    def checkpointed(*ws):
        return net(ws, layer)

    argnums = (0, 1, 2)
    g = udiff.grad(checkpointed, argnums, inner=inner)(*ws)
    expected = udiff.grad(plain, argnums, inner=inner)(*ws)
    for a, b in zip(g, expected):
        numpy.testing.assert_allclose(compute(a), compute(b))
    numpy.testing.assert_allclose(compute(udiff.hessian(checkpointed, 1, inner=inner)(*ws)),
                                  compute(udiff.hessian(plain, 1, inner=inner)(*ws)))


def test_checkpoint_with_several_outputs_and_a_constant():
    ck = udiff.checkpoint(lambda x, c: (np.sin(x) * c, np.exp(x)))

    def f(x):
        a, b = ck(x, 2.0)
        return a * b

    check_grads(f, [X], order=2)


# -- graphs, dtypes and threads ----------------------------------------------------------
def test_custom_nodes_survive_a_deep_copy():
    backend = udiff.DiffArrayBackend()
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(X)
        y = sin_times(x, Y) + sin_times_j(x, Y) + sin_times_ck(x, Y)
    y2 = copy.deepcopy(y)
    x2 = y2._parents[1][2]._parents[0][2]
    numpy.testing.assert_allclose(y2.to(x2).value, 3 * numpy.cos(X) * Y)


def test_float32_gradients_stay_float32():
    x = X.astype(numpy.float32)
    for f in (sin_times, sin_times_j, sin_times_ck):
        g = udiff.grad(lambda x: np.sum(f(x, 2.0 * x)))(x)
        assert g.dtype == numpy.float32, f


def test_custom_functions_from_several_threads():
    rng = numpy.random.default_rng(1)
    points = [rng.standard_normal(3) for _ in range(8)]
    results = [None] * len(points)

    def work(k):
        x = points[k]
        results[k] = (
            udiff.grad(lambda x: np.sum(sin_times(x, Y)))(x),
            udiff.jacfwd(lambda x: sin_times_j(x, Y))(x),
            udiff.hessian(lambda x: np.sum(sin_times_ck(x, Y)))(x),
        )

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(points))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for x, (g, jac, hess) in zip(points, results):
        numpy.testing.assert_allclose(g, numpy.cos(x) * Y)
        numpy.testing.assert_allclose(jac, numpy.diag(numpy.cos(x) * Y))
        numpy.testing.assert_allclose(hess, numpy.diag(-numpy.sin(x) * Y))


def test_a_custom_function_nobody_holds_is_freed():
    # Its rules travel with it, not in udiff's global tables: checkpoint(f) made
    # afresh in every step of a loop must not pile up.
    import gc
    import weakref

    def step():
        layer = udiff.checkpoint(lambda h: np.tanh(h))
        g = udiff.grad(lambda x: np.sum(layer(x)))(numpy.array([0.5, 1.0]))
        numpy.testing.assert_allclose(g, 1 - numpy.tanh([0.5, 1.0]) ** 2)
        return weakref.ref(layer)

    made = [step() for _ in range(3)]
    gc.collect()
    assert all(r() is None for r in made)


# -- transformations compose: custom rules inside vmap, under every operator ---------------
# Batching a custom function gives a custom function of the same kind (JAX's rule), so an
# enclosing grad, jvp or vmap still sees one node with the user's rule.
def _stacked(results):
    return numpy.stack([numpy.asarray(compute(r)) for r in results])


def test_custom_vjp_inside_vmap_uses_its_rule(inner):
    x, x2 = chunked(X, inner), chunked(X2, inner)
    # The task's example: clip(3) = 1, by hand (the body's derivative is 3).
    g = udiff.grad(lambda x: np.sum(udiff.vmap(lambda xi: 3 * clip_gradient(xi))(x)), inner=inner)
    numpy.testing.assert_allclose(compute(g(x)), numpy.ones(3))
    g = udiff.grad(lambda x: np.sum(udiff.vmap(doubled_sin)(x)), inner=inner)
    numpy.testing.assert_allclose(compute(g(x)), 2 * numpy.cos(X))
    for in_axes in (0, 1, -1):
        g = udiff.grad(lambda x: np.sum(udiff.vmap(doubled_sin, in_axes=in_axes)(x)), inner=inner)
        numpy.testing.assert_allclose(compute(g(x2)), 2 * numpy.cos(X2))
    jac = udiff.jacrev(udiff.vmap(doubled_sin), inner=inner)(x)
    numpy.testing.assert_allclose(compute(jac), numpy.diag(2 * numpy.cos(X)))


def test_custom_vjp_inside_vmap_matches_a_loop(inner):
    # sin_times's bwd is its derivative, with residuals: the batched fwd, residuals and
    # bwd against one call per example.
    x, y = chunked(X2, inner), chunked(Y2, inner)
    gx, gy = udiff.grad(lambda x, y: np.sum(udiff.vmap(sin_times)(x, y) ** 2), (0, 1),
                        inner=inner)(x, y)
    per = [udiff.grad(lambda a, b: np.sum(sin_times(a, b) ** 2), (0, 1))(X2[i], Y2[i])
           for i in range(3)]
    numpy.testing.assert_allclose(compute(gx), _stacked([p[0] for p in per]))
    numpy.testing.assert_allclose(compute(gy), _stacked([p[1] for p in per]))
    numpy.testing.assert_allclose(compute(udiff.vmap(sin_times)(x, y)), numpy.sin(X2) * Y2)


def test_custom_vjp_inside_vmap_sums_the_cotangent_of_an_unbatched_argument(inner):
    x, w = chunked(X2, inner), chunked(Y2[0], inner)
    passed = lambda x, w: np.sum(udiff.vmap(sin_times, in_axes=(0, None))(x, w) ** 2)  # noqa: E731
    closed = lambda x, w: np.sum(udiff.vmap(lambda r: sin_times(r, w))(x) ** 2)  # noqa: E731
    per = [udiff.grad(lambda a, b: np.sum(sin_times(a, b) ** 2), (0, 1))(X2[i], Y2[0])
           for i in range(3)]
    for f in (passed, closed):
        gx, gw = udiff.grad(f, (0, 1), inner=inner)(x, w)
        numpy.testing.assert_allclose(compute(gx), _stacked([p[0] for p in per]))
        numpy.testing.assert_allclose(compute(gw), sum(p[1] for p in per))
    # The unbatched argument only: the batched one is a constant of the vmap.
    gw = udiff.grad(lambda w: np.sum(udiff.vmap(lambda r: doubled_sin(r * w))(x)), inner=inner)(w)
    numpy.testing.assert_allclose(compute(gw), numpy.sum(2 * numpy.cos(X2 * Y2[0]) * X2, axis=0))


def test_custom_vjp_in_nested_vmaps_and_in_vmap_of_grad(inner):
    x = chunked(X2, inner)
    inner_vmap = udiff.vmap(lambda e: 3 * clip_gradient(e))
    nested = udiff.grad(lambda x: np.sum(udiff.vmap(inner_vmap)(x)), inner=inner)(x)
    numpy.testing.assert_allclose(compute(nested), numpy.ones((3, 2)))
    per_row = udiff.vmap(udiff.grad(lambda r: np.sum(inner_vmap(r)), inner=inner))(x)
    numpy.testing.assert_allclose(compute(per_row), numpy.ones((3, 2)))
    nested = udiff.grad(lambda x: np.sum(udiff.vmap(udiff.vmap(doubled_sin))(x)), inner=inner)(x)
    numpy.testing.assert_allclose(compute(nested), 2 * numpy.cos(X2))
    # An argument of the outer vmap, unbatched in the inner one.
    f = udiff.vmap(lambda r, s: np.sum(udiff.vmap(sin_times, in_axes=(0, None))(r, s)),
                   in_axes=(0, 0))
    gx, gs = udiff.grad(lambda x, s: np.sum(f(x, s)), (0, 1), inner=inner)(x, chunked(Y, inner))
    numpy.testing.assert_allclose(compute(gx), numpy.cos(X2) * Y[:, None])
    numpy.testing.assert_allclose(compute(gs), numpy.sum(numpy.sin(X2), axis=1))


def test_custom_vjp_inside_vmap_to_order_2(inner):
    x, y = chunked(X, inner), chunked(Y, inner)
    check_grads(lambda x, y: udiff.vmap(sin_times)(x, y) * x, [x, y], modes=("rev",), order=2,
                inner=inner)
    # The rule at order 2: bwd's 2 cos x differentiated, by hand.
    f = lambda x: np.sum(udiff.vmap(doubled_sin)(x))  # noqa: E731
    numpy.testing.assert_allclose(compute(udiff.hessian(f, inner=inner)(x)),
                                  numpy.diag(-2 * numpy.sin(X)))
    second = udiff.grad(lambda x: np.sum(udiff.grad(f, inner=inner)(x)), inner=inner)(x)
    numpy.testing.assert_allclose(compute(second), -2 * numpy.sin(X))


def test_custom_jvp_under_every_operator_uses_its_rule(inner):
    x, t = chunked(X, inner), chunked(T, inner)
    want = 2 * numpy.cos(X)  # the rule's derivative (the body's is cos x)
    cases = [(doubled_sin_j, x), (udiff.vmap(doubled_sin_j), x),
             (udiff.vmap(udiff.vmap(doubled_sin_j)), chunked(X[:, None], inner))]
    for f, arg in cases:
        g = udiff.grad(lambda x: np.sum(f(x)), inner=inner)(arg)
        numpy.testing.assert_allclose(compute(g).reshape(3), want)
        out, tangent = udiff.jvp(f, (arg,), (numpy.reshape(t, numpy.shape(arg)),), inner=inner)
        numpy.testing.assert_allclose(compute(out).reshape(3), numpy.sin(X))
        numpy.testing.assert_allclose(compute(tangent).reshape(3), want * T)
        for jac in (udiff.jacfwd, udiff.jacrev):
            j = compute(jac(f, inner=inner)(arg)).reshape(3, 3)
            numpy.testing.assert_allclose(j, numpy.diag(want))
        h = compute(udiff.hessian(lambda x: np.sum(f(x)), inner=inner)(arg)).reshape(3, 3)
        numpy.testing.assert_allclose(h, numpy.diag(-2 * numpy.sin(X)))
    # Inside vmap, under each: one operator per example.
    for op in (udiff.grad, udiff.jacfwd, udiff.jacrev):
        numpy.testing.assert_allclose(compute(udiff.vmap(op(doubled_sin_j, inner=inner))(x)), want)
    per = udiff.vmap(lambda xi, ti: udiff.jvp(doubled_sin_j, (xi,), (ti,), inner=inner)[1])(x, t)
    numpy.testing.assert_allclose(compute(per), want * T)


def test_custom_jvp_inside_vmap_with_an_unbatched_argument(inner):
    x, y = chunked(X2, inner), chunked(Y2[0], inner)
    gx, gy = udiff.grad(lambda x, y: np.sum(udiff.vmap(sin_times_j, in_axes=(0, None))(x, y)),
                        (0, 1), inner=inner)(x, y)
    numpy.testing.assert_allclose(compute(gx), numpy.cos(X2) * Y2[0])
    numpy.testing.assert_allclose(compute(gy), numpy.sum(numpy.sin(X2), axis=0))
    _, t = udiff.jvp(lambda y: udiff.vmap(lambda r: doubled_sin_j(r * y))(x), (y,),
                     (numpy.ones(2),), inner=inner)
    numpy.testing.assert_allclose(compute(t), 2 * numpy.cos(X2 * Y2[0]) * X2)


def test_batched_versions_are_made_once_per_pattern():
    backend = udiff.DiffArrayBackend()
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(X)
        first, again = udiff.vmap(sin_times)(x, Y), udiff.vmap(sin_times)(x, Y)
        other = udiff.vmap(sin_times, in_axes=(0, None))(x, 2.0)
    assert first._fn is again._fn and first._fn is not other._fn
    assert type(first._fn) is udiff.custom_vjp and first._fn is not sin_times
    numpy.testing.assert_allclose(first.to(x).value, numpy.cos(X) * Y)
    numpy.testing.assert_allclose(other.to(x).value, 2 * numpy.cos(X))


def test_a_batched_nondiff_argument_runs_once_per_example(inner):
    @functools.partial(udiff.custom_vjp, nondiff_argnums=(1,))
    def power(x, n):
        return x ** n

    # bwd is twice the derivative: the rule is used.
    power.defvjp(lambda x, n: (x ** n, x), lambda n, x, g: (2.0 * n * x ** (n - 1) * g,))
    x, n = chunked(X, inner), numpy.array([1.0, 2.0, 3.0])
    g = udiff.grad(lambda x: np.sum(udiff.vmap(power)(x, n)), inner=inner)(x)
    numpy.testing.assert_allclose(compute(g), 2 * n * X ** (n - 1))
    numpy.testing.assert_allclose(compute(udiff.vmap(power)(x, n)), X ** n)


@pytest.mark.parametrize("f", [sin_times_j, sin_times_ck], ids=["custom_jvp", "checkpoint"])
def test_custom_jvp_and_checkpoint_inside_vmap_to_order_2(inner, f):
    x, y = chunked(X, inner), chunked(Y, inner)
    check_grads(lambda x, y: udiff.vmap(f)(x, y) * x, [x, y], order=2, inner=inner)


def test_checkpoint_inside_vmap_with_an_array_traced_outside(inner):
    x, a = chunked(X, inner), numpy.array(2.0)
    ck = udiff.checkpoint(lambda u, b: np.sin(u * b))
    passed = lambda a: np.sum(udiff.vmap(lambda xi: ck(xi, a))(x))  # noqa: E731
    closed = lambda a: np.sum(udiff.vmap(  # noqa: E731
        lambda xi: udiff.checkpoint(lambda u: np.sin(u * a))(xi))(x))
    fd = numeric_grad(lambda a: numpy.sum(numpy.sin(X * a)), a)
    for f in (passed, closed):
        numpy.testing.assert_allclose(compute(udiff.grad(f, inner=inner)(a)), fd, rtol=1e-7)
    fd2 = numeric_grad(lambda a: numpy.sum(X * numpy.cos(X * a)), a)
    numpy.testing.assert_allclose(compute(udiff.hessian(passed, inner=inner)(a)), fd2, rtol=1e-7)
    jac = udiff.jacfwd(lambda a: udiff.vmap(lambda xi: ck(xi, a))(x), inner=inner)(a)
    numpy.testing.assert_allclose(compute(jac), X * numpy.cos(X * a))
    gx, ga = udiff.grad(lambda x, a: np.sum(udiff.vmap(lambda xi: ck(xi, a))(x)), (0, 1),
                        inner=inner)(x, a)
    numpy.testing.assert_allclose(compute(gx), a * numpy.cos(X * a))
    numpy.testing.assert_allclose(compute(ga), fd, rtol=1e-7)


def test_custom_rules_of_a_udiff_numpy_function(inner):
    x, t = chunked(X, inner), chunked(T, inner)
    ck = udiff.checkpoint(np.sin)
    numpy.testing.assert_allclose(
        compute(udiff.grad(lambda x: np.sum(ck(x)), inner=inner)(x)), numpy.cos(X))
    numpy.testing.assert_allclose(
        compute(udiff.hessian(lambda x: np.sum(ck(x)), inner=inner)(x)), numpy.diag(-numpy.sin(X)))
    numpy.testing.assert_allclose(compute(udiff.jvp(ck, (x,), (t,), inner=inner)[1]),
                                  numpy.cos(X) * T)
    numpy.testing.assert_allclose(
        compute(udiff.jacfwd(lambda x: udiff.checkpoint(np.sum)(x, axis=0), inner=inner)(x)),
        numpy.ones(3))
    numpy.testing.assert_allclose(
        compute(udiff.grad(lambda x: np.sum(udiff.vmap(ck)(x)), inner=inner)(x)), numpy.cos(X))
    f = udiff.custom_vjp(np.sin)
    f.defvjp(lambda x: (np.sin(x), np.cos(x)), lambda cos, g: (2.0 * cos * g,))
    j = udiff.custom_jvp(np.sin)
    j.defjvp(lambda p, t: (np.sin(p[0]), 2.0 * np.cos(p[0]) * t[0]))
    assert repr(f) == "<udiff.custom_vjp sin>" and repr(j) == "<udiff.custom_jvp sin>"
    for h in (f, j, udiff.vmap(f), udiff.vmap(j)):
        numpy.testing.assert_allclose(compute(h(x)), numpy.sin(X))
        numpy.testing.assert_allclose(
            compute(udiff.grad(lambda x: np.sum(h(x)), inner=inner)(x)), 2 * numpy.cos(X))
    numpy.testing.assert_allclose(compute(udiff.jvp(j, (x,), (t,), inner=inner)[1]),
                                  2 * numpy.cos(X) * T)


def test_a_graph_with_custom_nodes_pickles(inner):
    # The functions are module-level: a decorated one pickles by its name, one bound to
    # another name (cube) by its functions, checkpoint(np.sin) by np.sin, and the batched
    # version vmap makes as its function and pattern.
    backend = udiff.DiffArrayBackend(inner)
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(X, inner))
        y = np.sum(sin_times(x, Y) * doubled_sin(x) + sin_times_j(x, Y) + cube(x)
                   + udiff.checkpoint(np.sin)(x) + udiff.vmap(sin_times, in_axes=(0, None))(x, 2.0)
                   + udiff.vmap(clip_gradient)(x) * 3)
        want = compute(y.to(x))
    y2, x2 = pickle.loads(pickle.dumps((y, x)))
    assert x2 is not x
    numpy.testing.assert_allclose(compute(y2), compute(y))
    numpy.testing.assert_allclose(compute(y2.to(x2)), want)
    by_hand = (numpy.cos(X) * Y * numpy.sin(X) + numpy.sin(X) * Y * 2 * numpy.cos(X)
               + numpy.cos(X) * Y + 3 * X ** 2 + numpy.cos(X) + 2 * numpy.cos(X) + 1)
    numpy.testing.assert_allclose(want, by_hand)
    # The same function object, so an unpickled graph shares the rules.
    assert pickle.loads(pickle.dumps(sin_times)) is sin_times
    assert pickle.loads(pickle.dumps(doubled_sin_j)) is doubled_sin_j


# -- higher order: docs/conventions.md, "Custom rules at higher order and inside vmap" -----
def test_second_order_of_a_custom_vjp_by_mode():
    # loss = sum(c(x) ** 3), c = clip_gradient: grad = clip(3 x ** 2).  Forward over
    # reverse differentiates fwd's output (x) at the outer level, as JAX does in both
    # modes: d/dx clip(3 x**2) = 6 x where |3 x**2| < 1.  Reverse over reverse applies
    # bwd again at the outer level: the cotangent 6 x reaching c is clipped to 1.
    loss = lambda x: np.sum(clip_gradient(x) ** 3)  # noqa: E731
    x = numpy.array([0.5, 2.0])
    jax_value = [[3.0, 0.0], [0.0, 0.0]]  # jax.hessian and jax.jacrev(jax.grad) (JAX 0.10.2)
    numpy.testing.assert_allclose(udiff.hessian(loss)(x), jax_value)
    numpy.testing.assert_allclose(compute(udiff.jacfwd(udiff.grad(loss))(x)), jax_value)
    numpy.testing.assert_allclose(udiff.hvp(loss, (x,), (numpy.ones(2),)), [3.0, 0.0])
    numpy.testing.assert_allclose(udiff.jacrev(udiff.grad(loss))(x), [[1.0, 0.0], [0.0, 0.0]])
    numpy.testing.assert_allclose(
        udiff.grad(lambda x: np.sum(udiff.grad(loss)(x)))(x), [1.0, 0.0])


# JAX's idiom: fwd calls the function itself (issue 18: hessian raised "can't apply
# forward-mode differentiation" on the call inside fwd).
@udiff.custom_vjp
def own_exp(x):
    return np.exp(x)


def _own_exp_fwd(x):
    y = own_exp(x)  # the output is the residual too
    return y, y


own_exp.defvjp(_own_exp_fwd, lambda y, g: (g * y,))


@udiff.custom_vjp
def own_sin_times(x, y):
    return np.sin(x) * y


own_sin_times.defvjp(lambda x, y: (own_sin_times(x, y), (x, y)),
                     lambda r, g: (g * np.cos(r[0]) * r[1], g * np.sin(r[0])))

SECOND_ORDER = {
    "hessian": lambda f, inner: udiff.hessian(f, inner=inner),
    "jacfwd(grad)": lambda f, inner: udiff.jacfwd(udiff.grad(f, inner=inner), inner=inner),
    "jacrev(grad)": lambda f, inner: udiff.jacrev(udiff.grad(f, inner=inner), inner=inner),
}


@pytest.mark.parametrize("how", list(SECOND_ORDER))
def test_hessian_of_a_custom_vjp_whose_fwd_calls_itself(how, inner):
    second = SECOND_ORDER[how]
    loss = lambda x: np.sum(own_exp(x) ** 2)  # noqa: E731
    numpy.testing.assert_allclose(compute(second(loss, inner)(chunked(X, inner))),
                                  numpy.diag(4 * numpy.exp(2 * X)))
    # two arguments, residuals that are not the output
    loss2 = lambda x, y: np.sum(own_sin_times(x, y) ** 2)  # noqa: E731
    plain = lambda x, y: np.sum((np.sin(x) * y) ** 2)  # noqa: E731
    for argnums in (0, 1):
        got = udiff.hessian(loss2, argnums=argnums, inner=inner)(chunked(X, inner),
                                                                 chunked(Y, inner))
        numpy.testing.assert_allclose(compute(got), udiff.hessian(plain, argnums=argnums)(X, Y))


def test_custom_vjp_whose_fwd_calls_itself_at_third_order_and_in_vmap():
    loss = lambda x: np.sum(own_exp(x) ** 2)  # noqa: E731
    third = udiff.jacfwd(udiff.hessian(loss))(X)
    numpy.testing.assert_allclose(third, udiff.jacfwd(udiff.hessian(
        lambda x: np.sum(np.exp(x) ** 2)))(X))
    per_example = udiff.vmap(udiff.hessian(loss))(numpy.stack([X, Y]))
    numpy.testing.assert_allclose(per_example[1], numpy.diag(4 * numpy.exp(2 * Y)))
    check_grads(loss, [X], modes=("rev",), order=2)
    with pytest.raises(TypeError, match="can't apply forward-mode differentiation"):
        udiff.jacfwd(udiff.jacfwd(loss))(X)


def test_second_order_of_a_custom_jvp_uses_the_rule_in_every_mode():
    # The rule's tangent at every order, whatever the rule computes for the output (here
    # np.sin, not the function itself: JAX would differentiate that np.sin at the outer
    # level, giving 4 cos^2 - 4 sin^2 = [3.92, 3.68]).
    @udiff.custom_jvp
    def f(x):
        return np.sin(x)

    f.defjvp(lambda p, t: (np.sin(p[0]), 2.0 * np.cos(p[0]) * t[0]))
    loss = lambda x: np.sum(f(x) ** 2)  # noqa: E731
    x = numpy.array([0.1, 0.2])
    want = 2 * (2 * numpy.cos(x)) ** 2 - 4 * numpy.sin(x) ** 2  # [7.88, 7.53]
    for op in (udiff.hessian, lambda f: udiff.jacfwd(udiff.jacfwd(f)),
               lambda f: udiff.jacrev(udiff.grad(f)), lambda f: udiff.jacfwd(udiff.grad(f))):
        numpy.testing.assert_allclose(numpy.diag(compute(op(loss)(x))), want)


# -- user code runs on udiff's arrays, in every sweep ---------------------------------------
# The body, fwd, bwd and jvp rule of a custom function see udiff's arrays (DiffArrays), in a
# plain sweep as in a recorded one, as a plain function does: methods only DiffArrays have
# (x.at) and udiff's corrections of Dask (nd fancy indexing, flatten) work in them.
KINDS = ["custom_vjp", "custom_jvp", "checkpoint"]


def _at_body(x):
    return x.at[1].set(2.0) * x  # x_i ** 2, and 2 x_1 at 1


def _at_rule(x, s):
    """The (diagonal) Jacobian of _at_body times the seed ``s``, with ``s.at``."""
    return 2.0 * s.at[1].divide(x[1]) * x


def _custom(kind, body, bwd=None, jvp=None):
    """``body`` as a ``kind``; bwd(x, g) and jvp(x, t) give its derivatives."""
    if kind == "checkpoint":
        return udiff.checkpoint(body)
    if kind == "custom_vjp":
        f = udiff.custom_vjp(lambda x: body(x))
        f.defvjp(lambda x: (body(x), x), lambda x, g: (bwd(x, g),))
        return f
    f = udiff.custom_jvp(lambda x: body(x))
    f.defjvp(lambda p, t: (body(p[0]), jvp(p[0], t[0])))
    return f


@pytest.mark.parametrize("kind", KINDS)
def test_custom_functions_use_methods_of_udiffs_arrays(inner, kind):
    # .at in the body, fwd, bwd and jvp (on the cotangent or tangent): a plain sweep that
    # hands the rules the inner library's arrays fails.
    f = _custom(kind, _at_body, bwd=_at_rule, jvp=_at_rule)
    x = chunked(X, inner)
    modes = ("rev",) if kind == "custom_vjp" else ("fwd", "rev")
    check_grads(lambda x: f(x) * x, [x], modes=modes, order=2, inner=inner)
    d = numpy.where(numpy.arange(3) == 1, 2.0, 2.0 * X)  # the Jacobian's diagonal, by hand
    value = numpy.where(numpy.arange(3) == 1, 2.0 * X, X * X)
    want = value + d * X  # d/dx of f(x) * x, diagonal
    g = udiff.grad(lambda x: np.sum(f(x) * x), inner=inner)(x)
    numpy.testing.assert_allclose(compute(g), want)
    ops = (udiff.jacrev,) if kind == "custom_vjp" else (udiff.jacrev, udiff.jacfwd)
    for op in ops:
        numpy.testing.assert_allclose(compute(op(f, inner=inner)(x)), numpy.diag(d))
    numpy.testing.assert_allclose(compute(udiff.vjp(f, x, inner=inner)[0]), value)


def _dask_body(x):
    # nd fancy indexing and flatten: Dask's own raise or mishandle them on several chunks
    return np.sin(x[[0, 2, 2], [1, 0, 1]]) * x.flatten()[1:4] + np.sum(x.flatten()[::-1] ** 2)


@pytest.mark.parametrize("kind", KINDS)
def test_custom_functions_on_dask_use_udiffs_corrections(kind):
    import dask.array as da

    b = udiff.dask_backend
    f = _custom(kind, _dask_body, bwd=lambda x, g: udiff.vjp(_dask_body, x, inner=b)[1](g)[0],
                jvp=lambda x, t: udiff.jvp(_dask_body, (x,), (t,), inner=b)[1])
    x = da.from_array(X2, chunks=1)
    modes = ("rev",) if kind == "custom_vjp" else ("fwd", "rev")
    check_grads(f, [x], modes=modes, order=2, inner=b)
    want = compute(udiff.jacrev(_dask_body, inner=b)(x))  # the plain function's
    numpy.testing.assert_allclose(compute(udiff.jacrev(f, inner=b)(x)), want)
    if kind != "custom_vjp":
        numpy.testing.assert_allclose(compute(udiff.jacfwd(f, inner=b)(x)), want)
    hess = udiff.hessian(lambda x: np.sum(f(x) * f(x)), inner=b)(x)
    plain = udiff.hessian(lambda x: np.sum(_dask_body(x) ** 2), inner=b)(x)
    numpy.testing.assert_allclose(compute(hess), compute(plain))
