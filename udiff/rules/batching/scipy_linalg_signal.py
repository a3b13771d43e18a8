"""Batching rules of ``udiff.scipy.linalg`` and ``udiff.scipy.signal``.

* ``expm``, ``sqrtm`` and ``solve_sylvester`` take stacks of matrices: the
  batch is one more stacking axis (unbatched arguments broadcast along it).
* ``solve_triangular``, ``cho_solve`` and ``solve_banded``: with the matrix
  batched, a stack of systems (a vector right-hand side becomes a column);
  with only the right-hand side batched, one solve whose columns hold every
  example's (so that Dask, which solves one matrix, batches too).
* ``convolve`` with one argument batched: the other gets a leading axis of
  length 1, the ``'full'`` convolution along the batch axis is the identity,
  and the ``mode``'s window is cut from it.  Both batched: one convolution
  per example, stacked.

Rules are keyed by name, so this file does not import the namespace.
"""
from ..._machinery.registry import defbatch
from ...backends._scipy import convolve_window
from ._helpers import call, rank, shape

LINALG = "numpy.scipy.linalg."
SIGNAL = "numpy.scipy.signal."


def _flags(batched, n):
    return tuple(batched) + (False,) * (n - len(batched))


def _broadcast(size, x, is_batched):
    return x if is_batched else call("numpy.broadcast_to", x, (size,) + shape(x))


def _stacked(key, n):
    def rule(size, batched, *args, **kwargs):
        flags = _flags(batched, n)
        args = [_broadcast(size, a, f) if i < n else a
                for i, (a, f) in enumerate(zip(args, flags + (False,) * len(args)))]
        return call(key, *args, **kwargs)

    return rule


def _columns(solve, b, vector):
    """``solve(rhs)`` for every example of ``b`` (batched on axis 0) in one right-hand side."""
    moved = call("numpy.moveaxis", b, 0, -1 if vector else -2)  # (n, [k,] size) or (n, size, k)
    rows = shape(moved)[0]
    out = solve(call("numpy.reshape", moved, (rows, -1)))
    return call("numpy.moveaxis", call("numpy.reshape", out, shape(moved)), -1 if vector else -2,
                0)


def _solver(key, matrix_at):
    """The rule of a solve ``key(..., matrix, b, ...)``, the matrix (or its ``(c, lower)``
    tuple) at position ``matrix_at``, ``b`` next."""

    def rule(size, batched, *args, **kwargs):
        flags = _flags(batched, matrix_at + 2)
        fm, fb = flags[matrix_at], flags[matrix_at + 1]
        if isinstance(fm, tuple):  # cho_solve's (c, lower)
            fm = fm[0]
        args = list(args)
        b = args[matrix_at + 1]
        vector = rank(b, fb) == 1
        if not fm:
            def solve(rhs):
                return call(key, *args[:matrix_at + 1], rhs, *args[matrix_at + 2:], **kwargs)

            return _columns(solve, b, vector)
        if vector:
            b = b[..., None]
        args[matrix_at + 1] = _broadcast(size, b, fb)
        out = call(key, *args, **kwargs)
        return out[..., 0] if vector else out

    return rule


def _convolve(size, batched, in1, in2, mode="full", method="auto"):
    f1, f2 = _flags(batched, 2)[:2]
    if f1 and f2:  # one convolution per example (no convolution mixes them apart)
        return call("numpy.stack", [call(SIGNAL + "convolve", in1[i], in2[i], mode=mode,
                                         method=method) for i in range(size)])
    na = shape(in1)[1:] if f1 else shape(in1)
    nb = shape(in2)[1:] if f2 else shape(in2)
    if f1:
        in2 = call("numpy.reshape", in2, (1,) + shape(in2))
    else:
        in1 = call("numpy.reshape", in1, (1,) + shape(in1))
    out = call(SIGNAL + "convolve", in1, in2, mode="full", method=method)
    if mode == "full":
        return out
    starts, sizes = convolve_window(na, nb, mode)
    return out[(slice(None),) + tuple(slice(s, s + n) for s, n in zip(starts, sizes))]


defbatch(LINALG + "expm", _stacked(LINALG + "expm", 1))
defbatch(LINALG + "sqrtm", _stacked(LINALG + "sqrtm", 1))
defbatch(LINALG + "solve_sylvester", _stacked(LINALG + "solve_sylvester", 3))
defbatch(LINALG + "solve_triangular", _solver(LINALG + "solve_triangular", 0))
defbatch(LINALG + "cho_solve", _solver(LINALG + "cho_solve", 0))
defbatch(LINALG + "solve_banded", _solver(LINALG + "solve_banded", 1))
defbatch(SIGNAL + "convolve", _convolve)
