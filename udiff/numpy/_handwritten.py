"""udiff's multimethods with hand-written declarations (``mean``, ``einsum``, ``real``...).

They are ordinary uarray multimethods of the ``numpy`` domain: inner backends
resolve them by name, and they work outside DiffArrayBackend.
Where a function can be written with others it has a default implementation.
"""
from uarray import Dispatchable

from . import _from_signatures as _api
from ._declare import array as _array
from ._declare import multimethod
from ._declare import replace_first as _replace_first
from ._declare import replace_first_two as _replace_first_two
from ..backends._base import dtype as _dtype_type
from ..backends._base import einsum_operands

_create = multimethod("numpy")


def _expand_dims_default(a, axis):
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_nd = _api.ndim(a) + len(axes)
    axes = sorted(x % out_nd for x in axes)
    new_shape = list(_api.shape(a))
    for x in axes:
        new_shape.insert(x, 1)
    return _api.reshape(a, tuple(new_shape))


@_create(_replace_first, default=_expand_dims_default)
def expand_dims(a, axis):
    """Insert size-1 axes (``numpy.expand_dims``)."""
    return (_array(a),)


@_create(_replace_first)
def zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    """An array of zeros shaped like ``a`` (``numpy.zeros_like``)."""
    return (_array(a),)


@_create(_replace_first)
def ones_like(a, dtype=None, order="K", subok=True, shape=None):
    """An array of ones shaped like ``a`` (``numpy.ones_like``)."""
    return (_array(a),)


@_create(_replace_first_two)
def take_along_axis(arr, indices, axis):
    """Gather along one axis (``numpy.take_along_axis``)."""
    return (_array(arr), _array(indices))


@_create(_replace_first_two)
def scatter_add_along_axis(values, indices, axis, length):
    """The adjoint of ``take_along_axis``: sum ``values`` into an array whose
    ``axis`` has ``length`` entries, at positions ``indices`` (repeated
    positions add up)."""
    return (_array(values), _array(indices))


@_create(_replace_first)
def getitem(a, index):
    """``a[index]``, as a multimethod (``DiffArray.__getitem__`` records it)."""
    return (_array(a),)


@_create(_replace_first)
def index_add(values, index, shape):
    """The adjoint of ``getitem``: zeros of ``shape`` with ``values`` added at
    ``index`` (repeated positions add up)."""
    return (_array(values),)


def _replace_operands(args, kwargs, dispatchables):
    """einsum's replacer, for the subscripts form and the sublist form alike."""
    args = list(args)
    for i, d in zip(einsum_operands(args)[2], dispatchables):
        args[i] = d
    return tuple(args), kwargs


