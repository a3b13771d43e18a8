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


def test_vecdot_does_not_broadcast_the_vector_axis(inner):
    # The vectors' axis must have one length in both arrays, as in NumPy's gufunc (a
    # length-1 axis is not repeated); the other axes broadcast.
    a = numpy.array([[1, 2, 3], [4, 5, 6]], dtype=numpy.uint8)
    b = numpy.array([2], dtype=numpy.uint8)
    with pytest.raises(ValueError):
        numpy.vecdot(a, b)
    with _backend(inner):
        x, y = np.asarray(chunked(a, inner)), np.asarray(chunked(b, inner))
        for f in (np.vecdot, np.linalg.vecdot):
            with pytest.raises(ValueError, match="vecdot: x1 has 3 entries along axis -1 and x2 "
                                                 "has 1"):
                f(x, y)
            with pytest.raises(ValueError, match="x1 has 2 entries along axis -2 and x2 has 1"):
                f(x, np.asarray(chunked(a[:1], inner)), axis=-2)
            got = f(x, np.asarray(chunked(a[1], inner)))  # (2, 3) with (3,): broadcast
            assert type(got) is udiff.DiffArray and got.dtype == numpy.uint8
            assert got.shape == (2,)
            numpy.testing.assert_array_equal(compute(got), numpy.vecdot(a, a[1]))
    with pytest.raises(ValueError, match="vecdot: x1 has 3"):
        udiff.vmap(lambda v: np.vecdot(v, numpy.ones(1)))(numpy.ones((2, 3)))


def test_float_vecdot_gradient_unchanged(inner):
    x = numpy.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    g = udiff.grad(lambda x: np.sum(np.vecdot(x, 2.0 * x)), inner=inner)(chunked(x, inner))
    numpy.testing.assert_allclose(compute(g), 4.0 * x)


def test_asarray_copy_false_is_the_array_itself(inner):
    # As NumPy's: asarray(x, copy=False) does not copy, so a write to x shows in the result.
    a = numpy.array([[1, 2, 3], [4, 5, 6]], dtype=numpy.uint8)
    want = numpy.asarray(a.copy(), copy=False)
    with _backend(inner):
        x = np.asarray(chunked(a, inner))
        for kwargs in ({"copy": False}, {"copy": False, "dtype": np.uint8}):
            y = np.asarray(x, **kwargs)
            assert y is x and y.dtype == want.dtype and y.shape == want.shape
        copied = np.asarray(x, copy=True)
        x[0, 1] = 9
    want[0, 1] = 9
    numpy.testing.assert_array_equal(compute(y), want)
    numpy.testing.assert_array_equal(compute(copied), a)
    g = udiff.grad(lambda v: np.sum(np.asarray(v, copy=False) ** 2), inner=inner)(
        chunked(a.astype(float), inner))
    numpy.testing.assert_array_equal(compute(g), 2.0 * a)


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
def test_array_api_version():
    assert np.__array_api_version__ == "2024.12"
    assert "max dimensions" in np.__array_namespace_info__().capabilities()


def test_dlpack_takes_the_standards_keywords():
    import inspect

    params = inspect.signature(udiff.DiffArray.__dlpack__).parameters
    assert list(params) == ["self", "stream", "max_version", "dl_device", "copy"]
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY and params[n].default is None
               for n in list(params)[1:])
    a = numpy.array([[1.5, -2.0], [0.0, 4.0]], dtype=numpy.float32)
    x = udiff.DiffArray(a, udiff.DiffArrayBackend())
    for kwargs in ({}, {"copy": True}, {"copy": False}, {"device": "cpu"}):
        out = numpy.from_dlpack(x, **kwargs)
        assert type(out) is numpy.ndarray and out.dtype == a.dtype and out.shape == a.shape
        numpy.testing.assert_array_equal(out, a)
    assert "dltensor" in repr(x.__dlpack__(max_version=(1, 0), dl_device=(1, 0)))


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


# -- the standard's keywords --------------------------------------------------------------------
from udiff.testing import check_grads  # noqa: E402

