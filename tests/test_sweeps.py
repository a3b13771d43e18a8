"""The sweeps: cost (counted in rule calls, never timed), depth, memory, higher order."""
import collections
import contextlib
import gc
import weakref

import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
from udiff._machinery import registry as _registry
from conftest import chunked, compute

pytestmark = pytest.mark.filterwarnings("ignore:uarray.skip_backend:DeprecationWarning")

MODES = ["vjp", "jvp"]


@contextlib.contextmanager
def recording(inner, mode="vjp"):
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode), coerce=True):
        yield


def _wrapped_tables(monkeypatch, wrap):
    """Replace every VJP maker and JVP rule by ``wrap(kind, rule)`` for one test."""
    for kind, name in (("vjp", "_VJP"), ("jvp", "_JVP")):
        table = getattr(_registry, name)
        wrapped = {
            key: tuple(None if r is None else wrap(kind, r) for r in rules)
            for key, rules in table.items()
        }
        monkeypatch.setattr(_registry, name, wrapped)


@pytest.fixture
def rule_calls(monkeypatch):
    """Counts calls of VJP makers and JVP rules, by kind."""
    counts = collections.Counter()

    def wrap(kind, rule):
        def run(*args, **kwargs):
            counts[kind] += 1
            return rule(*args, **kwargs)

        return run

    _wrapped_tables(monkeypatch, wrap)
    return counts


# -- 4. cost and memory ---------------------------------------------------------------------


def _residual_chain(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) * 0.5 + y
    return y


@pytest.mark.parametrize("mode", MODES)
def test_cost_is_linear_in_chain_length(inner, mode, rule_calls):
    a = numpy.array([0.1, 0.4, -0.3])
    calls = {}
    for n in (30, 60):
        with recording(inner, mode):
            x = np.asarray(chunked(a, inner))
            y = _residual_chain(x, n)
            rule_calls.clear()
            y.to(x)
        calls[n] = rule_calls[mode]
    assert calls[30] > 0
    assert calls[60] == 2 * calls[30]
    # sin (1 differentiable input) + multiply (1) + add (2) per step
    assert calls[30] == 4 * 30


@pytest.mark.parametrize("mode", MODES)
def test_shared_subexpressions_are_visited_once(mode, rule_calls):
    # y = y * y + y, n times: 3**n paths from y to x, but 4 n rule calls
    # (both operands of the product, both of the sum).
    calls = {}
    for n in (20, 40):
        with recording(udiff.numpy_backend, mode):
            x = np.asarray(numpy.array([0.01, 0.02]))
            y = x
            for _ in range(n):
                y = y * y + y
            rule_calls.clear()
            g = y.to(x)
        calls[n] = rule_calls[mode]
        assert numpy.all(numpy.isfinite(g.value))
    assert calls[40] == 2 * calls[20] == 2 * 4 * 20


class _NotToBeWalked(tuple):
    """Parents that a sweep must not look at."""

    def __iter__(self):
        raise AssertionError("the sweep walked the graph above its only variable")


@pytest.mark.parametrize("mode", MODES)
def test_sweep_stops_at_its_only_variable(mode):
    # Nothing above the one variable can depend on it, so a sweep must not walk the
    # graph behind it: an operator inside another differentiates with respect to a
    # fresh variable made from the outer one, in a loop of n inner gradients (an
    # unrolled training), and walking the outer graph each time made the loop cost n^2.
    with recording(udiff.numpy_backend, mode):
        a = np.asarray(numpy.array([0.5, 2.0]))
        behind = np.sin(a) * 3.0
        x = behind + 1.0                  # an intermediate with a graph behind it
        y = np.exp(x) * a + x * x         # a also reaches y around x
        parents, behind._parents = behind._parents, _NotToBeWalked(behind._parents)
        g = y.to(x)
        numpy.testing.assert_allclose(g.value, numpy.exp(x.value) * a.value + 2 * x.value)
        behind._parents = parents
        # one variable above another still counts: d/da goes through x too
        total = numpy.exp(x.value) + g.value * 3.0 * numpy.cos(a.value)
        numpy.testing.assert_allclose(y.to(a).value, total)
        if mode == "vjp":
            ga, gx = y.to([a, x])
            numpy.testing.assert_allclose(ga.value, total)
            numpy.testing.assert_allclose(gx.value, g.value)


