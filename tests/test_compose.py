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


_A = numpy.array([[3.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 5.0]])
LINALG = {
    # b has more leading axes than a: a batch of seeds must not be aligned with them
    "solve_broadcast": lambda x: np.sum(np.linalg.solve(_A + np.outer(x, x),
                                                        np.reshape(x, (1, 3, 1)) * x)),
    "solve_vector": lambda x: np.sum(np.linalg.solve(_A + np.outer(x, x), x)),
    "qr": lambda x: np.sum(np.linalg.qr(_A + np.outer(x, x))[1] * x),
}


@pytest.mark.parametrize("inner", INNERS)
@pytest.mark.parametrize("name", NESTINGS)
@pytest.mark.parametrize("fun", LINALG)
def test_nested_jacobians_of_linear_algebra_equal_the_hessian(fun, name, inner):
    x, b = _arr(X / 4, inner), _inner(inner)
    if inner == "dask" and fun == "qr":
        x = _arr(X / 4, inner).rechunk(3)  # Dask's qr needs one chunk across the columns
    H = _np(hessian(LINALG[fun], inner=b)(x))
    numpy.testing.assert_allclose(_plain(NESTINGS[name](LINALG[fun], b)(x)), H, rtol=1e-10)


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


@pytest.mark.parametrize("case", ["vjp identity", "vjp view", "jvp identity", "jvp view",
                                  "grad of a sum"])
def test_derivatives_are_new_writeable_arrays(case):
    """A derivative is never the caller's seed, a view of it, or a read-only broadcast:
    it is the caller's to change in place, as NumPy's results are."""
    x, seed = X.copy(), numpy.arange(3.0)
    if case == "vjp identity":
        d, = vjp(lambda x: x, x)[1](seed)
    elif case == "vjp view":
        d, = vjp(lambda x: x[None], x)[1](seed[None])
    elif case == "jvp identity":
        d = jvp(lambda x: x, (x,), (seed,))[1]
    elif case == "jvp view":
        d = jvp(lambda x: x[::-1], (x,), (seed,))[1]
    else:
        d = grad(lambda x: np.sum(x))(x)
    expected = numpy.ones(3) if case == "grad of a sum" else \
        (seed[::-1] if case == "jvp view" else seed)
    assert d.flags.writeable and not numpy.shares_memory(d, seed)
    d += 1.0
    numpy.testing.assert_allclose(seed, numpy.arange(3.0))
    numpy.testing.assert_allclose(d, expected + 1.0)


def test_rules_write_only_into_arrays_they_made():
    """Elementwise rules multiply the cotangent (tangent) into the derivative they just made,
    sparing an allocation, and never into an array anything else holds: an input, an
    output, a seed, a constant the function closed over."""
    from udiff.rules._helpers import times

    n = 1 << 12  # (smaller derivatives are always new arrays)
    g, held = numpy.full(n, 2.0), numpy.arange(float(n))
    out = times(g, held)
    assert out is not held and numpy.array_equal(held, numpy.arange(float(n)))
    made = []

    def temporary(size=n):
        a = numpy.arange(float(size)) + 1.0
        made.append(id(a))
        return a

    out = times(g, temporary())
    assert id(out) == made[-1] and numpy.array_equal(out, 2.0 * numpy.arange(1.0, n + 1.0))
    assert id(times(g[:3], temporary(3))) != made[-1]
    assert times(g, 1.0) is g
    assert times(numpy.ones((2, n)), temporary()).shape == (2, n)  # (a broadcast: new)

    rng = numpy.random.default_rng(0)
    x, c, seed = (rng.standard_normal(n) for _ in range(3))
    inputs = [a.copy() for a in (x, c, seed)]

    def f(x):
        return np.tanh(np.exp(x) * c) + np.sin(x) ** 2 + x * x

    dfx = (1 - numpy.tanh(numpy.exp(x) * c) ** 2) * numpy.exp(x) * c \
        + 2 * numpy.sin(x) * numpy.cos(x) + 2 * x
    numpy.testing.assert_allclose(vjp(f, x)[1](seed)[0], dfx * seed)
    numpy.testing.assert_allclose(jvp(f, (x,), (seed,))[1], dfx * seed)
    numpy.testing.assert_allclose(grad(lambda x: np.sum(f(x)))(x), dfx)
    for a, before in zip((x, c, seed), inputs):
        numpy.testing.assert_array_equal(a, before)


