"""What udiff returns at non-differentiable and degenerate points: one test per
row of ``docs/conventions.md``.

Each test asserts udiff's documented value in both modes (reverse: a Jacobian
built from vector-Jacobian products; forward: from Jacobian-vector products)
on NumPy and on Dask split into several chunks, unless the row concerns one
mode only.  The document gives, beside each row, what JAX, autograd and
PyTorch return, and why udiff chose its value where they differ.
"""
import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np

from conftest import chunked, compute

MODES = ["rev", "fwd"]
inf, nan = numpy.inf, numpy.nan


@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def jac(f, x, inner, mode):
    """udiff's Jacobian of ``f`` at ``x`` (NumPy), computed on ``inner`` in ``mode``, as NumPy."""
    return compute(udiff.jacobian(f, mode=mode, inner=inner)(chunked(x, inner)))


def assert_same(got, expected):
    """Equal values (NaN equal to NaN, signed infinities), within rounding."""
    numpy.testing.assert_allclose(got, numpy.asarray(expected), rtol=1e-14,
                                  atol=1e-15, equal_nan=True)


# -- abs, sqrt and norms at 0 -------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_abs_at_zero_is_zero(mode, inner):
    assert_same(jac(np.abs, numpy.array(0.0), inner, mode), 0.0)
    assert_same(jac(np.abs, numpy.zeros(2), inner, mode), numpy.zeros((2, 2)))


def test_abs_of_complex_zero_is_zero(inner):
    g = compute(udiff.grad(np.abs, inner=inner)(chunked(numpy.array(0j), inner)))
    assert g.dtype == numpy.complex128
    assert_same(g, 0.0)


@pytest.mark.parametrize("mode", MODES)
def test_sqrt_at_zero_is_infinite(mode, inner):
    assert_same(jac(np.sqrt, numpy.array(0.0), inner, mode), inf)
    # and the second derivative -1/(4 x^1.5) is -inf
    second = lambda x: udiff.jacobian(np.sqrt, mode=mode, inner=inner)(x)  # noqa: E731
    assert_same(jac(second, numpy.array(0.0), inner, mode), -inf)


NORMS_AT_ZERO = [
    (lambda x: np.linalg.norm(x), (3,)),
    (lambda x: np.linalg.norm(x, 1), (3,)),
    (lambda x: np.linalg.norm(x, inf), (3,)),
    (lambda x: np.linalg.norm(x), (2, 2)),
    (lambda x: np.linalg.norm(x, axis=-1), (2, 3)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("k", range(len(NORMS_AT_ZERO)), ids=["2", "1", "inf", "fro", "rows"])
def test_norm_at_zero(k, mode, inner):
    # the 2-norm and Frobenius norm: NaN (x / ||x|| = 0/0), as JAX and autograd;
    # ord=1 and ord=inf, where the anchors disagree: 0, the minimum-norm subgradient
    f, shape = NORMS_AT_ZERO[k]
    x = numpy.zeros(shape)
    expected_shape = numpy.shape(numpy.linalg.norm(x, axis=-1 if k == 4 else None)) + shape
    value = 0.0 if k in (1, 2) else nan
    assert_same(jac(f, x, inner, mode), numpy.full(expected_shape, value))


# -- powers at 0 --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_power_with_exponent_zero_at_zero_is_zero(mode, inner):
    # x ** 0 is the constant 1: its derivative is 0, not 0 * 0 ** -1 = NaN
    for f in (lambda x: x ** 0, lambda x: x ** 0.0, lambda x: np.power(x, 0.0)):
        assert_same(jac(f, numpy.array([0.0, 2.0]), inner, mode), numpy.zeros((2, 2)))


@pytest.mark.parametrize("mode", MODES)
def test_power_at_zero_base(mode, inner):
    x = numpy.array([0.0, 2.0])
    assert_same(jac(lambda x: x ** 2.0, x, inner, mode), numpy.diag([0.0, 4.0]))
    assert_same(jac(lambda x: x ** 0.5, numpy.array(0.0), inner, mode), inf)
    # d/dy 0 ** y = 0 ** y * log(0): 0 for y > 0 (log(0) is not used)
    assert_same(jac(lambda y: np.power(numpy.zeros(2), y), numpy.array(2.0), inner, mode), [0, 0])


# -- ties ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_max_and_min_split_ties_evenly(mode, inner):
    assert_same(jac(np.max, numpy.array([1.0, 3.0, 3.0]), inner, mode), [0, 0.5, 0.5])
    assert_same(jac(np.min, numpy.array([2.0, 1.0, 1.0]), inner, mode), [0, 0.5, 0.5])
    assert_same(jac(np.max, numpy.full(4, 2.0), inner, mode), numpy.full(4, 0.25))
    assert_same(jac(lambda x: np.max(x, axis=1), numpy.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]),
                    inner, mode),
                [[[0, 0.5, 0.5], [0, 0, 0]], [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]])


