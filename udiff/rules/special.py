"""Rules for SciPy's special functions (``udiff.scipy.special``).

Derivatives are written with the special functions themselves, called through
``udiff._machinery.dispatch.call`` (which runs them on the array's own library, or records them on
DiffArrays), so every rule differentiates again: ``gammaln' = digamma``,
``digamma' = polygamma(1, .)``, ``iv'(v, .) = (iv(v - 1, .) + iv(v + 1, .)) / 2``...

Arguments with no closed-form derivative (orders, shape parameters) raise an
error naming the function and the argument when a derivative with respect to
them is asked; passed as constants, they are constants.
"""
import math

import numpy as np

from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defnondiff, defvjp
from ..scipy import special as sps
from ._helpers import (
    broadcast_tangent,
    from_end,
    nbatch,
    ndim,
    normalize_axes,
    pad_rank,
    shape,
    unbroadcast,
    unbroadcast_to,
)

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _f(func):
    """``func`` (a function of udiff.scipy.special) on raw arrays or DiffArrays, no dispatch."""
    return lambda *args: call(func.key, *args)


psi, polygamma = _f(sps.digamma), _f(sps.polygamma)
gamma, rgamma = _f(sps.gamma), _f(sps.rgamma)
gammaln, betaln = _f(sps.gammaln), _f(sps.betaln)
expit, erfcx, xlogy, xlog1py = _f(sps.expit), _f(sps.erfcx), _f(sps.xlogy), _f(sps.xlog1py)
i0, i1, iv, ive, zeta = _f(sps.i0), _f(sps.i1), _f(sps.iv), _f(sps.ive), _f(sps.zeta)
j0, j1, jv, y0, y1, yn = _f(sps.j0), _f(sps.j1), _f(sps.jv), _f(sps.y0), _f(sps.y1), _f(sps.yn)


def _constant(func, argname, reason):
    """A rule for an argument with no derivative udiff can give: it raises, naming both."""
    message = (f"udiff cannot differentiate scipy.special.{func.__name__} with respect to "
               f"{argname}: {reason}; pass {argname} as a constant")

    def refuse(*args, **kwargs):
        raise NotImplementedError(message)

    return refuse


def _log_ndtr_derivative(ans, x):
    """pdf / cdf, stable in both tails and to second order.

    For x < 0, sqrt(2 / pi) / erfcx(-x / sqrt 2) (no underflow of pdf or cdf);
    for x >= 0, exp(-x**2 / 2 - log_ndtr(x)) / sqrt(2 pi), whose derivative
    -r (x + r) stays finite where erfcx(-x / sqrt 2) overflows.  Each branch
    is evaluated only where it is finite (the "double where").
    """
    negative = x < 0
    far = x < _LOG_NDTR_FAR
    middle = negative & ~far
    left = math.sqrt(2.0 / math.pi) / erfcx(-np.where(middle, x, 0.0) / _SQRT_2)
    right = np.exp(-0.5 * x * x - np.where(negative, 0.0, ans)) / _SQRT_2PI
    return np.where(far, _inverse_mills(np.where(far, -x, 1.0)),
                    np.where(negative, left, right))


# Below it, log_ndtr's derivative is the asymptotic series of the inverse Mills ratio: erfcx's
# derivative 2 x erfcx(x) - 2 / sqrt(pi) cancels there (4e-7 of the second derivative at -1e5).
_LOG_NDTR_FAR = -100.0


def _inverse_mills(t):
    """pdf(t) / sf(t) = t + 1/t - 2/t^3 + 10/t^5 - 74/t^7 + 706/t^9 for t >= 100 (the next term,
    -8162/t^11, is 1e-20 of it), with its derivatives."""
    u = 1.0 / (t * t)
    return t + (1.0 + u * (-2.0 + u * (10.0 + u * (-74.0 + u * 706.0)))) / t


def _nan_where(mask, x, value):
    """``value``, NaN where ``mask``: a NaN whose derivatives in ``x`` are NaN at every order
    (NaN times ``tanh(x)``, masked: a constant NaN would have derivative 0)."""
    return np.where(mask, np.nan * np.tanh(np.where(mask, x, 0.0)), value)


def _rgamma_derivative(ans, z):
    """``-rgamma(z) psi(z)``; at the poles ``z = -n`` (where ``psi`` is infinite) the expansion
    ``rgamma(-n + e) = (-1)^n n! e (1 - psi(n + 1) e + ...)``: slope ``(-1)^n n!``, and its
    derivative ``-2 (-1)^n n! psi(n + 1)`` (``e = z - floor(z)``, 0 with derivative 1)."""
    pole = (z <= 0) & (np.floor(z) == z)
    zp = np.where(pole, z, 0.0)
    n = -np.floor(zp)  # a constant: floor's derivative is 0
    sign = np.where(np.remainder(n, 2.0) == 0, 1.0, -1.0)
    at_pole = sign * gamma(n + 1.0) * (1.0 - 2.0 * psi(n + 1.0) * (zp + n))
    zr = np.where(pole, 0.5, z)
    return np.where(pole, at_pole, -np.where(pole, 0.0, ans) * psi(zr))