@pytest.mark.parametrize("mode", MODES)
def test_long_chain_has_no_recursion_limit(mode):
    n = 100_000
    with recording(udiff.numpy_backend, mode):
        x = np.asarray(numpy.array([1.0]))
        y = x
        for _ in range(n):
            y = y * 1.0001
        g = y.to(x)
    numpy.testing.assert_allclose(g.value, [1.0001**n], rtol=1e-9)
    del y  # freeing a 100,000-deep graph must not overflow the C stack either
    gc.collect()


@pytest.mark.parametrize("mode", MODES)
def test_to_twice_gives_identical_answers(inner, mode):
    a = numpy.array([[0.3, -1.0], [2.0, 0.5]])
    with recording(inner, mode):
        x = np.asarray(chunked(a, inner))
        y = np.exp(np.sin(x) * x) + x * x
        first = [compute(y.to(x)), compute(y.to(x, jacobian=True))]
        second = [compute(y.to(x)), compute(y.to(x, jacobian=True))]
        g = y.to(x, create_graph=True)
        again = compute(y.to(x))
    for f, s in zip(first, second):
        numpy.testing.assert_array_equal(f, s)
    numpy.testing.assert_array_equal(compute(g), first[0])
    numpy.testing.assert_array_equal(again, first[0])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_graph_is_freed_when_output_dropped(inner, mode, create_graph):
    with recording(inner, mode):
        x = np.asarray(chunked(numpy.array([0.5, 1.5, 2.5]), inner))
        h = np.sin(x)
        ref = weakref.ref(h)
        y = np.exp(h) * x
        del h
        g = y.to(x, create_graph=create_graph)
        jac = y.to(x, jacobian=True, create_graph=create_graph)
        assert ref() is not None  # y still needs it
        del y
        gc.collect()
        # A recorded derivative refers to it; a plain one keeps it to be
        # re-derived when it is differentiated again (y.to(x).to(x)).
        assert ref() is not None
        del g, jac
        gc.collect()
    assert ref() is None


def test_functional_api_keeps_no_graph(inner):
    refs = []

    def f(x):
        h = np.tanh(x)
        refs.append(weakref.ref(h))
        return np.sum(h * h)

    a = chunked(numpy.array([0.1, 0.2, 0.3]), inner)
    for op in (udiff.grad(f, inner=inner), udiff.hessian(f, inner=inner),
               udiff.jacfwd(f, inner=inner), lambda x: udiff.hvp(f, (x,), (x,), inner=inner)):
        op(a)
    gc.collect()
    assert len(refs) == 4 and all(r() is None for r in refs)


@pytest.mark.parametrize("mode", MODES)
def test_adjoints_and_tangents_are_released(mode, monkeypatch):
    # Every cotangent (tangent) a rule returns is weakly tracked: the sweep must drop
    # each once it has been passed on, so only a few are alive at any time, however
    # long the chain.  A sweep that kept them would hold about 4 n.
    live, peak = [], [0]

    def note(value):
        assert isinstance(value, numpy.ndarray)
        live.append(weakref.ref(value))
        peak[0] = max(peak[0], sum(r() is not None for r in live))
        return value

    def wrap(kind, rule):
        if kind == "vjp":
            return lambda *a, **k: (lambda vjp: lambda g: note(vjp(g)))(rule(*a, **k))
        return lambda *a, **k: note(rule(*a, **k))

    _wrapped_tables(monkeypatch, wrap)
    peaks = {}
    for n in (50, 200):
        live.clear()
        peak[0] = 0
        with recording(udiff.numpy_backend, mode):
            x = np.asarray(numpy.linspace(0.0, 1.0, 8))
            y = _residual_chain(x, n)
            y.to(x)
        assert len(live) == 4 * n  # every rule call was tracked
        peaks[n] = peak[0]
    assert peaks[200] == peaks[50] <= 6


# -- 5. higher order -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_create_graph_gives_differentiable_derivatives(inner, mode):
    a = numpy.array([0.3, 0.7, 1.1])
    with recording(inner, mode):
        x = np.asarray(chunked(a, inner))
        y = x * x * x
        g = y.to(x, create_graph=True)
        assert type(g) is udiff.DiffArray and g._parents
        h = g.to(x)
        plain = y.to(x)
        assert not plain._parents  # without create_graph, the result is a constant
    numpy.testing.assert_allclose(compute(g), 3 * a**2)
    numpy.testing.assert_allclose(compute(h), 6 * a)


