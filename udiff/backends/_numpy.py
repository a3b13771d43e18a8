"""The NumPy inner backend."""
import numpy as np

from ._base import InnerBackend, index_add, put_along_axis, register, scatter_add_along_axis
from ._special import numpy_special


def _in1d(ar1, ar2, assume_unique=False, invert=False):
    return np.isin(np.ravel(ar1), ar2, assume_unique=assume_unique, invert=invert)


def _overrides():
    return {
        # Removed from NumPy 2 but still in udiff.numpy (as in unumpy).
        "msort": lambda a: np.sort(a, axis=0),
        "in1d": _in1d,
        "count_nonzero": lambda a, axis=None, *, keepdims=False: np.asarray(
            np.count_nonzero(a, axis, keepdims=keepdims)),
        "scatter_add_along_axis": scatter_add_along_axis(np),
        "index_add": index_add(np),
        "put_along_axis": put_along_axis(np),
    }


numpy_backend = register(
    InnerBackend(
        "numpy",
        lambda: {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft,
                 "numpy.scipy.special": numpy_special()},
        _overrides,
        lambda: (np.ndarray,),
    ),
    "unumpy.numpy_backend",
)
numpy_backend.__doc__ = """The inner backend that runs every multimethod with NumPy.

``udiff.scipy`` runs with SciPy.  Give it to :class:`udiff.DiffArrayBackend`,
or as ``inner=`` to the functional API (it is their default), or set it alone
with ``ua.set_backend(udiff.numpy_backend, coerce=True)`` to run
``udiff.numpy`` code on NumPy without differentiating it.  Its arrays are
``numpy.ndarray``.

Examples
--------
>>> import numpy, uarray as ua, udiff, udiff.numpy as np
>>> udiff.grad(lambda x: np.sum(x * x), inner=udiff.numpy_backend)(numpy.arange(3.0))
array([0., 2., 4.])
>>> with ua.set_backend(udiff.numpy_backend, coerce=True):  # NumPy, nothing recorded
...     y = np.sum(np.arange(4.0))
>>> type(y).__name__, float(y)
('float64', 6.0)
"""
# The docstring of the instance (not of its class): --doctest-modules runs its examples.
__test__ = {"numpy_backend": numpy_backend.__doc__}
