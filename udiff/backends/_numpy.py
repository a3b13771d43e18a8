"""The NumPy inner backend."""
import numpy as np

from ._base import InnerBackend, register, scatter_add_along_axis, index_add
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
