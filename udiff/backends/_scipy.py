"""Where each inner library finds ``scipy.linalg`` and ``scipy.signal`` (imported on first use).

``udiff.scipy.linalg`` and ``udiff.scipy.signal`` declare their functions in
the domains ``numpy.scipy.linalg`` and ``numpy.scipy.signal``; this module
registers, for each inner backend, what runs them
(:func:`udiff.backends._base.register_domain`):

* NumPy runs ``scipy.linalg`` and ``scipy.signal``;
* CuPy runs ``cupyx.scipy.linalg`` and ``cupyx.scipy.signal`` where they have
  the function;
* Dask runs the implementations below, lazily, for the functions that Dask's
  own linear algebra can carry: ``solve_triangular`` and ``cho_solve``
  (through ``dask.array.linalg.solve_triangular``, on one matrix, any
  chunks), and ``convolve`` (a sum of shifted copies of the larger operand,
  one per entry of the smaller, for smaller operands of up to 16 entries;
  beyond, SciPy's ``convolve`` of the whole arrays as one lazy task).
  ``expm``, ``sqrtm``, ``solve_sylvester`` and ``solve_banded`` have no Dask
  implementation: calling them on Dask arrays raises an error naming the
  function and ``dask``.
"""
import itertools

import numpy as np

from ._base import register_domain
from ._special import LazyModule

_TRANS = {0: 0, 1: 1, 2: 2, "N": 0, "T": 1, "C": 2, "n": 0, "t": 1, "c": 2}


def trans_code(trans):
    """SciPy's ``trans`` argument as 0 (``a x = b``), 1 (``a^T x = b``) or 2 (``a^H x = b``)."""
    try:
        return _TRANS[trans]
    except (KeyError, TypeError):
        raise ValueError(f"trans must be 0, 1, 2, 'N', 'T' or 'C', not {trans!r}") from None


def _one_matrix(name, a):
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise NotImplementedError(
            f"udiff: scipy.linalg.{name} on Dask arrays takes one square matrix, "
            f"not an array of shape {a.shape}")


def _columns(b, n, chunks):
    """``b`` (``(n,)``, ``(n, k)`` or ``(..., n, k)``) as ``n`` rows chunked as ``chunks``,
    and the function that gives a result of that form ``b``'s shape back."""
    import dask.array as da

    b = da.asarray(b)
    if b.ndim == 0 or (b.shape[0] if b.ndim <= 2 else b.shape[-2]) != n:
        raise ValueError(f"shapes of a {(n, n)} and b {b.shape} are incompatible")
    if b.ndim <= 2:
        return b.rechunk((chunks,) + b.chunks[1:]), lambda x: x
    moved = da.moveaxis(b, -2, 0)
    rest = moved.shape[1:]
    cols = moved.reshape((n, -1)).rechunk((chunks, -1))
    return cols, lambda x: da.moveaxis(x.reshape((n,) + rest), 0, -2)


def _dask_solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False,
                           overwrite_b=False, check_finite=True):
    import dask.array as da

    a = da.asarray(a)
    _one_matrix("solve_triangular", a)
    code = trans_code(trans)
    n = a.shape[0]
    a = a.rechunk((a.chunks[0], a.chunks[0]))  # square blocks
    if unit_diagonal:
        i = da.arange(n, chunks=a.chunks[0])
        strict = da.tril(a, -1) if lower else da.triu(a, 1)
        a = da.where(i[:, None] == i[None, :], da.ones_like(strict), strict)
    if code:
        a = a.T if code == 1 else da.conj(a).T
        lower = not lower
    cols, back = _columns(b, n, a.chunks[0])
    dtype = np.result_type(a.dtype, cols.dtype, np.float32)
    if dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
    return back(da.linalg.solve_triangular(a.astype(dtype), cols.astype(dtype), lower=lower))


def _dask_cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    if lower:  # A = L L^H: L y = b, then L^H x = y
        y = _dask_solve_triangular(c, b, lower=True)
        return _dask_solve_triangular(c, y, trans=2, lower=True)
    y = _dask_solve_triangular(c, b, trans=2, lower=False)  # A = U^H U
    return _dask_solve_triangular(c, y, lower=False)


def _dask_convolve(in1, in2, mode="full", method="auto"):
    import dask.array as da

    a, b = da.asarray(in1), da.asarray(in2)
    if a.ndim != b.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode not in ("full", "valid", "same"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    dtype = np.result_type(a.dtype, b.dtype)
    if a.ndim == 0:
        return (a * b).astype(dtype)
    na, nb = a.shape, b.shape
    if mode == "valid" and not (all(i >= j for i, j in zip(na, nb))
                                or all(j >= i for i, j in zip(na, nb))):
        raise ValueError("For 'valid' mode, one must be at least as large as the other in "
                         "every dimension")
    if a.size == 0 or b.size == 0:
        return da.zeros((0,) * a.ndim, dtype=dtype)
    big, small = (a, b) if a.size >= b.size else (b, a)
    big, small = big.astype(dtype), small.astype(dtype)
    if small.size > _MAX_SHIFTS:  # one lazy task: SciPy's convolve of the whole arrays
        from scipy.signal import convolve

        size = convolve_window(na, nb, mode)[1]
        return da.map_blocks(convolve, a.astype(dtype).rechunk(-1), b.astype(dtype).rechunk(-1),
                             mode=mode, method=method, dtype=dtype,
                             chunks=tuple((n,) for n in size))
    out = None
    for k in itertools.product(*(range(n) for n in small.shape)):
        widths = [(i, n - 1 - i) for i, n in zip(k, small.shape)]
        term = small[k] * da.pad(big, widths)
        out = term if out is None else out + term
    if mode == "full":
        return out
    start, size = convolve_window(na, nb, mode)
    return out[tuple(slice(s, s + n) for s, n in zip(start, size))]


def convolve_window(na, nb, mode):
    """``(starts, sizes)`` of ``mode``'s output of ``convolve`` inside the ``'full'`` one,
    per axis, for inputs of shapes ``na`` and ``nb`` (SciPy centres it)."""
    full = tuple(i + j - 1 for i, j in zip(na, nb))
    if mode == "full":
        size = full
    elif mode == "same":
        size = tuple(na)
    else:
        size = tuple(max(i, j) - min(i, j) + 1 for i, j in zip(na, nb))
    return tuple((f - s) // 2 for f, s in zip(full, size)), size


# Up to this many entries in the smaller operand, Dask's convolve sums shifted copies (chunk
# by chunk); beyond, it is one task.
_MAX_SHIFTS = 16


class _Functions:
    """A namespace of functions, standing for a library module."""

    def __init__(self, **functions):
        self.__dict__.update(functions)


_DASK = {
    "numpy.scipy.linalg": _Functions(solve_triangular=_dask_solve_triangular,
                                     cho_solve=_dask_cho_solve),
    "numpy.scipy.signal": _Functions(convolve=_dask_convolve),
}


def _modules(domain):
    module = domain[len("numpy."):]  # scipy.linalg

    def for_backend(name):
        if name == "numpy":
            return LazyModule(module)
        if name == "cupy":
            return LazyModule("cupyx." + module)
        if name == "dask":
            return _DASK[domain]
        return None

    return for_backend


for _domain in ("numpy.scipy.linalg", "numpy.scipy.signal"):
    register_domain(_domain, _modules(_domain))
