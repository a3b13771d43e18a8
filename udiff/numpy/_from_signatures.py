"""NumPy's core functions and ufuncs, declared from NumPy's own signatures.

The table names each function's array parameters (see
:func:`udiff.numpy._declare.generate`); the signature, with its defaults, is the
installed NumPy's (or, for functions NumPy 2 removed, the one given here).
udiff's other functions are in ``_handwritten.py``, ``_composites.py``,
``numpy/linalg.py`` and ``numpy/fft.py``.
"""
from collections import namedtuple

import numpy as _np

from ._declare import generate, ufunc

# name: array parameters, or (array parameters, signature) where NumPy has none.
FUNCTIONS = {
    # creation
    "full": "", "arange": "", "array": "", "zeros": "", "ones": "", "eye": "", "asarray": "",
    # reductions
    "sum": "a", "prod": "a", "min": "a", "max": "a", "any": "a", "all": "a",
    "argmin": "a", "nanargmin": "a", "argmax": "a", "nanargmax": "a", "nanmin": "a",
    "nanmax": "a", "nansum": "a", "nanprod": "a", "std": "a", "var": "a",
    "count_nonzero": "a",
    # sets
    "unique": "ar",
    "in1d": ("ar1 ar2", "(ar1, ar2, assume_unique=False, invert=False)"),
    "isin": "element test_elements", "intersect1d": "ar1 ar2", "setdiff1d": "ar1 ar2",
    "setxor1d": "ar1 ar2", "union1d": "ar1 ar2",
    # the array API's set functions (their signatures given: NumPy 2's)
    "unique_all": ("x", "(x)"), "unique_counts": ("x", "(x)"),
    "unique_inverse": ("x", "(x)"), "unique_values": ("x", "(x)"),
    # the array API's interchange (a constant: the DLPack capsule carries no graph)
    "from_dlpack": ("x", "(x, /, *, device=None, copy=None)"),
    # sorting and searching
    "sort": "a", "lexsort": "keys", "argsort": "a", "msort": ("a", "(a)"),
    "sort_complex": "a", "partition": "a", "argpartition": "a", "nonzero": "a",
    "argwhere": "a", "flatnonzero": "a", "where": "condition x y", "searchsorted": "a v",
    "compress": "condition a", "extract": "condition arr",
    # shapes
    "broadcast_arrays": "*args", "broadcast_to": "array", "concatenate": "[arrays]",
    "stack": "[arrays]", "transpose": "a", "ravel": "a", "pad": "array",
    "shape": "a", "ndim": "a", "size": "a", "nbytes": ("a", "(a)"), "swapaxes": "a",
    "rollaxis": "a", "moveaxis": "a", "reshape": "a", "atleast_1d": "*arys",
    "atleast_2d": "*arys", "atleast_3d": "*arys", "column_stack": "[tup]",
    "hstack": "[tup]", "vstack": "[tup]", "block": "[[arrays]]",
    # tests: boolean values (and plain bools for the dtype tests)
    "allclose": "a b", "iscomplex": "x", "isreal": "x", "iscomplexobj": "x", "isrealobj": "x",
}

UFUNCS = [
    "add", "subtract", "multiply", "matmul", "divide", "logaddexp", "logaddexp2",
    "true_divide", "floor_divide", "negative", "positive", "power", "remainder", "mod",
    "divmod", "absolute", "fabs", "rint", "sign", "heaviside", "conj", "exp", "exp2", "log",
    "log2", "log10", "expm1", "log1p", "sqrt", "square", "cbrt", "reciprocal", "gcd", "lcm",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot", "sinh", "cosh",
    "tanh", "arcsinh", "arccosh", "arctanh", "deg2rad", "rad2deg", "bitwise_and",
    "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "equal", "logical_and",
    "logical_or", "logical_xor", "logical_not", "maximum", "minimum", "fmax", "fmin",
    "isfinite", "isinf", "isnan", "isnat", "signbit", "copysign", "nextafter", "spacing",
    "modf", "ldexp", "frexp", "fmod", "floor", "ceil", "trunc",
]


def _setdiff1d(ar1, ar2, assume_unique=False):
    if assume_unique:
        ar1 = ravel(asarray(ar1))  # noqa: F821 - declared below
    else:
        ar1, ar2 = unique(ar1), unique(ar2)  # noqa: F821
    return ar1[isin(ar1, ar2, assume_unique=True, invert=True)]  # noqa: F821


# The array API's results of the unique_* functions (NumPy's field names).
UniqueAllResult = namedtuple("UniqueAllResult", "values indices inverse_indices counts")
UniqueCountsResult = namedtuple("UniqueCountsResult", "values counts")
UniqueInverseResult = namedtuple("UniqueInverseResult", "values inverse_indices")


def _unique_all(x):
    values, indices, inverse, counts = unique(  # noqa: F821 - declared below
        x, return_index=True, return_inverse=True, return_counts=True)
    return UniqueAllResult(values, indices, reshape(inverse, shape(x)), counts)  # noqa: F821


def _unique_counts(x):
    return UniqueCountsResult(*unique(x, return_counts=True))  # noqa: F821


def _unique_inverse(x):
    values, inverse = unique(x, return_inverse=True)  # noqa: F821
    return UniqueInverseResult(values, reshape(inverse, shape(x)))  # noqa: F821


def _from_dlpack(x, /, *, device=None, copy=None):
    return asarray(x)  # noqa: F821


def _dtype_of(x):
    dtype = getattr(x, "dtype", None)
    return _np.dtype(dtype) if dtype is not None else _np.asarray(x).dtype


def _iscomplexobj(x):
    return issubclass(_dtype_of(x).type, _np.complexfloating)


def _isrealobj(x):
    return not _iscomplexobj(x)


# Implementations with other functions, for libraries that lack these (Dask's setdiff1d,
# iscomplexobj: a test of the dtype, a plain bool as NumPy's; the array API's unique_*
# and from_dlpack).
DEFAULTS = {"setdiff1d": _setdiff1d, "iscomplexobj": _iscomplexobj, "isrealobj": _isrealobj,
            "unique_all": _unique_all, "unique_counts": _unique_counts,
            "unique_inverse": _unique_inverse, "unique_values": lambda x: unique(x),  # noqa: F821
            "from_dlpack": _from_dlpack}


def _declare():
    names = {}
    for name, spec in FUNCTIONS.items():
        arrays, signature = spec if isinstance(spec, tuple) else (spec, None)
        names[name] = generate(name, arrays, signature, default=DEFAULTS.get(name))
    for name in UFUNCS:
        numpy_ufunc = getattr(_np, name)
        names[name] = ufunc(name, numpy_ufunc.nin, numpy_ufunc.nout)
    return names


NAMES = _declare()
globals().update(NAMES)
