"""The array API's data types and their functions, in ``udiff.numpy``.

The dtype objects are NumPy's own (``udiff.numpy.float32 is numpy.float32``), so
``x.astype(np.float32)`` and ``np.asarray(v, dtype=np.int64)`` mean what they mean in
NumPy, on every inner library.  ``finfo``, ``iinfo``, ``result_type``, ``can_cast``,
``isdtype`` and ``promote_types`` only read dtypes: given udiff's arrays (a DiffArray, a
vmap's batched array) they read the arrays' dtypes, record nothing and have no
derivative.  ``__array_namespace_info__`` answers as NumPy's.

The functions that take the standard's keywords NumPy's signatures lack, or that the inner
libraries do not all take (``device=`` on the creation functions and ``astype``,
``sort``/``argsort``'s ``descending=``, ``clip``'s ``min=``/``max=`` arrays,
``std``/``var``'s ``correction=``, ``linalg.pinv``/``matrix_rank``'s ``rtol=``,
``fft.fftfreq``'s ``dtype=``) are
:class:`KeywordFunction` objects: they turn those keywords into NumPy's arguments and call the
namespace's own declaration, so rules, vmap and every inner library see NumPy's call.
"""
import inspect as _inspect

import numpy as _np

from .._machinery.batched_array import BatchedArray
from .._machinery.diff_array import DiffArray
from ._declare import Function

DTYPES = {
    "bool": getattr(_np, "bool", _np.bool_),
    "int8": _np.int8, "int16": _np.int16, "int32": _np.int32, "int64": _np.int64,
    "uint8": _np.uint8, "uint16": _np.uint16, "uint32": _np.uint32, "uint64": _np.uint64,
    "float32": _np.float32, "float64": _np.float64,
    "complex64": _np.complex64, "complex128": _np.complex128,
}


def _dtype_or_value(x):
    """``x``'s dtype where ``x`` is an array (udiff's included); a dtype, a type or a Python
    number as it is."""
    if isinstance(x, (_np.dtype, type)) or not hasattr(x, "dtype"):
        return x
    return _np.dtype(x.dtype)


def finfo(type, /):  # noqa: A002 - the array API's parameter name
    """Machine limits of a floating dtype (``numpy.finfo``), of a dtype or an array's.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> print(np.finfo(np.float32).eps == np.finfo(np.asarray([1.0], dtype=np.float32)).eps)
    True
    """
    return _np.finfo(_dtype_or_value(type))


def iinfo(type, /):  # noqa: A002
    """Machine limits of an integer dtype (``numpy.iinfo``), of a dtype or an array's.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> int(np.iinfo(np.uint8).max)
    255
    """
    return _np.iinfo(_dtype_or_value(type))


def result_type(*arrays_and_dtypes):
    """The dtype NumPy's promotion gives (``numpy.result_type``); arrays stand for their dtypes.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> np.result_type(np.int8, np.float32)
    dtype('float32')
    """
    return _np.result_type(*map(_dtype_or_value, arrays_and_dtypes))


def can_cast(from_, to, /, casting="safe"):
    """Whether a cast is allowed (``numpy.can_cast``); ``from_`` may be an array.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> np.can_cast(np.int8, np.float32), np.can_cast(np.float64, np.int8)
    (True, False)
    """
    return _np.can_cast(_dtype_or_value(from_), to, casting=casting)


def promote_types(type1, type2, /):
    """The smallest dtype both cast to safely (``numpy.promote_types``).

    Examples
    --------
    >>> import udiff.numpy as np
    >>> np.promote_types(np.uint8, np.int8)
    dtype('int16')
    """
    return _np.promote_types(_dtype_or_value(type1), _dtype_or_value(type2))


def isdtype(dtype, kind):
    """Whether ``dtype`` is of ``kind`` (``numpy.isdtype``): a dtype, a kind name such as
    ``"real floating"``, or a tuple of them.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> np.isdtype(np.float32, "real floating"), np.isdtype(np.int8, ("bool", "unsigned integer"))
    (True, False)
    """
    return _np.isdtype(_dtype_or_value(dtype), kind)


def __array_namespace_info__():
    """The array API's inspection object, as NumPy's: capabilities, devices ("cpu"), the
    dtypes of each kind and the default dtypes.

    udiff computes on any inner library, whose devices it reports through the arrays'
    ``device``; the namespace answers for NumPy, the default inner backend.

    Examples
    --------
    >>> import udiff.numpy as np
    >>> info = np.__array_namespace_info__()
    >>> info.default_device(), info.default_dtypes()["real floating"]
    ('cpu', dtype('float64'))
    """
    return _np.__array_namespace_info__()


FUNCTIONS = {
    "finfo": finfo, "iinfo": iinfo, "result_type": result_type, "can_cast": can_cast,
    "promote_types": promote_types, "isdtype": isdtype,
    "__array_namespace_info__": __array_namespace_info__,
}
for _f in FUNCTIONS.values():
    _f.__module__ = "udiff.numpy"


