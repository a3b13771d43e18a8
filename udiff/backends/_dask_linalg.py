"""``numpy.linalg`` on Dask, for (stacks of) matrices, with NumPy's values.

Every function puts each matrix in one chunk (its matrix axes are rechunked
whole), keeps the chunks of the leading (stack) axes, and runs NumPy's own
function on each block of whole matrices with :func:`dask.array.apply_gufunc`
(one call per block, also for several outputs).  The results are NumPy's:
the same signs of singular vectors, eigenvectors and ``Q``'s columns, the
same dtypes, stacks and broadcasting.  Dask's own ``qr``/``svd`` (tall-skinny
QR) scale to matrices larger than one chunk but give other signs, and its
``inv``/``solve``/``cholesky`` take single 2-D matrices with square chunks
only, so none of them is used.

The tasks call NumPy only, never uarray, whose backend state Dask's worker
threads lack.  Functions of a single matrix that NumPy returns as scalars
(``det`` of a 2-D array) come back as 0-d arrays: a block is always an
array.
"""
import functools
import string

import numpy as np

from ._base import adjugate_from_svd as _adjugate_from_svd


def _blocks_as_arrays(func):
    """``func`` whose results (one, or a tuple) are NumPy arrays, never scalars."""
    @functools.wraps(func)
    def run(*args, **kwargs):
        out = func(*args, **kwargs)
        if isinstance(out, tuple):
            return tuple(np.asarray(o) for o in out)
        return np.asarray(out)

    return run


def _check_matrix(a):
    """NumPy's error for fewer than two dimensions."""
    if a.ndim < 2:
        raise np.linalg.LinAlgError(
            f"{a.ndim}-dimensional array given. Array must be at least two-dimensional")


def _input_cores(signature):
    """The number of core axes of each input of a gufunc signature: ``"(m,n),(m)->..."`` ->
    ``[2, 1]``."""
    specs = signature.split("->")[0].replace("),(", ")|(").split("|")
    return [0 if spec == "()" else spec.count(",") + 1 for spec in specs]


def _unify_stacks(args, cores):
    """The operands with their stack axes chunked alike, as ``apply_gufunc`` needs (a
    stack axis of length 1, broadcast, keeps its one chunk).

    ``cores`` gives each operand's number of core axes, which stay as they are.
    """
    from dask.array.core import unify_chunks

    nstack = max(a.ndim - n for a, n in zip(args, cores))
    letters = iter(string.ascii_letters[nstack:])
    indexed = []
    for a, n in zip(args, cores):
        stack = string.ascii_letters[nstack - (a.ndim - n):nstack]
        indexed += [a, stack + "".join(next(letters) for _ in range(n))]
    return unify_chunks(*indexed)[1]


def _gufunc(func, signature, *args, sizes=None, **kwargs):
    """``func(*args, **kwargs)`` blockwise over the leading axes, core axes whole.

    ``signature`` is a generalized-ufunc signature (``"(m,n)->(m,k),(k)"``);
    ``sizes`` gives the sizes of core axes only outputs have.  The dtypes are
    those of ``func`` on inputs whose core axes have length 1.  Returns a Dask
    array, or a tuple of them (of ``func``'s own tuple type, such as NumPy's
    ``SVDResult``).
    """
    import dask.array as da

    cores = _input_cores(signature)
    args = _unify_stacks([da.asarray(a).rechunk({a.ndim - 1 - i: -1 for i in range(n)})
                          for a, n in zip(args, cores)], cores)
    probe = func(*(np.ones((1,) * n, a.dtype) for a, n in zip(args, cores)), **kwargs)
    outs = probe if isinstance(probe, tuple) else (probe,)
    metas = tuple(np.empty((0,) * np.ndim(o), np.asarray(o).dtype) for o in outs)
    result = da.apply_gufunc(
        _blocks_as_arrays(functools.partial(func, **kwargs)), signature, *args,
        meta=metas if isinstance(probe, tuple) else metas[0], output_sizes=sizes or {})
    if not isinstance(probe, tuple):
        return result
    return type(probe)(*result) if hasattr(probe, "_fields") else tuple(result)


def _square(a):
    """Dask ``a``, checked to be (a stack of) square matrices as NumPy does."""
    a = _dask(a)
    _check_matrix(a)
    if a.shape[-1] != a.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    return a


def _dask(a):
    import dask.array as da

    return da.asarray(a)


def _scalar_option(name, **options):
    """Raise for array-valued tolerances (they would broadcast against one block's stack only)."""
    for key, value in options.items():
        if value is not None and np.ndim(value) > 0:
            raise NotImplementedError(
                f"linalg.{name} with an array {key} is not available on the dask inner backend "
                f"(only a scalar {key})")


