"""udiff.numpy has the array API's (2024.12) names, and DiffArray its array attributes."""
import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from conftest import chunked, compute

DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128")

# The standard's names (2024.12), by namespace.
MAIN = DTYPES + tuple("""e inf nan newaxis pi
arange asarray empty empty_like eye from_dlpack full full_like linspace meshgrid ones ones_like
tril triu zeros zeros_like astype can_cast finfo iinfo isdtype result_type promote_types
abs acos acosh add asin asinh atan atan2 atanh bitwise_and bitwise_left_shift bitwise_invert
bitwise_or bitwise_right_shift bitwise_xor ceil clip conj copysign cos cosh divide equal exp
expm1 floor floor_divide greater greater_equal hypot imag isfinite isinf isnan less less_equal
log log1p log2 log10 logaddexp logical_and logical_not logical_or logical_xor maximum minimum
multiply negative nextafter not_equal positive pow real reciprocal remainder round sign signbit
sin sinh square sqrt subtract tan tanh trunc take take_along_axis __array_namespace_info__
matmul matrix_transpose tensordot vecdot broadcast_arrays broadcast_to concat expand_dims flip
moveaxis permute_dims repeat reshape roll squeeze stack tile unstack argmax argmin
count_nonzero nonzero searchsorted where unique_all unique_counts unique_inverse unique_values
argsort sort cumulative_prod cumulative_sum max mean min prod std sum var all any diff""".split())
LINALG = tuple("""cholesky cross det diagonal eigh eigvalsh inv matmul matrix_norm matrix_power
matrix_rank matrix_transpose outer pinv qr slogdet solve svd svdvals tensordot trace vecdot
vector_norm""".split())
FFT = tuple("""fft ifft fftn ifftn rfft irfft rfftn irfftn hfft ihfft fftfreq rfftfreq fftshift
ifftshift""".split())


def test_every_name_of_the_standard_is_present():
    missing = ([n for n in MAIN if not hasattr(np, n)]
               + [f"linalg.{n}" for n in LINALG if not hasattr(np.linalg, n)]
               + [f"fft.{n}" for n in FFT if not hasattr(np.fft, n)])
    assert not missing, missing
    assert set(MAIN) <= set(np.__all__), sorted(set(MAIN) - set(np.__all__))


def test_dtypes_are_numpys_own():
    for name in DTYPES:
        assert getattr(np, name) is getattr(numpy, name), name
    assert np.bitwise_invert is np.invert and np.bitwise_left_shift is np.left_shift
    assert np.bitwise_right_shift is np.right_shift


def _backend(inner):
    return ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True)


def test_dtypes_in_astype_and_asarray_under_the_backend(inner):
    with _backend(inner):
        x = np.asarray(chunked([1.5, -2.0, 3.0], inner), dtype=np.float32)
        assert x.dtype == numpy.float32
        assert x.astype(np.int8).dtype == numpy.int8
        assert np.astype(x, np.complex64).dtype == numpy.complex64
        assert np.zeros(2, dtype=np.uint16).dtype == numpy.uint16
        assert (x > 0).dtype == np.bool
        numpy.testing.assert_array_equal(compute(x.astype(np.int8)), [1, -2, 3])


def test_dtypes_in_functional_code(inner):
    x = chunked(numpy.array([1.0, 2.0, 3.0]), inner)

    def f(x):
        y = x.astype(np.float32)
        assert y.dtype == np.float32 and np.isdtype(y.dtype, "real floating")
        return np.sum(y * y).astype(np.float64)

    g = udiff.grad(f, inner=inner)(x)
    assert compute(g).dtype == numpy.float64
    numpy.testing.assert_allclose(compute(g), [2.0, 4.0, 6.0])