_CREATE = [
    ("zeros", lambda dev: np.zeros((2, 3), device=dev), numpy.zeros((2, 3))),
    ("ones", lambda dev: np.ones(3, dtype=np.float32, device=dev), numpy.ones(3, numpy.float32)),
    ("empty", lambda dev: np.empty((2, 2), device=dev).shape, (2, 2)),
    ("full", lambda dev: np.full((2,), 1.5, device=dev), numpy.full((2,), 1.5)),
    ("arange", lambda dev: np.arange(1, 7, 2, device=dev), numpy.arange(1, 7, 2)),
    ("linspace", lambda dev: np.linspace(0.0, 1.0, 5, device=dev), numpy.linspace(0.0, 1.0, 5)),
    ("eye", lambda dev: np.eye(3, k=1, device=dev), numpy.eye(3, k=1)),
    ("asarray", lambda dev: np.asarray([1.0, 2.0], device=dev), numpy.array([1.0, 2.0])),
    ("from_dlpack", lambda dev: np.from_dlpack(numpy.arange(3.0), device=dev), numpy.arange(3.0)),
]
_LIKE = [
    ("zeros_like", lambda x, dev: np.zeros_like(x, device=dev), numpy.zeros((2, 3))),
    ("ones_like", lambda x, dev: np.ones_like(x, device=dev), numpy.ones((2, 3))),
    ("empty_like", lambda x, dev: np.empty_like(x, device=dev).shape, (2, 3)),
    ("full_like", lambda x, dev: np.full_like(x, 7.0, device=dev), numpy.full((2, 3), 7.0)),
    ("asarray", lambda x, dev: np.asarray(x, device=dev), numpy.arange(6.0).reshape(2, 3)),
    ("astype", lambda x, dev: np.astype(x, np.float32, device=dev),
     numpy.arange(6.0, dtype=numpy.float32).reshape(2, 3)),
    ("DiffArray.astype", lambda x, dev: x.astype(np.float32, device=dev),
     numpy.arange(6.0, dtype=numpy.float32).reshape(2, 3)),
]


def _grads(f, args, inner, **kwargs):
    """check_grads on ``inner``'s arrays (several chunks per axis on Dask)."""
    check_grads(f, tuple(chunked(a, inner) for a in args), inner=inner, **kwargs)


def _same(got, want):
    if isinstance(want, tuple):
        assert tuple(got) == want
        return
    got = compute(got)
    assert got.dtype == want.dtype
    numpy.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name, make, want", _CREATE, ids=[c[0] for c in _CREATE])
def test_creation_functions_take_device(name, make, want, inner):
    with _backend(inner):
        for device in (None, "cpu"):
            _same(make(device), want)
        with pytest.raises(ValueError, match=rf"udiff\.numpy\.{name}: device 'cuda:1' is not"):
            make("cuda:1")
    _same(make("cpu"), want)  # outside any backend: NumPy's
    if not isinstance(want, tuple):  # beside a batched array inside vmap
        out = udiff.vmap(lambda v: v * 0.0 + make("cpu"))(numpy.ones((2,) + want.shape))
        numpy.testing.assert_array_equal(out[1], want)


@pytest.mark.parametrize("name, make, want", _LIKE, ids=[c[0] for c in _LIKE])
def test_like_functions_and_astype_take_device(name, make, want, inner):
    with _backend(inner):
        x = np.asarray(chunked(numpy.arange(6.0).reshape(2, 3), inner))
        for device in (None, "cpu", x.device):
            _same(make(x, device), want)
        with pytest.raises(ValueError, match=r"device 'cuda:1' is not available"):
            make(x, "cuda:1")
    # inside vmap, on a batched array
    out = udiff.vmap(lambda v: make(v, "cpu"))(numpy.arange(6.0).reshape(1, 2, 3))
    if not isinstance(want, tuple):
        numpy.testing.assert_array_equal(out[0], want)


def test_astype_keywords_and_gradient(inner):
    x = numpy.array([0.5, -1.25, 2.0])
    want = numpy.astype(x, numpy.float32, copy=False)
    with _backend(inner):
        got = np.astype(np.asarray(chunked(x, inner)), np.float32, copy=False, device="cpu")
    _same(got, want)
    with pytest.raises(TypeError):
        np.astype(x, np.float32, False)  # copy is keyword-only, as the standard's
    _grads(lambda x: np.astype(x, np.float64, copy=True, device="cpu") ** 3, (x,), inner)
    _grads(lambda x: x.astype(np.float64, device="cpu") ** 3, (x,), inner)


_TIES = numpy.array([[2.0, 1.0, 2.0, 3.0, 1.0, 2.0], [0.5, 0.5, -1.0, 4.0, 4.0, 0.5]])