def _entr_derivative(ans, x):
    """``-(log(x) + 1)``; NaN below 0, where ``entr`` is ``-inf``, at every order (PyTorch's NaN;
    JAX gives NaN in reverse mode and 0 in forward mode)."""
    negative = x < 0
    return _nan_where(negative, x, -(np.log(np.where(negative, 1.0, x)) + 1.0))


# -- elementwise: partial derivatives written with ans and the arguments ------------------------
def _real_only(name, deriv):
    """``deriv``, refusing complex arguments (the function is not holomorphic there)."""
    def d(ans, *args):
        if any(np.dtype(getattr(a, "dtype", float)).kind == "c" for a in args):
            raise NotImplementedError(f"udiff cannot differentiate scipy.special.{name} at "
                                      "complex arguments: it is not holomorphic")
        return deriv(ans, *args)

    return d


def _zero_where_x_is_zero(x, value):
    """``value`` where ``x != 0``, else 0 (``x log y`` is 0 along ``y`` where ``x == 0``)."""
    return np.where(x == 0, 0.0, value)


def _safe_y(x, y, shift=0.0):
    """``y + shift`` with 1 where ``x == 0``, so that dividing by it is safe there."""
    return np.where(x == 0, 1.0, y + shift)


def _betainc_dx(ans, a, b, x):
    # x^(a-1) (1-x)^(b-1) / B(a, b), in logs; xlogy keeps 0 log 0 = 0
    return np.exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))


def _gammainc_dx(ans, a, x):
    return np.exp(xlogy(a - 1.0, x) - x - gammaln(a))


def _ive_dz(ans, v, z):
    # ive(v, z) = iv(v, z) exp(-|z|) for real z
    return (ive(v - 1.0, z) + ive(v + 1.0, z)) / 2.0 - np.sign(z) * ans


_ELEMENTWISE = {
    # one entry per argument: a derivative, or a (argument name, reason) it cannot have
    sps.erf: (lambda ans, x: (2.0 / _SQRT_PI) * np.exp(-x * x),),
    sps.erfc: (lambda ans, x: (-2.0 / _SQRT_PI) * np.exp(-x * x),),
    sps.erfinv: (lambda ans, y: (_SQRT_PI / 2.0) * np.exp(ans * ans),),
    sps.erfcinv: (lambda ans, y: (-_SQRT_PI / 2.0) * np.exp(ans * ans),),
    sps.erfcx: (lambda ans, x: 2.0 * x * ans - 2.0 / _SQRT_PI,),
    # expit(x) expit(-x), not ans (1 - ans): accurate where expit(x) rounds to 1
    sps.expit: (lambda ans, x: expit(x) * expit(-x),),
    sps.logit: (lambda ans, x: 1.0 / (x * (1.0 - x)),),
    sps.gamma: (lambda ans, z: ans * psi(z),),
    sps.gammaln: (lambda ans, x: psi(x),),
    sps.rgamma: (_rgamma_derivative,),
    sps.digamma: (lambda ans, z: polygamma(1, z),),
    sps.psi: (lambda ans, z: polygamma(1, z),),
    sps.i0: (lambda ans, x: i1(x),),
    sps.i1: (lambda ans, x: (i0(x) + iv(2.0, x)) / 2.0,),  # i0 - i1 / x, without 1 / x
    sps.j0: (lambda ans, x: -j1(x),),
    sps.j1: (lambda ans, x: (j0(x) - jv(2.0, x)) / 2.0,),
    sps.y0: (lambda ans, x: -y1(x),),
    sps.y1: (lambda ans, x: (y0(x) - yn(2, x)) / 2.0,),
    sps.entr: (_entr_derivative,),
    sps.ndtr: (lambda ans, x: np.exp(-0.5 * x * x) / _SQRT_2PI,),
    sps.ndtri: (lambda ans, y: _SQRT_2PI * np.exp(0.5 * ans * ans),),
    sps.log_ndtr: (_log_ndtr_derivative,),
    sps.beta: (lambda ans, a, b: ans * (psi(a) - psi(a + b)),
               lambda ans, a, b: ans * (psi(b) - psi(a + b))),
    sps.betaln: (lambda ans, a, b: psi(a) - psi(a + b), lambda ans, a, b: psi(b) - psi(a + b)),
    sps.betainc: (("a", "the derivative in a shape parameter has no closed form"),
                  ("b", "the derivative in a shape parameter has no closed form"),
                  _betainc_dx),
    sps.gammainc: (("a", "the derivative in the shape parameter has no closed form"),
                   _gammainc_dx),
    sps.gammaincc: (("a", "the derivative in the shape parameter has no closed form"),
                    lambda ans, a, x: -_gammainc_dx(ans, a, x)),
    sps.iv: (("v", "the derivative in the order has no closed form"),
             lambda ans, v, z: (iv(v - 1.0, z) + iv(v + 1.0, z)) / 2.0),
    sps.ive: (("v", "the derivative in the order has no closed form"),
              _real_only("ive", _ive_dz)),
    sps.jv: (("v", "the derivative in the order has no closed form"),
             lambda ans, v, z: (jv(v - 1.0, z) - jv(v + 1.0, z)) / 2.0),
    sps.jn: (("n", "the derivative in the order has no closed form"),
             lambda ans, n, x: (jv(n - 1.0, x) - jv(n + 1.0, x)) / 2.0),
    sps.yn: (("n", "the order is an integer"),
             lambda ans, n, x: (yn(n - 1, x) - yn(n + 1, x)) / 2.0),
    sps.polygamma: (("n", "the order is an integer"),
                    lambda ans, n, x: polygamma(n + 1, x)),
    # Hurwitz zeta: d/dq sum_k (k + q)^-x = -x sum_k (k + q)^-(x + 1)
    sps.zeta: (("x", "the derivative in the exponent has no closed form"),
               lambda ans, x, q: -x * zeta(x + 1.0, q)),
    # x log(y) is 0 along y where x == 0, and y's derivative 0 there (even at y == 0)
    sps.xlogy: (lambda ans, x, y: np.log(y),
                lambda ans, x, y: _zero_where_x_is_zero(x, x / _safe_y(x, y))),
    sps.xlog1py: (lambda ans, x, y: np.log1p(y),
                  lambda ans, x, y: _zero_where_x_is_zero(x, x / _safe_y(x, y, 1.0))),
}