# -- the composition matrix: every pair of transformations, on the one operation table ------
#
# Each case of test_rules.CASES (the one table of operations) is differentiated with respect
# to its first floating argument, the others held fixed.  With f the operation, s(x) =
# sum(v * f(x)) for a fixed random v, J = jacrev(f)(x) and H = hessian(s)(x) (both checked
# against finite differences by test_rules), every pair of grad, jvp, vjp, vmap, jacfwd and
# jacrev must give the quantity it stands for in terms of J and H, and vmap must give what a
# loop gives.  The operation runs plain and wrapped in custom_vjp, custom_jvp, checkpoint and
# stop_gradient (the wrapped versions have the plain one's derivatives; stop_gradient's adds a
# stopped copy of f to f).  By default a fixed sample of operations runs;
# UDIFF_FULL_MATRIX=1 runs every one (.ci/run does).
import os  # noqa: E402

import test_linalg  # noqa: E402
import test_special  # noqa: E402
import test_stats  # noqa: E402
from test_rules import CASES_BY_NAME  # noqa: E402

from udiff import vmap  # noqa: E402

SAMPLE = ["sin_1x2", "exp_3x2", "tanh_1x2", "multiply_3x1_1x2", "divide_0d_0d", "power_3x1_1x2",
          "sum_axis1", "max_axis0", "prod_axis0", "std_ddof1", "matmul_2x3_3x4", "einsum_three",
          "reshape", "getitem_fancy_2d", "sort_axis0", "cumsum_axis0", "where", "concatenate",
          "take_along_axis", "logsumexp_norm", "linalg:solve_broadcast", "linalg:det_stack",
          "linalg:eigh_values", "linalg:qr_r", "special:gammaln", "stats:norm.logpdf"]


def _all_cases():
    """Every case of the operation tables: test_rules' (NumPy's namespace), and
    numpy.linalg's, scipy.special's and scipy.stats' (their names prefixed)."""
    cases = dict(CASES_BY_NAME)
    for prefix, module in [("linalg", test_linalg), ("special", test_special),
                           ("stats", test_stats)]:
        for c in module.CASES:
            cases[f"{prefix}:{c.name}"] = c._replace(name=f"{prefix}:{c.name}")
    return cases


def _matrix_cases():
    cases = _all_cases()
    if os.environ.get("UDIFF_FULL_MATRIX"):
        return [c for c in cases.values() if not getattr(c, "xfail", None)]
    return [cases[n] for n in SAMPLE]


def _wrap_custom_vjp(f, b):
    g = udiff.custom_vjp(lambda x: f(x))
    g.defvjp(lambda x: (f(x), x), lambda x, ct: (vjp(f, x, inner=b)[1](ct)[0],))
    return g


def _wrap_custom_jvp(f, b):
    g = udiff.custom_jvp(lambda x: f(x))
    g.defjvp(lambda primals, tangents: jvp(f, primals, tangents, inner=b))
    return g


WRAPPERS = {
    "plain": lambda f, b: f,
    "custom_vjp": _wrap_custom_vjp,
    "custom_jvp": _wrap_custom_jvp,
    "checkpoint": lambda f, b: udiff.checkpoint(f),
    "stop_gradient": lambda f, b: (lambda x: f(x) + udiff.stop_gradient(f(x))),
}


_REFERENCES = {}


class _Op:
    """One operation at one point: f of the first floating argument, and references."""

    def __init__(self, case, inner, wrapper):
        self.inner = _inner(inner)
        args = case.make_args(self.inner)
        self.k = next(i for i, a in enumerate(args) if numpy.dtype(a.dtype).kind in "fc")
        self.x = args[self.k]
        rest = list(args)

        def f(x):
            rest[self.k] = x
            return case.fun(*rest)

        b = self.inner
        self.plain = f
        self.f = WRAPPERS[wrapper](f, b)
        self.key = (case.name, inner)
        y = self.reference("y", lambda: _np(vjp(f, self.x, inner=b)[0]))
        self.complex = y.dtype.kind == "c" or numpy.dtype(self.x.dtype).kind == "c"
        rng = numpy.random.default_rng(1)
        self.v = self.like(rng.standard_normal(y.shape))
        self.u = self.like(rng.standard_normal(numpy.shape(self.x)))
        self.w = self.like(rng.standard_normal(numpy.shape(self.x)))
        self.n, self.m = int(numpy.prod(numpy.shape(self.x))), y.size
        self.X = numpy.stack([_np(self.x), _np(self.x) * 0.9 + 0.05])

    def reference(self, name, compute):
        """A reference quantity of the plain operation, computed once per case and inner
        library (every wrapper and pair of the matrix shares it)."""
        key = self.key + (name,)
        if key not in _REFERENCES:
            _REFERENCES[key] = compute()
        return _REFERENCES[key]

    @property
    def J(self):
        return self.reference("J", lambda: _np(jacrev(self.plain, inner=self.inner)(self.x))
                              .reshape(self.m, self.n))

    @property
    def H(self):
        return self.reference("H", lambda: _np(hessian(self.s(self.plain), inner=self.inner)(
            self.x)).reshape(self.n, self.n))

    def like(self, a):
        a = numpy.asarray(a, dtype=float)
        return a if self.inner is udiff.numpy_backend else da.from_array(a, chunks=1)

    def value(self, x):
        """The wrapped operation's value at ``x``, computed under udiff's backend."""
        return vjp(self.f, x, inner=self.inner)[0]

    def s(self, f):
        return lambda x: np.sum(self.v * f(x))

    def flat(self, a):
        return _np(a).reshape(-1)