def _stable_descending_argsort(a, axis):
    """The standard's stable descending order, by a stable sort of the negated keys."""
    return numpy.argsort(-a, axis=axis, kind="stable")


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort_and_argsort_descending_is_stable(axis, inner):
    a = _TIES if axis is not None else _TIES.ravel()
    want_idx = _stable_descending_argsort(a, axis if axis is not None else -1)
    with _backend(inner):
        x = np.asarray(chunked(_TIES, inner))
        idx = np.argsort(x, axis=axis, descending=True)
        values = np.sort(x, axis=axis, descending=True)
        stable = np.argsort(x, axis=axis, stable=True)
        also = np.argsort(x, axis=axis, descending=True, stable=False)
    numpy.testing.assert_array_equal(compute(idx), want_idx)
    numpy.testing.assert_array_equal(
        compute(values), -numpy.sort(-_TIES, axis=axis))
    numpy.testing.assert_array_equal(compute(stable), numpy.argsort(_TIES, axis=axis,
                                                                   stable=True))
    # stable=False may order ties either way: the values it orders are the same
    axis_ = axis if axis is not None else -1
    numpy.testing.assert_array_equal(numpy.take_along_axis(a, compute(also), axis_),
                                     -numpy.sort(-a, axis=axis_))
    assert compute(idx).dtype == numpy.argsort(_TIES).dtype
    with pytest.raises(ValueError, match="kind.*stable"):
        np.sort(_TIES, kind="quicksort", stable=True)
    # without the new keywords: NumPy's
    numpy.testing.assert_array_equal(np.sort(_TIES, axis=axis), numpy.sort(_TIES, axis=axis))


def test_sort_descending_gradients(inner):
    x = numpy.array([[0.3, -1.2, 2.5, 0.9], [1.1, 0.2, -0.4, 3.0]])
    w = numpy.arange(8.0).reshape(2, 4)
    _grads(lambda x: np.sort(x, descending=True) * w, (x,), inner)
    _grads(lambda x: np.sort(x ** 3, axis=0, descending=True, stable=True), (x,),
                inner=inner)
    # the gradient of a tie goes where the stable order put each entry
    t = numpy.array([2.0, 1.0, 2.0, 3.0])
    g = udiff.grad(lambda v: np.sum(np.sort(v, descending=True) * numpy.arange(4.0)),
                   inner=inner)(chunked(t, inner))
    numpy.testing.assert_array_equal(compute(g), [1.0, 3.0, 2.0, 0.0])
    # argsort's result is a constant: it reorders x through take_along_axis
    f = lambda x: np.take_along_axis(x, np.argsort(x, axis=-1, descending=True), -1) * w  # noqa
    _grads(f, (x,), inner)


def test_sort_descending_in_vmap():
    rows = _TIES
    got = udiff.vmap(lambda v: np.argsort(v, descending=True))(rows)
    numpy.testing.assert_array_equal(got, _stable_descending_argsort(rows, -1))
    got = udiff.vmap(lambda v: np.sort(v, descending=True), in_axes=1)(rows)
    numpy.testing.assert_array_equal(got, -numpy.sort(-rows.T, axis=-1))
    g = udiff.grad(lambda r: np.sum(udiff.vmap(lambda v: np.sort(v, descending=True))(r)
                                    * numpy.arange(6.0)))(rows + numpy.arange(6.0) * 1e-3)
    want = udiff.grad(lambda r: np.sum(np.sort(r, descending=True) * numpy.arange(6.0)))(
        rows + numpy.arange(6.0) * 1e-3)
    numpy.testing.assert_array_equal(g, want)


