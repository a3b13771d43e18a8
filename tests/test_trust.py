"""The machinery never turns what it does not understand into a constant.

Each test here is a reproducer from issue 8 that once gave zeros, a wrong
number or a crash: non-array outputs, ``y.to(x).to(x)``, mixed inner
backends, arrays detached inside a differentiated function, threads, copied
graphs, user rules on multimethods with defaults.
"""
import copy
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np

from conftest import chunked, compute


def _leaf(value, inner=udiff.numpy_backend, mode="vjp"):
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        return np.asarray(chunked(value, inner)), backend


# -- 1. outputs the functional API does not understand ------------------------------------
_OPERATORS = ["grad", "jacobian", "jacfwd", "vjp", "jvp", "hessian", "hvp", "value_and_grad"]


def _call(operator, output, x):
    return {
        "grad": lambda: udiff.grad(output)(x),
        "value_and_grad": lambda: udiff.value_and_grad(output)(x),
        "jacobian": lambda: udiff.jacobian(output)(x),
        "jacfwd": lambda: udiff.jacfwd(output)(x),
        "vjp": lambda: udiff.vjp(output, x),
        "jvp": lambda: udiff.jvp(output, (x,), (x,)),
        "hessian": lambda: udiff.hessian(output)(x),
        "hvp": lambda: udiff.hvp(output, (x,), (x,)),
    }[operator]()


@pytest.mark.parametrize("output, what", [
    (lambda x: None, "None"),
    (lambda x: "loss", "a builtins.str"),
    (lambda x: object(), "a builtins.object"),
    (lambda x: (x, "loss"), r"a builtins.str at output\[1\]"),
    (lambda x: {"y": [x, object()]}, r"a builtins.object at output\['y'\]\[1\]"),
])
@pytest.mark.parametrize("operator", _OPERATORS)
def test_non_array_output_raises(output, what, operator):
    x = numpy.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="returned " + what):
        _call(operator, output, x)


@pytest.mark.parametrize("output, what", [
    (lambda x: (2.0 * x, 3.0 * x), r"\(\*, \*\)"),
    (lambda x: [np.sum(x)], r"\[\*\]"),
    (lambda x: {"y": np.sum(x)}, r"\{'y': \*\}"),
])
@pytest.mark.parametrize("operator", ["grad", "value_and_grad", "hessian", "hvp"])
def test_scalar_operators_refuse_container_outputs(output, what, operator):
    # grad needs one scalar: a container (even of one scalar) is refused, as in JAX.
    x = numpy.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="scalar output, but <lambda> returned " + what):
        _call(operator, output, x)


def test_constant_outputs_have_zero_derivatives():
    # A function that returns a number or an array not built from x is a
    # constant: zero is its true derivative (as in JAX).
    x = numpy.array([1.0, 2.0])
    assert numpy.array_equal(udiff.grad(lambda x: 3.0)(x), [0.0, 0.0])
    assert udiff.jacobian(lambda x: numpy.ones(3))(x).shape == (3, 2)


# -- 2. y.to(x).to(x) is the second derivative ----------------------------------------------
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_to_to_is_the_second_derivative(mode, inner):
    x, backend = _leaf(numpy.array([0.5, 1.0, 2.0]), inner, mode)
    with ua.set_backend(backend, coerce=True):
        y = np.sum(x ** 3) if mode == "vjp" else x ** 3
        d1 = y.to(x)
        d2 = d1.to(x)
        d3 = d2.to(x)
        d4 = d3.to(x)
    v = numpy.array([0.5, 1.0, 2.0])
    numpy.testing.assert_allclose(compute(d1), 3 * v ** 2)
    numpy.testing.assert_allclose(compute(d2), 6 * v)
    numpy.testing.assert_allclose(compute(d3), 6.0)
    numpy.testing.assert_allclose(compute(d4), 0.0)


