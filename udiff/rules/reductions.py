"""Rules for reductions: sum, prod, max/min, the nan-variants, std and var."""
import math

import numpy as np

from ..numpy import _from_signatures as unp
from .._machinery.registry import defjvp, defnondiff, defvjp
from ._helpers import from_end, ndim, normalize_axes, restore_reduced, shape, weights_like


def _count(x, axis):
    s = shape(x)
    n = 1
    for a in normalize_axes(axis, len(s)):
        n *= s[a]
    return n


def _t_axes(x, axis):
    """``axis`` of ``x`` addressed from the end, for a tangent with batch axes."""
    return from_end(normalize_axes(axis, ndim(x)), ndim(x))


def _keep(ans, x, axis, keepdims):
    """``ans`` with the reduced axes kept, so it broadcasts against ``x``."""
    return restore_reduced(ans, x, axis, keepdims) if shape(ans) != shape(x) else ans


# sum / nansum ---------------------------------------------------------------
def _sum_vjp(ans, x, axis=None, keepdims=False, **kw):
    return lambda g: restore_reduced(g, x, axis, keepdims)


def _sum_jvp(t, ans, x, axis=None, keepdims=False, dtype=None, **kw):
    return np.sum(t, axis=_t_axes(x, axis), keepdims=keepdims, dtype=dtype)


defvjp(unp.sum, _sum_vjp)
defjvp(unp.sum, _sum_jvp)


def _nansum_vjp(ans, x, axis=None, keepdims=False, **kw):
    return lambda g: np.where(np.isnan(x), 0.0, restore_reduced(g, x, axis, keepdims))


def _nansum_jvp(t, ans, x, axis=None, keepdims=False, **kw):
    return np.sum(np.where(np.isnan(x), 0.0, t), axis=_t_axes(x, axis), keepdims=keepdims)


defvjp(unp.nansum, _nansum_vjp)
defjvp(unp.nansum, _nansum_jvp)


# prod / nanprod: exact with zeros in the input ---------------------------------
def _prod_partials(x, axis):
    """The partials of ``prod(x, axis)`` as polynomials in ``x`` (no division).

    Each partial is the product of the other entries, exact where ``x`` holds
    zeros or infinities (``prod / x`` would give NaN there), as JAX computes it.

    The reduced axes are flattened into one, padded with ones to a power of
    two and multiplied pairwise level by level; the partials are then pushed
    back down the tree (``d(ab)/da = b``).  Every step is a multiplication,
    a slice or a reshape, so the result differentiates exactly, to any order.
    """
    nd = ndim(x)
    axes = normalize_axes(axis, nd)
    k = len(axes)
    n = _count(x, axis)
    if n <= 1:
        return np.ones_like(x)
    ends = tuple(range(nd - k, nd))
    moved = np.moveaxis(x, axes, ends)
    moved_shape = shape(moved)
    flat = np.reshape(moved, moved_shape[: nd - k] + (n,))
    size = 1 << (n - 1).bit_length()
    if size > n:
        flat = np.concatenate(
            [flat, np.ones_like(flat, shape=moved_shape[: nd - k] + (size - n,))], axis=-1
        )
    levels = [flat]
    while shape(levels[-1])[-1] > 1:
        v = levels[-1]
        levels.append(v[..., 0::2] * v[..., 1::2])
    ct = None
    for v in reversed(levels[:-1]):
        a, b = v[..., 0::2], v[..., 1::2]
        ct_a, ct_b = (b, a) if ct is None else (ct * b, ct * a)
        ct = np.reshape(np.stack([ct_a, ct_b], axis=-1), shape(v))
    partials = np.reshape(ct[..., :n], moved_shape)
    return np.moveaxis(partials, ends, axes)


def _prod_vjp(ans, x, axis=None, keepdims=False, **kw):
    return lambda g: restore_reduced(g, x, axis, keepdims) * _prod_partials(x, axis)


def _prod_jvp(t, ans, x, axis=None, keepdims=False, **kw):
    return np.sum(t * _prod_partials(x, axis), axis=_t_axes(x, axis), keepdims=keepdims)


def _nan_to_one(x):
    return np.where(np.isnan(x), 1.0, x)


defvjp(unp.prod, _prod_vjp)
defjvp(unp.prod, _prod_jvp)
defvjp(
    unp.nanprod,
    lambda ans, x, axis=None, keepdims=False, **kw: lambda g: np.where(
        np.isnan(x), 0.0, _prod_vjp(ans, _nan_to_one(x), axis, keepdims)(g)
    ),
)
defjvp(
    unp.nanprod,
    lambda t, ans, x, axis=None, keepdims=False, **kw: _prod_jvp(
        np.where(np.isnan(x), 0.0, t), ans, _nan_to_one(x), axis, keepdims
    ),
)


# max / min and nan-variants: ties share the derivative evenly ----------------------
def _selected(ans, x, axis, keepdims):
    """Weights of each entry in a max/min: 1/k for each of k tied winners."""
    hit = x == _keep(ans, x, axis, keepdims)
    count = np.sum(hit, axis=normalize_axes(axis, ndim(x)), keepdims=True)
    return weights_like(hit / count, x)


def _extremum_vjp(ans, x, axis=None, keepdims=False, **kw):
    return lambda g: restore_reduced(g, x, axis, keepdims) * _selected(ans, x, axis, keepdims)


def _extremum_jvp(t, ans, x, axis=None, keepdims=False, **kw):
    w = _selected(ans, x, axis, keepdims)
    return np.sum(t * w, axis=_t_axes(x, axis), keepdims=keepdims)


for _key in (unp.max, unp.min, unp.nanmax, unp.nanmin):
    defvjp(_key, _extremum_vjp)
    defjvp(_key, _extremum_jvp)