def _hu(op):
    return op.H @ op.flat(op.u)


# name -> (computation of op, reference of op, uses forward mode on the operation itself)
PAIRS = {
    "jacfwd(jacrev)": (lambda op, b: jacfwd(jacrev(op.s(op.f), inner=b), inner=b)(op.x),
                       lambda op: op.H, False),
    "jacrev(jacfwd)": (lambda op, b: jacrev(jacfwd(op.s(op.f), inner=b), inner=b)(op.x),
                       lambda op: op.H, True),
    "jacrev(jacrev)": (lambda op, b: jacrev(jacrev(op.s(op.f), inner=b), inner=b)(op.x),
                       lambda op: op.H, False),
    "jacfwd(jacfwd)": (lambda op, b: jacfwd(jacfwd(op.s(op.f), inner=b), inner=b)(op.x),
                       lambda op: op.H, True),
    "jacfwd(grad)": (lambda op, b: jacfwd(grad(op.s(op.f), inner=b), inner=b)(op.x),
                     lambda op: op.H, False),
    "grad(grad)": (lambda op, b: grad(lambda x: np.sum(grad(op.s(op.f), inner=b)(x) * op.u),
                                      inner=b)(op.x), _hu, False),
    "jvp(grad)": (lambda op, b: jvp(grad(op.s(op.f), inner=b), (op.x,), (op.u,), inner=b)[1],
                  _hu, False),
    "grad(jvp)": (lambda op, b: grad(lambda x: jvp(op.s(op.f), (x,), (op.u,), inner=b)[1],
                                     inner=b)(op.x), _hu, True),
    "jvp(jvp)": (lambda op, b: jvp(lambda y: jvp(op.s(op.f), (y,), (op.u,), inner=b)[1],
                                   (op.x,), (op.w,), inner=b)[1],
                 lambda op: op.flat(op.w) @ _hu(op), True),
    "vjp(jvp)": (lambda op, b: vjp(lambda y: jvp(op.f, (y,), (op.u,), inner=b)[1], op.x,
                                   inner=b)[1](op.v)[0], _hu, True),
    "jvp(vjp)": (lambda op, b: jvp(lambda y: vjp(op.f, y, inner=b)[1](op.v)[0], (op.x,),
                                   (op.u,), inner=b)[1], _hu, False),
    "vjp(vjp)": (lambda op, b: vjp(lambda y: vjp(op.f, y, inner=b)[1](op.v)[0], op.x,
                                   inner=b)[1](op.u)[0], _hu, False),
    "grad(tangent)": (lambda op, b: grad(lambda t: np.sum(op.v * jvp(op.f, (op.x,), (t,),
                                                                     inner=b)[1]),
                                         inner=b)(op.u),
                      lambda op: op.flat(op.v) @ op.J, True),
    "grad(cotangent)": (lambda op, b: grad(lambda c: np.sum(op.u * vjp(op.f, op.x, inner=b)[1](c)[0]),
                                           inner=b)(op.v),
                        lambda op: op.J @ op.flat(op.u), False),
    "jacfwd(cotangent)": (lambda op, b: jacfwd(lambda c: vjp(op.f, op.x, inner=b)[1](c)[0],
                                               inner=b)(op.v),
                          lambda op: op.J.T, False),
    "vmap(grad)": (lambda op, b: vmap(grad(op.s(op.f), inner=b))(op.like(op.X)),
                   lambda op: _loop(op, lambda x: grad(op.s(op.plain), inner=op.inner)(x)), False),
    "grad(vmap)": (lambda op, b: grad(lambda X: np.sum(vmap(op.s(op.f))(X)), inner=b)(op.like(op.X)),
                   lambda op: _loop(op, lambda x: grad(op.s(op.plain), inner=op.inner)(x)), False),
    "vmap(jvp)": (lambda op, b: vmap(lambda y: jvp(op.f, (y,), (op.u,), inner=b)[1])(op.like(op.X)),
                  lambda op: _loop(op, lambda x: jvp(op.plain, (x,), (op.u,), inner=op.inner)[1]),
                  True),
    "vmap(vjp)": (lambda op, b: vmap(lambda y: vjp(op.f, y, inner=b)[1](op.v)[0])(op.like(op.X)),
                  lambda op: _loop(op, lambda x: vjp(op.plain, x, inner=op.inner)[1](op.v)[0]),
                  False),
    "vmap(jacrev)": (lambda op, b: vmap(jacrev(op.f, inner=b))(op.like(op.X)),
                     lambda op: _loop(op, lambda x: jacrev(op.plain, inner=op.inner)(x)), False),
    "vmap(jacfwd)": (lambda op, b: vmap(jacfwd(op.f, inner=b))(op.like(op.X)),
                     lambda op: _loop(op, lambda x: jacrev(op.plain, inner=op.inner)(x)), True),
    "vmap(vmap)": (lambda op, b: vmap(vmap(op.f))(op.like(numpy.stack([op.X, op.X[::-1]]))),
                   lambda op: numpy.stack([_loop(op, op.value, op.X), _loop(op, op.value, op.X[::-1])]),
                   False),
}