# -- the standard's keywords ----------------------------------------------------------------
# NumPy's functions take most of the array API's keywords (NumPy 2's ``device=``, ``copy=``,
# ``stable=``); the inner libraries (Dask, CuPy) do not all take them, and a few of the
# standard's keywords NumPy lacks (``sort(descending=)``, ``fftfreq(dtype=)``).  The
# namespace's functions below take them and call udiff's own function with NumPy's
# arguments, which every inner library and udiff's rules understand.
_NO_VALUE = _np._NoValue


def check_device(name, device, *arrays):
    """Raise unless ``device`` is None, ``"cpu"`` or the device of one of ``arrays``.

    udiff's arrays live where their inner library keeps them (``"cpu"`` for NumPy and
    Dask); it never moves them between devices.
    """
    if device is None or device == "cpu":
        return
    for a in arrays:
        have = getattr(a, "device", None) if hasattr(a, "shape") else None
        if have is not None and have == device:
            return
    raise ValueError(
        f"udiff.numpy.{name}: device {device!r} is not available: udiff makes arrays on "
        "'cpu' (NumPy, Dask) or on its arguments' device, and does not move arrays "
        "between devices; use device='cpu' or the inner backend of that device")


class KeywordFunction(Function):
    """A function of the namespace that takes the array API's keywords.

    It runs ``adapt(function, *args, **kwargs)``, which turns the standard's keywords
    into NumPy's arguments and calls ``function``, the namespace's own declaration
    (whose key, rules and inner implementations it shares).
    """

    def __init__(self, function, adapt, signature, note):  # noqa: D107 - no Function.__init__
        vars(self).update(vars(function))
        self.function = function
        self.adapt = adapt
        self._signature = signature
        self.__doc__ = f"{(function.__doc__ or '').rstrip()}\n\n{note}\n"

    @property
    def __signature__(self):
        return self._signature

    def __call__(self, *args, **kwargs):
        return self.adapt(self.function, *args, **kwargs)


def _signature(function, *extra):
    """``function``'s signature with the keyword-only parameters ``extra`` (name, default)
    added where it lacks them."""
    params = list(_inspect.signature(function).parameters.values())
    have = {p.name for p in params}
    var_kw = [p for p in params if p.kind is p.VAR_KEYWORD]
    params = [p for p in params if p.kind is not p.VAR_KEYWORD]
    params += [_inspect.Parameter(n, _inspect.Parameter.KEYWORD_ONLY, default=d)
               for n, d in extra if n not in have]
    return _inspect.Signature(params + var_kw)


def _with_device(name):
    def adapt(function, *args, device=None, **kwargs):
        check_device(name, device, *args, *kwargs.values())
        return function(*args, **kwargs)
    return adapt


def _asarray(function, *args, device=None, **kwargs):
    check_device("asarray", device, *args, *kwargs.values())
    # copy=False never copies: one of udiff's arrays, whose dtype stays, is the result
    # itself (as NumPy's asarray(x, copy=False) is x), so writes to either show in both.
    if kwargs.get("copy") is False and args and type(args[0]) in (DiffArray, BatchedArray):
        dtype = args[1] if len(args) > 1 else kwargs.get("dtype")
        if (len(args) <= 2 and set(kwargs) <= {"copy", "dtype"}
                and (dtype is None or _np.dtype(dtype) == _np.dtype(args[0].dtype))):
            return args[0]
    return function(*args, **kwargs)


def _astype(function, x, dtype, /, *, copy=True, device=None):
    check_device("astype", device, x)
    return function(x, dtype, copy=copy)


