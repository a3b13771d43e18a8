"""Rules for elementwise functions that are not ufuncs: real, imag, angle,
sinc, copy; and the constants (creation functions, rounding, comparisons).

Complex convention (autograd's and JAX's): the cotangent of a complex input
is ``dL/dx - i dL/dy``, so for holomorphic functions the VJP is ``g * f'(z)``.
"""
import math

import numpy as np

from .. import _multimethods as _mm
from .._registry import defjvp, defnondiff, defvjp


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
defvjp(_mm.imag, lambda ans, x: lambda g: _match(x, -1j * np.real(g)))
defjvp(_mm.imag, lambda t, ans, x: np.imag(t))


def _abs2(x):
    return np.real(x * np.conj(x))


def _angle_scale(deg):
    return 180.0 / math.pi if deg else 1.0


def _angle_vjp(ans, z, deg=False):
    def vjp(g):
        r2 = _abs2(z)
        c = g * _angle_scale(deg) * (-1j * np.conj(z)) / np.where(r2 == 0, 1.0, r2)
        return _match(z, c)

    return vjp


def _angle_jvp(t, ans, z, deg=False):
    r2 = _abs2(z)
    return _angle_scale(deg) * np.imag(np.conj(z) * t) / np.where(r2 == 0, 1.0, r2)


defvjp(_mm.angle, _angle_vjp)
defjvp(_mm.angle, _angle_jvp)


def _sinc_deriv(ans, x):
    # d/dx sin(pi x)/(pi x) = (cos(pi x) - sinc(x)) / x, which tends to 0 at x = 0
    zero = x == 0
    return np.where(zero, 0.0, (np.cos(math.pi * x) - ans) / np.where(zero, 1.0, x))


defvjp(_mm.sinc, lambda ans, x: lambda g: g * _sinc_deriv(ans, x))
defjvp(_mm.sinc, lambda t, ans, x: t * _sinc_deriv(ans, x))
defvjp(_mm.copy, lambda ans, x, *a, **k: lambda g: g)
defjvp(_mm.copy, lambda t, ans, x, *a, **k: t)

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

defnondiff(
    _mm.round, _mm.isclose, _mm.full_like, _mm.empty_like, _mm.empty, _mm.linspace,
    _mm.logspace, _mm.identity, _mm.tri,
)
