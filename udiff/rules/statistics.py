"""Rules for udiff's statistics and scans (``mean``, ``cumsum``) and ``squeeze``."""
import numpy as np

from ..numpy import _handwritten as _mm
from .._machinery.registry import defjvp, defvjp
from ._helpers import nbatch, ndim, normalize_axes, restore_reduced, shape
from .shape import _reshape_jvp, _reshape_vjp
from .reductions import _count, _t_axes


def _mean_vjp(ans, x, axis=None, keepdims=False, **kw):
    n = _count(x, axis)
    if not n:  # (an empty mean: nothing to divide, and g / 0 would warn)
        return lambda g: restore_reduced(g, x, axis, keepdims) / n
    # (divided before it is broadcast: one division per element of the mean, not of x)
    return lambda g: restore_reduced(g / n, x, axis, keepdims)


def _mean_jvp(t, ans, x, axis=None, keepdims=False, **kw):
    return np.sum(t, axis=_t_axes(x, axis), keepdims=keepdims) / _count(x, axis)


defvjp(_mm.mean, _mean_vjp)
defjvp(_mm.mean, _mean_jvp)


def _reversed(a, axis):
    """``a`` reversed along (negative) ``axis``."""
    return a[(Ellipsis, slice(None, None, -1)) + (slice(None),) * (-axis - 1)]


def _cumsum_vjp(ans, x, axis=None, **kw):
    def vjp(g):
        batch = shape(g)[: nbatch(g, ans)]
        ax = -1 if axis is None else normalize_axes(axis, ndim(x))[0] - ndim(x)
        summed = _reversed(np.cumsum(_reversed(g, ax), axis=ax), ax)
        return np.reshape(summed, batch + shape(x))

    return vjp


def _cumsum_jvp(t, ans, x, axis=None, **kw):
    if axis is None:
        # The flat length is spelled out: -1 is ambiguous when the batch is empty.
        size = int(np.prod(shape(x), dtype=np.int64))
        return np.cumsum(np.reshape(t, shape(t)[: nbatch(t, x)] + (size,)), axis=-1)
    return np.cumsum(t, axis=normalize_axes(axis, ndim(x))[0] - ndim(x))


defvjp(_mm.cumsum, _cumsum_vjp)
defjvp(_mm.cumsum, _cumsum_jvp)
defvjp(_mm.squeeze, _reshape_vjp)
defjvp(_mm.squeeze, _reshape_jvp)
