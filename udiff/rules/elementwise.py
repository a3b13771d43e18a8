"""Rules for elementwise functions that are not ufuncs: real, imag, angle,
sinc, copy; the creation functions that take values (full, full_like,
linspace, logspace, geomspace, arange); and the constants (rounding,
comparisons).

Complex convention (autograd's and JAX's): the cotangent of a complex input
is ``dL/dx - i dL/dy``, so for holomorphic functions the VJP is ``g * f'(z)``.
"""
import math

import numpy as np

from ..numpy import _from_signatures as unp
from ..numpy import _handwritten as _mm
from .._machinery.registry import defjvp, defnondiff, defvjp
from ._helpers import (
    broadcast_tangent,
    nbatch,
    ndim,
    pad_rank,
    shape,
    unbroadcast,
    unbroadcast_to,
    zeros_cotangent,
)


def _is_complex(x):
    dtype = getattr(x, "dtype", None)
    return np.dtype(np.result_type(x) if dtype is None else dtype).kind == "c"


def _match(x, c):
    """Cotangent ``c`` in ``x``'s domain: its real part when ``x`` is real."""
    return c if _is_complex(x) else np.real(c)


# The output is real, so only the real part of its cotangent carries a derivative
# (other rules may leave imaginary noise in cotangents of real arrays).
defvjp(_mm.real, lambda ans, x: lambda g: np.real(g) + 0j if _is_complex(x) else np.real(g))
defjvp(_mm.real, lambda t, ans, x: np.real(t))
# (The array on the left: 1j times a 0-d Dask block that is a NumPy scalar makes a Python
# complex block, which Dask cannot reshape.)
defvjp(_mm.imag, lambda ans, x: lambda g: _match(x, np.real(g) * -1j))
defjvp(_mm.imag, lambda t, ans, x: np.imag(t))


def _abs2(x):
    return np.real(x * np.conj(x))


def _angle_scale(deg):
    return 180.0 / math.pi if deg else 1.0


def _angle_vjp(ans, z, deg=False):
    def vjp(g):
        r2 = _abs2(z)
        # the angle is real: only the real part of its cotangent carries a derivative
        c = np.real(g) * _angle_scale(deg) * (-1j * np.conj(z)) / np.where(r2 == 0, 1.0, r2)
        return _match(z, c)

    return vjp


def _angle_jvp(t, ans, z, deg=False):
    r2 = _abs2(z)
    return _angle_scale(deg) * np.imag(np.conj(z) * t) / np.where(r2 == 0, 1.0, r2)


defvjp(_mm.angle, _angle_vjp)
defjvp(_mm.angle, _angle_jvp)


# sinc'(x) = (cos(pi x) - sinc(x)) / x has a removable singularity at 0.  Near 0 it is
# its Maclaurin series instead (to x**13: below the rounding error for |x| < 0.1), so
# that the rule's own derivatives, taken for higher orders, are right there too.
_SINC_SMALL = 0.1
_SINC_SERIES = tuple(
    (-1) ** n * 2 * n * math.pi ** (2 * n) / math.factorial(2 * n + 1) for n in range(1, 8)
)


def _sinc_deriv(ans, x):
    small = np.abs(x) < _SINC_SMALL
    safe = np.where(small, 1.0, x)  # the double where: no 0/0 in either branch
    x2 = x * x
    series = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        series = series * x2 + c
    return np.where(small, series * x, (np.cos(math.pi * safe) - ans) / safe)


defvjp(_mm.sinc, lambda ans, x: lambda g: g * _sinc_deriv(ans, x))
defjvp(_mm.sinc, lambda t, ans, x: t * _sinc_deriv(ans, x))
defvjp(_mm.copy, lambda ans, x, *a, **k: lambda g: g)
defjvp(_mm.copy, lambda t, ans, x, *a, **k: t)
# from_dlpack of one of udiff's arrays holds its values (of another library's: a constant).
defvjp(unp.from_dlpack, lambda ans, x, *a, **k: lambda g: g)
defjvp(unp.from_dlpack, lambda t, ans, x, *a, **k: t)

def _astype_vjp(ans, x, dtype, *args, **kwargs):
    kind = np.dtype(dtype).kind
    if kind not in "fc":  # a cast to integers or booleans is piecewise constant
        return lambda g: np.zeros_like(g, dtype=float)
    if np.dtype(x.dtype).kind in "fc":
        return lambda g: _match(x, g).astype(np.result_type(x.dtype, np.float32))
    return lambda g: np.real(g)


def _astype_jvp(t, ans, x, dtype, *args, **kwargs):
    if np.dtype(dtype).kind not in "fc":
        return np.zeros_like(t, dtype=float)
    return t.astype(np.result_type(dtype, np.float32))


