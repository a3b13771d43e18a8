"""SciPy's special functions as multimethods: import it in place of ``scipy.special``.

Each function has SciPy's name, signature and defaults, and is a uarray
multimethod of the domain ``numpy.scipy.special`` (a sub-domain of
``numpy``), so that, as with ``udiff.numpy``, under
:class:`udiff.DiffArrayBackend` calls are differentiated, under a plain inner
backend they run, and outside any backend they run on their arguments' own
library: ``scipy.special`` for NumPy arrays, ``cupyx.scipy.special`` for CuPy
arrays, and, for Dask arrays, SciPy's elementwise functions block by block and
udiff's own implementations of ``logsumexp``, ``softmax`` and
``log_softmax`` with Dask's reductions.

Orders and shape parameters that have no closed-form derivative (the ``n`` of
``jn``, ``yn`` and ``polygamma``, the ``v`` of ``iv``, ``a`` and ``b`` of
``betainc``, ``a`` of ``gammainc``, the ``x`` of ``zeta``) are constants:
differentiating with respect to them raises an error naming the function and
the argument.
``logsumexp``'s derivative is 0 where every term is ``-inf`` (the
log-semiring's zero: adding an empty term changes nothing), where JAX and
autograd give NaN.

Examples
--------
>>> import numpy, uarray as ua, udiff
>>> from udiff.scipy import special
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     x = udiff.numpy.asarray([0.0, 1.0, 2.0])
...     y = special.logsumexp(x)
...     print(y.to(x).value)   # the gradient of logsumexp is softmax
[0.09003057 0.24472847 0.66524096]
"""
import sys as _sys
import textwrap as _textwrap

import numpy as _numpy

from . import _special_docs as _docs
from .._machinery import registry as _registry
from ..numpy import _from_signatures as _np, _handwritten as _mm
from ..numpy._declare import generate as _generate

_DOMAIN = "numpy.scipy.special"

# SciPy's ufuncs: name -> their inputs, as SciPy's documentation names them.
_UFUNCS = {
    "beta": "a b", "betainc": "a b x", "betaln": "a b", "digamma": "z", "psi": "z",
    "erf": "z", "erfc": "x", "erfcinv": "y", "erfinv": "y", "erfcx": "x", "expit": "x",
    "logit": "x", "gamma": "z", "gammainc": "a x", "gammaincc": "a x", "gammaln": "x",
    "gammasgn": "x", "rgamma": "z", "i0": "x", "i1": "x", "iv": "v z", "ive": "v z",
    "j0": "x", "j1": "x", "jv": "v z", "jn": "n x", "y0": "x", "y1": "x", "yn": "n x",
    "xlogy": "x y", "xlog1py": "x y", "entr": "x", "log_ndtr": "x", "ndtr": "x", "ndtri": "y",
}


# -- udiff's implementations, for libraries whose own would not do (Dask) ---------------------
# They run under the inner backend with coercion, which would make Python numbers arrays
# of their default dtype: constants are made with full_like, in the array's dtype.
def _floating(*arrays):
    """The arrays in their common dtype, made floating (SciPy's promotion)."""
    dtype = _numpy.result_type(*(a.dtype for a in arrays))
    if dtype.kind not in "fc":
        dtype = _numpy.dtype(_numpy.float64)
    return [a if a.dtype == dtype else _mm.astype(a, dtype) for a in arrays]


def _axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else tuple(axis) if isinstance(axis, list) else axis


def _logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """SciPy's ``logsumexp`` written with udiff.numpy's reductions (for Dask)."""
    a = _np.asarray(a)
    if b is not None:
        a, b = _floating(*_np.broadcast_arrays(a, _np.asarray(b)))
        a = _np.atleast_1d(_np.where(b == 0, _mm.full_like(a, -_numpy.inf), a))  # dropped
        b = _np.atleast_1d(b)
    else:
        a = _np.atleast_1d(_floating(a)[0])
    axes = _axes(axis, a.ndim)
    if a.size == 0:  # the empty sum: log(0)
        reduced = {i % a.ndim for i in (axes if isinstance(axes, tuple) else (axes,))}
        out = _np.full(tuple(1 if i in reduced else n for i, n in enumerate(a.shape)),
                       -_numpy.inf, dtype=a.dtype)
        out = out if keepdims else _mm.squeeze(out, axis=axes)
        return (out, _np.sign(out)) if return_sign else out
    m = _np.max(_mm.real(a), axis=axes, keepdims=True)
    m = _np.where(_np.isfinite(m), m, _mm.zeros_like(m))
    e = _np.exp(a - m)
    s = _np.sum(e if b is None else b * e, axis=axes, keepdims=True)
    sgn = _np.sign(s)
    if a.dtype.kind == "c" and not return_sign:
        out = _np.log(s) + m
    else:
        out = _np.log(_np.absolute(s)) + m
    if not return_sign and a.dtype.kind != "c":
        out = _np.where(sgn < 0, _mm.full_like(out, _numpy.nan), out)  # log of a negative
    if not keepdims:
        out, sgn = _mm.squeeze(out, axis=axes), _mm.squeeze(sgn, axis=axes)
    return (out, sgn) if return_sign else out


def _shifted(x, axis):
    """``x`` minus its largest entries along ``axis`` (where they are finite)."""
    m = _np.max(x, axis=axis, keepdims=True)
    return x - _np.where(_np.isfinite(m), m, _mm.zeros_like(m))


def _softmax(x, axis=None):
    """SciPy's ``softmax`` written with udiff.numpy's reductions (for Dask)."""
    x = _np.asarray(x)
    e = _np.exp(x - _np.max(x, axis=axis, keepdims=True))
    return e / _np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis=None):
    """SciPy's ``log_softmax`` written with udiff.numpy's reductions (for Dask)."""
    t = _shifted(_np.asarray(x), axis)
    return t - _np.log(_np.sum(_np.exp(t), axis=axis, keepdims=True))


