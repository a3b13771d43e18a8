"""Helpers every rule module shares.

Cotangents and tangents can carry leading batch axes beyond the shape of the
array they belong to; these helpers find them and address axes from the end.
"""
import sys

import numpy as np


# Arrays up to this size take a scalar cotangent as a filled array, not a broadcast view.
_FILL_SIZE = 4096
_SCALARS = (np.generic, float)
# Derivatives at least this large take the cotangent in place (see times; the sweeps add
# into their own sums from a larger size, sweeps._IN_PLACE_SIZE).
_WRITE_INTO_SIZE = 1 << 12


def ndim(a):
    """Number of axes of an array, DiffArray or Python scalar."""
    n = getattr(a, "ndim", None)
    return np.ndim(a) if n is None else n


def shape(a):
    """Shape of an array, DiffArray or Python scalar."""
    s = getattr(a, "shape", None)
    return np.shape(a) if s is None else tuple(s)


def nbatch(g, like):
    """How many leading batch axes ``g`` has beyond the rank of ``like``."""
    return ndim(g) - ndim(like)


def unbroadcast(g, ans, x):
    """Sum a cotangent ``g`` of ``ans`` back to the shape of input ``x``.

    Leading batch axes of ``g`` are kept; axes that broadcasting added are
    summed away and axes where ``x`` had size 1 are summed with keepdims.
    """
    # (NumPy's arrays first, without a call: this runs for every binary operation)
    g_shape = g.shape if type(g) is np.ndarray else shape(g)
    x_shape = x.shape if type(x) is np.ndarray else shape(x)
    if g_shape == x_shape:  # nothing was broadcast, and there are no batch axes
        return g
    return unbroadcast_to(g, len(g_shape) - ndim(ans), x_shape)


def times(g, d):
    """``g * d``, a cotangent or tangent times a derivative: ``g`` itself where ``d`` is
    the Python float 1.0, and written into ``d`` where it is a NumPy temporary the
    rule just made and nothing else holds.

    Saves a full-size allocation per elementwise rule in plain sweeps (the
    product is the same, exactly).  Pass ``d`` as a call's result, not a named
    variable: a name holds a reference, and the product is then a new array.

    Parameters
    ----------
    g, d : array or scalar
        The factors; ``d`` may be a temporary of the caller's expression.

    Returns
    -------
    array
        ``g * d``.

    Examples
    --------
    >>> import numpy
    >>> times(numpy.ones(2), 2.0 * numpy.arange(2.0))
    array([0., 2.])
    >>> times(numpy.ones(2), 1.0)
    array([1., 1.])
    """
    if type(d) is float and d == 1.0:
        return g
    # (2 references: this frame's and getrefcount's; a view's base would hold a third.
    # Small arrays cost less to allocate than to check.)
    if type(d) is np.ndarray and d.size >= _WRITE_INTO_SIZE and type(g) is np.ndarray \
            and d.shape == g.shape and d.dtype == g.dtype and d.base is None \
            and sys.getrefcount(d) == 2 and d.flags.writeable:
        d *= g
        return d
    return g * d


def unbroadcast_to(g, nb, x_shape):
    """:func:`unbroadcast` for a ``g`` with ``nb`` known batch axes."""
    g_shape = g.shape if type(g) is np.ndarray else shape(g)
    extra = len(g_shape) - nb - len(x_shape)
    if extra:
        summed = tuple(range(nb, nb + extra))
        # (a NumPy array's own method: np.sum's Python wrapper costs more than small sums)
        g = g.sum(axis=summed) if type(g) is np.ndarray else np.sum(g, axis=summed)
        g_shape = g_shape[:nb] + g_shape[nb + extra:]
    axes = tuple(
        i - len(x_shape)
        for i, n in enumerate(x_shape)
        if n == 1 and g_shape[nb + i] != 1
    )
    if axes:
        g = np.sum(g, axis=axes, keepdims=True)
    return g


def pad_rank(t, nb, rank):
    """Insert size-1 axes after ``t``'s ``nb`` batch axes until it has ``nb + rank`` axes."""
    missing = nb + rank - ndim(t)
    if missing <= 0:
        return t
    s = shape(t)
    return np.reshape(t, s[:nb] + (1,) * missing + s[nb:])