defvjp(_mm.astype, _astype_vjp)
defjvp(_mm.astype, _astype_jvp)

# -- creation functions that take values -----------------------------------------------
def _as_input(c, x):
    """Cotangent ``c`` in the domain and precision of input ``x``."""
    c = _match(x, c)
    dtype = getattr(x, "dtype", None)
    return c if dtype is None or c.dtype == dtype else c.astype(dtype)


def _as_output(t, ans):
    """Tangent ``t`` in the domain and precision of the result ``ans``."""
    t = _match(ans, t)
    return t if t.dtype == ans.dtype else t.astype(ans.dtype)


def _inexact(ans):
    """Whether ``ans`` has a derivative (a cast to integers is piecewise constant)."""
    return np.dtype(ans.dtype).kind in "fc"


def _zero_vjp(ans, x):
    return lambda g: zeros_cotangent(g, ans, x)


def _zero_jvp(t, ans, x):
    return np.zeros_like(ans, shape=shape(t)[: nbatch(t, x)] + shape(ans))


# full(shape, v) and full_like(a, v) broadcast the fill value v; a gives only a shape.
def _fill_vjp(ans, fill_value):
    if not _inexact(ans):
        return _zero_vjp(ans, fill_value)
    return lambda g: _as_input(unbroadcast_to(g, nbatch(g, ans), shape(fill_value)), fill_value)


def _fill_jvp(t, ans, fill_value):
    if not _inexact(ans):
        return _zero_jvp(t, ans, fill_value)
    return _as_output(broadcast_tangent(t, fill_value, ans), ans)


defvjp(unp.full, lambda ans, s, fill_value, *a, **k: _fill_vjp(ans, fill_value), argnums=(1,))
defjvp(unp.full, lambda t, ans, s, fill_value, *a, **k: _fill_jvp(t, ans, fill_value),
       argnums=(1,))
defvjp(_mm.full_like, lambda ans, a, *args, **k: _zero_vjp(ans, a),
       lambda ans, a, fill_value, *args, **k: _fill_vjp(ans, fill_value))
defjvp(_mm.full_like, lambda t, ans, a, *args, **k: _zero_jvp(t, ans, a),
       lambda t, ans, a, fill_value, *args, **k: _fill_jvp(t, ans, fill_value))


# linspace, logspace, arange: sample k is start + w_k (stop - start), linear in both ends;
# geomspace: sample k is start ** (1 - w_k) * stop ** w_k.
def _ramp(ans, ax):
    """``0, 1, 2, ...`` along axis ``ax`` of ``ans``, broadcast over its other axes."""
    return np.cumsum(np.ones_like(ans), axis=ax) - 1


def _share(ans, i, num, endpoint, ax):
    """The weight of ``start`` (``i == 0``) or ``stop`` (``i == 1``) in each sample."""
    w = _ramp(ans, ax) / max(num - 1 if endpoint else num, 1)  # exactly 1 at an endpoint
    return w if i else 1 - w


def _sample_axis(ans, args, kwargs, at):
    """Where the samples run, counted from the end of ``ans``.

    ``args`` follow ``endpoint`` in the signature; ``args[at]`` is ``axis``
    (2 for linspace and logspace, 1 for geomspace).
    """
    axis = args[at] if len(args) > at else kwargs.get("axis", 0)
    return axis % ndim(ans) - ndim(ans)


def _spaced_vjp(i, scale=None, at=2):
    """VJP of linspace-like functions for ``start`` (0) or ``stop`` (1).

    ``scale(ans, x, args, kwargs, ax)`` multiplies the linear weights
    (logspace's ``ans * log(base)``, geomspace's ``ans / x``); ``x`` is the
    end differentiated, ``args`` follow ``endpoint`` and ``args[at]`` is
    ``axis``.
    """

    def maker(ans, start, stop, num=50, endpoint=True, *args, **kwargs):
        x = (start, stop)[i]
        if not _inexact(ans):
            return _zero_vjp(ans, x)
        ax = _sample_axis(ans, args, kwargs, at)

        def vjp(g):
            d = _share(ans, i, num, endpoint, ax)
            if scale is not None:
                d = d * scale(ans, x, args, kwargs, ax)
            c = np.sum(g * d, axis=ax)
            return _as_input(unbroadcast_to(c, nbatch(g, ans), shape(x)), x)

        return vjp

    return maker


def _spaced_jvp(i, scale=None, at=2):
    def rule(t, ans, start, stop, num=50, endpoint=True, *args, **kwargs):
        x = (start, stop)[i]
        if not _inexact(ans):
            return _zero_jvp(t, ans, x)
        ax = _sample_axis(ans, args, kwargs, at)
        t = np.expand_dims(pad_rank(t, nbatch(t, x), ndim(ans) - 1), ax)
        d = _share(ans, i, num, endpoint, ax)
        if scale is not None:
            d = d * scale(ans, x, args, kwargs, ax)
        return _as_output(t * d, ans)

    return rule