@pytest.mark.parametrize("mode", MODES)
def test_maximum_and_minimum_split_ties_evenly(mode, inner):
    x = numpy.array([1.0, 1.0])
    assert_same(jac(lambda x: np.maximum(x[0], x[1]), x, inner, mode), [0.5, 0.5])
    assert_same(jac(lambda x: np.minimum(x[0], x[1]), x, inner, mode), [0.5, 0.5])
    assert_same(jac(lambda x: np.fmax(x[0], x[1]), x, inner, mode), [0.5, 0.5])


@pytest.mark.parametrize("mode", MODES)
def test_clip_at_a_bound_is_one_half(mode, inner):
    clip = lambda x: np.clip(x, 0.0, 1.0)  # noqa: E731
    assert_same(jac(clip, numpy.array([0.0, 1.0, 0.5, -1.0, 2.0]), inner, mode),
                numpy.diag([0.5, 0.5, 1.0, 0.0, 0.0]))


@pytest.mark.parametrize("mode", MODES)
def test_median_ties_follow_the_sorted_order(mode, inner):
    # the middle element (or the two middle ones, half each) of a stable sort
    assert_same(jac(np.median, numpy.array([1.0, 2.0, 2.0]), inner, mode), [0, 1, 0])
    assert_same(jac(np.median, numpy.array([1.0, 2.0, 2.0, 3.0]), inner, mode), [0, 0.5, 0.5, 0])
    assert_same(jac(np.median, numpy.array([2.0, 2.0, 2.0]), inner, mode), [0, 1, 0])


@pytest.mark.parametrize("mode", MODES)
def test_sort_ties_follow_the_stable_order(mode, inner):
    # sort([2, 1, 2]) takes x[1], x[0], x[2]: the Jacobian is that permutation
    assert_same(jac(np.sort, numpy.array([2.0, 1.0, 2.0]), inner, mode),
                [[0, 1, 0], [1, 0, 0], [0, 0, 1]])


# -- prod with zeros and infinities -------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_prod_with_zeros_is_the_product_of_the_others(mode, inner):
    assert_same(jac(np.prod, numpy.array([0.0, 2.0, 3.0]), inner, mode), [6, 0, 0])
    assert_same(jac(np.prod, numpy.array([0.0, 0.0, 3.0]), inner, mode), [0, 0, 0])
    assert_same(jac(lambda x: np.prod(x, axis=1), numpy.array([[0.0, 2.0], [3.0, 4.0]]),
                    inner, mode),
                [[[2, 0], [0, 0]], [[0, 0], [4, 3]]])


def test_prod_with_an_infinity_reverse_is_the_product_of_the_others(inner):
    assert_same(jac(np.prod, numpy.array([inf, 2.0, 3.0]), inner, "rev"), [6, inf, inf])


def test_prod_with_an_infinity_forward_is_nan(inner):
    # a zero tangent times an infinite partial: NaN, whatever the direction
    x = chunked(numpy.array([inf, 2.0, 3.0]), inner)
    _, t = udiff.jvp(np.prod, (x,), (chunked(numpy.array([1.0, 0.0, 0.0]), inner),), inner=inner)
    assert_same(compute(t), nan)


# -- var and std of one element or of equal elements --------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_var_of_one_element_is_zero(mode, inner):
    assert_same(jac(np.var, numpy.array([2.0]), inner, mode), [0.0])
    assert_same(jac(lambda x: np.var(x, axis=0), numpy.array([[2.0, 3.0]]), inner, mode),
                numpy.zeros((2, 1, 2)))


