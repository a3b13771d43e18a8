"""DiffArrayBackend, the DiffArray API and the semantics of ``DiffArray.to``."""
import contextlib

import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
from conftest import chunked, compute

# uarray 0.9 warns about itself on every ua.set_backend call these tests make.
pytestmark = pytest.mark.filterwarnings("ignore:uarray.skip_backend:DeprecationWarning")


@contextlib.contextmanager
def recording(inner, mode="vjp"):
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode), coerce=True):
        yield


def is_dask(a):
    return type(a).__module__.startswith("dask")


# -- 1. the README example ------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_readme_example(inner, mode):
    base = numpy.arange(1.0, 26.0).reshape(5, 5)
    with recording(inner, mode):
        x1 = np.reshape(np.asarray(chunked(numpy.arange(1.0, 26.0), inner)), (5, 5))
        x2 = np.reshape(np.asarray(chunked(numpy.arange(1.0, 26.0), inner)), (5, 5))
        y = np.log(x1) + x1 * x2 - np.sin(x2)
        d1, d2 = y.to(x1), y.to(x2)
    assert isinstance(d1, udiff.DiffArray) and isinstance(d2, udiff.DiffArray)
    assert d1.shape == d2.shape == (5, 5)
    if inner is udiff.dask_backend:
        # Lazy: the derivative is a Dask graph, not computed numbers.
        assert is_dask(d1.value) and is_dask(d2.value) and is_dask(y.value)
    numpy.testing.assert_allclose(compute(d1), 1 / base + base, rtol=1e-12)
    numpy.testing.assert_allclose(compute(d2), base - numpy.cos(base), rtol=1e-12)


@pytest.mark.parametrize("mode", ["rev", "forward", "", None, "VJP"])
def test_bad_mode_raises(mode):
    with pytest.raises(ValueError, match="mode"):
        udiff.DiffArrayBackend(udiff.numpy_backend, mode=mode)


def test_non_backend_inner_raises():
    with pytest.raises(TypeError, match="uarray backend"):
        udiff.DiffArrayBackend(numpy)


# -- 2. the DiffArray API --------------------------------------------------------------------


def test_attributes_and_repr(inner):
    a = numpy.arange(6.0).reshape(2, 3)
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        t = x.T
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and len(x) == 2
    assert x.dtype == numpy.float64
    assert t.shape == (3, 2) and t._parents  # recorded
    numpy.testing.assert_array_equal(compute(t), a.T)
    assert isinstance(x.shape, tuple) and isinstance(x.size, int)
    text = repr(x)
    assert text.startswith("DiffArray(")
    assert "0x" not in text and "_parents" not in text and "id" not in text
    if inner is udiff.numpy_backend:
        assert "5." in text  # the values are shown
    assert numpy.asarray(x).tolist() == a.tolist()


def test_repr_scalar():
    with recording(udiff.numpy_backend):
        y = np.sum(np.asarray([1.0, 2.5]))
    assert repr(y) == "DiffArray(3.5)"
    assert float(y) == 3.5 and y.item() == 3.5


def test_arithmetic_and_reflected_ops(inner):
    a = numpy.array([[0.5, 1.5, 2.0], [3.0, 0.25, 1.0]])
    c = numpy.array([2.0, -1.0, 0.5])
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        results = {
            "add": (x + 2.0, a + 2.0, numpy.ones_like(a)),
            "radd": (2.0 + x, 2.0 + a, numpy.ones_like(a)),
            "sub": (x - c, a - c, numpy.ones_like(a)),
            "rsub": (c - x, c - a, -numpy.ones_like(a)),
            "rsub_scalar": (3 - x, 3 - a, -numpy.ones_like(a)),
            "mul": (x * c, a * c, numpy.broadcast_to(c, a.shape)),
            "rmul": (c * x, c * a, numpy.broadcast_to(c, a.shape)),
            "div": (x / 4.0, a / 4.0, numpy.full_like(a, 0.25)),
            "rdiv": (1.0 / x, 1.0 / a, -1.0 / a**2),
            "pow": (x**3, a**3, 3 * a**2),
            "rpow": (2.0**x, 2.0**a, numpy.log(2.0) * 2.0**a),
            "neg": (-x, -a, -numpy.ones_like(a)),
            "pos": (+x, a, numpy.ones_like(a)),
            "abs": (abs(x - 1.0), abs(a - 1.0), numpy.sign(a - 1.0)),
            "matmul": (x @ c, a @ c, numpy.broadcast_to(c, a.shape)),
            "rmatmul": (c[:2] @ x, c[:2] @ a, numpy.broadcast_to(c[:2, None], a.shape)),
        }
        grads = {k: v[0].to(x) for k, v in results.items()}
    for name, (y, value, grad) in results.items():
        assert isinstance(y, udiff.DiffArray), name
        numpy.testing.assert_allclose(compute(y), value, err_msg=name)
        numpy.testing.assert_allclose(compute(grads[name]), grad, err_msg=name)