# -- statistics and scans ---------------------------------------------------------
def _mean_default(a, axis=None, dtype=None, out=None, keepdims=False):
    total = _api.sum(a, axis=axis, dtype=dtype, keepdims=keepdims)
    shape = _api.shape(a)
    axes = range(len(shape)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    count = 1
    for ax in axes:
        count *= shape[ax]
    return total / count


@_create(_replace_first, default=_mean_default)
def mean(a, axis=None, dtype=None, out=None, keepdims=False):
    """The arithmetic mean (``numpy.mean``)."""
    return (_array(a),)


@_create(_replace_first)
def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum (``numpy.cumsum``)."""
    return (_array(a),)


@_create(_replace_first)
def squeeze(a, axis=None):
    """Remove size-1 axes (``numpy.squeeze``)."""
    return (_array(a),)


# -- products: all of them are einsum contractions ---------------------------------
@_create(_replace_first_two)
def dot(a, b):
    """Dot product (``numpy.dot``)."""
    return (_array(a), _array(b))


@_create(_replace_first_two)
def vdot(a, b):
    """Dot product of flattened arrays, conjugating the first (``numpy.vdot``)."""
    return (_array(a), _array(b))


def _inner_default(a, b):
    if _api.ndim(a) == 0 or _api.ndim(b) == 0:  # NumPy: a scalar multiplies
        return _api.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


@_create(_replace_first_two, default=_inner_default)
def inner(a, b):
    """Inner product over the last axes (``numpy.inner``)."""
    return (_array(a), _array(b))


@_create(_replace_first_two)
def outer(a, b):
    """Outer product of flattened arrays (``numpy.outer``)."""
    return (_array(a), _array(b))


@_create(_replace_first_two)
def tensordot(a, b, axes=2):
    """Tensor contraction over ``axes`` (``numpy.tensordot``)."""
    return (_array(a), _array(b))


@_create(_replace_operands)
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation (``numpy.einsum``), with subscripts or in the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    return tuple(_array(o) for o in einsum_operands((subscripts,) + operands)[1])


@_create(_replace_first)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum along a diagonal (``numpy.trace``)."""
    return (_array(a),)


@_create(_replace_first)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """A diagonal (``numpy.diagonal``)."""
    return (_array(a),)


# -- elementwise functions that are not ufuncs -------------------------------------
@_create(_replace_first)
def real(val):
    """Real part (``numpy.real``)."""
    return (_array(val),)


@_create(_replace_first)
def imag(val):
    """Imaginary part (``numpy.imag``)."""
    return (_array(val),)


@_create(_replace_first)
def angle(z, deg=False):
    """Argument of complex numbers (``numpy.angle``)."""
    return (_array(z),)


@_create(_replace_first)
def sinc(x):
    """``sin(pi x) / (pi x)`` (``numpy.sinc``)."""
    return (_array(x),)


@_create(_replace_first, default=lambda a, order="K", subok=False: _api.array(a, copy=True))
def copy(a, order="K", subok=False):
    """A copy of an array (``numpy.copy``)."""
    return (_array(a),)


@_create(_replace_first)
def astype(x, dtype, copy=True):
    """``x`` converted to ``dtype`` (``numpy.astype``)."""
    return (_array(x),)


@_create(_replace_first)
def round(a, decimals=0, out=None):  # noqa: A001 - NumPy's name
    """Round to a number of decimals (``numpy.round``); derivative zero."""
    return (_array(a),)


@_create(_replace_first)
def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness test (``numpy.isclose``)."""
    return (_array(a),)


# -- creation: constants ----------------------------------------------------------------
def _replace_dtype(args, kwargs, d):
    return args, {**kwargs, "dtype": d[0]} if "dtype" in kwargs or d[0] is not None else kwargs


def _dtype(dtype):
    return Dispatchable(dtype, _dtype_type)


@_create(_replace_first)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    """An array shaped like ``a`` filled with ``fill_value`` (``numpy.full_like``)."""
    return (_array(a),)


@_create(_replace_first)
def empty_like(prototype, dtype=None, order="K", subok=True, shape=None):
    """An uninitialised array shaped like ``prototype`` (``numpy.empty_like``)."""
    return (_array(prototype),)


@_create(_replace_dtype)
def empty(shape, dtype=float, order="C"):
    """An uninitialised array (``numpy.empty``)."""
    return (_dtype(dtype),)


@_create(_replace_dtype)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """Evenly spaced numbers over an interval (``numpy.linspace``)."""
    return (_dtype(dtype),)


def _logspace_default(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return base ** linspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)


@_create(_replace_dtype, default=_logspace_default)
def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """Numbers spaced evenly on a log scale (``numpy.logspace``)."""
    return (_dtype(dtype),)


@_create(_replace_dtype)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Numbers spaced evenly on a log scale between their ends (``numpy.geomspace``)."""
    return (_dtype(dtype),)


@_create(_replace_dtype, default=lambda n, dtype=None: _api.eye(n, dtype=dtype or float))
def identity(n, dtype=None):
    """The identity matrix (``numpy.identity``)."""
    return (_dtype(dtype),)


@_create(_replace_dtype)
def tri(N, M=None, k=0, dtype=float):
    """Ones at and below a diagonal (``numpy.tri``)."""
    return (_dtype(dtype),)


MULTIMETHODS = {
    "expand_dims": expand_dims,
    "zeros_like": zeros_like,
    "ones_like": ones_like,
    "take_along_axis": take_along_axis,
    "mean": mean,
    "cumsum": cumsum,
    "squeeze": squeeze,
    "dot": dot,
    "vdot": vdot,
    "inner": inner,
    "outer": outer,
    "tensordot": tensordot,
    "einsum": einsum,
    "trace": trace,
    "diagonal": diagonal,
    "real": real,
    "imag": imag,
    "angle": angle,
    "sinc": sinc,
    "copy": copy,
    "astype": astype,
    "round": round,
    "isclose": isclose,
    "full_like": full_like,
    "empty_like": empty_like,
    "empty": empty,
    "linspace": linspace,
    "logspace": logspace,
    "geomspace": geomspace,
    "identity": identity,
    "tri": tri,
}
PRIVATE = {
    "scatter_add_along_axis": scatter_add_along_axis,
    "getitem": getitem,
    "index_add": index_add,
}