@pytest.mark.parametrize("mode", MODES)
def test_std_where_it_is_zero_is_nan(mode, inner):
    # (x - mean) / std = 0/0, as JAX (and autograd for equal elements)
    assert_same(jac(np.std, numpy.array([2.0]), inner, mode), [nan])
    assert_same(jac(np.std, numpy.array([2.0, 2.0]), inner, mode), [nan, nan])


@pytest.mark.parametrize("mode", MODES)
def test_var_and_std_with_ddof_of_one_element_are_nan(mode, inner):
    with numpy.errstate(all="ignore"):
        assert_same(jac(lambda x: np.var(x, ddof=1), numpy.array([2.0]), inner, mode), [nan])
        assert_same(jac(lambda x: np.std(x, ddof=1), numpy.array([2.0]), inner, mode), [nan])


# -- where with an unsafe branch ----------------------------------------------------------------
def _unsafe(x):
    return np.where(x > 0, np.sqrt(x), 0.0)


def _double_where(x):
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, np.sqrt(safe), 0.0)


def test_where_with_an_unsafe_branch_reverse_is_nan(inner):
    # the unselected branch's cotangent is 0, and 0 * sqrt'(0) = 0 * inf = NaN: in every
    # row of the Jacobian, since each one-hot cotangent is 0 there
    assert_same(jac(_unsafe, numpy.array([0.0, 4.0]), inner, "rev"), [[nan, 0], [nan, 0.25]])


def test_where_with_an_unsafe_branch_forward_is_the_selected_tangent(inner):
    assert_same(jac(_unsafe, numpy.array([0.0, 4.0]), inner, "fwd"), [[0, 0], [0, 0.25]])


@pytest.mark.parametrize("mode", MODES)
def test_double_where_is_safe(mode, inner):
    assert_same(jac(_double_where, numpy.array([0.0, 4.0]), inner, mode), [[0, 0], [0, 0.25]])


# -- complex inputs -----------------------------------------------------------------------------
def test_grad_of_a_real_function_of_complex_is_the_conjugate_direction(inner):
    z = chunked(numpy.array([1.0 + 2.0j, -0.5j]), inner)
    g = udiff.grad(lambda z: np.sum(np.abs(z) ** 2), inner=inner)(z)
    assert compute(g).dtype == numpy.complex128
    assert_same(compute(g), 2 * numpy.conj(compute(z)))
    g = udiff.grad(lambda z: np.sum(np.real(z * z)), inner=inner)(z)
    assert_same(compute(g), 2 * compute(z))


def test_holomorphic_vjp_is_the_transpose(inner):
    z = chunked(numpy.array([1.0 + 2.0j, -0.5j]), inner)
    _, vjp_fn = udiff.vjp(lambda z: z * z, z, inner=inner)
    g = chunked(numpy.array([1.0 + 0j, 1.0j]), inner)
    (ct,) = vjp_fn(g)
    assert_same(compute(ct), compute(g) * 2 * compute(z))  # g * f'(z), no conjugate


def test_holomorphic_jvp_is_f_prime_times_the_tangent(inner):
    z = chunked(numpy.array([1.0 + 2.0j, -0.5j]), inner)
    t = chunked(numpy.array([1.0j, 2.0 + 0j]), inner)
    _, jt = udiff.jvp(lambda z: z * z, (z,), (t,), inner=inner)
    assert_same(compute(jt), 2 * compute(z) * compute(t))


# -- integer and boolean leaves ------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("leaf", [numpy.array([1, 2]), numpy.array([True, False])],
                         ids=["integer", "boolean"])
