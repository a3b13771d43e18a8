"""Derivatives of udiff.numpy.fft against finite differences, on NumPy and Dask.

Each case composes a transform with nonlinear functions on both sides, so the
second-order checks differentiate the transform's rules inside recorded
sweeps.  Complex results are reduced to real ones by ``real(y * w)`` with a
complex weight ``w``, which sees both the real and the imaginary part.
Complex inputs are built as ``sin(xr) + 1j * xi`` from two real arguments.
Dask inputs have two chunks on every axis, the transformed ones included.
"""

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff._machinery import registry as _registry
from udiff.testing import check_grads

from conftest import OWN_JVP, OWN_VJP, chunked, compute

F = np.fft
# udiff.numpy.real/imag fail inside recorded sweeps at the time of writing
# (their VJP calls numpy.result_type on a DiffArray); the fft module has its own.
real, imag = udiff.numpy.real, udiff.numpy.imag

# (function, input kind "r" real / "c" complex, input shape, keyword arguments)
CASES = [
    (F.fft, "r", (6,), {}),
    (F.fft, "r", (6,), {"n": 4}),
    (F.fft, "r", (5,), {"n": 8, "norm": "ortho"}),
    (F.fft, "r", (4, 3), {"axis": 0, "norm": "forward"}),
    (F.fft, "c", (3, 5), {"axis": -1, "n": 7}),
    (F.ifft, "c", (5,), {"n": 8, "norm": "ortho"}),
    (F.ifft, "c", (4, 3), {"axis": 0, "n": 3}),
    (F.ifft, "r", (4,), {"norm": "forward"}),
    (F.fft2, "r", (4, 5), {}),
    (F.fft2, "r", (4, 5), {"s": (3, 6), "axes": (0, 1), "norm": "forward"}),
    (F.fft2, "c", (2, 3, 4), {"axes": (0, 2)}),
    (F.ifft2, "c", (4, 3), {"s": (5, 2), "axes": (-2, -1), "norm": "ortho"}),
    (F.fftn, "r", (3, 4, 2), {}),
    (F.fftn, "c", (3, 4, 2), {"s": (4, 3), "axes": (0, 1)}),
    (F.ifftn, "c", (3, 4), {"norm": "forward"}),
    (F.ifftn, "r", (3, 4, 2), {"s": (2, 5), "axes": (2, 0), "norm": "ortho"}),
    (F.rfft, "r", (6,), {}),
    (F.rfft, "r", (7,), {}),
    (F.rfft, "r", (7,), {"n": 5}),
    (F.rfft, "r", (5,), {"n": 10, "norm": "ortho"}),
    (F.rfft, "r", (4, 6), {"axis": 0, "norm": "forward"}),
    (F.irfft, "c", (4,), {}),
    (F.irfft, "c", (5,), {"n": 7}),
    (F.irfft, "c", (5,), {"n": 12, "norm": "ortho"}),
    (F.irfft, "c", (5,), {"n": 4}),
    (F.irfft, "c", (3, 4), {"axis": 0, "norm": "forward"}),
    (F.irfft, "r", (4, 3), {"n": 5}),
    (F.rfft2, "r", (4, 6), {}),
    (F.rfft2, "r", (4, 5), {"s": (3, 7), "norm": "ortho"}),
    (F.irfft2, "c", (4, 3), {}),
    (F.irfft2, "c", (4, 3), {"s": (5, 5), "norm": "forward"}),
    (F.rfftn, "r", (3, 4, 5), {"axes": (0, 2)}),
    (F.rfftn, "r", (4, 4), {"s": (6, 3), "axes": (0, 1), "norm": "forward"}),
    (F.irfftn, "c", (3, 4, 3), {"s": (4, 5), "axes": (0, 2)}),
    (F.irfftn, "c", (4, 3), {"norm": "ortho"}),
    (F.hfft, "c", (4,), {}),
    (F.hfft, "c", (5,), {"n": 7, "norm": "ortho"}),
    (F.hfft, "c", (3, 4), {"axis": 0, "n": 3, "norm": "forward"}),
    (F.ihfft, "r", (6,), {}),
    (F.ihfft, "r", (5, 3), {"n": 7, "axis": 0, "norm": "forward"}),
    (F.fftshift, "r", (5,), {}),
    (F.fftshift, "c", (4, 5), {"axes": 0}),
    (F.ifftshift, "r", (5, 4), {}),
    (F.ifftshift, "r", (3, 4), {"axes": (-1,)}),
]

# The rule keys these tests check: every transform in CASES, and the private
# helpers the rules and test functions use (real/imag, Dask's rechunk).
# fftfreq/rfftfreq (derivatives in the spacing d) have their cases in test_rules.py.
COVERED_KEYS = {func for func, _, _, _ in CASES} | {F.fftfreq, F.rfftfreq}

# Dask graphs make second-order checks slow: on Dask every case is checked to
# first order and one case per kind of transform to second order.
_DASK_SECOND_ORDER = {
    next(i for i, c in enumerate(CASES) if c[0] is func and c[1] == kind)
    for func, kind in [(F.fft, "c"), (F.rfft, "r"), (F.irfft, "c"), (F.hfft, "c"),
                       (F.ihfft, "r"), (F.irfftn, "c"), (F.fftshift, "c")]
}


def _case_id(case):
    func, kind, shape, kwargs = case
    extra = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{func.__name__}-{kind}{'x'.join(map(str, shape))}" + (f"-{extra}" if extra else "")


