"""Rules for NumPy's universal functions (elementwise, with broadcasting).

Complex numbers follow autograd's and JAX's convention: a VJP is the
transpose (not the conjugate transpose) of the Jacobian, so for a
holomorphic ``f`` the cotangent is ``g * f'(z)``.
"""
import math

import numpy as np

from ..numpy import _from_signatures as unp
from .._machinery.registry import defjvp, defnondiff, defvjp
from ._helpers import (
    broadcast_tangent,
    nbatch,
    ndim,
    pad_rank,
    shape,
    times,
    unbroadcast,
    unbroadcast_to,
    weights_like,
    zeros_cotangent,
)


def _safe(a, bad, fill):
    """``a`` with entries where ``bad`` holds replaced by ``fill``."""
    return np.where(bad, fill, a)


# -- unary: f'(x) written with x and ans -------------------------------------
_UNARY = {
    unp.exp: lambda ans, x: ans,
    unp.exp2: lambda ans, x: ans * math.log(2.0),
    unp.expm1: lambda ans, x: ans + 1.0,
    unp.log: lambda ans, x: 1.0 / x,
    unp.log2: lambda ans, x: 1.0 / (x * math.log(2.0)),
    unp.log10: lambda ans, x: 1.0 / (x * math.log(10.0)),
    unp.log1p: lambda ans, x: 1.0 / (x + 1.0),
    unp.sqrt: lambda ans, x: 0.5 / ans,
    unp.cbrt: lambda ans, x: 1.0 / (3.0 * ans * ans),
    unp.square: lambda ans, x: 2.0 * x,
    unp.reciprocal: lambda ans, x: -ans * ans,
    unp.sin: lambda ans, x: np.cos(x),
    unp.cos: lambda ans, x: -np.sin(x),
    unp.tan: lambda ans, x: 1.0 + ans * ans,
    unp.arcsin: lambda ans, x: 1.0 / np.sqrt(1.0 - x * x),
    unp.arccos: lambda ans, x: -1.0 / np.sqrt(1.0 - x * x),
    unp.arctan: lambda ans, x: 1.0 / (1.0 + x * x),
    unp.sinh: lambda ans, x: np.cosh(x),
    unp.cosh: lambda ans, x: np.sinh(x),
    unp.tanh: lambda ans, x: 1.0 - ans * ans,
    unp.arcsinh: lambda ans, x: 1.0 / np.sqrt(x * x + 1.0),
    unp.arccosh: lambda ans, x: 1.0 / np.sqrt(x * x - 1.0),
    unp.arctanh: lambda ans, x: 1.0 / (1.0 - x * x),
}


def _def_unary(func, deriv):
    defvjp(func, lambda ans, x: lambda g: times(g, deriv(ans, x)))
    defjvp(func, lambda t, ans, x: times(t, deriv(ans, x)))


for _func, _deriv in _UNARY.items():
    _def_unary(_func, _deriv)

# Linear unary functions: the rule is the function itself (or a constant multiple).
for _func, _scale in [(unp.negative, -1.0), (unp.positive, 1.0),
                      (unp.deg2rad, math.pi / 180.0), (unp.rad2deg, 180.0 / math.pi)]:
    defvjp(_func, lambda ans, x, s=_scale: lambda g: g * s)
    defjvp(_func, lambda t, ans, x, s=_scale: t * s)

defvjp(unp.conj, lambda ans, x: lambda g: np.conj(g))
defjvp(unp.conj, lambda t, ans, x: np.conj(t))


def _abs_vjp(ans, x):
    # d|x| = conj(x)/|x|; 0 at x == 0 (a subgradient), never NaN.  |x| is real, so only the
    # real part of its cotangent carries a derivative (complex rules may leave an imaginary one).
    return lambda g: _real_part(g) * np.conj(x) / _safe(ans, ans == 0, 1.0)


def _real_part(g):
    return np.real(g) if np.dtype(g.dtype).kind == "c" else g


def _abs_jvp(t, ans, x):
    return np.real(np.conj(x) * t) / _safe(ans, ans == 0, 1.0)


for _func in (unp.absolute, unp.fabs):
    defvjp(_func, _abs_vjp)
    defjvp(_func, _abs_jvp)


