"""Batching rules of ``udiff.scipy.special``: elementwise functions, and
``logsumexp``, ``softmax`` and ``log_softmax``, whose axes shift past the batch axis.

Rules are keyed by name, so this file does not import the namespace.
"""
import numpy as np

from ..._machinery.registry import defbatch
from ._helpers import aligned, axes, call, rank
from .elementwise import elementwise

DOMAIN = "numpy.scipy.special."
ELEMENTWISE = [
    "beta", "betainc", "betaln", "digamma", "psi", "erf", "erfc", "erfcinv", "erfinv",
    "erfcx", "expit", "logit", "gamma", "gammainc", "gammaincc", "gammaln", "gammasgn",
    "rgamma", "i0", "i1", "iv", "ive", "j0", "j1", "jv", "jn", "y0", "y1", "yn", "xlogy",
    "xlog1py", "entr", "log_ndtr", "ndtr", "ndtri", "polygamma", "multigammaln",
    "zeta",
]


def _logsumexp(size, batched, a, axis=None, b=None, keepdims=False, return_sign=False):
    flags = batched + (False,) * (3 - len(batched))
    nd = max(rank(a, flags[0]), rank(b, flags[2]) if b is not None else 0)
    a, b = aligned((flags[0], flags[2]), (a, b)) if b is not None else (a, None)
    if not flags[0]:  # only b is batched: a broadcast along the batch
        a = call("numpy.broadcast_to", a,
                 (size,) + np.broadcast_shapes(tuple(a.shape), tuple(b.shape[1:])))
    if nd == 0 and axis is not None:
        # SciPy reduces a 0-d array along axis 0 (or -1) as if it had one axis of one
        # element: so do its examples
        a = call("numpy.expand_dims", a, 1)
        b = None if b is None else call("numpy.expand_dims",
                                        b if flags[2] else call("numpy.asarray", b), -1)
        nd = 1
    axis = tuple(range(1, nd + 1)) if axis is None else axes(axis, nd)
    return call(DOMAIN + "logsumexp", a, axis, b, keepdims, return_sign)


def along(key):
    """The rule of ``key(x, axis=None)``: ``None`` means every axis of one example."""

    def rule(size, batched, x, axis=None):
        nd = rank(x, True)
        return call(key, x, tuple(range(1, nd + 1)) if axis is None else axes(axis, nd))

    return rule


for _name in ELEMENTWISE:
    defbatch(DOMAIN + _name, elementwise(DOMAIN + _name))
defbatch(DOMAIN + "logsumexp", _logsumexp)
for _name in ("softmax", "log_softmax"):
    defbatch(DOMAIN + _name, along(DOMAIN + _name))