def test_to_to_of_several_variables_and_of_a_temporary():
    x, backend = _leaf(numpy.array([0.5, 1.0]))
    with ua.set_backend(backend, coerce=True):
        w = np.asarray(numpy.array([2.0, 3.0]))
        gx, gw = np.sum(np.sin(x) * w).to([x, w])
        # d/dx sum(gx) = -sin(x) * w; d/dw sum(gx) = cos(x); d/dx sum(gw) = cos(x)
        numpy.testing.assert_allclose(gx.to(x).value, -numpy.sin([0.5, 1.0]) * [2.0, 3.0])
        numpy.testing.assert_allclose(gx.to(w).value, numpy.cos([0.5, 1.0]))
        numpy.testing.assert_allclose(gw.to(x).value, numpy.cos([0.5, 1.0]))
        # the output of the first sweep need not be kept by the caller
        numpy.testing.assert_allclose(np.sum(x ** 3).to(x).to(x).value, [3.0, 6.0])


def test_derivative_used_in_later_arithmetic():
    x, backend = _leaf(numpy.array([0.5, 1.0]))
    with ua.set_backend(backend, coerce=True):
        g = np.sum(x ** 3).to(x)      # 3 x^2
        z = np.sum(g * x)             # 3 x^3
        numpy.testing.assert_allclose(z.to(x).value, 9 * numpy.array([0.5, 1.0]) ** 2)


def test_to_to_of_a_jacobian_and_with_grad_variables():
    x, backend = _leaf(numpy.array([0.5, 1.0]))
    with ua.set_backend(backend, coerce=True):
        jac = (x ** 3).to(x, jacobian=True)                     # diag(3 x^2)
        numpy.testing.assert_allclose(np.sum(jac).to(x).value, 6 * numpy.array([0.5, 1.0]))
        v = numpy.array([1.0, -1.0])
        vjp = (x ** 3).to(x, grad_variables=v)                   # 3 x^2 v
        numpy.testing.assert_allclose(vjp.to(x).value, 6 * numpy.array([0.5, 1.0]) * v)


def test_first_derivatives_record_nothing():
    x, backend = _leaf(numpy.array([0.5, 1.0]))
    with ua.set_backend(backend, coerce=True):
        g = np.sum(np.sin(x)).to(x)
    assert g._parents == ()  # re-derived (recorded) only when differentiated again


def test_functional_results_differentiate_again():
    x, backend = _leaf(numpy.array([0.5, 1.0]))
    f = lambda x: np.sum(np.sin(x) * x)  # noqa: E731
    with ua.set_backend(backend, coerce=True):
        g = udiff.grad(f)(x)
        h = np.sum(g).to(x)
    v = numpy.array([0.5, 1.0])
    numpy.testing.assert_allclose(h.value, 2 * numpy.cos(v) - v * numpy.sin(v))


# -- what y.to(x) accepts ----------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_to_without_variables_is_a_clear_error(inner, mode):
    """Issue 18: y.to(None) and y.to([]) raised IndexError."""
    x, backend = _leaf(numpy.array([1.0, 2.0]), inner, mode)
    with ua.set_backend(backend, coerce=True):
        y = np.sum(x * x)
        with pytest.raises(TypeError, match=r"y.to\(None\): pass the variable.*np.asarray"):
            y.to(None)
        for empty in ([], (), {}, [[]], {"a": []}):
            with pytest.raises(ValueError, match="holds no variable; pass at least one DiffArray"):
                y.to(empty)
        # None inside a container is an empty subtree (as in JAX), not an error
        assert y.to([x, None])[1] is None


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_to_a_constant_says_how_to_make_a_leaf(inner, mode):
    """docs/guide/concepts.md: y.to(c) of a constant raises a TypeError that says how to make
    a leaf."""
    x, backend = _leaf(numpy.array([1.0, 2.0]), inner, mode)
    c = chunked(numpy.array([1.0, 2.0]), inner)
    with ua.set_backend(backend, coerce=True):
        y = np.sum(x * c)
        for bad, path in ((c, "x"), ([x, c], r"x\[1\]"), ({"w": c}, r"x\['w'\]"), (2.0, "x")):
            with pytest.raises(TypeError, match=rf"{path} is a .*x = np.asarray\(data\)"):
                y.to(bad)
        with pytest.raises(TypeError, match="a constant: nothing was recorded for it"):
            y.to(c)