# sign: steps for real x (derivative 0); z / |z| for complex z, whose derivative is
# t / |z| - z Re(conj(z) t) / |z|^3 (0 at z == 0, like abs).
def _sign_vjp(ans, x):
    if np.dtype(x.dtype).kind != "c":
        return lambda g: np.zeros_like(g)
    r = _safe(np.absolute(x), x == 0, np.inf)
    return lambda g: g / r - np.real(g * x) * np.conj(x) / r ** 3


def _sign_jvp(t, ans, x):
    if np.dtype(x.dtype).kind != "c":
        return np.zeros_like(t)
    r = _safe(np.absolute(x), x == 0, np.inf)
    return t / r - x * np.real(np.conj(x) * t) / r ** 3


defvjp(unp.sign, _sign_vjp)
defjvp(unp.sign, _sign_jvp)


# -- binary: partial derivatives written with ans, x, y ------------------------
def _ge_weight(a, b, ans):
    """Weight of ``a`` in max/min-like selections: 1 if chosen, 1/2 on ties."""
    return weights_like(np.where(a == ans, np.where(b == ans, 0.5, 1.0), 0.0), ans)


def _share(a, b, exp, cap):
    """``exp(a) / (exp(a) + exp(b))``, the derivative of ``logaddexp`` in ``a``.

    Written as ``1 / (1 + exp(b - a))``: accurate in both tails, never
    overflowing (the exponent is capped where the result is 0 anyway), and
    free of ``logaddexp``'s own result, so a gradient graph need not compute it.
    """
    return 1.0 / (1.0 + exp(np.minimum(b - a, cap)))


def _exp_cap(log_max):
    """The largest exponent (in ``log_max`` units) whose power is finite in ``a``'s and ``b``'s dtype."""
    def share(a, b, exp):
        dtype = np.result_type(getattr(a, "dtype", np.float64), getattr(b, "dtype", np.float64))
        finfo = np.finfo(dtype if dtype.kind in "fc" else np.float64)
        return _share(a, b, exp, float(log_max(finfo.max)) - 1.0)

    return share


_share_e, _share_2 = _exp_cap(np.log), _exp_cap(np.log2)


def _pow_dx(ans, x, y):
    # y x^(y-1); at x == 0 with y == 0 that is 0 * 0^-1: x^0 is the constant 1 there, so
    # its derivative is 0 (autograd, PyTorch; JAX for integer exponents).
    if not hasattr(y, "shape"):  # a Python number
        if y == 2:  # x ** 2, the common case: one operation instead of two
            return 2.0 * x
        return y * np.power(x, y - 1.0) if y != 0 else np.zeros_like(x)
    return y * np.power(x, np.where((y == 0) & (x == 0), 1.0, y) - 1.0)


def _pow_dy(ans, x, y):
    return ans * np.log(_safe(x, x == 0, 1.0))


def _one(ans, x, y):
    return 1.0


_BINARY = {
    unp.add: (_one, _one),
    unp.subtract: (_one, lambda ans, x, y: -1.0),
    unp.multiply: (lambda ans, x, y: y, lambda ans, x, y: x),
    unp.divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y),
    unp.true_divide: (lambda ans, x, y: 1.0 / y, lambda ans, x, y: -ans / y),
    unp.power: (_pow_dx, _pow_dy),
    unp.logaddexp: (lambda ans, x, y: _share_e(x, y, np.exp),
                    lambda ans, x, y: _share_e(y, x, np.exp)),
    unp.logaddexp2: (lambda ans, x, y: _share_2(x, y, np.exp2),
                     lambda ans, x, y: _share_2(y, x, np.exp2)),
    unp.maximum: (lambda ans, x, y: _ge_weight(x, y, ans), lambda ans, x, y: _ge_weight(y, x, ans)),
    unp.minimum: (lambda ans, x, y: _ge_weight(x, y, ans), lambda ans, x, y: _ge_weight(y, x, ans)),
    unp.fmax: (lambda ans, x, y: _ge_weight(x, y, ans), lambda ans, x, y: _ge_weight(y, x, ans)),
    unp.fmin: (lambda ans, x, y: _ge_weight(x, y, ans), lambda ans, x, y: _ge_weight(y, x, ans)),
    unp.arctan2: (lambda ans, x, y: y / (x * x + y * y), lambda ans, x, y: -x / (x * x + y * y)),
    unp.hypot: (lambda ans, x, y: x / ans, lambda ans, x, y: y / ans),
    unp.remainder: (_one, lambda ans, x, y: -np.floor_divide(x, y)),
    unp.mod: (_one, lambda ans, x, y: -np.floor_divide(x, y)),
    unp.fmod: (_one, lambda ans, x, y: -np.trunc(x / y)),
    # nextafter(x, y) is x moved by one unit in the last place: x plus a piecewise constant.
    unp.nextafter: (_one, lambda ans, x, y: 0.0),
}


