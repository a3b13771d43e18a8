"""Inner backends: where a multimethod's arithmetic actually runs.

An inner backend knows nothing of differentiation.  It maps a *key*, a
function's stable name (``"numpy.sin"``, ``"numpy.add.reduce"``,
``"numpy.linalg.inv"``), to a callable on its own array type, and is itself a
uarray backend of the ``numpy`` domain, so it can also be used on its own::

    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.numpy_backend, coerce=True):
    ...     float(np.sum(np.arange(4.0)))
    6.0
"""
from ._base import InnerBackend, inner_of, backend_for_value
from ._numpy import numpy_backend
from ._dask import dask_backend
from ._cupy import cupy_backend

__all__ = [
    "InnerBackend",
    "inner_of",
    "backend_for_value",
    "numpy_backend",
    "dask_backend",
    "cupy_backend",
]