# -- 7. mixing inner backends ---------------------------------------------------------------
def test_mixing_inner_backends_raises():
    import dask.array as da

    a, numpy_backend = _leaf(numpy.array([1.0, 2.0]))
    b, dask_backend = _leaf(numpy.array([3.0, 4.0]), udiff.dask_backend)
    for make in (lambda: a * b, lambda: b * a, lambda: np.concatenate([a, b])):
        with pytest.raises(TypeError, match="mixes inner backends.*(numpy|dask).*(dask|numpy)"):
            with ua.set_backend(numpy_backend, coerce=True):
                make()
    with ua.set_backend(dask_backend, coerce=True):
        # A function of DiffArrays runs on their backend, as their operators do...
        assert type(np.sin(a).value) is numpy.ndarray
        # ...and arrays of two inner backends never meet.
        with pytest.raises(TypeError, match="arctan2 mixes inner backends"):
            np.arctan2(a, b)
    with ua.set_backend(numpy_backend, coerce=True):
        with pytest.raises(TypeError, match="multiply on the numpy inner backend returned a dask"):
            a * da.ones(2, chunks=1)


_MIXING_OPS = {
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "truediv": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "matmul": lambda a, b: a @ b,
    "np.multiply": np.multiply,
    "np.dot": np.dot,
    "np.maximum": np.maximum,
    "np.einsum": lambda a, b: np.einsum("i,i->i", a, b),
    "np.stack": lambda a, b: np.stack([a, b]),
    "np.where": lambda a, b: np.where(numpy.array([True, False]), a, b),
    "np.linalg.norm": lambda a, b: np.linalg.norm([a, b]),
}


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("op", list(_MIXING_OPS))
@pytest.mark.parametrize("first", ["dask", "numpy"])
def test_mixing_inner_backends_raises_in_either_order(first, op, mode):
    """Issue 18: a Dask leaf times a NumPy leaf (in that order) raised AttributeError
    'NoneType' object has no attribute 'dtype'; every order, operation, mode and context
    must give the TypeError that names both libraries."""
    d, dask_backend = _leaf(numpy.array([1.0, 2.0]), udiff.dask_backend, mode)
    n, numpy_backend = _leaf(numpy.array([3.0, 4.0]), udiff.numpy_backend, mode)
    a, b = (d, n) if first == "dask" else (n, d)
    for context in (None, dask_backend, numpy_backend):
        with pytest.raises(TypeError, match="mixes inner backends.*(numpy|dask).*(dask|numpy)"):
            if context is None:
                _MIXING_OPS[op](a, b)
            else:
                with ua.set_backend(context, coerce=True):
                    _MIXING_OPS[op](a, b)


def test_same_inner_backend_in_two_backend_objects_mixes_fine():
    a, b1 = _leaf(numpy.array([1.0, 2.0]))
    b, b2 = _leaf(numpy.array([3.0, 4.0]))
    with ua.set_backend(b1, coerce=True):
        assert numpy.array_equal((a * b).to(a).value, [3.0, 4.0])


# -- detaching inside a differentiated function -----------------------------------------------
@pytest.mark.parametrize("detach", [
    lambda x: float(np.sum(x)),
    lambda x: np.sum(x).item(),
    lambda x: numpy.asarray(x),
    lambda x: x.tolist(),
    lambda x: int(np.sum(x)),
    lambda x: complex(np.sum(x)),
])
def test_detaching_a_traced_array_raises(detach):
    def f(x):
        return np.sum(x * detach(x))

    with pytest.raises(TypeError, match="silently drop its derivative"):
        udiff.grad(f)(numpy.array([1.0, 2.0]))


def test_detaching_a_derivative_of_a_traced_array_raises():
    # the derivative (not yet re-derived) depends on x through the call that made it
    def f(x):
        g = np.sum(x ** 3).to(x)
        return np.sum(x * float(np.sum(g)))

    with pytest.raises(TypeError, match="silently drop its derivative"):
        udiff.grad(f)(numpy.array([1.0, 2.0]))


