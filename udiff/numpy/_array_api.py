"""The array API's data types and their functions, in ``udiff.numpy``.

The dtype objects are NumPy's own (``udiff.numpy.float32 is numpy.float32``), so
``x.astype(np.float32)`` and ``np.asarray(v, dtype=np.int64)`` mean what they mean in
NumPy, on every inner library.  ``finfo``, ``iinfo``, ``result_type``, ``can_cast``,
``isdtype`` and ``promote_types`` only read dtypes: given udiff's arrays (a DiffArray, a
vmap's batched array) they read the arrays' dtypes, record nothing and have no
derivative.  ``__array_namespace_info__`` answers as NumPy's.
"""
import numpy as _np

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
