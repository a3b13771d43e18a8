"""The two uarray faces of batching.

* :data:`batching_backend`, the backend of the ``numpy`` domain that
  :func:`udiff.vmap` sets while its function runs, so that multimethods
  reached through uarray (unumpy's, a user's, udiff's with arrays inside
  lists) are batched too.
* :func:`inner_at`, the inner backend of a :class:`udiff.DiffArrayBackend`
  that differentiates inside a vmap (``vmap(grad(f))``): its arrays are
  BatchedArrays, so the graph records batched operations and the sweeps run
  the VJP/JVP rules on BatchedArrays, which batch them in turn.
"""
import numpy as np

from .._machinery import registry as _registry
from .._machinery.batched_array import BatchedArray
from .._machinery.dispatch import bind, call
from ..backends._base import InnerBackend, PerThreadContexts, backend_for_value


class BatchingBackend(PerThreadContexts):
    """The uarray backend :func:`udiff.vmap` sets: multimethods go to
    :func:`udiff._machinery.dispatch.bind`."""

    __ua_domain__ = "numpy"

    def __repr__(self):
        return "udiff.batching_backend"

    def __ua_function__(self, method, args, kwargs):
        key, args = _registry.key_of_call(method, args)
        return bind(key, args, kwargs)

    def __ua_convert__(self, dispatchables, coerce):
        return [d.value for d in dispatchables]


batching_backend = BatchingBackend()


class BatchingInner(InnerBackend):
    """The inner backend of a DiffArrayBackend differentiating inside the vmap of ``level``.

    Its arrays are BatchedArrays and the arrays of any library (constants);
    each function runs at the innermost level among its arguments
    (:func:`udiff._machinery.dispatch.bind`).
    """

    def __init__(self, level):
        self.level = level
        super().__init__(f"batching (vmap level {level})", lambda: {"numpy": np}, dict,
                         lambda: (BatchedArray,))

    def __reduce__(self):
        return (inner_at, (self.level,))

    def is_array(self, value):
        # Any array: BatchedArrays, arrays of any library, and the DiffArrays of a
        # differentiation running outside this vmap (values to this one).
        return hasattr(value, "shape") and hasattr(value, "dtype")

    def native(self, key):
        func = self._cache.get(key)
        if func is None:
            func = self._cache[key] = _runner(key)
        return func

    impl = native

    def __ua_function__(self, method, args, kwargs):
        return NotImplemented

    def asarray(self, value, dtype=None):
        if type(value) is BatchedArray:
            return value if dtype is None or value.dtype == dtype else call(
                "numpy.astype", value, dtype)
        return backend_for_value(value).asarray(value, dtype=dtype)

    def one_hot(self, n, like, dtype):
        # The seeds are the same for every example: unbatched.
        return np.eye(n, dtype=dtype).reshape((n,) + tuple(like.shape))


def _runner(key):
    def run(*args, **kwargs):
        return bind(key, args, kwargs)

    return run


_INNERS = {}


def inner_at(level):
    """The :class:`BatchingInner` of ``level`` (one per level)."""
    inner = _INNERS.get(level)
    if inner is None:
        inner = _INNERS[level] = BatchingInner(level)
    return inner
