"""Checking derivatives against finite differences, in the style of JAX.

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> udiff.testing.check_grads(lambda x: np.sum(np.sin(x) * x), [numpy.asarray([0.3, 1.2])])
"""
import numpy as np
import uarray as ua

from ._backend import DiffArrayBackend
from ._core import DiffArray
from ._sweeps import differentiate
from .backends import inner_of, numpy_backend

__all__ = ["check_grads"]

_SWEEPS = {"fwd": "jvp", "rev": "vjp"}


def check_grads(f, args, modes=("fwd", "rev"), order=2, inner=numpy_backend, eps=1e-6,
                rtol=1e-5, atol=1e-6, argnums=None, seed=0):
    """Check the derivatives of ``f`` against central finite differences.

    For each differentiable argument ``x`` of ``f`` a random direction ``u``
    (shaped like ``x``) and a random cotangent ``v`` (shaped like the output
    ``y``) are drawn, and the numeric directional derivative
    ``d = (f(x + eps u) - f(x - eps u)) / (2 eps)`` is compared with

    - forward mode (``"fwd"``): ``y.to(x, grad_variables=u)`` must equal ``d``;
    - reverse mode (``"rev"``): ``Re sum(y.to(x, grad_variables=v) * u)`` must
      equal ``Re sum(v * d)``.

    Complex numbers follow udiff's convention (JAX's and autograd's): a VJP is
    the transpose of the Jacobian for the bilinear pairing ``Re sum(a * b)``
    (no conjugate).  A complex ``x`` gets a complex direction ``u`` (random
    real *and* imaginary parts, so functions that are not holomorphic, such as
    ``abs`` or ``norm``, are checked along both); a complex output gets a
    complex cotangent ``v``, a real one a real ``v``.  Derivatives must also
    have the right dtype: ``y.to(x, grad_variables=v)`` that of ``x``, the
    tangent that of ``y``.

    With ``order > 1`` the derivative functions themselves, ``x -> J u``
    (forward) and ``x -> v J`` (reverse), recorded with ``create_graph=True``,
    are checked the same way at ``order - 1``, in every mode of ``modes``.

    Parameters
    ----------
    f : callable
        Written with udiff.numpy functions; it is called with DiffArrays under
        :class:`udiff.DiffArrayBackend` and returns one array.
    args : sequence of array_like
        The point: arrays of ``inner`` (NumPy, Dask...).  Arguments that are
        neither floating nor complex (indices, masks) are passed unchanged and
        not perturbed.
    modes : sequence of {"fwd", "rev"}
        Which sweeps to check.
    order : int
        How many times to differentiate (1: first derivatives only).
    inner : uarray backend
        The inner backend ``f`` runs on.
    eps : float
        The finite-difference step.
    rtol, atol : float
        The tolerances, as in :func:`numpy.allclose`.
    argnums : sequence of int, optional
        Which arguments to differentiate; default every floating one.
    seed : int
        Seeds the random directions and cotangents.

    Raises
    ------
    AssertionError
        Naming the mode, the order, the argument and the two numbers that
        differ (or the dtypes or shapes).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> x = numpy.asarray([[0.5, 1.0], [2.0, 3.0]])
    >>> udiff.testing.check_grads(lambda x: np.sum(np.log(x) * x, axis=0), [x])
    >>> udiff.testing.check_grads(lambda x: np.floor(x) * x, [x + 0.25], order=1)
    >>> z = numpy.asarray([1.0 + 2.0j, -0.5j])
    >>> udiff.testing.check_grads(lambda z: np.absolute(z) * z, [z])
    """
    for mode in modes:
        if mode not in _SWEEPS:
            raise ValueError(f"modes must be 'fwd' or 'rev', not {mode!r}")
    inner = inner_of(inner)
    args = tuple(a if hasattr(a, "dtype") else inner.asarray(a) for a in args)
    if argnums is None:
        argnums = [i for i, a in enumerate(args) if np.dtype(a.dtype).kind in "fc"]
    backends = {mode: DiffArrayBackend(inner, sweep) for mode, sweep in _SWEEPS.items()}
    rng = np.random.default_rng(seed)
    checks = []
    _collect(f, args, tuple(modes), order, 1, tuple(argnums), backends, rng, eps, checks)
    # Everything is computed at once (one pass for Dask), then compared in order.
    values = _numpy(*(a for _, _, arrays in checks for a in arrays))
    start = 0
    for mode, where, arrays in checks:
        got, start = values[start:start + len(arrays)], start + len(arrays)
        if mode == "fwd":
            t, d = got
            _check_close(t, d, mode, where, rtol, atol)
        else:
            g, u, v, d = got
            _check_close(_pair(g, u), _pair(v, d), mode, where, rtol, atol)