def test_integer_and_boolean_leaves_raise(leaf, mode, inner):
    with pytest.raises(TypeError, match=f"dtype {leaf.dtype}: variables must be floating"):
        jac(lambda x: np.sum(x * 1.5), leaf, inner, mode)
    # the message shows the one-line fix (issue 18)
    fix = r"np.asarray\(x, dtype=float\)"
    with pytest.raises(TypeError, match="variables must be floating.*" + fix):
        udiff.grad(lambda x: np.sum(x * 1.5), inner=inner)(chunked(leaf, inner))
    with pytest.raises(TypeError, match=r"of dtype.*np.asarray\(p\['w'\], dtype=float\)"):
        udiff.grad(lambda p: np.sum(p["w"] * 1.5), inner=inner)({"w": chunked(leaf, inner)})
    backend = udiff.DiffArrayBackend(inner, {"rev": "vjp", "fwd": "jvp"}[mode])
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(leaf, inner))
        with pytest.raises(TypeError, match="variables must be floating.*" + fix):
            np.sum(x * 1.5).to(x)
    # and the fix works
    fixed = np.asarray(chunked(leaf, inner), dtype=float)
    assert_same(compute(udiff.grad(lambda x: np.sum(x * 1.5), inner=inner)(fixed)), [1.5, 1.5])


def test_grad_of_an_integer_numpy_array_shows_the_fix():
    """Issue 18: grad(f)(numpy.array([1, 2])) names the dtype and the one-line fix."""
    with pytest.raises(TypeError, match=r"x, of dtype int64.*np.asarray\(x, dtype=float\)"):
        udiff.grad(lambda x: np.sum(x * x))(numpy.array([1, 2]))
    assert_same(udiff.grad(lambda x: np.sum(x * x))(np.asarray(numpy.array([1, 2]), dtype=float)),
                [2.0, 4.0])


# -- float32 and float64 ------------------------------------------------------------------------
WEIGHTS = numpy.array([1.0, 2.0])  # float64


@pytest.mark.parametrize("mode", MODES)
def test_float32_variable_with_python_floats_stays_float32(mode, inner):
    x = numpy.array([1.0, 2.0], dtype=numpy.float32)
    g = jac(lambda x: np.sum(x * 2.0 + 1.0), x, inner, mode)
    assert g.dtype == numpy.float32
    assert_same(g, [2.0, 2.0])


def test_gradient_of_float32_mixed_with_float64_is_float32(inner):
    x = chunked(numpy.array([1.0, 2.0], dtype=numpy.float32), inner)
    value, g = udiff.value_and_grad(lambda x: np.sum(x * WEIGHTS), inner=inner)(x)
    assert compute(value).dtype == numpy.float64  # the value has NumPy's dtype
    assert compute(g).dtype == numpy.float32  # the gradient has its variable's
    assert_same(compute(g), WEIGHTS)


def test_tangent_of_float32_mixed_with_float64_has_the_value_dtype(inner):
    x = chunked(numpy.array([1.0, 2.0], dtype=numpy.float32), inner)
    t = chunked(numpy.array([1.0, 1.0], dtype=numpy.float32), inner)
    y, jt = udiff.jvp(lambda x: x * WEIGHTS, (x,), (t,), inner=inner)
    assert compute(y).dtype == compute(jt).dtype == numpy.float64
    assert_same(compute(jt), WEIGHTS)


# -- constants taken from traced arrays ---------------------------------------------------------
DETACHING = {
    "float": lambda y: float(y[0]),
    "int": lambda y: int(y[0]),
    "item": lambda y: y[0].item(),
    "tolist": lambda y: y.tolist()[0],
    "numpy.asarray": lambda y: numpy.asarray(y)[0],
}


@pytest.mark.parametrize("name", list(DETACHING))
def test_detaching_a_traced_array_raises(name, inner):
    detach = DETACHING[name]
    f = lambda x: x * detach(x * x)  # noqa: E731
    x = chunked(numpy.array([2.0]), inner)
    with pytest.raises(TypeError, match="drop its derivative"):
        udiff.grad(lambda x: np.sum(f(x)), inner=inner)(x)
    with pytest.raises(TypeError, match="drop its derivative"):
        udiff.jvp(f, (x,), (chunked(numpy.array([1.0]), inner),), inner=inner)


@pytest.mark.parametrize("mode", MODES)
def test_value_is_the_explicit_constant(mode, inner):
    # x * stop_gradient(x * x): the derivative is x * x, not 3 x * x
    assert_same(jac(lambda x: x * (x * x).value, numpy.array([2.0]), inner, mode), [[4.0]])


@pytest.mark.parametrize("name", list(DETACHING))
def test_detaching_outside_the_functional_api_gives_the_value(name, inner):
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        x = np.asarray(chunked(numpy.array([2.0]), inner))
        assert DETACHING[name](x * x) == 4.0