def test_clip_bounds_by_keyword(inner):
    x = numpy.array([[-2.0, 0.3, 1.7], [0.9, 2.4, -0.1]])
    lo = numpy.array([-1.0, 0.5, 0.0])
    hi = numpy.array([[1.0], [2.0]])
    with _backend(inner):
        got = np.clip(np.asarray(chunked(x, inner)), min=np.asarray(chunked(lo, inner)),
                      max=np.asarray(chunked(hi, inner)))
        only_max = np.clip(np.asarray(chunked(x, inner)), max=1.0)
    numpy.testing.assert_array_equal(compute(got), numpy.clip(x, min=lo, max=hi))
    numpy.testing.assert_array_equal(compute(only_max), numpy.clip(x, max=1.0))
    with pytest.raises(ValueError, match="forbidden"):
        np.clip(x, 0.0, 1.0, min=0.0)
    # differentiable in x, min and max (no entry at a bound)
    _grads(lambda x, lo, hi: np.clip(x, min=lo, max=hi), (x, lo, hi), inner)
    _grads(lambda x, hi: np.clip(x * x, max=hi), (x, hi), inner)
    _grads(lambda x, lo: np.clip(np.sin(x), min=lo), (x, lo * 0.5), inner)
    out = udiff.vmap(lambda v, m: np.clip(v, min=m, max=1.0))(x, numpy.array([0.0, 1.0]))
    numpy.testing.assert_array_equal(out, numpy.clip(x, min=[[0.0], [1.0]], max=1.0))


def _matrices():
    a = numpy.array([[[2.0, 1.0, 0.5], [0.0, 1.0, 1.0]],
                     [[1.0, 0.0, 0.0], [0.0, 1e-3, 0.0]]])  # singular values (~2.4, ~1.1), (1, 1e-3)
    return a


@pytest.mark.parametrize("kwargs", [{"min": 1}, {"max": 2}, {"min": 1, "max": 2}, {},
                                    {"a_min": 1, "a_max": None}, {"a_min": None, "a_max": 2}])
def test_clip_with_one_bound_as_numpys(kwargs, inner):
    # One bound (the other None or left out), outside any backend (NumPy's own clip runs)
    # and on DiffArrays: NumPy's values, shape and dtype.
    a = numpy.array([[0, 1, 2], [3, 4, 5]], dtype=numpy.uint8)
    want = numpy.clip(a, **kwargs)
    got = np.clip(a, **kwargs)
    assert type(got) is numpy.ndarray and got.dtype == want.dtype
    numpy.testing.assert_array_equal(got, want)
    with _backend(inner):
        got = np.clip(np.asarray(chunked(a, inner)), **kwargs)
    assert type(got) is udiff.DiffArray and got.dtype == want.dtype and got.shape == want.shape
    numpy.testing.assert_array_equal(compute(got), want)


def test_pinv_rtol(inner):
    a = _matrices()
    rtol = numpy.array([0.1, 0.01])  # one per matrix: drops 1e-3 in the second one
    want = numpy.linalg.pinv(a, rtol=rtol)
    assert abs(want[1, 1, 1]) < 1e-12  # the cutoff did remove it
    if inner is udiff.numpy_backend:
        with _backend(inner):
            got = np.linalg.pinv(np.asarray(a), rtol=np.asarray(rtol))
        numpy.testing.assert_allclose(compute(got), want, atol=1e-12)
        # Derivatives where the rank is locally constant: the second matrix has rank 1
        # (the Golub-Pereyra formula does not hold where rtol cuts off a singular value
        # that is not 0: that function is pinv of a truncated SVD).
        b = a.copy()
        b[1, 1, 1] = 0.0
        _grads(lambda b: np.linalg.pinv(b, rtol=rtol), (b,), inner)
    else:  # Dask's pinv takes one tolerance for all matrices: said clearly
        with pytest.raises(NotImplementedError, match="pinv with an array rcond"):
            udiff.grad(lambda a: np.sum(np.linalg.pinv(a, rtol=rtol)), inner=inner)(
                chunked(a, inner))
    for r in (0.01, numpy.array(0.01), None):
        want = numpy.linalg.pinv(a[0], rtol=r)
        with _backend(inner):
            got = np.linalg.pinv(np.asarray(chunked(a[0], inner)), rtol=r)
        numpy.testing.assert_allclose(compute(got), want, atol=1e-12)
        _grads(lambda a: np.linalg.pinv(a, rtol=r), (a[0],), inner)
    numpy.testing.assert_array_equal(np.linalg.pinv(a), numpy.linalg.pinv(a))  # rcond 1e-15
    with pytest.raises(ValueError, match="can't be both set"):
        np.linalg.pinv(a, 1e-3, rtol=1e-3)
    out = udiff.vmap(lambda m: np.linalg.pinv(m, rtol=0.01))(a)
    numpy.testing.assert_allclose(out, numpy.linalg.pinv(a, rtol=0.01), atol=1e-12)


