"""The NumPy API as multimethods: import it in place of NumPy.

Every unumpy 0.6.1 multimethod and ufunc, plus udiff's own multimethods for
functions unumpy lacks (``mean``, ``dot``, ``einsum``, ``squeeze``, ...).
Under :class:`udiff.DiffArrayBackend` calls are differentiated; under a
plain inner backend (``ua.set_backend(udiff.dask_backend)``) they simply run.

Examples
--------
>>> import uarray as ua, udiff
>>> import udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     w = np.asarray([[1.0, 2.0], [3.0, 4.0]])
...     loss = np.mean(np.dot(w, w))
...     print(loss.to(w).value)
[[1.75 2.75]
 [2.25 3.25]]
"""
import unumpy as _unumpy

from .. import _composites, _multimethods as _mm
from . import linalg, fft  # noqa: F401


def _public(module):
    return {
        name: obj
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (isinstance(obj, _unumpy.ufunc) or hasattr(obj, "arg_extractor"))
    }


_NAMES = {**_public(_unumpy), **_mm.MULTIMETHODS, **_composites.MULTIMETHODS}
# Other names NumPy gives the same functions (NumPy 2 adds the array-API spellings).
_ALIASES = {
    "abs": "absolute", "conjugate": "conj", "acos": "arccos", "asin": "arcsin",
    "atan": "arctan", "acosh": "arccosh", "asinh": "arcsinh", "atanh": "arctanh",
    "atan2": "arctan2", "pow": "power", "degrees": "rad2deg", "radians": "deg2rad",
    "concat": "concatenate", "permute_dims": "transpose", "around": "round",
    "row_stack": "vstack", "bitwise_not": "invert",
}
_NAMES.update({alias: _NAMES[name] for alias, name in _ALIASES.items()})
globals().update(_NAMES)
ndarray = _unumpy.ndarray
ufunc = _unumpy.ufunc
dtype = _unumpy.dtype
errstate = _unumpy.errstate
pi = 3.141592653589793
e = 2.718281828459045
inf = float("inf")
nan = float("nan")
newaxis = None

__all__ = sorted(_NAMES) + ["ndarray", "ufunc", "dtype", "errstate", "pi", "e", "inf", "nan", "newaxis"]