def _linspace_step(i):
    """Rules for linspace's ``step`` (``retstep=True``): ``(stop - start) / div``."""

    def factor(num, endpoint):
        div = num - 1 if endpoint else num
        return (-1.0, 1.0)[i] * (1.0 / div if div > 0 else math.nan)  # NumPy's step: NaN

    def vjp(ans, start, stop, num=50, endpoint=True, *args, **kwargs):
        x = (start, stop)[i]
        return lambda g: _as_input(unbroadcast(g * factor(num, endpoint), ans, x), x)

    def jvp(t, ans, start, stop, num=50, endpoint=True, *args, **kwargs):
        return _as_output(broadcast_tangent(t, (start, stop)[i], ans) * factor(num, endpoint), ans)

    return vjp, jvp


def _at_samples(v, ans, ax):
    """``v``, broadcast like the ends of ``ans``, with the sample axis ``ax`` inserted."""
    if not ndim(v):
        return v
    return np.expand_dims(np.reshape(v, (1,) * (ndim(ans) - 1 - ndim(v)) + shape(v)), ax)


def _log_base(ans, x, args, kwargs, ax):
    """``ans * log(base)``: logspace's derivative in its exponent."""
    base = args[0] if args else kwargs.get("base", 10.0)
    if isinstance(base, (int, float)):
        return ans * math.log(base)
    return ans * _at_samples(np.log(base), ans, ax)


def _over_end(ans, x, args, kwargs, ax):
    """``ans / x``: geomspace's derivative in its log-space weights, for the end ``x``
    (``d ans / d start = (1 - w) ans / start``, ``d ans / d stop = w ans / stop``)."""
    return ans / _at_samples(x, ans, ax)


for _key in (_mm.linspace, (_mm.linspace, 0)):
    defvjp(_key, _spaced_vjp(0), _spaced_vjp(1))
    defjvp(_key, _spaced_jvp(0), _spaced_jvp(1))
defvjp((_mm.linspace, 1), *(_linspace_step(i)[0] for i in (0, 1)))
defjvp((_mm.linspace, 1), *(_linspace_step(i)[1] for i in (0, 1)))
defvjp(_mm.logspace, _spaced_vjp(0, _log_base), _spaced_vjp(1, _log_base))
defjvp(_mm.logspace, _spaced_jvp(0, _log_base), _spaced_jvp(1, _log_base))
defvjp(_mm.geomspace, _spaced_vjp(0, _over_end, at=1), _spaced_vjp(1, _over_end, at=1))
defjvp(_mm.geomspace, _spaced_jvp(0, _over_end, at=1), _spaced_jvp(1, _over_end, at=1))


def _arange_weight(ans, i, stop):
    """d sample_k / d argument ``i`` of ``arange(start, stop, step)``: 1, 0 or k.

    With one argument (``arange(stop)``) the samples do not depend on it; the
    stop only sets how many there are.
    """
    if i == 2:
        return _ramp(ans, -1)
    return 1.0 if i == 0 and stop is not None else 0.0


def _arange_vjp(i):
    def maker(ans, start, stop=None, step=None, *args, **kwargs):
        x = (start, stop, step)[i]
        if not _inexact(ans):
            return _zero_vjp(ans, x)
        w = _arange_weight(ans, i, stop)
        return lambda g: _as_input(np.reshape(np.sum(g * w, axis=-1), shape(g)[:-1] + shape(x)), x)

    return maker


def _arange_jvp(i):
    def rule(t, ans, start, stop=None, step=None, *args, **kwargs):
        x = (start, stop, step)[i]
        if not _inexact(ans):
            return _zero_jvp(t, ans, x)
        t = np.reshape(t, shape(t)[: nbatch(t, x)] + (1,))
        return _as_output(t * (_arange_weight(ans, i, stop) * np.ones_like(ans)), ans)

    return rule


defvjp(unp.arange, *(_arange_vjp(i) for i in range(3)))
defjvp(unp.arange, *(_arange_jvp(i) for i in range(3)))

# Piecewise constant (round), boolean (isclose), or independent of every input's values.
defnondiff(_mm.round, _mm.isclose, _mm.empty_like, _mm.empty, _mm.identity, _mm.tri)
# Tests of values or dtypes: boolean arrays, or plain bools (allclose on NumPy, iscomplexobj).
defnondiff(unp.allclose, unp.iscomplex, unp.isreal, unp.iscomplexobj, unp.isrealobj)