def _point(case, inner, rng):
    """The arguments of the test function and the complex weight of the output."""
    func, kind, shape, kwargs = case
    args = [chunked(rng.uniform(-1.0, 1.0, shape), inner)]
    if kind == "c":
        args.append(chunked(rng.uniform(-1.0, 1.0, shape), inner))
    out_shape = numpy.shape(getattr(numpy.fft, func.__name__)(numpy.zeros(shape), **kwargs))
    w = rng.uniform(-1.0, 1.0, out_shape) + 1j * rng.uniform(-1.0, 1.0, out_shape)
    return args, chunked(w, inner)


def _test_function(func, kwargs, w):
    def out(y):
        return real(y * w) ** 2

    def real_input(x):
        return out(func(np.sin(x), **kwargs))

    def complex_input(xr, xi):
        return out(func(np.sin(xr) + 1j * xi, **kwargs))

    return real_input, complex_input


@pytest.fixture(autouse=True)
def _synchronous_dask():
    """Tiny graphs: Dask's thread pool costs more than it saves here."""
    try:
        import dask
    except ImportError:  # pragma: no cover
        yield
        return
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_fft_grads(case, inner):
    func, kind, shape, kwargs = case
    rng = numpy.random.default_rng(sum(shape) + len(kwargs))
    args, w = _point(case, inner, rng)
    real_input, complex_input = _test_function(func, kwargs, w)
    f = real_input if kind == "r" else complex_input
    order = 2 if inner is udiff.numpy_backend or CASES.index(case) in _DASK_SECOND_ORDER else 1
    check_grads(f, args, modes=("fwd", "rev"), order=order, inner=inner)


def test_every_fft_rule_is_covered():
    keys = {k for k in OWN_VJP if isinstance(k, str) and k.startswith("numpy.fft.")}
    assert keys, "no numpy.fft rules registered"
    missing = {_registry.key_name(k) for k in keys - {f.key for f in COVERED_KEYS}}
    assert not missing, f"fft rules without a test case: {sorted(missing)}"
    assert all(k in OWN_JVP for k in keys), "an fft function has a VJP but no JVP"
    for name in ("fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft",
                 "fftshift", "ifftshift"):
        assert getattr(F, name).__name__ == name
        assert _registry.key_of(getattr(numpy.fft, name)) == getattr(F, name).key


# -- Jacobians: one batched sweep against the DFT matrix ---------------------------
def _dft_jacobian(name, batch, length, n):
    """d rfft/fft(x, n, axis=-1)[b, k] / d x[c, j] for x of shape (batch, length)."""
    mat = numpy.fft.fft(numpy.eye(n), axis=0)[:, :length]
    if length > n:
        mat = numpy.concatenate([mat, numpy.zeros((n, length - n))], axis=1)
    if name == "rfft":
        mat = mat[: n // 2 + 1]
    return numpy.einsum("kj,bc->bkcj", mat, numpy.eye(batch))


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("name,n", [("fft", None), ("fft", 4), ("rfft", None), ("rfft", 8)])
def test_fft_jacobian(inner, mode, name, n):
    x0 = numpy.random.default_rng(1).standard_normal((3, 6))
    expected = _dft_jacobian(name, 3, 6, n or 6)
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode), coerce=True):
        x = np.asarray(chunked(x0, inner))
        y = getattr(F, name)(x, n=n)
        jr = real(y).to(x, jacobian=True)
        ji = imag(y).to(x, jacobian=True)
        numpy.testing.assert_allclose(compute(jr), expected.real, atol=1e-12)
        numpy.testing.assert_allclose(compute(ji), expected.imag, atol=1e-12)
        if mode == "jvp":  # forward mode carries the complex Jacobian itself
            numpy.testing.assert_allclose(compute(y.to(x, jacobian=True)), expected, atol=1e-12)


# -- Dask specifics and plain use --------------------------------------------------
def test_dask_rechunks_only_the_transformed_axis():
    da = pytest.importorskip("dask.array")
    x0 = numpy.arange(24.0).reshape(4, 6)
    with ua.set_backend(udiff.DiffArrayBackend(udiff.dask_backend), coerce=True):
        x = np.asarray(da.from_array(x0, chunks=(2, 3)))
        y = F.fft(x, axis=1)
        assert y.value.chunks[0] == (2, 2)
        numpy.testing.assert_allclose(compute(y), numpy.fft.fft(x0, axis=1))
        g = np.sum(real(y * numpy.exp(1j * x0))).to(x)
        assert g.value.dtype.kind == "f"
    with ua.set_backend(udiff.dask_backend):  # the inner backend alone
        numpy.testing.assert_allclose(
            compute(F.rfft2(da.from_array(x0, chunks=(2, 3)))), numpy.fft.rfft2(x0))


def test_frequencies_are_constants(inner):
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        f = F.fftfreq(6, 0.5)
        r = F.rfftfreq(6)
        assert type(f) is udiff.DiffArray and not f._parents
    numpy.testing.assert_allclose(compute(f), numpy.fft.fftfreq(6, 0.5))
    numpy.testing.assert_allclose(compute(r), numpy.fft.rfftfreq(6))


def test_numpy_function_on_diffarray_is_recorded():
    x0 = numpy.array([0.5, -1.0, 2.0, 0.25])
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray(x0)
        y = np.sum(real(numpy.fft.rfft(x)))  # NumPy's own function, via __array_function__
        numpy.testing.assert_allclose(y.to(x).value, numpy.real(numpy.fft.fft(numpy.eye(4)[:3], n=4)).sum(0))


def test_repeated_axes_raise():
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        x = np.asarray(numpy.ones((3, 3)))
        y = F.fftn(x, axes=(0, 0))
        with pytest.raises(NotImplementedError, match="repeated axes"):
            real(y).to(x)
