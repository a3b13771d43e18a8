"""Row-separable functions on Dask: derivatives computed chunk by chunk, then tree-summed.

A function ``f(params, X, y)`` that is a sum over the rows of ``X`` and ``y``
has a gradient and a Hessian that are sums of per-chunk gradients and
Hessians.  :func:`value_grad_and_hessian` uses that: for Dask row arguments
it builds one task per aligned row chunk, which runs udiff on that chunk's
NumPy (or CuPy) blocks, and a tree reduction that adds the per-chunk results.
Each task holds one chunk of each row argument, so computing the value, the
gradient and the Hessian together streams over the data.

The task function sets udiff's backend itself, inside the task: it relies on
no uarray state of the thread (or process) that built the graph.
"""
import math
import warnings

import numpy

from .._machinery.sweeps import differentiate
from .._machinery.tree import tree_flatten, tree_leaves, tree_map, tree_unflatten
from ..backends import cupy_backend, dask_backend, numpy_backend
from .functional import _argnums, _per_argument, _plain, _second_order

__all__ = ["value_grad_and_hessian"]


def _value_grad_hess(f, args, kwargs, nums, many, inner):
    """``(f(*args), gradient, Hessian)`` from one trace of ``f`` (forward over reverse)."""
    trace, out, grads, hess = _second_order(f, args, kwargs, nums, many, inner,
                                            "value_grad_and_hessian")
    value = _plain(out, trace.nested)
    return value, _per_argument(trace, list(_plain(grads, trace.nested)), many), hess


def _is_dask(x):
    try:
        import dask.array as da
    except ImportError:  # pragma: no cover - Dask is optional
        return False
    return isinstance(x, da.Array)


def _has_dask(tree):
    return any(_is_dask(leaf) for leaf in tree_leaves(tree))


def _chunk_backend(meta):
    """The inner backend for one chunk: CuPy for CuPy blocks, NumPy otherwise."""
    if type(meta).__module__.split(".")[0] == "cupy":
        return cupy_backend
    return numpy_backend


def align_rows(name, arrays, positions, rechunk=False):
    """Dask row arguments with the same chunks along axis 0, one chunk along the others.

    NumPy arrays among them become Dask arrays with the chunks of the first
    Dask one.  Different lengths are a ValueError; different row chunks are a
    ValueError unless ``rechunk`` (then they take the first Dask one's).
    """
    import dask.array as da

    ref_i = next(i for i, a in enumerate(arrays) if _is_dask(a))
    ref = arrays[ref_i]
    for i, a in enumerate(arrays):
        if numpy.ndim(a) == 0:
            raise ValueError(
                f"{name}: row argument {positions[i]} is a scalar; row arguments are "
                "arrays whose axis 0 runs over the rows")
        if _is_dask(a) and any(math.isnan(c) for c in a.chunks[0]):
            raise ValueError(
                f"{name}: row argument {positions[i]} has unknown chunk sizes along axis 0; "
                "call .compute_chunk_sizes() on it first")
    for i, a in enumerate(arrays):
        if a.shape[0] != ref.shape[0]:
            raise ValueError(
                f"{name}: row arguments {positions[ref_i]} and {positions[i]} have "
                f"different numbers of rows ({ref.shape[0]} and {a.shape[0]}); every row "
                "argument needs one row per term of the sum")
    chunks = ref.chunks[0]
    out = []
    for i, a in enumerate(arrays):
        if not _is_dask(a):
            a = da.from_array(a, chunks=(chunks,) + tuple(a.shape[1:]))
        elif a.chunks[0] != chunks:
            if not rechunk:
                raise ValueError(
                    f"{name}: row arguments {positions[ref_i]} and {positions[i]} are chunked "
                    f"differently along axis 0 ({_short(chunks)} and {_short(a.chunks[0])}); "
                    f"rechunk them alike, e.g. y.rechunk({{0: X.chunks[0]}})")
            a = a.rechunk({0: chunks})
        if a.ndim > 1 and any(len(c) > 1 for c in a.chunks[1:]):
            a = a.rechunk({k: -1 for k in range(1, a.ndim)})
        out.append(a)
    return out


def _short(chunks):
    return str(chunks) if len(chunks) <= 6 else f"({chunks[0]}, {chunks[1]}, ..., {chunks[-1]})"


