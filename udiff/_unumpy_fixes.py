"""Repairs to unumpy 0.6.1 objects that udiff relies on.

unumpy 0.6.1 declares a few functions wrongly.  udiff corrects them once, at
import, before anything else looks them up:

- ``heaviside``, ``gcd`` and ``lcm`` take two inputs, not one (its
  ``ufunc.__call__`` argument replacer silently dropped the second operand);
- ``isinf`` is declared with the name ``"greater_equal"`` and one input;
- ``sort`` declares ``axis=None`` as its default where NumPy's is ``-1``.
  uarray drops arguments equal to the declared default, so
  ``sort(x, axis=None)`` reached NumPy as ``sort(x)`` and sorted along the
  last axis instead of the flattened array;
- ``nanmin`` and ``nanmax`` did not accept ``keepdims``; nor did ``argmax``,
  ``argmin``, ``nanargmax``, ``nanargmin`` and ``count_nonzero`` (keyword-only
  in NumPy);
- ``std`` and ``var`` raised TypeError for ``ddof=`` (their argument replacer
  has no ``ddof`` parameter);
- ``atleast_1d/2d/3d`` passed ``atleast_1d(a, b)`` on as
  ``atleast_1d((a, b), b)`` and ``atleast_1d(a)`` as ``atleast_1d((a,))``
  (so a vector came back as a (1, n) matrix).

The replaced multimethods keep their names, so ``unumpy.sort`` (looked up
after importing udiff) is the repaired one.
"""
import unumpy
import unumpy._multimethods as _mm
from uarray import create_multimethod

_NIN = {"heaviside": 2, "gcd": 2, "lcm": 2}


def sort(a, axis=-1, kind=None, order=None):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def nanmin(a, axis=None, out=None, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray), _mm.mark_non_coercible(out))


def nanmax(a, axis=None, out=None, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray), _mm.mark_non_coercible(out))


def argmax(a, axis=None, out=None, *, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def argmin(a, axis=None, out=None, *, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def count_nonzero(a, axis=None, *, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray),)


def _statistic_replacer(args, kwargs, dispatchables):
    def replace(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
        kw = {"axis": axis, "out": dispatchables[1], "ddof": ddof, "keepdims": keepdims}
        if dtype is not None:
            kw["dtype"] = dtype
        return (dispatchables[0],), kw

    return replace(*args, **kwargs)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray), _mm.mark_non_coercible(out))


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (_mm.Dispatchable(a, unumpy.ndarray), _mm.mark_non_coercible(out))


def _varargs_replacer(args, kwargs, dispatchables):
    return tuple(dispatchables), kwargs


def atleast_1d(*arys):
    return tuple(_mm.Dispatchable(a, unumpy.ndarray) for a in arys)


def atleast_2d(*arys):
    return tuple(_mm.Dispatchable(a, unumpy.ndarray) for a in arys)


def atleast_3d(*arys):
    return tuple(_mm.Dispatchable(a, unumpy.ndarray) for a in arys)


_REPLACEMENTS = {
    "atleast_1d": (atleast_1d, _varargs_replacer),
    "atleast_2d": (atleast_2d, _varargs_replacer),
    "atleast_3d": (atleast_3d, _varargs_replacer),
    "std": (std, _statistic_replacer),
    "var": (var, _statistic_replacer),
    "sort": (sort, _mm._self_argreplacer),
    "nanmin": (nanmin, _mm._reduce_argreplacer),
    "nanmax": (nanmax, _mm._reduce_argreplacer),
    "argmax": (argmax, _mm._self_argreplacer),
    "argmin": (argmin, _mm._self_argreplacer),
    "nanargmax": (nanargmax, _mm._self_argreplacer),
    "nanargmin": (nanargmin, _mm._self_argreplacer),
    "count_nonzero": (count_nonzero, _mm._self_argreplacer),
}


def _repair():
    for name, nin in _NIN.items():
        getattr(unumpy, name).nin = nin
    unumpy.isinf.name = "isinf"
    for name, (extractor, replacer) in _REPLACEMENTS.items():
        old = getattr(unumpy, name)
        new = create_multimethod(replacer, domain="numpy", default=old.default)(extractor)
        setattr(unumpy, name, new)
        setattr(_mm, name, new)  # module-level defaults (msort) call it by global name


_repair()