def _collect(f, args, modes, order, level, argnums, backends, rng, eps, checks):
    """Append ``(mode, where, arrays to compare)`` for ``f`` and its derivatives to ``checks``."""
    traced = {mode: _call(f, args, argnums, backends[mode]) for mode in modes}
    y0 = next(iter(traced.values()))[0] if traced else _call(f, args, argnums, backends["rev"])[0]
    for i in argnums:
        x = args[i]
        # Finite differences in double precision, seeds in the dtypes of x and y.
        u = _random_like(rng, x, backends["rev"].inner)
        v = _random_like(rng, y0.value, backends["rev"].inner)
        u_seed, v_seed = _as_dtype(u, x.dtype), _as_dtype(v, y0.dtype)
        plus = _call(f, _replace(args, i, x + eps * u), argnums, backends["rev"])[0].value
        minus = _call(f, _replace(args, i, x - eps * u), argnums, backends["rev"])[0].value
        numeric = (plus - minus) / (2 * eps)
        where = f"order {level}, argument {i}"
        if "fwd" in modes:
            y, xs = traced["fwd"]
            t = y.to(xs[i], grad_variables=u_seed)
            _check_shape(t, y.shape, "fwd", where)
            _check_dtype(t, y.dtype, "fwd", where)
            checks.append(("fwd", where, (t.value, numeric)))
        if "rev" in modes:
            y, xs = traced["rev"]
            g = y.to(xs[i], grad_variables=v_seed)
            _check_shape(g, np.shape(x), "rev", where)
            _check_dtype(g, x.dtype, "rev", where)
            checks.append(("rev", where, (g.value, u, v, numeric)))
        if order > 1:
            for mode in modes:
                seed = u_seed if mode == "fwd" else v_seed
                derivative = _derivative(f, i, _SWEEPS[mode], seed)
                _collect(derivative, args, modes, order - 1, level + 1, argnums, backends,
                         rng, eps, checks)


def _derivative(f, i, sweep, seed):
    """``x -> J u`` (``jvp``) or ``x -> v J`` (``vjp``) of argument ``i``, recorded."""

    def derivative(*args):
        return differentiate(f(*args), args[i], seed, False, True, None, sweep)

    return derivative


def _call(f, args, argnums, backend):
    """``f`` at ``args`` with arguments ``argnums`` as DiffArrays: ``(y, args)``."""
    args = [DiffArray(a, backend) if n in argnums else a for n, a in enumerate(args)]
    with ua.set_backend(backend, coerce=True):
        y = f(*args)
    if type(y) is not DiffArray:
        y = DiffArray(backend.inner.asarray(y), backend)
    return y, args


def _replace(args, i, value):
    return args[:i] + (value,) + args[i + 1:]


def _pair(a, b):
    """``Re sum(a * b)``: the pairing under which a VJP is the transpose of a JVP."""
    return np.real(np.sum(a * b))


def _random_like(rng, a, inner):
    """Standard normal numbers shaped like ``a`` (complex if ``a`` is), on ``inner`` with
    ``a``'s chunks."""
    r = rng.standard_normal(np.shape(a))
    if np.dtype(a.dtype).kind == "c":
        r = r + 1j * rng.standard_normal(np.shape(a))
    r = inner.asarray(np.asarray(r))
    chunks = getattr(a, "chunks", None)
    return r.rechunk(chunks) if chunks is not None and hasattr(r, "rechunk") else r


def _numpy(*arrays):
    """The arrays as NumPy arrays (computing Dask arrays together, copying CuPy's)."""
    if any(hasattr(a, "__dask_graph__") for a in arrays):
        import dask

        arrays = dask.compute(*arrays, optimize_graph=False)
    return [np.asarray(a.get() if hasattr(a, "__cuda_array_interface__") else a)
            for a in arrays]


def _check_shape(result, expected, mode, where):
    if tuple(result.shape) != tuple(expected):
        raise AssertionError(
            f"{mode} mode, {where}: the derivative has shape {tuple(result.shape)}, "
            f"expected {tuple(expected)}"
        )


def _floating(dtype):
    """``dtype`` if it is floating or complex, else float64 (derivatives of integers)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _as_dtype(a, dtype):
    """``a`` cast to ``dtype`` made floating."""
    return a.astype(_floating(dtype))


def _check_dtype(result, expected, mode, where):
    expected = _floating(expected)
    if np.dtype(result.dtype) != expected:
        raise AssertionError(
            f"{mode} mode, {where}: the derivative has dtype {result.dtype}, expected {expected}"
        )


def _check_close(autodiff, numeric, mode, where, rtol, atol):
    autodiff, numeric = np.broadcast_arrays(np.asarray(autodiff), np.asarray(numeric))
    close = np.isclose(autodiff, numeric, rtol=rtol, atol=atol)
    if not close.all():
        worst = np.unravel_index(np.argmax(np.abs(autodiff - numeric) * ~close), close.shape)
        at = f" at index {tuple(int(k) for k in worst)}" if autodiff.ndim else ""
        raise AssertionError(
            f"{mode} mode, {where}: automatic derivative {autodiff[worst].item()!r} != "
            f"finite difference {numeric[worst].item()!r}{at}"
        )