def _cast(value, like):
    """``value`` in ``like``'s floating dtype: SciPy computes some functions of float32
    in float64 (``polygamma``), but a float32 variable gets a float32 derivative."""
    dtype = np.dtype(like.dtype)
    if dtype.kind not in "fc" or np.dtype(value.dtype) == dtype:
        return value
    return value.astype(dtype)


def _nan_where_nan(deriv, argnum):
    """``deriv``, NaN where the function's value is NaN (``gammainc`` at ``x < 0``, ``betainc``
    outside ``[0, 1]``...), in every order: no finite slope for an undefined value."""
    def d(ans, *args):
        undefined = np.isnan(ans)
        return _nan_where(undefined, args[argnum], deriv(ans, *args))

    return d


def _vjp(deriv, argnum):
    deriv = _nan_where_nan(deriv, argnum)

    def maker(ans, *args, **kwargs):
        x = args[argnum]
        return lambda g: _cast(unbroadcast(g * deriv(ans, *args), ans, x), x)

    return maker


def _jvp(deriv, argnum):
    deriv = _nan_where_nan(deriv, argnum)

    def rule(t, ans, *args, **kwargs):
        return _cast(broadcast_tangent(t, args[argnum], ans) * deriv(ans, *args), ans)

    return rule


def _def_elementwise(func, derivs):
    makers, rules = [], []
    for i, d in enumerate(derivs):
        if isinstance(d, tuple):
            makers.append(_constant(func, *d))
            rules.append(_constant(func, *d))
        else:
            makers.append(_vjp(d, i))
            rules.append(_jvp(d, i))
    defvjp(func, *makers)
    defjvp(func, *rules)


for _func, _derivs in _ELEMENTWISE.items():
    _def_elementwise(_func, _derivs)

defnondiff(sps.gammasgn)  # the sign of gamma: piecewise constant


# multigammaln(a, d) = sum_j gammaln(a - j / 2) + const: its derivative sums digammas
def _multigammaln_da(a, d):
    return sum(psi(a - 0.5 * j) for j in range(int(d)))


_D_INTEGER = ("d", "the dimension is an integer")
defvjp(sps.multigammaln, lambda ans, a, d: lambda g: _cast(g * _multigammaln_da(a, d), a),
       _constant(sps.multigammaln, *_D_INTEGER))
defjvp(sps.multigammaln, lambda t, ans, a, d: _cast(t * _multigammaln_da(a, d), ans),
       _constant(sps.multigammaln, *_D_INTEGER))


# -- softmax and log_softmax, along axes addressed from the end ----------------------------------
def _end_axes(x, axis):
    return from_end(normalize_axes(axis, ndim(x)), ndim(x))


