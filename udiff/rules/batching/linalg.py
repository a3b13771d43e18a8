"""Batching rules of ``numpy.linalg``: its functions take stacks of matrices, so the
batch axis is one more stacking axis."""
import numpy as np

from ..._machinery.registry import defbatch
from ._helpers import aligned, axes, call, ndim, rank, shape

STACKED = ["inv", "det", "slogdet", "eigh", "eigvalsh", "cholesky", "qr", "svd",
           "_svd_reduced", "_adjugate", "pinv", "matrix_power", "matrix_rank", "eig", "eigvals"]


def stacked(key):
    """The rule of a function of one stack of matrices (its other arguments options)."""

    def rule(size, batched, a, *args, **kwargs):
        if not batched[0] or any(batched[1:]) or ndim(a) < 3:
            return NotImplemented
        return call(key, a, *args, **kwargs)

    return rule


def _solve(size, batched, a, b):
    if rank(a, batched[0]) != 2:
        return NotImplemented  # stacks of systems in one example: left to the loop
    vector = rank(b, batched[1]) == 1
    if vector and batched[1]:
        b = call("numpy.expand_dims", b, -1)
    a, b = aligned(batched, (a, b))
    out = call("numpy.linalg.solve", a, b)
    return call("numpy.squeeze", out, -1) if vector and batched[1] else out


def _norm(size, batched, x, ord=None, axis=None, keepdims=False):
    nd = ndim(x) - 1
    if axis is not None:
        return call("numpy.linalg.norm", x, ord, axes(axis, nd), keepdims)
    if nd in (1, 2):
        return call("numpy.linalg.norm", x, ord, (-1,) if nd == 1 else (-2, -1), keepdims)
    if ord is not None or nd == 0:
        return NotImplemented
    flat = call("numpy.reshape", x, (size, int(np.prod(shape(x)[1:], dtype=np.int64))))
    out = call("numpy.linalg.norm", flat, None, -1)
    return call("numpy.reshape", out, (size,) + (1,) * nd) if keepdims else out


for _name in STACKED:
    defbatch("numpy.linalg." + _name, stacked("numpy.linalg." + _name))
defbatch("numpy.linalg.solve", _solve)
defbatch("numpy.linalg.norm", _norm)