def test_finfo_iinfo_as_numpys():
    backend = udiff.DiffArrayBackend()
    x32 = udiff.DiffArray(numpy.ones(2, dtype=numpy.float32), backend)
    for dtype in (np.float32, np.float64, np.complex64, np.complex128):
        got, want = np.finfo(dtype), numpy.finfo(dtype)
        assert (got.bits, got.eps, got.max, got.min, got.smallest_normal, got.dtype) == (
            want.bits, want.eps, want.max, want.min, want.smallest_normal, want.dtype)
    assert np.finfo(x32).eps == numpy.finfo(numpy.float32).eps
    for dtype in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64):
        got, want = np.iinfo(dtype), numpy.iinfo(dtype)
        assert (got.bits, got.max, got.min, got.dtype) == (want.bits, want.max, want.min, want.dtype)
    assert np.iinfo(udiff.DiffArray(numpy.ones(2, dtype=numpy.uint8), backend)).max == 255


def test_dtype_functions_read_udiffs_arrays():
    backend = udiff.DiffArrayBackend()
    x8 = udiff.DiffArray(numpy.ones(2, dtype=numpy.int8), backend)
    x32 = udiff.DiffArray(numpy.ones(2, dtype=numpy.float32), backend)
    assert np.result_type(x8, x32) == numpy.float32
    assert np.result_type(x8, np.uint8) == numpy.int16
    assert np.result_type(x32, 1.0) == numpy.float32  # Python numbers are weak
    assert np.can_cast(x8, np.float32) and not np.can_cast(x32, np.int8)
    assert np.promote_types(np.uint8, np.int8) == numpy.int16
    assert np.promote_types(x8, x32) == numpy.float32
    # inside vmap, a batched array's dtype
    out = udiff.vmap(lambda a: np.zeros((), dtype=np.result_type(a, np.float32)) + a)(
        numpy.ones((2, 3), dtype=numpy.int16))
    assert out.dtype == numpy.result_type(numpy.int16, numpy.float32)


@pytest.mark.parametrize("kind, members", [
    ("bool", {"bool"}),
    ("signed integer", {"int8", "int16", "int32", "int64"}),
    ("unsigned integer", {"uint8", "uint16", "uint32", "uint64"}),
    ("integral", {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}),
    ("real floating", {"float32", "float64"}),
    ("complex floating", {"complex64", "complex128"}),
    ("numeric", set(DTYPES) - {"bool"}),
    (("bool", "real floating"), {"bool", "float32", "float64"}),
])
def test_isdtype_kinds(kind, members):
    assert {n for n in DTYPES if np.isdtype(getattr(np, n), kind)} == members
    assert np.isdtype(np.float32, np.float32) and not np.isdtype(np.float32, np.float64)


def test_array_namespace_info_as_numpys():
    info, want = np.__array_namespace_info__(), numpy.__array_namespace_info__()
    assert info.capabilities() == want.capabilities()
    assert info.default_device() == "cpu" and info.devices() == want.devices()
    assert info.default_dtypes() == want.default_dtypes()
    assert info.dtypes() == want.dtypes()
    assert info.dtypes(kind="real floating") == {"float32": numpy.dtype(numpy.float32),
                                                 "float64": numpy.dtype(numpy.float64)}
    backend = udiff.DiffArrayBackend()
    assert udiff.DiffArray(numpy.ones(1), backend).__array_namespace__() is np


_DATA = numpy.array([[3.0, 1.0, 2.0], [3.0, 5.0, 1.0]])


@pytest.mark.parametrize("name", ["unique_all", "unique_counts", "unique_inverse",
                                  "unique_values"])
def test_unique_functions_equal_numpys(name, inner):
    want = getattr(numpy, name)(_DATA)
    with _backend(inner):
        got = getattr(np, name)(np.asarray(chunked(_DATA, inner)))
    if name == "unique_values":
        numpy.testing.assert_array_equal(compute(got), want)
        return
    assert type(got).__name__ == type(want).__name__ and got._fields == want._fields
    for field in want._fields:
        numpy.testing.assert_array_equal(compute(getattr(got, field)), getattr(want, field),
                                         err_msg=field)


def test_unique_counts_are_constants_and_values_have_no_rule():
    x = numpy.array([2.0, 1.0, 2.0])
    # counts (and indices, inverse indices) are constants: no derivative flows through them
    g = udiff.grad(lambda x: np.sum(x * np.unique_all(x).inverse_indices))(x)
    numpy.testing.assert_array_equal(g, [1.0, 0.0, 1.0])
    # values are entries of x: differentiating through them raises, naming the function
    with pytest.raises(NotImplementedError, match="unique_values"):
        udiff.grad(lambda x: np.sum(np.unique_values(x)))(x)
    with pytest.raises(NotImplementedError, match="unique_counts"):
        udiff.grad(lambda x: np.sum(np.unique_counts(x).values))(x)