def _softmax_vjp(ans, x, axis=None):
    axes = _end_axes(x, axis)
    return lambda g: ans * (g - np.sum(g * ans, axis=axes, keepdims=True))


def _softmax_jvp(t, ans, x, axis=None):
    return ans * (t - np.sum(t * ans, axis=_end_axes(x, axis), keepdims=True))


def _log_softmax_vjp(ans, x, axis=None):
    axes = _end_axes(x, axis)
    return lambda g: g - np.exp(ans) * np.sum(g, axis=axes, keepdims=True)


def _log_softmax_jvp(t, ans, x, axis=None):
    return t - np.sum(t * np.exp(ans), axis=_end_axes(x, axis), keepdims=True)


defvjp(sps.softmax, _softmax_vjp)
defjvp(sps.softmax, _softmax_jvp)
defvjp(sps.log_softmax, _log_softmax_vjp)
defjvp(sps.log_softmax, _log_softmax_jvp)


# -- logsumexp(a, axis, b, keepdims, return_sign) -----------------------------------------------
class _LogSumExp:
    """The pieces of logsumexp's derivatives at one point.

    With ``S = sum(b exp(a))`` and ``out = log|S|``, ``d out / d a = b exp(a) / S``
    and ``d out / d b = exp(a) / S``, where ``1 / S = sign(S) exp(-out)``.

    * Where every term is zero (every ``a`` is ``-inf`` or every ``b`` 0: the
      log-semiring's empty sum) the derivative is 0: the shift by ``out = -inf``
      is replaced by 0 there, so that no ``-inf - -inf`` is formed.
    * A term whose weight ``b`` is 0 is dropped, as SciPy drops it even where
      ``a`` is infinite: its derivative in ``a`` is 0 (masked before ``exp``, so
      that higher derivatives are 0 too).
    * Where nonzero terms cancel (``S == 0``), ``log|S|`` is ``-inf`` with an
      unbounded derivative: NaN.
    """

    def __init__(self, ans, a, axis, b, keepdims, return_sign):
        if return_sign and np.dtype(ans.dtype).kind == "c":
            raise NotImplementedError(
                "udiff cannot differentiate scipy.special.logsumexp(return_sign=True) at "
                "complex arguments: log|S| is not holomorphic")
        full = shape(a) if b is None else np.broadcast_shapes(shape(a), shape(b))
        self.nd = max(1, len(full))  # SciPy reduces a 0-d array as a 1-d one
        self.axes = from_end(normalize_axes(axis, self.nd), self.nd)
        self.keepdims = keepdims
        out = ans if keepdims else np.expand_dims(ans, self.axes)
        out = np.where(out == -np.inf, 0.0, out)
        self.e = np.exp(a - out)  # exp(a) / |S|
        if b is None:
            self.wa = self.e
            return
        self.wa = b * np.exp(np.where(b == 0, -np.inf, a) - out)
        s = np.sum(self.wa, axis=self.axes, keepdims=True)  # sign(S), or 0
        cancelled = s == 0
        sign = np.sign(s) if return_sign else 1.0  # without it, out is NaN where S < 0
        self.wa = np.where(cancelled, np.where(self.wa == 0, 0.0, np.nan), self.wa * sign)
        self.e = np.where(cancelled, np.nan, self.e * sign)

    def expand(self, g):
        return g if self.keepdims else np.expand_dims(g, self.axes)

    def reduce(self, t):
        return np.sum(t, axis=self.axes, keepdims=self.keepdims)


def _lse_vjp(argnum):
    def maker(ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        lse = _LogSumExp(ans, a, axis, b, keepdims, return_sign)
        w = lse.wa if argnum == 0 else lse.e
        x = a if argnum == 0 else b
        return lambda g: _cast(unbroadcast_to(lse.expand(g) * w, nbatch(g, ans), shape(x)), x)

    return maker


def _lse_jvp(argnum):
    def rule(t, ans, a, axis=None, b=None, keepdims=False, return_sign=False):
        lse = _LogSumExp(ans, a, axis, b, keepdims, return_sign)
        w = lse.wa if argnum == 0 else lse.e
        x = a if argnum == 0 else b
        return _cast(lse.reduce(pad_rank(t, ndim(t) - ndim(x), lse.nd) * w), ans)

    return rule


for _key in (sps.logsumexp, (sps.logsumexp, 0)):  # (.., 0): the log of (out, sign)
    defvjp(_key, _lse_vjp(0), _lse_vjp(2), argnums=(0, 2))
    defjvp(_key, _lse_jvp(0), _lse_jvp(2), argnums=(0, 2))
defnondiff((sps.logsumexp, 1))