def test_numpy_array_on_the_left_gives_diffarray():
    a = numpy.array([1.0, 2.0])
    with recording(udiff.numpy_backend):
        x = np.asarray(a)
        for y in (numpy.ones(2) * x, numpy.ones(2) + x, numpy.ones(2) - x, numpy.ones(2) / x):
            assert type(y) is udiff.DiffArray
        y = numpy.array([3.0, 4.0]) * x
        g = y.to(x)
    numpy.testing.assert_array_equal(g.value, [3.0, 4.0])


def test_comparisons_are_constants(inner):
    a = numpy.array([[1.0, 3.0], [2.5, -1.0]])
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        comparisons = [x > 2, x >= 2.5, x < 1, x <= 1.0, x == 3.0, x != 3.0]
        for c in comparisons:
            assert type(c) is udiff.DiffArray
            assert c._parents == ()
            assert c.dtype == numpy.bool_
        mask = x > 2
        y = mask * 1.0
        g0 = y.to(x)
        g1 = np.sum(x * mask).to(x)
    numpy.testing.assert_array_equal(compute(comparisons[0]), a > 2)
    numpy.testing.assert_array_equal(compute(g0), numpy.zeros_like(a))
    numpy.testing.assert_array_equal(compute(g1), (a > 2).astype(float))


def test_setitem_is_the_functional_update():
    with recording(udiff.numpy_backend):
        x = np.asarray([1.0, 2.0, 3.0])
        x0 = x
        before = x * x
        x[0] = 5.0  # x.at[0].set(5.0), and x now stands for it
        g = np.sum(before + x * x).to(x0)
    numpy.testing.assert_array_equal(x.value, [5.0, 2.0, 3.0])
    numpy.testing.assert_array_equal(before.value, [1.0, 4.0, 9.0])
    # 2x from before; 2x from after except at 0, where x0 is 5 (a constant)
    numpy.testing.assert_array_equal(g.value, [2.0, 8.0, 12.0])


def test_getitem_is_recorded(inner):
    a = numpy.arange(12.0).reshape(3, 4)
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        y = np.sum(x[1] * x[:, 2:3]) + np.sum(x[x > 8] if inner is udiff.numpy_backend else x[2])
        g = y.to(x)
    expected = numpy.zeros_like(a)
    expected[1] += a[:, 2].sum()  # d/dx[1, j] of sum_ij x[1, j] x[i, 2] over the x[1] factor
    expected[:, 2] += a[1].sum()
    expected[2] += 1.0 if inner is udiff.dask_backend else 0.0
    if inner is udiff.numpy_backend:
        expected[a > 8] += 1.0
    numpy.testing.assert_allclose(compute(g), expected)


def test_augmented_assignment_rebinds(inner):
    a = numpy.array([0.5, 1.0, 2.0])
    with recording(inner):
        x0 = np.asarray(chunked(a, inner))
        x = x0
        x += x0 * x0
        x *= 3.0
        x -= 1.0
        assert x is not x0
        g = x.to(x0)
    numpy.testing.assert_allclose(compute(x0), a)  # the original is untouched
    numpy.testing.assert_allclose(compute(x), 3 * (a + a * a) - 1)
    numpy.testing.assert_allclose(compute(g), 3 * (1 + 2 * a))


# -- 3. the semantics of .to ---------------------------------------------------------------