def test_integer_vecdot_keeps_its_dtype(inner):
    a = numpy.array([[1, 2, 3], [4, 5, 6]], dtype=numpy.uint8)
    want = numpy.vecdot(a, a)
    assert want.dtype == numpy.uint8
    with _backend(inner):
        x = np.asarray(chunked(a, inner))
        for got in (np.vecdot(x, x), np.linalg.vecdot(x, x)):
            assert got.dtype == numpy.uint8
            numpy.testing.assert_array_equal(compute(got), want)
    assert np.vecdot(a, a).dtype == numpy.uint8  # outside any backend: NumPy's
    assert udiff.vmap(lambda v: np.vecdot(v, v))(a).dtype == numpy.uint8


def test_float_vecdot_gradient_unchanged(inner):
    x = numpy.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    g = udiff.grad(lambda x: np.sum(np.vecdot(x, 2.0 * x)), inner=inner)(chunked(x, inner))
    numpy.testing.assert_allclose(compute(g), 4.0 * x)


def test_from_dlpack(inner):
    with _backend(inner):
        y = np.from_dlpack(numpy.arange(3.0))  # another library's array: a constant
        assert type(y) is udiff.DiffArray and y._parents == ()
        numpy.testing.assert_array_equal(compute(y), [0.0, 1.0, 2.0])
    assert type(np.from_dlpack(numpy.arange(3.0))) is numpy.ndarray
    # one of udiff's arrays: its values, with its derivative (never silently dropped)
    x = numpy.array([1.0, -2.0, 3.0])
    g = udiff.grad(lambda x: np.sum(np.from_dlpack(x) ** 2), inner=inner)(chunked(x, inner))
    numpy.testing.assert_allclose(compute(g), 2.0 * x)


# -- DiffArray's array attributes --------------------------------------------------------------
def test_device_and_to_device(inner):
    with _backend(inner):
        x = np.asarray(chunked([1.0, 2.0], inner))
    assert x.device == "cpu"
    assert x.to_device("cpu") is x and x.to_device(x.device) is x
    with pytest.raises(ValueError, match="cannot move a DiffArray from device 'cpu'"):
        x.to_device("cuda:0")


def test_mT_values_and_gradient(inner):
    a = numpy.arange(12.0).reshape(2, 2, 3)
    w = numpy.linspace(-1.0, 1.0, 12).reshape(2, 3, 2)
    with _backend(inner):
        x = np.asarray(chunked(a, inner))
        y = x.mT
        assert y.shape == (2, 3, 2)
        numpy.testing.assert_array_equal(compute(y), numpy.swapaxes(a, -1, -2))
    # d/dx sum(x.mT * w) = w transposed back
    g = udiff.grad(lambda x: np.sum(x.mT * w), inner=inner)(chunked(a, inner))
    numpy.testing.assert_array_equal(compute(g), numpy.swapaxes(w, -1, -2))
    # against central differences, on a nonlinear function
    f = lambda x: np.sum(np.sin(x.mT) * w)  # noqa: E731
    g = compute(udiff.grad(f, inner=inner)(chunked(a, inner)))
    eps, fd = 1e-6, numpy.zeros_like(a)
    for i in numpy.ndindex(a.shape):
        d = numpy.zeros_like(a)
        d[i] = eps
        fd[i] = (numpy.sum(numpy.sin(numpy.swapaxes(a + d, -1, -2)) * w)
                 - numpy.sum(numpy.sin(numpy.swapaxes(a - d, -1, -2)) * w)) / (2 * eps)
    numpy.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    with _backend(inner), pytest.raises(ValueError, match="at least 2 dimensions"):
        np.asarray(chunked([1.0, 2.0], inner)).mT


