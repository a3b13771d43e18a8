"""Batching rules of reductions and scans: the reduced axes shift past the batch axis.

``axis=None`` means every axis of one example; functions that flatten for
``axis=None`` (``argmax``, ``cumsum``) flatten each example.
"""
import numpy as np

from ...numpy._from_signatures import UFUNCS
from ..._machinery.registry import defbatch
from ._helpers import axes, call, ndim, shape

REDUCTIONS = ["sum", "prod", "min", "max", "any", "all", "nanmin", "nanmax", "nansum",
              "nanprod", "std", "var", "count_nonzero", "mean"]
FLATTENING = ["argmin", "argmax", "nanargmin", "nanargmax", "cumsum"]


def _flat(size, a):
    """Each example of ``a`` flattened: shape ``(size, n)``."""
    return call("numpy.reshape", a, (size, int(np.prod(shape(a)[1:], dtype=np.int64))))


def reduction(key, default=None, flattens=False):
    """The rule of a reduction ``key(a, axis=default, ...)``."""

    def rule(size, batched, a, axis=default, *rest, **kwargs):
        if not batched[0]:  # only an option (where=, initial=) is batched
            return NotImplemented
        nd = ndim(a) - 1
        if axis is not None or not flattens:
            axis = axes(axis, nd) if axis is not None else tuple(range(1, nd + 1))
            if rest:
                return call(key, a, axis, *rest, **kwargs)
            return call(key, a, axis=axis, **kwargs)
        keepdims = kwargs.pop("keepdims", False)
        out = call(key, _flat(size, a), 1, *rest, **kwargs)
        return call("numpy.reshape", out, (size,) + (1,) * nd) if keepdims else out

    return rule


def _ufunc_accumulate(key):
    def rule(size, batched, a, axis=0, *rest, **kwargs):
        if not batched[0]:
            return NotImplemented
        if rest:
            return NotImplemented
        return call(key, a, axis=axes(axis, ndim(a) - 1), **kwargs)

    return rule


for _name in REDUCTIONS:
    defbatch("numpy." + _name, reduction("numpy." + _name))
for _name in FLATTENING:
    defbatch("numpy." + _name, reduction("numpy." + _name, flattens=True))
for _name in UFUNCS:
    defbatch(f"numpy.{_name}.reduce", reduction(f"numpy.{_name}.reduce", default=0))
    defbatch(f"numpy.{_name}.accumulate", _ufunc_accumulate(f"numpy.{_name}.accumulate"))