# -- square matrices --------------------------------------------------------------------------
def det(a):
    """``numpy.linalg.det`` of a (stack of) Dask matrices."""
    return _gufunc(np.linalg.det, "(m,m)->()", _square(a))


def slogdet(a):
    """``numpy.linalg.slogdet``: NumPy's ``(sign, logabsdet)``."""
    return _gufunc(np.linalg.slogdet, "(m,m)->(),()", _square(a))


def inv(a):
    """``numpy.linalg.inv`` of a (stack of) Dask matrices."""
    return _gufunc(np.linalg.inv, "(m,m)->(m,m)", _square(a))


def solve(a, b):
    """``numpy.linalg.solve``: ``b`` is one vector when 1-D, else a (stack of) matrices;
    the stacks broadcast."""
    a, b = _square(a), _dask(b)
    if b.ndim == 1:
        return _gufunc(np.linalg.solve, "(m,m),(m)->(m)", a, b)
    return _gufunc(np.linalg.solve, "(m,m),(m,n)->(m,n)", a, b)


def cholesky(a, upper=False):
    """``numpy.linalg.cholesky`` (lower factor unless ``upper``)."""
    return _gufunc(np.linalg.cholesky, "(m,m)->(m,m)", _square(a), upper=upper)


def eigh(a, UPLO="L"):
    """``numpy.linalg.eigh``: NumPy's ``(eigenvalues, eigenvectors)``."""
    return _gufunc(np.linalg.eigh, "(m,m)->(m),(m,m)", _square(a), UPLO=UPLO)


def eigvalsh(a, UPLO="L"):
    """``numpy.linalg.eigvalsh``."""
    return _gufunc(np.linalg.eigvalsh, "(m,m)->(m)", _square(a), UPLO=UPLO)


def _complex_eig(m):
    """NumPy's ``eig`` with complex results whatever the values (NumPy's are real when every
    eigenvalue of the stack is; a Dask array's dtype must be known before computing)."""
    out = np.linalg.eig(m)
    dtype = np.result_type(out.eigenvalues.dtype, np.complex64)
    return type(out)(*(x.astype(dtype) for x in out))


def _complex_eigvals(m):
    return _complex_eig(m)[0]


def eig(a):
    """``numpy.linalg.eig``: NumPy's ``EigResult``, always complex (as JAX's)."""
    return _gufunc(_complex_eig, "(m,m)->(m),(m,m)", _square(a))


def eigvals(a):
    """``numpy.linalg.eigvals``, always complex (as JAX's)."""
    return _gufunc(_complex_eigvals, "(m,m)->(m)", _square(a))


def _numpy_adjugate(m):
    u, s, vh = np.linalg.svd(m, full_matrices=False)
    return _adjugate_from_svd(u, s, vh, np.linalg.det(u) * np.linalg.det(vh))


def adjugate(a):
    """The adjugate of each matrix (udiff's ``linalg._adjugate``)."""
    return _gufunc(_numpy_adjugate, "(m,m)->(m,m)", _square(a))