def test_mT_in_vmap():
    a = numpy.arange(12.0).reshape(2, 2, 3)
    numpy.testing.assert_array_equal(udiff.vmap(lambda x: x.mT)(a), numpy.swapaxes(a, -1, -2))
    g = udiff.grad(lambda a: np.sum(udiff.vmap(lambda x: x.mT @ x)(a)))(a)
    want = udiff.grad(lambda a: np.sum(np.matmul(np.swapaxes(a, -1, -2), a)))(a)
    numpy.testing.assert_allclose(g, want)


def test_dlpack_gives_the_detached_value():
    backend = udiff.DiffArrayBackend()
    x = udiff.DiffArray(numpy.array([1.0, 2.0]), backend)
    with ua.set_backend(backend, coerce=True):
        y = x * 3.0
    assert y.__dlpack_device__() == numpy.array([0.0]).__dlpack_device__()
    out = numpy.from_dlpack(y)
    assert type(out) is numpy.ndarray
    numpy.testing.assert_array_equal(out, [3.0, 6.0])
    # inside a differentiated function, exporting a variable's dependant drops its derivative
    with pytest.raises(TypeError, match="DLPack"):
        udiff.grad(lambda x: np.sum(numpy.from_dlpack(x * 2.0)))(numpy.ones(2))


# -- SciPy's ufuncs reach udiff's rules ---------------------------------------------------------
def test_scipy_ufuncs_on_diffarrays_are_differentiated(inner):
    special = pytest.importorskip("scipy.special")
    x = numpy.array([0.3, 1.2, 2.5])
    cases = [
        (special.erf, lambda x: 2.0 / numpy.sqrt(numpy.pi) * numpy.exp(-x * x)),
        (special.expit, lambda x: special.expit(x) * (1.0 - special.expit(x))),
        (special.gammaln, special.digamma),
    ]
    for ufunc, derivative in cases:
        g = udiff.grad(lambda v: np.sum(ufunc(v)), inner=inner)(chunked(x, inner))
        numpy.testing.assert_allclose(compute(g), derivative(x), rtol=1e-12,
                                      err_msg=ufunc.__name__)
    y = numpy.array([0.5, 2.0, 3.0])
    gx, gy = udiff.grad(lambda a, b: np.sum(special.xlogy(a, b)), argnums=(0, 1), inner=inner)(
        chunked(x, inner), chunked(y, inner))
    numpy.testing.assert_allclose(compute(gx), numpy.log(y), rtol=1e-12)
    numpy.testing.assert_allclose(compute(gy), x / y, rtol=1e-12)
    # a constant argument as a NumPy array beside a DiffArray
    g = udiff.grad(lambda a: np.sum(special.xlogy(a, y)), inner=inner)(chunked(x, inner))
    numpy.testing.assert_allclose(compute(g), numpy.log(y), rtol=1e-12)


def test_scipy_ufuncs_record_udiffs_functions():
    special = pytest.importorskip("scipy.special")
    backend = udiff.DiffArrayBackend()
    x = udiff.DiffArray(numpy.array([0.5, 1.0]), backend)
    assert special.erf(x)._fn == "numpy.scipy.special.erf"
    # the second derivative too (the rules are udiff's)
    h = udiff.hessian(lambda v: np.sum(special.expit(v)))(numpy.array([0.4]))
    s = special.expit(0.4)
    numpy.testing.assert_allclose(h, [[s * (1 - s) * (1 - 2 * s)]], rtol=1e-12)
    # inside vmap
    numpy.testing.assert_allclose(udiff.vmap(special.erf)(numpy.ones((2, 2))),
                                  special.erf(numpy.ones((2, 2))))


def test_unknown_scipy_ufunc_names_itself():
    special = pytest.importorskip("scipy.special")
    backend = udiff.DiffArrayBackend()
    x = udiff.DiffArray(numpy.array([0.5, 1.0]), backend)
    with pytest.raises(NotImplementedError, match=r"udiff has no scipy\.special\.dawsn"):
        special.dawsn(x)
    with pytest.raises(NotImplementedError, match=r"scipy\.special\.dawsn"):
        udiff.grad(lambda v: np.sum(special.dawsn(v)))(numpy.array([0.5]))
