"""The CuPy inner backend (imports cupy on first use)."""

from ._base import InnerBackend, index_add, put_along_axis, register, scatter_add_along_axis
from ._special import cupy_special


def _cupy():
    try:
        import cupy
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(
            "udiff.cupy_backend needs CuPy, which could not be imported: " + str(exc)
        ) from exc
    return cupy


def _modules():
    cp = _cupy()
    return {"numpy": cp, "numpy.linalg": cp.linalg, "numpy.fft": cp.fft,
            "numpy.scipy.special": cupy_special()}


def _overrides():
    cp = _cupy()
    return {
        "msort": lambda a: cp.sort(a, axis=0),
        "in1d": lambda a, b, assume_unique=False, invert=False: cp.isin(
            cp.ravel(a), b, assume_unique=assume_unique, invert=invert
        ),
        "count_nonzero": lambda a, axis=None: cp.asarray(cp.count_nonzero(a, axis)),
        "scatter_add_along_axis": scatter_add_along_axis(cp),
        "index_add": index_add(cp),
        "put_along_axis": put_along_axis(cp),
    }


cupy_backend = register(
    InnerBackend("cupy", _modules, _overrides, lambda: (_cupy().ndarray,)),
    "unumpy.cupy_backend",
)
cupy_backend.__doc__ = """The inner backend that runs every multimethod with CuPy, on the GPU.

``udiff.scipy.special`` runs with ``cupyx.scipy.special``.  Give it to
:class:`udiff.DiffArrayBackend`, or as ``inner=`` to the functional API.
CuPy is imported on first use, and must be installed (with a GPU).

Examples
--------
>>> import udiff
>>> udiff.cupy_backend  # nothing is imported until it computes
udiff.cupy_backend

With CuPy and a GPU:

>>> import cupy, udiff.numpy as np  # doctest: +SKIP
>>> udiff.grad(lambda x: np.sum(x * x), inner=udiff.cupy_backend)(
...     cupy.arange(3.0))  # doctest: +SKIP
array([0., 2., 4.])
"""
# The docstring of the instance (not of its class): --doctest-modules runs its examples.
__test__ = {"cupy_backend": cupy_backend.__doc__}
