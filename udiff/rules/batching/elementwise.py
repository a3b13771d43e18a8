"""Batching rules of elementwise functions: ufuncs, ``where``, casts, ``*_like``.

Batched arguments get size-1 axes after the batch axis up to the highest rank
of one example; unbatched ones then broadcast against them from the right.
"""
import numpy as np

from ...numpy._from_signatures import UFUNCS
from ..._machinery.registry import defbatch
from ._helpers import aligned, call, materialized

# elementwise functions that are not ufuncs (extra arguments are options, not arrays)
OTHERS = ["where", "astype", "copy", "real", "imag", "angle", "sinc", "round", "isclose",
          "iscomplex", "isreal", "sort_complex"]
LIKE = ["zeros_like", "ones_like", "empty_like", "full_like"]


def elementwise(key):
    """The rule of an elementwise function ``key``."""

    def rule(size, batched, *args, **kwargs):
        return call(key, *aligned(batched, args), **kwargs)

    return rule


def _where(size, batched, *args, **kwargs):
    if len(args) < 3:  # where(condition) is nonzero: a different length per example
        return NotImplemented
    return call("numpy.where", *aligned(batched, args), **kwargs)


def _sort_complex(size, batched, a):
    if np.ndim(a) < 2:
        return NotImplemented
    return call("numpy.sort_complex", a)


def stacked(size, items, batched):
    """A list of arrays (some batched) as one batched array: ``array(items)`` per example."""
    items = [materialized(size, v, b) for v, b in zip(items, batched)]
    return call("numpy.stack", items, 1)


def conversion(key):
    """The rule of ``asarray`` and ``array`` on a batched array: the values, cast."""

    def rule(size, batched, a, dtype=None, *rest, **kwargs):
        if not batched[0] or rest or set(kwargs) - {"copy", "order"}:
            return NotImplemented
        if isinstance(batched[0], tuple):  # a list of arrays, some batched
            if any(isinstance(b, tuple) for b in batched[0]):
                return NotImplemented  # nested lists: left to the loop
            a = stacked(size, a, batched[0])
        if dtype is not None and np.dtype(dtype) != a.dtype:
            return call("numpy.astype", a, dtype)
        return call("numpy.copy", a) if key == "numpy.array" and kwargs.get("copy", True) else a

    return rule


def like(key):
    """The rule of ``zeros_like``-style functions: the batch axis is kept."""

    def rule(size, batched, a, *args, **kwargs):
        if any(batched[1:]):  # a batched fill value
            return NotImplemented
        shape = kwargs.get("shape")
        if shape is not None:
            kwargs["shape"] = (size,) + (tuple(shape) if np.ndim(shape) else (shape,))
        if len(args) >= (4 if key == "numpy.full_like" else 3):
            return NotImplemented  # shape given by position
        return call(key, a, *args, **kwargs)

    return rule


for _name in UFUNCS:
    if _name != "matmul":
        defbatch("numpy." + _name, elementwise("numpy." + _name))
for _name in OTHERS:
    defbatch("numpy." + _name, elementwise("numpy." + _name))
defbatch("numpy.where", _where)
defbatch("numpy.sort_complex", _sort_complex)
for _name in ("asarray", "array"):
    defbatch("numpy." + _name, conversion("numpy." + _name))
for _name in LIKE:
    defbatch("numpy." + _name, like("numpy." + _name))