def zeros_cotangent(g, ans, x):
    """A zero cotangent for ``x`` (for inputs a function ignores locally)."""
    return np.zeros_like(g, shape=shape(g)[: nbatch(g, ans)] + shape(x))


def broadcast_tangent(t, x, ans):
    """Broadcast a tangent ``t`` of input ``x`` to the shape of ``ans``.

    Keeps ``t``'s leading batch axes.
    """
    ans_shape = shape(ans)
    t_shape = shape(t)
    nb = len(t_shape) - ndim(x)
    target = t_shape[:nb] + ans_shape
    if t_shape == target:
        return t
    extra = len(ans_shape) - ndim(x)
    if extra and nb:
        t = np.reshape(t, t_shape[:nb] + (1,) * extra + t_shape[nb:])
    return broadcast_like(t, target, ans)


def normalize_axes(axis, nd):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(a % nd for a in axis)) if nd else ()
    return (axis % nd,) if nd else ()


def from_end(axes, nd):
    """Non-negative axes of an ``nd``-dimensional array as negative axes."""
    return tuple(a - nd for a in axes)


def restore_reduced(g, x, axis, keepdims):
    """Broadcast ``g``, a cotangent of a reduction of ``x``, back to ``x``'s shape."""
    nd = ndim(x)
    if axis is None and not keepdims and not ndim(g):  # a full reduction, no batch axes
        return broadcast_like(g, shape(x), x)
    axes = normalize_axes(axis, nd)
    if not keepdims and axes:
        g = np.expand_dims(g, from_end(axes, nd))
    return broadcast_like(g, shape(g)[: ndim(g) - nd] + shape(x), x)


def broadcast_like(g, target, like):
    """``np.broadcast_to(g, target)``, chunked like ``like`` on its trailing axes.

    On Dask, ``broadcast_to`` makes every broadcast axis one chunk; a gradient
    of a reduction over a chunked axis must stay chunked like its input.
    """
    if type(like) is np.ndarray and (type(g) is np.ndarray or isinstance(g, _SCALARS)):
        if (type(g) is float or not g.ndim) and like.size <= _FILL_SIZE:
            # (a small array filled costs less than broadcast_to's Python, and is new)
            return np.full(target, g)
        return np.broadcast_to(g, target)
    if np.isnan(target).any() or _recorded_dask(g):
        # Unknown sizes (Dask, after boolean indexing): elementwise broadcasting
        # against ``like`` finds them when the graph runs.  In a recorded sweep
        # on Dask (``g`` a DiffArray), ``match_chunks`` cannot rechunk, and one
        # block the size of ``like`` would hold a whole axis; elementwise
        # broadcasting takes ``like``'s chunks instead.
        return g + np.zeros_like(like)
    return match_chunks(np.broadcast_to(g, target), like)


def _recorded_dask(g):
    """Whether ``g`` wraps a Dask array (a DiffArray of a recorded sweep on Dask)."""
    value = getattr(g, "value", None)
    return not hasattr(g, "rechunk") and hasattr(value, "rechunk")


def match_chunks(a, like):
    """``a`` rechunked like ``like`` on their common trailing axes (Dask only)."""
    chunks = getattr(like, "chunks", None)
    if chunks is None or not hasattr(a, "rechunk") or a.chunks[ndim(a) - len(chunks):] == chunks:
        return a
    if np.isnan(shape(a)).any() or np.isnan(shape(like)).any():
        return a  # unknown chunk sizes (after boolean indexing) cannot be rechunked
    nb = ndim(a) - len(chunks)
    return a.rechunk({nb + i: c for i, c in enumerate(chunks)})


def real_dtype(x):
    """The real floating dtype of ``x``'s precision (float32 for complex64), or None.

    None for integer and boolean ``x``, whose derivatives are never taken.
    """
    dtype = getattr(x, "dtype", None)
    dtype = np.dtype(np.result_type(x) if dtype is None else dtype)
    if dtype.kind == "c":
        return np.finfo(dtype).dtype
    return dtype if dtype.kind == "f" else None


def weights_like(w, x):
    """Constant weights ``w`` (from comparisons or counts) in ``x``'s real precision.

    ``numpy.where(mask, 0.5, 1.0)`` or ``mask / count`` are float64; multiplied
    into a float32 cotangent they would make the gradient float64.
    """
    dtype = real_dtype(x)
    if dtype is None or np.dtype(w.dtype) == dtype:
        return w
    return w.astype(dtype)