def test_default_cotangent_is_gradient_of_sum(inner):
    a = numpy.array([[0.3, 1.2, -0.5], [2.0, 0.1, 0.7]])
    v = numpy.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])
    with recording(inner):
        x = np.asarray(chunked(a, inner))
        y = np.sin(x) * x
        g = y.to(x)
        g_sum = np.sum(y).to(x)
        g_v = y.to(x, grad_variables=chunked(v, inner))
        g_v_sum = np.sum(y * v).to(x)
    numpy.testing.assert_allclose(compute(g), compute(g_sum), rtol=1e-14)
    numpy.testing.assert_allclose(compute(g), numpy.cos(a) * a + numpy.sin(a))
    numpy.testing.assert_allclose(compute(g_v), compute(g_v_sum), rtol=1e-14)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_grad_variables_shape_mismatch(inner, mode):
    with recording(inner, mode):
        x = np.asarray(chunked(numpy.ones((2, 3)), inner))
        y = np.sum(x * x, axis=0)
        with pytest.raises(ValueError, match=r"shape \(3, 2\).*must have shape"):
            y.to(x, grad_variables=numpy.ones((3, 2)))


def test_several_variables_one_sweep(inner, monkeypatch):
    import udiff._machinery.sweeps as sweeps

    rng = numpy.random.default_rng(0)
    xa, w1a, b1a, w2a = rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=5)
    calls = []
    original = sweeps.reverse_sweep
    monkeypatch.setattr(sweeps, "reverse_sweep", lambda *a: calls.append(1) or original(*a))
    with recording(inner):
        x = np.asarray(chunked(xa, inner))
        w1, b1, w2 = (np.asarray(chunked(a, inner)) for a in (w1a, b1a, w2a))
        h = np.tanh(np.matmul(x, w1) + b1)
        loss = np.sum(np.matmul(h, w2) ** 2)
        grads = loss.to([w1, b1, w2])
        singles = [loss.to(v) for v in (w1, b1, w2)]
    assert isinstance(grads, tuple) and len(grads) == 3
    assert len(calls) == 4  # one for the tuple, one for each single
    for g, s, a in zip(grads, singles, (w1a, b1a, w2a)):
        assert g.shape == a.shape
        numpy.testing.assert_allclose(compute(g), compute(s), rtol=1e-13)
    # analytic check
    h_a = numpy.tanh(xa @ w1a + b1a)
    r = 2 * (h_a @ w2a)
    numpy.testing.assert_allclose(compute(grads[2]), h_a.T @ r)
    dz = numpy.outer(r, w2a) * (1 - h_a**2)
    numpy.testing.assert_allclose(compute(grads[0]), xa.T @ dz)
    numpy.testing.assert_allclose(compute(grads[1]), dz.sum(0))


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_unrelated_variable_gives_zeros(inner, mode):
    with recording(inner, mode):
        x = np.asarray(chunked(numpy.ones((2, 3)), inner))
        z = np.asarray(chunked(numpy.ones((4,)), inner))
        y = np.sum(x * 2.0, axis=1)
        gz = y.to(z)
        gz_jac = y.to(z, jacobian=True)
    expected_shape = (4,) if mode == "vjp" else (2,)
    assert gz.shape == expected_shape
    numpy.testing.assert_array_equal(compute(gz), numpy.zeros(expected_shape))
    assert gz_jac.shape == (2, 4)
    numpy.testing.assert_array_equal(compute(gz_jac), numpy.zeros((2, 4)))


@pytest.mark.parametrize("variable", [numpy.ones(3), [1.0, 2.0, 3.0], 1.0])
def test_differentiate_wrt_non_diffarray(variable):
    with recording(udiff.numpy_backend):
        x = np.asarray(numpy.ones(3))
        y = x * 2.0
        with pytest.raises(TypeError, match="DiffArray"):
            y.to(variable)


def test_non_numeric_dtype_raises():
    with recording(udiff.numpy_backend):
        s = np.asarray(numpy.array(["a", "b"]))
        y = np.asarray(numpy.ones(2)) * 2.0
        with pytest.raises(TypeError, match="dtype"):
            y.to(s)
        x = np.asarray(numpy.ones(2))
        with pytest.raises((TypeError, ValueError), match="dtype"):
            (x * 2.0).to(x, grad_variables=numpy.array(["a", "b"]))


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_wrt_intermediate_node(inner, mode):
    a = numpy.array([0.2, 0.9, 1.7])
    with recording(inner, mode):
        x = np.asarray(chunked(a, inner))
        h = np.sin(x)
        y = h * h + np.exp(h)
        gh = y.to(h)
        gx = y.to(x)
    s = numpy.sin(a)
    numpy.testing.assert_allclose(compute(gh), 2 * s + numpy.exp(s))
    numpy.testing.assert_allclose(compute(gx), (2 * s + numpy.exp(s)) * numpy.cos(a))


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_jacobian_with_grad_variables_raises(mode):
    with recording(udiff.numpy_backend, mode):
        x = np.asarray(numpy.ones(3))
        y = x * x
        with pytest.raises(ValueError, match="grad_variables"):
            y.to(x, grad_variables=numpy.ones(3), jacobian=True)