def test_detaching_constants_and_control_flow_are_fine():
    def f(x):
        c = np.asarray(numpy.array([1.0, 2.0]))
        scale = float(np.sum(c))                 # a constant: fine
        if np.sum(x) > 0:                        # control flow on a value: fine
            return np.sum(x * scale)
        return np.sum(-x)

    assert numpy.array_equal(udiff.grad(f)(numpy.array([1.0, 2.0])), [3.0, 3.0])
    x, backend = _leaf(numpy.array([1.0, 2.0]))
    with ua.set_backend(backend, coerce=True):   # outside the functional API: the value
        assert float(np.sum(x * x)) == 5.0
        assert numpy.asarray(x * 2.0).tolist() == [2.0, 4.0]


# -- 10. threads ------------------------------------------------------------------------------
def _mixed_work(i, results):
    x = numpy.linspace(0.1, 1.0, 4) + i
    f = lambda x: np.sum(np.sin(x) * x)  # noqa: E731
    want = numpy.sin(x) + x * numpy.cos(x)
    hess = numpy.diag(2 * numpy.cos(x) - x * numpy.sin(x))
    kind = i % 4
    if kind == 0:
        got, ok = udiff.grad(f)(x), want
    elif kind == 1:
        got, ok = udiff.hvp(f, (x,), (numpy.ones(4),)), hess.sum(1)
    elif kind == 2:
        got, ok = udiff.jacfwd(lambda x: np.sin(x) * x)(x), numpy.diag(want)
    else:
        got, ok = udiff.jvp(lambda x: np.sin(x) * x, (x,), (numpy.ones(4),))[1], want
    results.append(numpy.allclose(got, ok))


def test_threads_differentiate_at_once():
    results, errors = [], []

    def run(t):
        try:
            for k in range(50):
                _mixed_work(t + k, results)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 400 and all(results)