# ufunc.reduce: the same rules, but the default axis is 0, not None ---------------------
def _axis0(rule, is_vjp):
    if is_vjp:
        return lambda ans, x, axis=0, **kw: rule(ans, x, axis=axis, **kw)
    return lambda t, ans, x, axis=0, **kw: rule(t, ans, x, axis=axis, **kw)


for _ufunc, _vjp, _jvp in [(unp.add, _sum_vjp, _sum_jvp), (unp.multiply, _prod_vjp, _prod_jvp),
                           (unp.maximum, _extremum_vjp, _extremum_jvp),
                           (unp.minimum, _extremum_vjp, _extremum_jvp)]:
    defvjp(_ufunc.reduce, _axis0(_vjp, True))
    defjvp(_ufunc.reduce, _axis0(_jvp, False))


# logaddexp.reduce / logaddexp2.reduce: softmax weights, 0 where every term is -inf --------
def _log_add_weights(exp):
    """``d ans / d x``: ``exp(x - ans)`` (``exp2`` for ``logaddexp2``), 0 where ``where``
    leaves an entry out or ``ans`` is ``-inf`` (an empty sum in log space: its terms are
    the semiring's zero, and shifting by 0 there forms no ``-inf - -inf``)."""
    def weights(ans, x, axis, keepdims, where):
        out = _keep(ans, x, axis, keepdims)
        w = exp(x - np.where(out == -np.inf, 0.0, out))
        return w if where is True else np.where(where, w, 0.0)

    return weights


def _log_add_reduce_rules(exp):
    weights = _log_add_weights(exp)

    def vjp(ans, x, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=True):
        w = weights(ans, x, axis, keepdims, where)
        return lambda g: restore_reduced(g, x, axis, keepdims) * w

    def jvp(t, ans, x, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=True):
        w = weights(ans, x, axis, keepdims, where)
        return np.sum(t * w, axis=_t_axes(x, axis), keepdims=keepdims)

    return vjp, jvp


for _ufunc, _exp in [(unp.logaddexp, np.exp), (unp.logaddexp2, np.exp2)]:
    _vjp, _jvp = _log_add_reduce_rules(_exp)
    defvjp(_ufunc.reduce, _vjp)
    defjvp(_ufunc.reduce, _jvp)


# var / std ------------------------------------------------------------------------
def _per(n):
    """``1 / n`` as a Python float; NaN for ``n <= 0``.

    NumPy divides by ``max(n, 0)`` and warns: its var and std are then inf or
    NaN, and their derivatives NaN (as JAX's).
    """
    return 1.0 / n if n > 0 else math.nan


def _centered(x, axis):
    return x - np.sum(x, axis=normalize_axes(axis, ndim(x)), keepdims=True) * _per(_count(x, axis))


def _is_complex(x):
    return np.dtype(x.dtype).kind == "c"


def _centered_conj(x, axis):
    """``conj(x - mean x)``: var = mean |x - mean x|**2 is real, and its derivative along
    ``dx`` is ``2 Re(conj(x - mean x) dx) / (n - ddof)`` (the terms from the mean cancel).
    So the gradient is the conjugate direction, as ``abs``'s (docs/conventions.md)."""
    c = _centered(x, axis)
    return np.conj(c) if _is_complex(x) else c


def _real_cotangent(g):
    """Only the real part of a cotangent of the (real) var/std carries a derivative."""
    return np.real(g) if _is_complex(g) else g


def _real_tangent(x, t):
    """The tangent of a real output: its real part where the input is complex."""
    return np.real(t) if _is_complex(x) else t


def _var_vjp(ans, x, axis=None, ddof=0, keepdims=False, **kw):
    scale = 2.0 * _per(_count(x, axis) - ddof)
    return lambda g: restore_reduced(_real_cotangent(g), x, axis, keepdims) * (
        scale * _centered_conj(x, axis))


def _var_jvp(t, ans, x, axis=None, ddof=0, keepdims=False, **kw):
    scale = 2.0 * _per(_count(x, axis) - ddof)
    return _real_tangent(x, np.sum(t * (scale * _centered_conj(x, axis)), axis=_t_axes(x, axis),
                                   keepdims=keepdims))


def _std_vjp(ans, x, axis=None, ddof=0, keepdims=False, **kw):
    scale = _per(_count(x, axis) - ddof)

    def vjp(g):
        g = restore_reduced(_real_cotangent(g), x, axis, keepdims)
        sd = _keep(ans, x, axis, keepdims)
        return g * _std_partial(x, axis, scale, sd)

    return vjp


def _std_jvp(t, ans, x, axis=None, ddof=0, keepdims=False, **kw):
    scale = _per(_count(x, axis) - ddof)
    sd = _keep(ans, x, axis, keepdims)
    partial = _std_partial(x, axis, scale, sd)
    return _real_tangent(x, np.sum(t * partial, axis=_t_axes(x, axis), keepdims=keepdims))


def _std_partial(x, axis, scale, sd):
    """d std / dx: (x - mean) / ((n - ddof) std), NaN where std is 0 (the 0/0 JAX and
    autograd give there; docs/conventions.md); conjugated for complex ``x``."""
    return np.where(sd == 0, np.nan, scale * _centered_conj(x, axis) / np.where(sd == 0, 1.0, sd))


defvjp(unp.var, _var_vjp)
defjvp(unp.var, _var_jvp)
defvjp(unp.std, _std_vjp)
defjvp(unp.std, _std_jvp)

defnondiff(
    unp.any, unp.all, unp.argmin, unp.argmax, unp.nanargmin, unp.nanargmax, unp.count_nonzero,
    unp.logical_and.reduce, unp.logical_or.reduce,
)
