"""Shared fixtures: every test runs on the NumPy and the Dask inner backend.

Dask inputs are split into several chunks on every axis of length > 1, so a
backend or rule that is only right on one chunk fails here.
"""
import numpy as np
import pytest

import udiff

INNERS = {"numpy": udiff.numpy_backend, "dask": udiff.dask_backend}


def chunked(a, inner):
    """``a`` as an array of ``inner``: for Dask, 2 or more chunks on every axis > 1."""
    a = np.asarray(a)
    if inner is udiff.dask_backend:
        import dask.array as da

        return da.from_array(a, chunks=tuple(max(1, (n + 1) // 2) if n > 1 else 1 for n in a.shape))
    return a


def compute(a):
    """A NumPy array from an inner array or DiffArray."""
    a = getattr(a, "value", a)
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
