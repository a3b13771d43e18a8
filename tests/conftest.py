"""Shared fixtures: every test runs on the NumPy and the Dask inner backend,
and on CuPy too where CuPy can be imported (a machine with a GPU).

Dask inputs are split into several chunks on every axis of length > 1, so a
backend or rule that is only right on one chunk fails here.
"""
import importlib.util

import numpy as np
import pytest

import udiff
from udiff._machinery import registry as _registry

# udiff's own rule tables, as importing udiff made them.  Tests that walk the tables
# (every rule has a case, every VJP a JVP...) walk these copies: the rules that
# tests and docstring examples register for their own functions are not udiff's.
OWN_VJP = dict(_registry._VJP)
OWN_JVP = dict(_registry._JVP)
OWN_NONDIFF = frozenset(_registry._NONDIFF)
OWN_COMPOSITE = frozenset(_registry._COMPOSITE)
OWN_BATCH = dict(_registry._BATCH)
OWN_FUNCTIONS = dict(_registry._FUNCTIONS)

INNERS = {"numpy": udiff.numpy_backend, "dask": udiff.dask_backend}
if importlib.util.find_spec("cupy") is not None:  # pragma: no cover - needs a GPU
    INNERS["cupy"] = udiff.cupy_backend


def chunked(a, inner):
    """``a`` as an array of ``inner``: for Dask, 2 or more chunks on every axis > 1."""
    a = np.asarray(a)
    if inner is udiff.dask_backend:
        import dask.array as da

        return da.from_array(a, chunks=tuple(max(1, (n + 1) // 2) if n > 1 else 1 for n in a.shape))
    if inner is udiff.cupy_backend:  # pragma: no cover - needs a GPU
        import cupy

        return cupy.asarray(a)
    return a


def compute(a):
    """A NumPy array from an inner array or DiffArray."""
    a = getattr(a, "value", a)
    if hasattr(a, "__cuda_array_interface__"):  # pragma: no cover - needs a GPU
        return a.get()
    return np.asarray(a.compute() if hasattr(a, "compute") else a)


def rule_keys(fun, arrays):
    """The rule keys ``fun`` records, found by walking its graph on NumPy.

    The floating arrays become variables; the others (indices, masks) stay
    constants.
    """
    import uarray as ua

    backend = udiff.DiffArrayBackend(udiff.numpy_backend)
    args = [udiff.DiffArray(a, backend) if a.dtype.kind == "f" else a for a in arrays]
    with ua.set_backend(backend, coerce=True):
        y = fun(*args)
    keys, stack, seen = set(), [y], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._fn is not None:
            keys.add(node._fn)
        stack.extend(p for _, _, p in node._parents)
    return keys


@pytest.fixture(params=list(INNERS), ids=list(INNERS))
def inner(request):
    return INNERS[request.param]