def test_hessian_blocks_two_variables(inner):
    a = numpy.array([0.5, 1.0, 2.0, 3.0])
    b = numpy.array([-1.0, 0.25, 0.75, 2.0])
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        x2 = np.asarray(chunked(b, inner))
        f = np.sum(np.log(x) * x2 - np.sin(x2))
        gx, gx2 = f.to([x, x2], create_graph=True)
        hxx, hxx2 = gx.to([x, x2], jacobian=True)
        hx2x, hx2x2 = gx2.to([x, x2], jacobian=True)
    numpy.testing.assert_allclose(compute(gx), b / a)
    numpy.testing.assert_allclose(compute(gx2), numpy.log(a) - numpy.cos(b))
    numpy.testing.assert_allclose(compute(hxx), numpy.diag(-b / a**2), atol=1e-15)
    numpy.testing.assert_allclose(compute(hxx2), numpy.diag(1 / a), atol=1e-15)
    numpy.testing.assert_allclose(compute(hx2x), numpy.diag(1 / a), atol=1e-15)
    numpy.testing.assert_allclose(compute(hx2x2), numpy.diag(numpy.sin(b)), atol=1e-15)


def _tanh_derivatives(a):
    t = numpy.tanh(a)
    s = 1 - t**2  # sech^2
    return s, -2 * t * s, -2 * s * (1 - 3 * t**2)


def test_tanh_third_derivative_formula_by_finite_differences():
    # The analytic formulas used below, checked independently of udiff.
    a = numpy.linspace(-2.0, 2.0, 9)
    eps = 1e-5
    d1, d2, d3 = _tanh_derivatives(a)
    up, down = _tanh_derivatives(a + eps), _tanh_derivatives(a - eps)
    numpy.testing.assert_allclose((numpy.tanh(a + eps) - numpy.tanh(a - eps)) / (2 * eps), d1, atol=1e-9)
    numpy.testing.assert_allclose((up[0] - down[0]) / (2 * eps), d2, atol=1e-9)
    numpy.testing.assert_allclose((up[1] - down[1]) / (2 * eps), d3, atol=1e-9)


@pytest.mark.parametrize("mode", MODES)
def test_tanh_third_derivative(inner, mode):
    a = numpy.linspace(-2.0, 2.0, 9)
    with recording(inner, mode):
        x = np.asarray(chunked(a, inner))
        y = np.tanh(x)
        g1 = y.to(x, create_graph=True)
        g2 = g1.to(x, create_graph=True)
        g3 = g2.to(x)
    d1, d2, d3 = _tanh_derivatives(a)
    numpy.testing.assert_allclose(compute(g1), d1, atol=1e-14)
    numpy.testing.assert_allclose(compute(g2), d2, atol=1e-14)
    numpy.testing.assert_allclose(compute(g3), d3, atol=1e-13)


def _hessian_test_function(x):
    return np.sum(np.exp(x[:2]) * np.sin(x[1:])) + np.sum(np.log(x * x + 1.0) * x[0])


def test_forward_over_reverse_and_reverse_over_reverse_agree(inner):
    a = numpy.array([0.3, -0.8, 1.2])
    with recording(inner, "vjp"):
        x = np.asarray(chunked(a, inner))
        g = _hessian_test_function(x).to(x, create_graph=True)
        rev_rev = compute(g.to(x, jacobian=True))
    with recording(inner, "jvp"):
        x = np.asarray(chunked(a, inner))
        g = _hessian_test_function(x).to(x, create_graph=True)  # forward: one tangent
        fwd_fwd_diag = compute(g.to(x))
    fwd_rev = compute(udiff.hessian(_hessian_test_function, inner=inner)(chunked(a, inner)))
    jf = compute(udiff.jacfwd(udiff.grad(_hessian_test_function, inner=inner), inner=inner)(chunked(a, inner)))
    jr = compute(udiff.jacrev(udiff.grad(_hessian_test_function, inner=inner), inner=inner)(chunked(a, inner)))
    ff = compute(udiff.jacfwd(udiff.jacfwd(_hessian_test_function, inner=inner), inner=inner)(chunked(a, inner)))
    numpy.testing.assert_allclose(rev_rev, rev_rev.T, rtol=1e-12)
    for other in (fwd_rev, jf, jr, ff):
        numpy.testing.assert_allclose(other, rev_rev, rtol=1e-12, atol=1e-14)
    # Forward over forward with ones tangents: 1^T H 1.
    numpy.testing.assert_allclose(fwd_fwd_diag, rev_rev.sum(), rtol=1e-12)