class _Held:
    """An argument that Dask passes to a task unread."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __dask_tokenize__(self):
        from dask.base import tokenize

        return ("udiff-held", tokenize(self.value))


def map_rows(task, rows, extra, size, dtype, split_every=None):
    """``sum over chunks c of task(*row_blocks_c, extra)``: one task per chunk, a tree sum.

    ``rows`` are aligned Dask arrays (see :func:`align_rows`); ``task``
    returns a 1-D array of ``size`` elements.  Returns a 1-D Dask array.
    """
    import dask
    import dask.array as da

    # Dask collections among the other arguments are computed once, whole;
    # anything else is held in an opaque box, so that Dask does not read its
    # tuples as tasks.
    # (a Delayed of a collection gets a random key unless named: named by the collection's
    # token, the same rows and extra give the same keys, and Dask runs them once)
    extra = dask.delayed(extra, name="udiff-extra-" + dask.base.tokenize(extra)) \
        if _has_dask(extra) else _Held(extra)
    letters = iter("abcdefghklmnopqrstuvwxyz")
    pairs = []
    for a in rows:
        pairs += [a, "i" + "".join(next(letters) for _ in range(a.ndim - 1))]
    pairs += [extra, None]

    def block(*blocks):
        *chunk_rows, held = blocks
        held = held.value if type(held) is _Held else held
        return numpy.asarray(task(*map(_one_block, chunk_rows), held)).reshape(1, size)

    # (concatenate=False: a row argument's other axes are one chunk each (align_rows), so
    # the task gets that one block in a list per contracted axis; Dask's concatenation of
    # a single block would copy the whole chunk.)
    parts = da.blockwise(
        block, "ij", *pairs, new_axes={"j": size}, adjust_chunks={"i": 1},
        concatenate=False, dtype=dtype, meta=numpy.empty((0, 0), dtype=dtype),
        name="udiff-rows-" + dask.base.tokenize(task, *rows, extra, size))
    return parts.sum(axis=0, split_every=split_every, dtype=dtype)


def _one_block(b):
    """The block of a row argument: Dask passes it in a list for each axis it contracts."""
    while type(b) is list:
        b, = b
    return b


def _probe_args(args, row_nums):
    """``args`` with one row of zeros in each row argument and NumPy for Dask leaves."""
    def to_numpy(x):
        if _is_dask(x):
            return numpy.zeros(x.shape, x.dtype)
        return x

    probe = list(tree_map(to_numpy, args[k]) if k not in row_nums else None
                 for k in range(len(args)))
    for k in row_nums:
        a = args[k]
        probe[k] = numpy.zeros((1,) + tuple(a.shape[1:]), dtype=a.dtype)
    return probe


def in_blocks(task, rows, extra, block_rows):
    """``task`` summed over slices of ``block_rows`` rows of the row arrays ``rows``.

    Inside one Dask task: derivatives of a few thousand rows at a time keep
    the Hessian's stack of tangents (parameters x rows) small and in cache,
    which on 250 000-row chunks is several times faster than one call.
    """
    n = rows[0].shape[0]
    if block_rows is None or n <= block_rows:
        return task(*rows, extra)
    total = None
    for start in range(0, n, block_rows):
        part = task(*[r[start:start + block_rows] for r in rows], extra)
        total = part if total is None else total + part
    return total


def value_grad_and_hessian(f, argnums=0, *, rows, mean=False, split_every=None,
                           block_rows=65536):
    """Value, gradient and Hessian of a sum over rows, streamed chunk by chunk on Dask.

    ``f(*args)`` must be a sum (or, with ``mean=True``, a mean) over axis 0
    of the row arguments ``args[k]`` for ``k`` in ``rows``: the value on all
    the rows equals the sum of its values on any split of the rows into
    blocks (a loss summed over samples, a log-likelihood of independent
    observations).  udiff takes that as given and does not check it.

    For Dask row arguments, the result is built from one task per row chunk,
    which computes the chunk's value, gradient and Hessian with udiff on the
    chunk's NumPy (or CuPy) blocks, and a tree reduction that adds them up.
    Each task holds one chunk of the data, so
    ``dask.compute(value, grad, hess)`` streams over the rows, and the
    graph has ``chunks + reduction`` tasks whatever ``f`` does.  Without Dask
    row arguments it is udiff's ordinary value, gradient and Hessian.

    Parameters
    ----------
    f : callable
        The function, written with ``udiff.numpy``, returning a scalar.
    argnums : int or tuple of int, optional
        The arguments to differentiate (default 0): arrays or containers of
        arrays, not row arguments.  Non-row Dask arrays among ``f``'s
        arguments are computed once and sent whole to every task.
    rows : int or tuple of int
        The positions of the row arguments: arrays whose axis 0 runs over the
        rows, all of the same length, and for Dask arrays the same chunks
        along axis 0 (NumPy arrays among them are chunked like the first Dask
        one).  Their other axes are put in one chunk.
    mean : bool, optional
        ``f`` is a mean over the rows rather than a sum: each chunk's terms
        are weighted by its share of the rows.
    split_every : int, optional
        The fan-in of the tree reduction (Dask's default when None).
    block_rows : int or None, optional
        Inside each task, udiff runs on this many rows at a time and adds
        up the results (default 65536; None: the whole chunk at once): the
        per-row arrays stay in cache, and Python's cost per call is paid
        once per block.

    Returns
    -------
    callable
        ``value_grad_and_hessian_f(*args, **kwargs)``, returning
        ``(value, gradient, hessian)``: Dask arrays when a row argument is a
        Dask array (lazy; nothing has run yet), NumPy arrays otherwise.  The
        gradient and Hessian are laid out as :func:`udiff.grad` and
        :func:`udiff.hessian` lay them out.  Keyword arguments are passed to
        ``f`` in every task and not differentiated.

    Raises
    ------
    ValueError
        When row arguments differ in length, in their chunks along axis 0, or
        have unknown chunk sizes, or when a row argument is differentiated.

    See Also
    --------
    udiff.value_and_grad, udiff.hessian : the same derivatives from one graph.

    Examples
    --------
    >>> import dask, dask.array as da, numpy, udiff, udiff.numpy as np
    >>> def loss(w, X, y):
    ...     return np.sum((X @ w - y) ** 2)
    >>> X = da.arange(12.0, chunks=4).reshape(6, 2).rechunk((2, 2))
    >>> y = da.ones(6, chunks=2)
    >>> value, g, h = udiff.value_grad_and_hessian(loss, rows=(1, 2))(numpy.zeros(2), X, y)
    >>> value, g, h = dask.compute(value, g, h)
    >>> float(value), g, h
    (6.0, array([-60., -72.]), array([[440., 500.],
           [500., 572.]]))
    """
    row_nums = (rows,) if isinstance(rows, int) else tuple(rows)
    name = "value_grad_and_hessian"

    def value_grad_and_hessian_f(*args, **kwargs):
        nums, many = _argnums(argnums, None, len(args))
        positions = [k % len(args) for k in row_nums]
        for k in nums:
            if k % len(args) in positions:
                raise ValueError(
                    f"{name}: argument {k} is both differentiated and a row argument; "
                    "the streaming form differentiates by the parameters only")
        row_args = [args[k] for k in positions]
        if not any(_is_dask(a) for a in row_args):
            inner = dask_backend if _has_dask(args) or _has_dask(kwargs) else numpy_backend
            return _value_grad_hess(f, args, kwargs, nums, many, inner)
        aligned = align_rows(name, row_args, positions)
        n = aligned[0].shape[0]
        # The layout of the results: udiff on one row of zeros, on NumPy.
        with warnings.catch_warnings(), numpy.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            probe = _value_grad_hess(f, _probe_args(args, positions), kwargs, nums, many,
                                     numpy_backend)
        leaves, treedef = tree_flatten(probe)
        shapes = [numpy.shape(leaf) for leaf in leaves]
        sizes = [int(numpy.prod(s)) for s in shapes]
        dtype = numpy.result_type(*leaves)
        others = [None if k in positions else args[k] for k in range(len(args))]
        meta = aligned[0]._meta
        size = sum(sizes)

        def block(*blocks):
            *block_rows_, (others_, kwargs_) = blocks
            block_args = list(others_)
            for k, rows_k in zip(positions, block_rows_):
                block_args[k] = rows_k
            out = _value_grad_hess(f, block_args, kwargs_, nums, many, _chunk_backend(meta))
            flat = [numpy.asarray(leaf, dtype=dtype).ravel() for leaf in tree_leaves(out)]
            total = numpy.concatenate(flat)
            # A block's mean counts in proportion to its share of the rows.
            return total * (block_rows_[0].shape[0] / n) if mean else total

        def task(*blocks):
            *chunk_rows, extra = blocks
            return in_blocks(block, chunk_rows, extra, block_rows)

        summed = map_rows(task, aligned, (others, kwargs), size, dtype, split_every)
        pieces, start = [], 0
        for s, k in zip(shapes, sizes):
            pieces.append(summed[start:start + k].reshape(s))
            start += k
        return tree_unflatten(treedef, pieces)

    return value_grad_and_hessian_f