def test_a_user_backend_object_in_several_threads():
    backend = udiff.DiffArrayBackend(udiff.numpy_backend)
    results, errors = [], []

    def block():
        try:
            with ua.set_backend(backend, coerce=True):
                x = np.asarray(numpy.array([1.0, 2.0]))
                results.append(numpy.allclose(np.sum(x * x).to(x).value, [2.0, 4.0]))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    for _ in range(3):
        threads = [threading.Thread(target=block) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        block()
    assert not errors and len(results) == 15 and all(results)


def test_first_use_in_a_thread_that_exits():
    # Once crashed the interpreter (heap corruption when the first thread's
    # context was freed): run in a subprocess so that a crash fails the test.
    code = textwrap.dedent("""
        import threading, numpy, uarray as ua, udiff, udiff.numpy as np
        f = lambda x: np.sum(np.sin(x))
        x = numpy.ones(3)
        t = threading.Thread(target=lambda: udiff.grad(f)(x)); t.start(); t.join()
        assert numpy.allclose(udiff.grad(f)(x), numpy.cos(x))
        b = udiff.DiffArrayBackend(udiff.numpy_backend)
        def block():
            with ua.set_backend(b, coerce=True):
                a = np.asarray(x); assert numpy.allclose(np.sum(a * a).to(a).value, 2 * x)
        t = threading.Thread(target=block); t.start(); t.join()
        block()
        import gc; gc.collect()
        block()
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


# -- 12. jvp/hvp primals and tangents ------------------------------------------------------------
def test_hvp_checks_tangent_shapes():
    f = lambda x: np.sum(x ** 3)  # noqa: E731
    x = numpy.array([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(1, 3\).*primal has shape \(3,\)"):
        udiff.hvp(f, (x,), (numpy.ones((1, 3)),))
    with pytest.raises(ValueError, match="hvp got 1 primals but 2 tangents"):
        udiff.hvp(f, (x,), (x, x))


@pytest.mark.parametrize("operator", ["jvp", "hvp"])
def test_a_bare_array_is_one_primal(operator):
    x = numpy.array([1.0, 2.0, 3.0])
    if operator == "jvp":
        out, t = udiff.jvp(lambda x: x ** 2, x, numpy.ones(3))
        assert numpy.array_equal(out, x ** 2) and numpy.array_equal(t, 2 * x)
    else:
        assert numpy.array_equal(udiff.hvp(lambda x: np.sum(x ** 3), x, numpy.ones(3)), 6 * x)


# -- 13. copied graphs ----------------------------------------------------------------------------
@pytest.mark.parametrize("copier", [lambda o: pickle.loads(pickle.dumps(o)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_copied_graph_differentiates(copier, inner):
    x, backend = _leaf(numpy.array([0.5, 1.0, 2.0]), inner)
    with ua.set_backend(backend, coerce=True):
        y = np.sum(np.sin(x) * np.add.reduce(x) + np.max(x, axis=0))
        lazy = y.to(x)
    y2, x2 = copier((y, x))
    v = numpy.array([0.5, 1.0, 2.0])
    want = numpy.cos(v) * v.sum() + numpy.sin(v).sum() + numpy.array([0, 0, 3.0])
    numpy.testing.assert_allclose(compute(y2.to(x2)), want)
    lazy2, x3 = copier((lazy, x))
    with ua.set_backend(backend, coerce=True):
        numpy.testing.assert_allclose(compute(np.sum(lazy2).to(x3)), compute(np.sum(lazy).to(x)))


# -- 14. iteration and unknown shapes -----------------------------------------------------------
def test_iterating():
    x, backend = _leaf(numpy.array([[1.0, 2.0], [3.0, 4.0]]))
    with ua.set_backend(backend, coerce=True):
        rows = list(x)
        assert [r.value.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]]
        assert numpy.array_equal((rows[0] * rows[1]).to(x).value, [[3.0, 4.0], [1.0, 2.0]])
        with pytest.raises(TypeError, match="iteration over a 0-d"):
            list(np.sum(x))


def test_grad_variables_on_an_unknown_shape_says_so():
    z, backend = _leaf(numpy.array([1.0, -2.0, 3.0]), udiff.dask_backend)
    with ua.set_backend(backend, coerce=True):
        y = z[z > 0]
        with pytest.raises(ValueError, match="unknown chunk sizes"):
            y.to(z, grad_variables=numpy.ones(2))


# -- 15. a user's rule wins ----------------------------------------------------------------------
def test_a_user_rule_beats_the_default_implementation(inner):
    @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
                           default=lambda x: np.sin(x) * 0.0 + x, domain="numpy")
    def udiff_test_identity_ish(x):
        return (ua.Dispatchable(x, np.ndarray),)

    # The default computes x; the (deliberately different) rules say 2 and 3.
    udiff.defvjp(udiff_test_identity_ish, lambda ans, x: lambda g: 2.0 * g)
    udiff.defjvp(udiff_test_identity_ish, lambda t, ans, x: 3.0 * t)
    x = chunked(numpy.array([1.0, 2.0]), inner)
    f = lambda x: np.sum(udiff_test_identity_ish(x))  # noqa: E731
    assert numpy.array_equal(compute(udiff.grad(f, inner=inner)(x)), [2.0, 2.0])
    out, t = udiff.jvp(lambda x: udiff_test_identity_ish(x), (x,), (numpy.ones(2),), inner=inner)
    assert numpy.array_equal(compute(out), [1.0, 2.0]) and numpy.array_equal(compute(t), [3.0, 3.0])


def test_a_user_rule_beats_a_composite():
    from udiff._machinery import registry as _registry

    assert "numpy.fliplr" in _registry._COMPOSITE
    try:
        udiff.defvjp(np.fliplr, lambda ans, x: lambda g: g * 0.0 + 7.0)
        assert "numpy.fliplr" not in _registry._COMPOSITE
        g = udiff.grad(lambda x: np.sum(np.fliplr(x)))(numpy.ones((2, 2)))
        assert numpy.array_equal(g, numpy.full((2, 2), 7.0))
    finally:
        del _registry._VJP["numpy.fliplr"]
        udiff.defcomposite(np.fliplr)


def test_arrays_passed_by_keyword_are_tracked():
    x = numpy.array([1.0, 2.0])
    assert numpy.array_equal(
        udiff.grad(lambda x: np.sum(np.stack(arrays=[x, x * 2.0])))(x), [3.0, 3.0])
    assert numpy.array_equal(
        udiff.grad(lambda x: np.sum(np.stack(arrays=(x, x * 2.0), axis=0)))(x), [3.0, 3.0])