def _sorter(name, ns):
    def adapt(function, a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
        if kind is not None and stable is not None:
            raise ValueError("`kind` and `stable` parameters can't be provided at the same "
                             "time. Use only one of them.")
        if stable:
            kind = "stable"
        if not descending:
            return function(a, axis, kind, order)
        # Stable descending (the standard's): equal entries keep their order.  A stable
        # ascending sort of the reversed array, reversed, is that order.
        if axis is None:
            a, axis = ns["ravel"](a), 0
        out = function(ns["flip"](a, axis), axis, kind or "stable", order)
        if name == "argsort":  # positions in the reversed array, read back
            out = (ns["shape"](a)[axis] - 1) - out
        return ns["flip"](out, axis)
    return adapt


def _clip(function, a, a_min=None, a_max=None, out=None, *, min=None, max=None,  # noqa: A002
          **kwargs):
    if (min is not None and a_min is not None) or (max is not None and a_max is not None):
        raise ValueError("Passing `min` or `max` keyword argument when `a_min` and `a_max` "
                         "are provided is forbidden.")
    a_min = min if min is not None else a_min
    a_max = max if max is not None else a_max
    # Bounds go by position: udiff differentiates arrays passed positionally.
    return function(a, a_min, a_max, out, **kwargs)


def _pinv(function, a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    if rtol is not _NO_VALUE:
        if rcond is not None:
            raise ValueError("`rtol` and `rcond` can't be both set.")
        # The standard's default: max(M, N) * eps of a's dtype.
        shape = _np.shape(a) if not hasattr(a, "shape") else a.shape
        rcond = (max(shape[-2:]) * _np.finfo(_dtype_or_value(a)).eps if rtol is None
                 else rtol)
    return function(a, rcond, hermitian)


def _matrix_rank(ns):
    def adapt(function, A, tol=None, hermitian=False, *, rtol=None):
        if rtol is None or isinstance(rtol, (int, float, _np.generic)) or (
                type(rtol) is _np.ndarray and rtol.ndim == 0):
            return function(A, tol, hermitian, **({} if rtol is None else {"rtol": rtol}))
        if tol is not None:
            raise ValueError("`tol` and `rtol` can't be both set.")
        if len(A.shape) < 2:
            return function(A)
        # An array rtol, one per matrix (NumPy's definition, in udiff's functions).
        s = ns["linalg"].svdvals(A) if not hermitian else ns["abs"](
            ns["linalg"].eigvalsh(A))
        cutoff = ns["max"](s, axis=-1, keepdims=True) * ns["expand_dims"](rtol, -1)
        return ns["count_nonzero"](s > cutoff, axis=-1)
    return adapt


def _spread(function, *args, correction=_NO_VALUE, **kwargs):
    # The array API's correction is NumPy's ddof: udiff's rules and Dask read ddof.
    if correction is not _NO_VALUE:
        if kwargs.get("ddof", 0) != 0 or len(args) > 4 and args[4] != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        if len(args) > 4:
            args = args[:4] + (correction,) + args[5:]
        else:
            kwargs["ddof"] = correction
    return function(*args, **kwargs)


def _frequencies(name):
    def adapt(function, n, d=1.0, device=None, *, dtype=None):
        check_device(name, device)
        out = function(n, d)
        return out if dtype is None else out.astype(dtype)
    return adapt


_CREATION = ("zeros", "ones", "empty", "full", "arange", "linspace", "eye", "zeros_like",
             "ones_like", "empty_like", "full_like", "asarray", "from_dlpack")


_DEVICE = ("The array API's ``device=``: ``\"cpu\"`` (or the device of an array argument); "
           "another device raises ``ValueError``.")


def install(ns, linalg, fft):
    """Replace the namespace's functions that take the standard's keywords by
    :class:`KeywordFunction` objects, in ``ns`` (``udiff.numpy``'s globals), ``linalg`` and
    ``fft``; return the new functions of ``ns``."""
    made = {}
    for name in _CREATION:
        made[name] = KeywordFunction(ns[name], _asarray if name == "asarray" else
                                     _with_device(name),
                                     _signature(ns[name], ("device", None)), _DEVICE)
    made["astype"] = KeywordFunction(ns["astype"], _astype, _inspect.signature(
        lambda x, dtype, /, *, copy=True, device=None: None), _DEVICE)
    for name in ("sort", "argsort"):
        made[name] = KeywordFunction(ns[name], _sorter(name, ns), _signature(
            ns[name], ("stable", None), ("descending", False)),
            "``stable=True`` sorts stably (``kind=\"stable\"``); ``descending=True`` "
            "(the array API's) sorts in descending order, stably: equal entries keep "
            "their order.")
    made["clip"] = KeywordFunction(ns["clip"], _clip, _signature(
        ns["clip"], ("min", None), ("max", None)),
        "The bounds may be given as ``min=`` and ``max=`` (NumPy 2's and the array "
        "API's names), arrays included: differentiable in ``a`` and both bounds.")
    for name in ("std", "var"):
        made[name] = KeywordFunction(
            ns[name], _spread, _inspect.signature(ns[name]),
            "The array API's ``correction=`` is NumPy's ``ddof`` (and differentiated as it).")
    ns.update(made)
    linalg.pinv = KeywordFunction(
        linalg.pinv, _pinv, _inspect.signature(_np.linalg.pinv),
        "``rtol`` (NumPy 2's and the array API's) is the cutoff relative to the largest "
        "singular value, a number or one per matrix; ``rtol=None`` is ``max(M, N) * eps``.")
    linalg.matrix_rank = KeywordFunction(
        linalg.matrix_rank, _matrix_rank(ns), _inspect.signature(_np.linalg.matrix_rank),
        "``rtol`` (NumPy 2's and the array API's) is the cutoff relative to the largest "
        "singular value: a number, or an array of one per matrix.")
    for name in ("fftfreq", "rfftfreq"):
        setattr(fft, name, KeywordFunction(
            getattr(fft, name), _frequencies(name),
            _signature(getattr(_np.fft, name), ("dtype", None)),
            "The array API's ``dtype=`` (the result's, a real floating dtype) and "
            "``device=`` (``\"cpu\"``)."))
    return made