def test_matrix_rank_rtol(inner):
    a = _matrices()
    for rtol in (numpy.array([0.1, 0.01]), numpy.array([1e-4, 1e-2]), 0.01, None):
        want = numpy.linalg.matrix_rank(a, rtol=rtol)
        with _backend(inner):
            x = np.asarray(chunked(a, inner))
            got = np.linalg.matrix_rank(x, rtol=rtol)
            if rtol is not None and numpy.ndim(rtol):
                # an array rtol, itself one of udiff's arrays
                also = np.linalg.matrix_rank(x, rtol=np.asarray(chunked(rtol, inner)))
                numpy.testing.assert_array_equal(compute(also), want)
        numpy.testing.assert_array_equal(compute(got), want)
        assert compute(got).dtype == want.dtype
    out = udiff.vmap(lambda m, r: np.linalg.matrix_rank(m, rtol=r))(a, numpy.array([0.1, 0.01]))
    numpy.testing.assert_array_equal(out, [2, 1])
    with pytest.raises(ValueError, match="can't be both set"):
        np.linalg.matrix_rank(a, 1e-3, rtol=numpy.array([0.1, 0.1]))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_fftfreq_keywords(name, inner):
    for n, d, dtype in [(5, 0.5, np.float32), (8, 1.0, None), (1, 2.0, np.float64)]:
        want = getattr(numpy.fft, name)(n, d=d)
        want = want if dtype is None else want.astype(dtype)
        with _backend(inner):
            got = getattr(np.fft, name)(n, d=d, dtype=dtype, device="cpu")
        assert compute(got).dtype == want.dtype
        numpy.testing.assert_array_equal(compute(got), want)
    with pytest.raises(ValueError, match=rf"udiff\.numpy\.{name}: device 'cuda:1'"):
        getattr(np.fft, name)(4, device="cuda:1")
    # a constant beside a differentiated array; and inside vmap
    x = numpy.linspace(0.1, 1.0, 4)
    _grads(lambda x: np.sin(x) * getattr(np.fft, name)(7, d=0.5)[:4], (x,), inner)
    out = udiff.vmap(lambda v: v * getattr(np.fft, name)(7, dtype=np.float32)[:4])(
        numpy.ones((2, 4)))
    numpy.testing.assert_allclose(out[1], getattr(numpy.fft, name)(7)[:4].astype(numpy.float32))


@pytest.mark.parametrize("name", ["std", "var"])
def test_std_var_correction(name, inner):
    x = numpy.array([[0.3, 1.2, 2.5, -0.7], [0.9, 1.7, -0.4, 0.2], [1.1, -0.6, 0.8, 2.0]])
    for kwargs in ({"correction": 1}, {"correction": 1.5, "axis": 0},
                   {"correction": 0, "axis": 1, "keepdims": True}):
        want = getattr(numpy, name)(x, **kwargs)
        with _backend(inner):
            got = getattr(np, name)(np.asarray(chunked(x, inner)), **kwargs)
        numpy.testing.assert_allclose(compute(got), want, rtol=1e-13)
        assert compute(got).shape == numpy.shape(want)
        # the derivative is ddof's (correction is not silently dropped)
        _grads(lambda x: getattr(np, name)(x, **kwargs), (x,), inner)
    with pytest.raises(ValueError, match="ddof and correction"):
        getattr(np, name)(x, ddof=1, correction=1)
    out = udiff.vmap(lambda v: getattr(np, name)(v, correction=1))(x)
    numpy.testing.assert_allclose(out, getattr(numpy, name)(x, axis=1, ddof=1), rtol=1e-13)


def test_keyword_signatures_are_the_standards():
    import inspect

    for f, names in [(np.sort, ("stable", "descending")), (np.argsort, ("stable", "descending")),
                     (np.clip, ("min", "max")), (np.linalg.pinv, ("rtol",)),
                     (np.linalg.matrix_rank, ("rtol",)), (np.fft.fftfreq, ("d", "dtype", "device")),
                     (np.fft.rfftfreq, ("d", "dtype", "device")),
                     (np.astype, ("copy", "device"))] + [(getattr(np, n), ("device",))
                                                         for n, *_ in _CREATE + _LIKE[:4]]:
        params = inspect.signature(f).parameters
        assert all(n in params for n in names), (f, names)
    assert np.sort.key == "numpy.sort" and np.linalg.pinv.key == "numpy.linalg.pinv"