# -- rectangular matrices ---------------------------------------------------------------------
def _rectangular(a):
    """Dask ``a`` (matrices) and the size ``k`` of its smaller matrix axis."""
    a = _dask(a)
    _check_matrix(a)
    return a, {"k": min(a.shape[-2:])}


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """``numpy.linalg.svd``: NumPy's ``SVDResult``, or the singular values."""
    a, sizes = _rectangular(a)
    options = dict(full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    if not compute_uv:
        return _gufunc(np.linalg.svd, "(m,n)->(k)", a, sizes=sizes, **options)
    signature = "(m,n)->(m,m),(k),(n,n)" if full_matrices else "(m,n)->(m,k),(k),(k,n)"
    return _gufunc(np.linalg.svd, signature, a, sizes=sizes, **options)


def svd_reduced(a):
    """``svd(a, full_matrices=False)`` (udiff's ``linalg._svd_reduced``)."""
    return svd(a, full_matrices=False)


_QR_SIGNATURES = {
    "reduced": "(m,n)->(m,k),(k,n)", "complete": "(m,n)->(m,m),(m,n)",
    "r": "(m,n)->(k,n)", "raw": "(m,n)->(n,m),(k)",
}


def qr(a, mode="reduced"):
    """``numpy.linalg.qr`` in every mode: ``reduced``, ``complete``, ``r`` and ``raw``."""
    a, sizes = _rectangular(a)
    if mode not in _QR_SIGNATURES:
        raise ValueError(f"Unrecognized mode '{mode}'")
    return _gufunc(np.linalg.qr, _QR_SIGNATURES[mode], a, sizes=sizes, mode=mode)


def pinv(a, rcond=None, hermitian=False, **kwargs):
    """``numpy.linalg.pinv`` with scalar ``rcond``/``rtol``."""
    a, _ = _rectangular(a)
    _scalar_option("pinv", rcond=rcond, **kwargs)
    if rcond is not None:
        kwargs["rcond"] = rcond
    return _gufunc(np.linalg.pinv, "(m,n)->(n,m)", a, hermitian=hermitian, **kwargs)


def matrix_rank(A, tol=None, hermitian=False, **kwargs):
    """``numpy.linalg.matrix_rank`` with scalar ``tol``/``rtol``; 0 or 1 below two dimensions,
    as NumPy."""
    A = _dask(A)
    if A.ndim < 2:
        return (A != 0).any().astype(np.asarray(0).dtype)
    _scalar_option("matrix_rank", tol=tol, **kwargs)
    return _gufunc(np.linalg.matrix_rank, "(m,n)->()", A, tol=tol, hermitian=hermitian, **kwargs)


def _lstsq_padded(a, b, rcond=None):
    """NumPy's lstsq with the residuals padded to ``b``'s columns (they are empty when ``a``
    is rank deficient or not tall)."""
    x, res, rank, s = np.linalg.lstsq(a, b, rcond=rcond)
    if res.size == 0:
        res = np.zeros(b.shape[1:] or (1,), res.dtype)
    return x, res, np.asarray(rank), s


def lstsq(a, b, rcond=None):
    """``numpy.linalg.lstsq`` (one matrix ``a``; ``b`` a vector or matrix).

    The residuals are NumPy's: empty unless ``a`` is tall and of full rank,
    which is known only once computed, so their length is unknown (NaN) when
    ``a`` is tall.
    """
    import dask.array as da

    a, b = _dask(a), _dask(b)
    for x, ndims in ((a, (2,)), (b, (1, 2))):
        if x.ndim not in ndims:
            raise np.linalg.LinAlgError(
                f"{x.ndim}-dimensional array given. Array must be two-dimensional")
    m, n = a.shape
    signature = "(m,n),(m)->(n),(r),(),(k)" if b.ndim == 1 else "(m,n),(m,c)->(n,c),(c),(),(k)"
    x, res, rank, s = _gufunc(_lstsq_padded, signature, a, b, sizes={"k": min(m, n), "r": 1},
                              rcond=rcond)
    if m <= n:
        return x, res[:0], rank, s
    return x, res[da.broadcast_to(rank == n, res.shape)], rank, s


# -- norms ------------------------------------------------------------------------------------
def _matrix_axes(ndim, ord, axis):
    """The (row, column) axes of a matrix norm, else None (a vector norm)."""
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        rc = tuple(int(x) % ndim for x in axis)
        if rc[0] == rc[1]:
            raise ValueError("Duplicate axes given.")
        return rc
    if axis is None and ndim == 2 and ord is not None:
        return (0, 1)
    return None


def norm(x, ord=None, axis=None, keepdims=False):
    """``numpy.linalg.norm``: matrix norms blockwise (each matrix whole, NumPy's norm per
    block: stacks, and ``'nuc'``/2/-2 on any chunks), vector norms by Dask's reductions."""
    import dask.array as da

    x = _dask(x)
    if x.dtype.kind not in "fc":
        x = x.astype(float)
    rc = _matrix_axes(x.ndim, ord, axis)
    if rc is not None:
        out = _gufunc(np.linalg.norm, "(m,n)->()", da.moveaxis(x, rc, (-2, -1)), ord=ord,
                      axis=(-2, -1))
        return da.expand_dims(out, sorted(rc)) if keepdims else out
    if ord is None and axis is None:  # the 2-norm of all elements, whatever the dimension
        out = da.sqrt(da.sum(da.real(x * da.conj(x)) if x.dtype.kind == "c" else x * x))
        return out.reshape((1,) * x.ndim) if keepdims else out
    return da.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def overrides():
    """The Dask backend's overrides for ``numpy.linalg``, by qualified name."""
    functions = (det, slogdet, inv, solve, cholesky, eigh, eigvalsh, eig, eigvals, svd, qr, pinv,
                 matrix_rank, lstsq, norm)
    return {
        **{f"linalg.{f.__name__}": f for f in functions},
        "linalg._adjugate": adjugate,
        "linalg._svd_reduced": svd_reduced,
    }
