"""``numpy.linalg`` functions Dask lacks, for stacks of matrices.

Each matrix is put in one chunk (the last two axes are rechunked whole) and
the leading axes keep their chunks, so the function is truly blockwise: every
task runs NumPy's own function on a block of whole matrices.  The tasks call
NumPy only, never uarray, whose backend state Dask's worker threads lack.
"""
import numpy as np

from ..numpy.linalg import _adjugate_from_svd


def _whole_matrices(a):
    """``a`` with its last two axes in one chunk each, the others chunked as before."""
    import dask.array as da

    a = da.asarray(a)
    if a.ndim < 2:
        raise np.linalg.LinAlgError(
            f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")
    return a.rechunk({a.ndim - 2: -1, a.ndim - 1: -1})


def _result_dtype(func, dtype):
    """The dtype of ``func``'s (first) result on a 1x1 matrix of ``dtype``."""
    out = func(np.ones((1, 1), dtype))
    return np.asarray(out[0] if isinstance(out, tuple) else out).dtype


def _per_matrix(func, a, dtype):
    """``func`` on each matrix of ``a``: a ``(...)``-shaped result."""
    a = _whole_matrices(a)
    return a.map_blocks(func, drop_axis=[a.ndim - 2, a.ndim - 1], dtype=dtype)


def _det(m):
    return np.asarray(np.linalg.det(m))  # an array also for one matrix (not a scalar)


def det(a):
    """``numpy.linalg.det`` of a (stack of) Dask matrices."""
    return _per_matrix(_det, a, _result_dtype(np.linalg.det, a.dtype))


def _sign(m):
    return np.asarray(np.linalg.slogdet(m)[0])


def _logabsdet(m):
    return np.asarray(np.linalg.slogdet(m)[1])


def slogdet(a):
    """``numpy.linalg.slogdet`` of a (stack of) Dask matrices: NumPy's ``(sign, logabsdet)``."""
    probe = np.linalg.slogdet(np.ones((1, 1), a.dtype))
    return type(probe)(_per_matrix(_sign, a, probe[0].dtype),
                       _per_matrix(_logabsdet, a, probe[1].dtype))


def _numpy_adjugate(m):
    u, s, vh = np.linalg.svd(m, full_matrices=False)
    return _adjugate_from_svd(u, s, vh, np.linalg.det(u) * np.linalg.det(vh))


def adjugate(a):
    """The adjugate of each matrix (udiff's ``linalg._adjugate``)."""
    a = _whole_matrices(a)
    dtype = _result_dtype(np.linalg.det, a.dtype)
    return a.map_blocks(_numpy_adjugate, dtype=dtype)


def _svd_part(i):
    def part(m):
        return np.linalg.svd(m, full_matrices=False)[i]

    return part


def svd_reduced(a):
    """``svd(a, full_matrices=False)`` of a stack of matrices, each in one chunk."""
    a = _whole_matrices(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    lead = a.chunks[:-2]
    u_dtype, s_dtype = (x.dtype for x in np.linalg.svd(np.ones((1, 1), a.dtype))[:2])
    u = a.map_blocks(_svd_part(0), chunks=lead + ((m,), (k,)), dtype=u_dtype)
    s = a.map_blocks(_svd_part(1), chunks=lead + ((k,),), drop_axis=[a.ndim - 1],
                     dtype=s_dtype)
    vh = a.map_blocks(_svd_part(2), chunks=lead + ((k,), (n,)), dtype=u_dtype)
    return u, s, vh


def overrides():
    """The Dask backend's overrides for these functions, by qualified name."""
    return {
        "linalg.det": det,
        "linalg.slogdet": slogdet,
        "linalg._adjugate": adjugate,
        "linalg._svd_reduced": svd_reduced,
    }
