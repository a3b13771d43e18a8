"""Where each inner library finds SciPy's special functions (imported on first use).

``udiff.scipy.special``'s functions are multimethods of the domain
``numpy.scipy.special``; each inner backend maps that domain to a
:class:`LazyModule`, so that SciPy (or CuPy's ``cupyx``) is imported only when
a special function is first run:

* NumPy runs ``scipy.special``;
* CuPy runs ``cupyx.scipy.special`` where it has the function (elsewhere
  udiff's own implementation, if there is one, or an error naming the
  function);
* Dask runs SciPy's ufuncs on Dask arrays (Dask implements NumPy's ufunc
  protocol: lazily, block by block), and ``polygamma``, ``multigammaln`` and
  ``zeta`` (elementwise, but not ufuncs) block by block.  The functions that reduce
  along axes (``logsumexp``, ``softmax``, ``log_softmax``) have no entry, so
  they run udiff's own implementation, written with Dask's reductions.
"""
import importlib

import numpy as np


class LazyModule:
    """The attributes of module ``name``, imported on first access.

    Parameters
    ----------
    name : str
        The module, such as ``"scipy.special"``.
    pick : callable, optional
        ``pick(attr, value)`` returns what the backend runs for ``attr``, or
        raises AttributeError where it must not run the module's own.
    """

    def __init__(self, name, pick=None):
        self._name = name
        self._pick = pick

    def __repr__(self):
        return f"<lazy module {self._name}>"

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = getattr(importlib.import_module(self._name), attr)
        return value if self._pick is None else self._pick(attr, value)


def _polygamma(n, x):
    from dask.array.core import elemwise
    from scipy.special import polygamma

    return elemwise(polygamma, n, x)


def _multigammaln(a, d):
    import dask.array as da
    from scipy.special import multigammaln

    a = da.asarray(a)
    # SciPy's dtype (and its check of d, now) from a point inside the domain a > (d - 1) / 2
    dtype = np.result_type(multigammaln(np.full((), d + 1.0, dtype=a.dtype), d))
    # elementwise in a: a value outside the domain raises SciPy's error when computed
    return a.map_blocks(multigammaln, d, dtype=dtype)


def _zeta(x, q=None, out=None):
    from dask.array.core import elemwise
    from scipy.special import zeta

    if out is not None:
        raise TypeError("zeta: out= is not supported on Dask arrays")
    return elemwise(zeta, x) if q is None else elemwise(zeta, x, q)


_DASK_BLOCKWISE = {"polygamma": _polygamma, "multigammaln": _multigammaln, "zeta": _zeta}


def _dask_pick(attr, value):
    if isinstance(value, np.ufunc):
        return value
    if attr in _DASK_BLOCKWISE:
        return _DASK_BLOCKWISE[attr]
    raise AttributeError(f"SciPy's {attr} does not run lazily on Dask arrays")


def numpy_special():
    """``scipy.special``, for the NumPy backend."""
    return LazyModule("scipy.special")


def dask_special():
    """SciPy's elementwise special functions, lazily blockwise on Dask arrays."""
    return LazyModule("scipy.special", _dask_pick)


def cupy_special():
    """``cupyx.scipy.special``, for the CuPy backend."""
    return LazyModule("cupyx.scipy.special")