def _scaled_vjp(deriv, argnum):
    if deriv is _one:  # the cotangent itself, summed to the input's shape (add, subtract)
        if argnum == 0:
            return lambda ans, x, y: lambda g: unbroadcast(g, ans, x)
        return lambda ans, x, y: lambda g: unbroadcast(g, ans, y)

    def maker(ans, x, y):
        other = (x, y)[argnum]

        def vjp(g):
            return unbroadcast(times(g, deriv(ans, x, y)), ans, other)

        return vjp

    return maker


def _scaled_jvp(deriv, argnum):
    def rule(t, ans, x, y):
        # Broadcast first: the batch axes are found from t's rank against its input's.
        return times(broadcast_tangent(t, (x, y)[argnum], ans), deriv(ans, x, y))

    return rule


def _def_binary(func, dx, dy):
    defvjp(func, _scaled_vjp(dx, 0), _scaled_vjp(dy, 1))
    defjvp(func, _scaled_jvp(dx, 0), _scaled_jvp(dy, 1))


for _func, (_dx, _dy) in _BINARY.items():
    _def_binary(_func, _dx, _dy)

# copysign(x, s) = |x| * sign(s): differentiable in x only.
defvjp(
    unp.copysign,
    lambda ans, x, y: lambda g: unbroadcast(g * np.sign(x) * np.sign(ans), ans, x),
    lambda ans, x, y: lambda g: zeros_cotangent(g, ans, y),
)
defjvp(
    unp.copysign,
    lambda t, ans, x, y: broadcast_tangent(t, x, ans) * (np.sign(x) * np.sign(ans)),
    lambda t, ans, x, y: np.zeros_like(broadcast_tangent(t, y, ans)),
)
# heaviside(x1, x2) is x2 where x1 == 0 and a constant elsewhere: x1 enters piecewise
# constantly, x2 with weight 1 at the zeros of x1.
defvjp(
    unp.heaviside,
    lambda ans, x1, x2: lambda g: zeros_cotangent(g, ans, x1),
    lambda ans, x1, x2: lambda g: unbroadcast(g * (x1 == 0), ans, x2),
)
defjvp(
    unp.heaviside,
    lambda t, ans, x1, x2: np.zeros_like(broadcast_tangent(t, x1, ans)),
    lambda t, ans, x1, x2: broadcast_tangent(t, x2, ans) * (x1 == 0),
)
# ldexp(x, n) = x * 2**n is linear in x; n is an integer exponent.
defvjp(unp.ldexp, lambda ans, x, n: lambda g: unbroadcast(np.ldexp(g, n), ans, x))
defjvp(unp.ldexp, lambda t, ans, x, n: np.ldexp(broadcast_tangent(t, x, ans), n))

# -- ufuncs with two outputs: rules per output ---------------------------------
defvjp((unp.divmod, 1), *(_scaled_vjp(d, i) for i, d in enumerate(_BINARY[unp.remainder])))
defjvp((unp.divmod, 1), *(_scaled_jvp(d, i) for i, d in enumerate(_BINARY[unp.remainder])))
defvjp((unp.modf, 0), lambda ans, x: lambda g: g)
defjvp((unp.modf, 0), lambda t, ans, x: t)
defvjp((unp.frexp, 0), lambda ans, x: lambda g: np.ldexp(g, -np.frexp(x)[1]))
defjvp((unp.frexp, 0), lambda t, ans, x: np.ldexp(t, -np.frexp(x)[1]))
defnondiff((unp.divmod, 0), (unp.modf, 1), (unp.frexp, 1))


