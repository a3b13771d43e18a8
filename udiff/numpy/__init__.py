"""The NumPy API as multimethods: import it in place of NumPy.

Every function is a uarray multimethod of the ``numpy`` domain with NumPy's
name, signature and defaults, in ``udiff.numpy`` and its submodules ``linalg`` and
``fft``.  Under
:class:`udiff.DiffArrayBackend` calls are differentiated; under a plain inner
backend (``ua.set_backend(udiff.dask_backend)``) they simply run; outside any
backend they run on their arguments' own library (NumPy, Dask, CuPy).

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
import numpy as _np

from . import (
    _array_api,
    _from_signatures as _api,
    _value_dependent as _array_composites,
    _composites,
    _handwritten as _mm,
    _polynomials,
    _quantiles,
)
from ._declare import ndarray, ufunc
from ._index_tricks import r_, c_
from . import linalg, fft  # noqa: F401

_NAMES = {**_api.NAMES, **_mm.MULTIMETHODS, **_composites.MULTIMETHODS, **_quantiles.MULTIMETHODS,
          **_array_composites.MULTIMETHODS, **_polynomials.MULTIMETHODS}
# Other names NumPy gives the same functions (NumPy 2 adds the array-API spellings).
_ALIASES = {
    "abs": "absolute", "conjugate": "conj", "acos": "arccos", "asin": "arcsin",
    "atan": "arctan", "acosh": "arccosh", "asinh": "arcsinh", "atanh": "arctanh",
    "atan2": "arctan2", "pow": "power", "degrees": "rad2deg", "radians": "deg2rad",
    "concat": "concatenate", "permute_dims": "transpose", "around": "round",
    "row_stack": "vstack", "bitwise_not": "invert", "bitwise_invert": "invert",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
}
_NAMES.update({alias: _NAMES[name] for alias, name in _ALIASES.items()})
globals().update(_NAMES)
# The array API's dtypes (NumPy's own) and functions that read dtypes (no derivative).
globals().update(_array_api.DTYPES)
globals().update(_array_api.FUNCTIONS)
# The array API's keywords (device=, sort's descending=, clip's min=/max=, pinv's rtol=...).
_NAMES.update(_array_api.install(globals(), linalg, fft))
dtype = _np.dtype
errstate = _np.errstate
pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
# The version of the array API standard the namespace follows (NumPy 2's).
__array_api_version__ = "2024.12"

__all__ = (sorted(_NAMES) + sorted(_array_api.DTYPES) + sorted(_array_api.FUNCTIONS)
           + ["ndarray", "ufunc", "dtype", "errstate", "pi", "e", "inf", "nan", "newaxis",
              "r_", "c_"])
