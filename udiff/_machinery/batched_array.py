"""BatchedArray, the array :func:`udiff.vmap` computes with, and vmap's per-thread state.

A BatchedArray stands for one array per example of a batch: its ``value``
holds them all, stacked on axis 0 (a canonical place, so that batching rules
only ever shift axes by one).  Its shape, rank and indexing are those of one
example.  Every operation on it (NumPy functions, udiff.numpy functions,
operators, methods) goes to that function's batching rule
(:func:`udiff.defbatch`) through :func:`udiff._machinery.dispatch.bind`, whose level for a
BatchedArray is its vmap call's frame (``udiff.rules.batching``).

``value`` may itself be a DiffArray, a Dask array or the BatchedArray of an
outer vmap: that is how transformations nest.  ``level`` is how deeply the
vmap that made it is nested (1 for the outermost); a BatchedArray of a deeper
vmap treats those of outer ones as unbatched values.
"""
import threading

import numpy as np

from . import registry as _registry
from .dispatch import Traced, bind
from .operators import define_operators
from .tree import register_leaf_type


class BatchingConversionError(TypeError):
    """A batched array was converted to a constant (a Python number, a NumPy array)."""


class BatchedArray(Traced, level="frame"):
    """One array per example of a vmap batch (see the module docstring).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.vmap(lambda x: np.sum(x * x))(numpy.arange(6.0).reshape(3, 2))
    array([ 1., 13., 41.])
    """

    __slots__ = ("value", "level", "frame", "__weakref__")
    __array_priority__ = 200.0

    def __init__(self, value, level, frame):
        self.value = value
        self.level = level
        self.frame = frame

    shape = property(lambda self: tuple(self.value.shape[1:]), doc="One example's shape.")
    ndim = property(lambda self: self.value.ndim - 1, doc="One example's rank.")
    dtype = property(lambda self: np.dtype(self.value.dtype), doc="The dtype.")
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
    T = property(lambda self: bind("numpy.transpose", (self,), {}), doc="The transpose.")

    @property
    def mT(self):
        """Each example's matrix transpose: its last two axes swapped (``swapaxes``)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs an array of at least 2 dimensions, not {self.ndim}")
        return bind("numpy.swapaxes", (self, -1, -2), {})

    device = property(lambda self: getattr(self.value, "device", "cpu"),
                      doc="The device of the stacked values: their library's, else ``\"cpu\"``.")

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d batched array")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return f"BatchedArray(level={self.level}, value={self.value!r})"

    __hash__ = object.__hash__

    # Constants cannot be made of one value per example: that is data-dependent
    # control flow (or a silent drop of the batch axis), which vmap cannot batch.
    def _constant(self, what, hint=""):
        raise BatchingConversionError(
            f"{what} of a batched array inside udiff.vmap: its value differs between "
            "examples; keep it an array (np.where for branches), or pass it unbatched "
            f"(in_axes=None){hint}"
        )

    # NumPy's ndarray.__getitem__ cannot be overridden by its index: it calls the
    # index's __index__, then __array__, and builds a NumPy array itself, which
    # cannot hold one value per example (JAX's tracers refuse it the same way).
    # udiff's functions can: the errors say how to write the indexing with them.
    _INDEXING = (
        ". If it indexes an array that is not batched (a NumPy or Dask array w), "
        "write the indexing with udiff.numpy (as np): np.take(w, i, axis=0) for w[i], "
        "np.take(w, i, axis=1) for w[:, i], np.take(np.take(w, i, axis=0), j, axis=0) "
        "for w[i, j] with one i and j per example; an array of udiff (a variable of "
        "grad, a batched argument) can be indexed as it is"
    )

    def __array__(self, dtype=None, copy=None):
        self._constant("numpy.asarray() (which NumPy also calls to index a NumPy array "
                       "with it)", self._INDEXING)

    def __float__(self):
        self._constant("float()")

    def __int__(self):
        self._constant("int()")

    def __complex__(self):
        self._constant("complex()")

    def __index__(self):
        self._constant("using it as an index", self._INDEXING.replace(
            "(a NumPy or Dask array w)", "(a Python list w: np.asarray(w) first, or a "
            "NumPy or Dask array w)"))

    def __bool__(self):
        self._constant("bool() (an if or while on it; or Dask's w[i] checking the index i: "
                       "write np.take(w, i, axis=0) with udiff.numpy)")

    def item(self, *args):
        """Refused: one value per example cannot be a Python scalar."""
        self._constant("item()")

    def tolist(self):
        """Refused: one value per example cannot be a Python list."""
        self._constant("tolist()")

    def __array_namespace__(self, api_version=None):
        """udiff's NumPy namespace, whose functions batch BatchedArrays."""
        return _registry.namespace()

    def __getitem__(self, index):
        return bind("numpy.getitem", (self, index), {})

    # -- NumPy protocols -----------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            return NotImplemented
        kwargs.pop("out", None)
        key = _registry._FROM_NUMPY.get(ufunc) or _registry.key_of_ufunc(ufunc)
        if key is None or method not in ("__call__", "reduce", "accumulate"):
            return NotImplemented
        return bind(key if method == "__call__" else f"{key}.{method}", inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        direct = _DIRECT.get(func)
        if direct is not None:
            return direct(*args, **kwargs)
        key = _registry._FROM_NUMPY.get(func)
        if key is None:
            raise NotImplementedError(
                f"udiff has no multimethod for numpy.{func.__name__}; it cannot be "
                "applied to a batched array inside vmap"
            )
        return bind(key, args, kwargs)


def _result_type(*arrays_and_dtypes):
    return np.result_type(*(np.dtype(a.dtype) if type(a) is BatchedArray else a
                            for a in arrays_and_dtypes))


# NumPy functions that only read a BatchedArray's per-example attributes.
_DIRECT = {
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.result_type: _result_type,
}


define_operators(BatchedArray, bind)
register_leaf_type(BatchedArray)


# -- the vmaps running in this thread ----------------------------------------------------
_STATE = threading.local()


def frames():
    """The vmap calls running in this thread, outermost first."""
    stack = getattr(_STATE, "frames", None)
    if stack is None:
        stack = _STATE.frames = []
    return stack


def active_level():
    """The nesting level of the innermost running vmap in this thread (0: none)."""
    stack = getattr(_STATE, "frames", None)
    return len(stack) if stack else 0