# name -> (array parameters, SciPy's signature, udiff's implementation or None)
_FUNCTIONS = {
    "logsumexp": ("a b", "(a, axis=None, b=None, keepdims=False, return_sign=False)", _logsumexp),
    "softmax": ("x", "(x, axis=None)", _softmax),
    "log_softmax": ("x", "(x, axis=None)", _log_softmax),
    "polygamma": ("n x", "(n, x)", None),
    "multigammaln": ("a", "(a, d)", None),
    "zeta": ("x q", "(x, q=None, out=None)", None),
}


_UFUNC_PARAMETERS = """\
out : ndarray, optional
    Where to write the result, as in SciPy (for calls that are not
    differentiated).
**kwargs
    SciPy's other ufunc keywords (``where``, ``casting``, ``dtype``...)."""

_RETURNS = {
    "logsumexp": """\
res : array
    The log of the sum, reduced over ``axis``.  Complex for a complex
    ``a`` (unless ``return_sign``).
sgn : array
    Only with ``return_sign``: the sign of the sum (+1, 0 or -1; for a
    complex ``a``, a complex number of modulus 1).  A constant.""",
    "softmax": """\
array
    The softmax of ``x``, shaped like it: non-negative, summing to 1 along
    ``axis``.""",
    "log_softmax": """\
array
    ``log(softmax(x))``, shaped like ``x``.""",
}


def _fill(text, indent=""):
    return _textwrap.fill(text, 76, initial_indent=indent, subsequent_indent=indent,
                          break_long_words=False, break_on_hyphens=False)


def _docstring(name, params, arrays, ufunc):
    """The numpydoc docstring of function ``name`` (from ``_special_docs``), whose
    parameters are ``params``, of which ``arrays`` are arrays."""
    summary, described, note, examples = _docs.DOCS[name]
    if list(described) != params:  # every parameter, in SciPy's order
        raise AssertionError(f"udiff.scipy.special.{name} documents {list(described)}, "
                             f"not its parameters {params}")
    wrt = [f"``{p}``" for p, text in described.items() if _docs.DIFF in text]
    what = (f"differentiable with respect to {' and '.join(wrt)}; its derivatives are "
            "differentiable again") if wrt else "whose derivative is zero"
    extended = f"SciPy's :func:`scipy.special.{name}`{' (a ufunc)' if ufunc else ''}, {what}."
    parameters = [f"{p} : {'array_like' if p in arrays else _KIND.get(p, 'int')}"
                  + (", optional" if p in _DEFAULTED else "") + "\n" + _fill(text, "    ")
                  for p, text in described.items()]
    returns = _RETURNS.get(name) or ("scalar or array\n    The values, elementwise (broadcast "
                                     "over the arguments): a DiffArray when an\n    argument "
                                     "is one, else an array of the arguments' library.")
    sections = [summary, extended + (" " + note if note else ""),
                "Parameters\n----------\n" + "\n".join(parameters)
                + ("\n" + _UFUNC_PARAMETERS if ufunc else ""),
                "Returns\n-------\n" + returns,
                "Examples\n--------\n" + examples.rstrip("\n")]
    return "\n\n".join(sections[:1] + [_fill(sections[1])] + sections[2:]) + "\n"


# How parameters that are not arrays are described (``int`` otherwise).
_KIND = {"axis": "int or tuple of int", "keepdims": "bool", "return_sign": "bool",
         "out": "ndarray"}
_DEFAULTED = {"axis", "b", "keepdims", "return_sign", "q", "out"}


def _declare():
    names = {}
    for name, inputs in _UFUNCS.items():
        params = ", ".join(inputs.split())
        names[name] = _generate(name, inputs, f"({params}, /, out=None, **kwargs)",
                                domain=_DOMAIN,
                                doc=_docstring(name, inputs.split(), inputs.split(), True))
    for name, (arrays, signature, default) in _FUNCTIONS.items():
        params = [p.split("=")[0] for p in signature.strip("()").split(", ")]
        names[name] = _generate(name, arrays, signature, default=default, domain=_DOMAIN,
                                doc=_docstring(name, params, arrays.split(), False))
    for func in names.values():
        func.__module__ = __name__
    return names


_NAMES = _declare()
globals().update(_NAMES)


def _scipy_ufunc_key(ufunc):
    """The key of SciPy's ufunc (``scipy.special.erf``), so that ``scipy.special.erf(x)`` on
    a DiffArray runs udiff's ``erf`` and its rules; an error naming a SciPy ufunc udiff
    lacks; None for a ufunc that is not SciPy's.

    SciPy is not imported here: a ufunc of SciPy's reaches udiff only once SciPy is.
    """
    special = _sys.modules.get("scipy.special")
    name = getattr(ufunc, "__name__", None)
    if special is None or name is None or getattr(special, name, None) is not ufunc:
        return None
    if name not in _UFUNCS:
        raise NotImplementedError(
            f"udiff has no scipy.special.{name}, so it cannot be applied to udiff's arrays "
            "(udiff.scipy.special.__all__ lists the special functions udiff differentiates); "
            "apply it to x.value for a constant, or give it a derivative with udiff.custom_vjp")
    return _NAMES[name].key


_registry.register_ufunc_resolver(_scipy_ufunc_key)
__all__ = sorted(_NAMES)
# The functions are not Python functions, which doctest does not look into: their
# docstrings' examples run (under --doctest-modules) from here.
__test__ = {name: func.__doc__ for name, func in _NAMES.items()}