def test_forward_default_tangent(inner):
    a = numpy.arange(1.0, 13.0).reshape(3, 4)
    with recording(inner, "jvp"):
        x = np.asarray(chunked(a, inner))
        y = np.sum(x * x, axis=0)  # shape (4,)
        t = y.to(x)
        t_explicit = y.to(x, grad_variables=chunked(numpy.ones((3, 4)), inner))
        v = numpy.linspace(-1, 1, 12).reshape(3, 4)
        t_v = y.to(x, grad_variables=chunked(v, inner))
    assert t.shape == y.shape == (4,)
    numpy.testing.assert_allclose(compute(t), (2 * a).sum(0))
    numpy.testing.assert_allclose(compute(t_explicit), compute(t))
    numpy.testing.assert_allclose(compute(t_v), (2 * a * v).sum(0))


B = numpy.linspace(-1.0, 2.0, 20).reshape(4, 5)


def _nonsquare(x):
    """R^{3x4} -> R^5: a reduction along an axis, broadcasting, a matmul and a mean."""
    s = np.sum(np.sin(x) * x, axis=0)  # (4,)
    t = s[:, None] * B  # (4, 5), broadcasting
    return np.sum(t, axis=0) + np.sum(x * x) / 12.0  # (5,) + scalar broadcast


def _nonsquare_jacobian(a):
    ds = numpy.cos(a) * a + numpy.sin(a)  # (3, 4)
    return numpy.einsum("jk,ij->kij", B, ds) + 2 * a[None] / 12.0


def test_jacobian_shape_and_modes_agree(inner):
    a = numpy.random.default_rng(1).normal(size=(3, 4))
    jacobians = {}
    for mode in ("vjp", "jvp"):
        with recording(inner, mode):
            x = np.asarray(chunked(a, inner))
            y = _nonsquare(x)
            assert y.shape == (5,)
            jac = y.to(x, jacobian=True)
            chunked_jacs = [y.to(x, jacobian=True, chunk_size=c) for c in (1, 2, 7, 100)]
        assert jac.shape == (5, 3, 4)
        jacobians[mode] = compute(jac)
        for c in chunked_jacs:
            assert c.shape == (5, 3, 4)
            numpy.testing.assert_allclose(compute(c), jacobians[mode], rtol=1e-14, atol=1e-15)
    numpy.testing.assert_allclose(jacobians["vjp"], _nonsquare_jacobian(a), rtol=1e-12)
    numpy.testing.assert_allclose(jacobians["vjp"], jacobians["jvp"], rtol=1e-12)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_jacobian_scalar_and_matrix_outputs(inner, mode):
    a = numpy.array([[0.5, 1.0], [1.5, 2.0], [2.5, 3.0]])
    with recording(inner, mode):
        x = np.asarray(chunked(a, inner))
        y_scalar = np.sum(x * x)
        y_matrix = np.exp(x).T  # (2, 3)
        j0 = y_scalar.to(x, jacobian=True)
        j2 = y_matrix.to(x, jacobian=True)
    assert j0.shape == (3, 2) and j2.shape == (2, 3, 3, 2)
    numpy.testing.assert_allclose(compute(j0), 2 * a)
    expected = numpy.zeros((2, 3, 3, 2))
    for i in range(3):
        for j in range(2):
            expected[j, i, i, j] = numpy.exp(a[i, j])
    numpy.testing.assert_allclose(compute(j2), expected)


@pytest.mark.parametrize("chunk_size", [0, -1])
def test_bad_chunk_size(chunk_size):
    with recording(udiff.numpy_backend):
        x = np.asarray(numpy.ones(3))
        with pytest.raises(ValueError, match="chunk_size"):
            (x * x).to(x, jacobian=True, chunk_size=chunk_size)