@pytest.mark.parametrize("jacobian", [False, True])
def test_forward_mode_rank_broadcasting_product(jacobian):
    m = numpy.arange(12.0).reshape(3, 4)
    with recording(udiff.numpy_backend, "jvp"):
        x = np.asarray(numpy.linspace(0.5, 2.0, 4))
        y = x * m  # x broadcast along a new leading axis
        t = y.to(x, jacobian=jacobian)
    expected = numpy.einsum("ij,jk->ijk", m, numpy.eye(4)) if jacobian else m
    numpy.testing.assert_allclose(t.value, expected)


def test_sums_made_in_place_touch_nothing_of_the_users_nor_shared_cotangents():
    # A plain sweep adds further terms into the sums it made itself; the seed, the
    # cotangents rules pass on unchanged (add's, to both arguments) and the gradients
    # already found must not change.
    from udiff._machinery.sweeps import _IN_PLACE_SIZE

    x0 = numpy.linspace(1.0, 3.0, _IN_PLACE_SIZE)  # large enough to be summed in place
    seed = numpy.linspace(1.0, 100.0, _IN_PLACE_SIZE)
    keep = seed.copy()

    def f(x):
        u = x * 1.0
        w = u + u + u          # u's adjoint: a shared g, then sums
        return w + u * x + x   # x: several terms, added into one sum

    out, vjp_fn = udiff.vjp(f, x0)
    (g,) = vjp_fn(seed)
    numpy.testing.assert_array_equal(seed, keep)
    numpy.testing.assert_allclose(g, seed * (3.0 + 2.0 * x0 + 1.0))
    (g2,) = vjp_fn(seed)
    numpy.testing.assert_array_equal(g, g2)


# -- Hessians of sums over rows: the seeds' tangents stay one scale per row -----------------


def _glm_loss(w, X, y):
    eta = X @ w
    return np.sum(eta + np.log1p(np.exp(-eta)) - y * eta) + 0.5 * np.sum(w * w) \
        + np.sum(np.sin(eta) * eta)


def test_a_hessian_of_a_row_sum_runs_its_elementwise_rules_on_rows(monkeypatch):
    """The Hessian of sum(loss(X @ w)) sweeps p identity seeds forward over the gradient:
    through X @ w they are X^T, and each elementwise operation after it multiplies its
    derivative into one scale per row (n numbers), never into the p x n stack."""
    rng = numpy.random.default_rng(3)
    n, p = 50, 4
    X, y, w = rng.standard_normal((n, p)), (rng.random(n) > 0.5) * 1.0, rng.normal(size=p)
    sizes = collections.Counter()

    def wrap(kind, rule):
        def run(*args, **kwargs):
            if kind == "jvp":
                sizes[getattr(args[0], "size", 1)] += 1  # the tangent the rule is given
            return rule(*args, **kwargs)
        return run

    _wrapped_tables(monkeypatch, wrap)
    H = udiff.hessian(_glm_loss)(w, X, y)
    assert sizes[n] >= 15  # the elementwise operations, on the n rows
    assert sizes[n * p] <= 2  # the stack itself only where it is contracted (X^T @ ...)
    # Against reverse over reverse (no scaled tangents) and the closed form.
    numpy.testing.assert_allclose(H, udiff.jacrev(udiff.grad(_glm_loss))(w, X, y), rtol=1e-12)
    eta = X @ w
    s = 1 / (1 + numpy.exp(-eta))
    d2 = s * (1 - s) + 2 * numpy.cos(eta) - eta * numpy.sin(eta)
    numpy.testing.assert_allclose(H, X.T @ (d2[:, None] * X) + numpy.eye(p), rtol=1e-12)
    # The same on Dask, X and y in several chunks on every axis.
    Hd = udiff.hessian(_glm_loss, inner=udiff.dask_backend)(
        w, chunked(X, udiff.dask_backend), chunked(y, udiff.dask_backend))
    numpy.testing.assert_allclose(compute(Hd), H, rtol=1e-12)