def _loop(op, fn, X=None):
    X = op.X if X is None else X
    return numpy.stack([_np(fn(op.like(x))) for x in X])


# -- what the matrix finds that is not fixed yet: strict xfails, so that a fix must remove them
_VMAP5 = {"vmap(grad)", "vmap(jacfwd)", "vmap(jacrev)", "vmap(jvp)", "vmap(vjp)"}
_READS_VALUES = (
    "reads the values to decide shapes or positions (interp's searchsorted, piecewise's "
    "conditions, trim_zeros, real_if_close): with a batched value under a derivative inside "
    "vmap udiff raises BatchingConversionError instead of batching it")
_LSTSQ_DASK = (
    "lstsq (and polyfit, which calls it) on Dask inside vmap: the examples' least-squares "
    "results have unknown (NaN) chunk sizes, and stacking them fails")
KNOWN = {}
for _c in ("interp_x0d", "interp_x2d", "interp_xfp", "piecewise_funcs", "real_if_close_real",
           "trim_zeros_2d"):
    for _i, _w in [("numpy", "plain"), ("numpy", "stop_gradient"), ("numpy", "checkpoint"),
                   ("dask", "plain")]:
        KNOWN[_c, _i, _w] = (_VMAP5, _READS_VALUES)
    KNOWN[_c, "numpy", "custom_jvp"] = (_VMAP5 | {"grad(vmap)"}, _READS_VALUES)
    for _i in INNERS:
        KNOWN[_c, _i, "custom_vjp"] = (
            {"grad(vmap)", "vmap(grad)", "vmap(jacrev)", "vmap(vjp)"}, _READS_VALUES)
for _c in ("polyfit_xy", "polyfit_weights", "polyfit_cov", "linalg:lstsq_vector",
           "linalg:lstsq_matrix"):
    for _w in ("plain", "custom_vjp"):
        KNOWN[_c, "dask", _w] = (_VMAP5 | {"grad(vmap)", "vmap(vmap)"}, _LSTSQ_DASK)


# Every wrapper runs on NumPy; Dask runs the plain and custom_vjp operations.  The
# combinations left out are not collected, rather than collected and reported skipped.
VARIANTS = [(w, i) for w in WRAPPERS for i in INNERS
            if i == "numpy" or w in ("plain", "custom_vjp")]


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("wrapper,inner", VARIANTS, ids=[f"{w}-{i}" for w, i in VARIANTS])
@pytest.mark.parametrize("case", _matrix_cases(), ids=lambda c: c.name)
def test_composition_matrix(case, wrapper, pair, inner, request):
    pairs, reason = KNOWN.get((case.name, inner, wrapper), ((), None))
    if pair in pairs:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    op = _Op(case, inner, wrapper)
    if op.complex:
        pytest.skip("a complex output: the matrix pairs real functions (check_grads checks "
                    "complex ones in both modes to order 2)")
    compute, reference, forward_on_primal = PAIRS[pair]
    if wrapper == "custom_vjp" and forward_on_primal:
        # As in JAX: a custom_vjp function has no forward-mode rule of its own.
        with pytest.raises(TypeError, match="custom_vjp"):
            compute(op, op.inner)
        return
    got = _plain(compute(op, op.inner))
    expected = numpy.asarray(reference(op))
    numpy.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-7, atol=1e-9)