# -- matmul, with batch axes on the cotangent/tangent ------------------------------
def _matmul_vjp_x(ans, x, y):
    def vjp(g):
        if type(g) is np.ndarray and type(y) is np.ndarray and g.ndim == y.ndim == ndim(x) == 2:
            return g @ y.T  # (two matrices, no batch axes: the common case, first)
        nb = nbatch(g, ans)
        if ndim(y) == 1:
            if ndim(x) == 1:
                return g[..., None] * y
            return unbroadcast_to(g[..., None] * y, nb, shape(x))
        yt = np.swapaxes(y, -1, -2)
        if ndim(x) == 1:
            if ndim(y) == 2:  # one matrix product for the whole batch
                return np.matmul(g, yt)
            return unbroadcast_to(np.matmul(g[..., None, :], yt)[..., 0, :], nb, shape(x))
        return unbroadcast_to(np.matmul(g, yt), nb, shape(x))

    return vjp


def _matmul_vjp_y(ans, x, y):
    def vjp(g):
        if type(g) is np.ndarray and type(x) is np.ndarray and g.ndim == x.ndim == ndim(y) == 2:
            # (two matrices, no batch axes: the common case, first)  x^T g for a tall
            # result (a weight matrix of more inputs than outputs) as the transpose of
            # g^T x: the same product, which OpenBLAS computes faster with the wide
            # result (784 x 256 from 128 rows: 0.89 of the time; a wide one the other
            # way round is slower, so only tall ones are turned).
            return (g.T @ x).T if x.shape[1] > g.shape[1] else x.T @ g
        nb = nbatch(g, ans)
        if ndim(x) == 1:
            if ndim(y) == 1:
                return g[..., None] * x
            return unbroadcast_to(x[:, None] * g[..., None, :], nb, shape(y))
        if ndim(y) == 1 and ndim(x) == 2:  # one matrix product for the whole batch
            return np.matmul(g, x)
        xt = np.swapaxes(x, -1, -2)
        if ndim(y) == 1:
            return unbroadcast_to(np.matmul(xt, g[..., None])[..., 0], nb, shape(y))
        return unbroadcast_to(np.matmul(xt, g), nb, shape(y))

    return vjp


def _matmul_jvp_x(t, ans, x, y):
    nb = ndim(t) - ndim(x)
    rank = max(ndim(x), ndim(y))
    if ndim(x) == 1:
        if ndim(y) == 1:
            return np.sum(t * y, axis=-1)
        if ndim(y) == 2:  # one matrix product for the whole batch
            return np.matmul(t, y)
        return np.matmul(pad_rank(t[..., None, :], nb, rank), y)[..., 0, :]
    return np.matmul(pad_rank(t, nb, rank), y)


def _matmul_jvp_y(t, ans, x, y):
    nb = ndim(t) - ndim(y)
    rank = max(ndim(x), ndim(y))
    if ndim(y) == 1:
        if ndim(x) == 1:
            return np.sum(x * t, axis=-1)
        if ndim(x) == 2:  # one matrix product for the whole batch
            return np.matmul(t, np.swapaxes(x, -1, -2))
        return np.matmul(x, pad_rank(t[..., None], nb, rank))[..., 0]
    return np.matmul(x, pad_rank(t, nb, rank))


defvjp(unp.matmul, _matmul_vjp_x, _matmul_vjp_y)
defjvp(unp.matmul, _matmul_jvp_x, _matmul_jvp_y)

# -- piecewise-constant or integer-valued: derivative zero or undefined ----------
defnondiff(
    unp.rint, unp.floor, unp.ceil, unp.trunc, unp.floor_divide,
    unp.gcd, unp.lcm, unp.bitwise_and, unp.bitwise_or, unp.bitwise_xor, unp.invert,
    unp.left_shift, unp.right_shift, unp.greater, unp.greater_equal, unp.less,
    unp.less_equal, unp.not_equal, unp.equal, unp.logical_and, unp.logical_or,
    unp.logical_xor, unp.logical_not, unp.isfinite, unp.isinf, unp.isnan, unp.isnat,
    unp.signbit, unp.spacing,
)
