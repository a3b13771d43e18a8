"""Every function of ``udiff.numpy`` computes what NumPy computes.

The rule tests (``test_rules.py``) compare derivatives with finite
differences of udiff's *own* forward function, so a wrong forward value is
never caught there: they differentiate the wrong function correctly.  Here
one table of cases runs every public name of ``udiff.numpy``,
``udiff.numpy.linalg`` and ``udiff.numpy.fft`` under
``DiffArrayBackend(inner)``, on DiffArray leaves, and compares the result's
value, shape and dtype with NumPy's own function (``numpy.<name>``) on the
same NumPy inputs, for the NumPy inner backend and for Dask split into
several chunks on every axis.  A Dask result is checked twice: its lazy
metadata (dtype, and shape where known) and its computed value.

A case is a public name, its positional arguments and its keywords, with
the keyword combinations the rule tables use.  NumPy arrays among the
arguments (also inside lists) become DiffArray leaves (``unp.asarray``);
everything else is passed as it is.  ``test_every_public_name_has_a_case``
fails when a public name has neither a case nor an entry in
``NOT_ARRAY_FUNCTIONS``.
"""
import warnings
from typing import Callable, NamedTuple

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as unp

from conftest import chunked, compute

_rng = numpy.random.default_rng(8)


# -- inputs: NumPy arrays, made once (the table is fixed) --------------------------------------
def F(*shape, lo=-2.0, hi=2.0, dtype=numpy.float64):
    """Uniform reals in (lo, hi)."""
    return _rng.uniform(lo, hi, shape).astype(dtype)


def F32(*shape, **kwargs):
    return F(*shape, dtype=numpy.float32, **kwargs)


def P(*shape, dtype=numpy.float64):
    """Positive: (0.5, 2)."""
    return F(*shape, lo=0.5, hi=2.0, dtype=dtype)


def U(*shape, dtype=numpy.float64):
    """In (-0.9, 0.9): arcsin, arccos, arctanh."""
    return F(*shape, lo=-0.9, hi=0.9, dtype=dtype)


def G(*shape, dtype=numpy.float64):
    """In (1.2, 3): arccosh."""
    return F(*shape, lo=1.2, hi=3.0, dtype=dtype)


def I(*shape, lo=-3, hi=4, dtype=numpy.int64):
    """Integers in [lo, hi)."""
    return _rng.integers(lo, hi, shape).astype(dtype)


def B(*shape):
    """Booleans."""
    return _rng.random(shape) > 0.5


def C(*shape):
    """Complex."""
    return F(*shape) + 1j * F(*shape)


def D(*shape, dtype=numpy.float64):
    """Distinct reals (no ties for sorting, max, median)."""
    n = int(numpy.prod(shape, dtype=int))
    return _rng.permutation(numpy.arange(n) * 0.5 - 0.25 * n).reshape(shape).astype(dtype)


def N(*shape, nans=(1,), dtype=numpy.float64):
    """Reals with NaN at the flat positions ``nans``."""
    a = F(*shape, dtype=dtype)
    a.flat[list(nans)] = numpy.nan
    return a


SPECIAL = numpy.array([-numpy.inf, -1.5, -0.0, 0.0, 0.5, 1.0, 2.5, numpy.inf, numpy.nan])


def well_conditioned(*shape):
    n = shape[-1]
    return F(*shape) + 3.0 * numpy.eye(n)


def spd(*shape):
    a = F(*shape)
    return a @ numpy.swapaxes(a, -1, -2) + shape[-1] * numpy.eye(shape[-1])


# -- the table ---------------------------------------------------------------------------------
class Case(NamedTuple):
    name: str  # the public name: "sum", "linalg.norm", "fft.rfft"
    label: str
    args: tuple
    kwargs: dict
    ref: Callable = None  # NumPy's function, where NumPy has none of that name
    dask: str = None  # Dask lacks the function: the NotImplementedError message (a regex)
    xfail: dict = None  # inner backend name -> a known bug (strict xfail)
    rtol: float = None  # for float64 results (float32: 1e-5 unless given)
    values: bool = True  # False: only shape and dtype (empty)

    @property
    def id(self):
        return f"{self.name}[{self.label}]"


CASES = []


def _describe(v):
    if isinstance(v, numpy.ndarray):
        return f"{v.dtype.str[1:]}{'x'.join(map(str, v.shape)) or '0d'}"
    if isinstance(v, list) and any(isinstance(x, numpy.ndarray) for x in v):
        return "[" + ",".join(map(_describe, v)) + "]"
    return repr(v).replace(" ", "")


def case(name, *args, kw=None, label=None, **options):
    kw = kw or {}
    if label is None:
        label = "_".join([_describe(a) for a in args] + [f"{k}={_describe(v)}" for k, v in kw.items()])
    ids = {c.id for c in CASES}
    base, k = label, 2
    while f"{name}[{label}]" in ids:
        label, k = f"{base}#{k}", k + 1
    CASES.append(Case(name, label, args, kw, **options))


# -- ufuncs ----------------------------------------------------------------------------------
# Unary float ufuncs, by domain.  Each gets float64 (3, 4), float32 in a rotating shape
# (0-d, size-1, size-0, vector) and integers (NumPy promotes them to float64 or keeps them).
UNARY = {
    "abs": F, "absolute": F, "fabs": F, "negative": F, "positive": F, "square": F,
    "sign": F, "cbrt": F, "ceil": F, "floor": F, "rint": F, "trunc": F, "conj": F,
    "conjugate": F, "cos": F, "sin": F, "tan": U, "cosh": F, "sinh": F, "tanh": F,
    "arctan": F, "atan": F, "arcsinh": F, "asinh": F, "arcsin": U, "asin": U, "arccos": U,
    "acos": U, "arctanh": U, "atanh": U, "arccosh": G, "acosh": G, "deg2rad": F,
    "radians": F, "rad2deg": F, "degrees": F, "exp": F, "exp2": F, "expm1": F, "log": P,
    "log2": P, "log10": P, "log1p": P, "sqrt": P, "reciprocal": P, "spacing": F,
}
_ROTATE = [(), (1, 1), (0, 3), (5,)]
_INT_RANGE = {F: (-2, 3), U: (0, 1), G: (2, 4), P: (1, 4)}
for _k, (_name, _dom) in enumerate(UNARY.items()):
    case(_name, _dom(3, 4))
    case(_name, _dom(*_ROTATE[_k % 4], dtype=numpy.float32))
    if _name != "reciprocal":  # NumPy's reciprocal of an integer is integer division
        case(_name, I(2, 3, lo=_INT_RANGE[_dom][0], hi=_INT_RANGE[_dom][1]))
for _name in ("abs", "negative", "square", "sign", "conj", "exp", "sqrt", "positive"):
    case(_name, C(3, 2))
for _name in ("isfinite", "isinf", "isnan", "signbit", "sign", "spacing", "logical_not", "abs",
              "floor", "exp", "rint"):
    case(_name, SPECIAL)
for _name in ("isfinite", "isinf", "isnan", "signbit", "logical_not"):
    case(_name, F32(3, 4))
    case(_name, I(3, 1))
    case(_name, numpy.float64(0.5) * numpy.ones(()))
case("logical_not", B(3, 2))
for _name in ("bitwise_not", "invert"):
    case(_name, I(3, 4))
    case(_name, I(3, lo=0, hi=200, dtype=numpy.uint8))
    case(_name, B(2, 3))
case("isnat", numpy.array(["2020-01-01", "NaT", "2021-03-04"], dtype="datetime64[D]"))
for _name in ("frexp", "modf"):
    case(_name, F(3, 4))
    case(_name, F32(2))
    case(_name, SPECIAL)
case("modf", F(), label="0d")

# Binary ufuncs: broadcast float64 pair, float32 with a 0-d float32, float32 with a Python
# float (stays float32), float32 with float64 (float64), integers.
BINARY = {
    "add": (F, F), "subtract": (F, F), "multiply": (F, F), "divide": (F, P),
    "true_divide": (F, P), "floor_divide": (F, P), "power": (P, F), "pow": (P, F),
    "remainder": (F, P), "mod": (F, P), "fmod": (F, P), "copysign": (F, F),
    "arctan2": (F, F), "atan2": (F, F), "hypot": (F, F), "logaddexp": (F, F),
    "logaddexp2": (F, F), "maximum": (F, F), "minimum": (F, F), "fmax": (F, F),
    "fmin": (F, F), "heaviside": (F, F), "nextafter": (F, F), "equal": (I, I),
    "not_equal": (I, I), "greater": (F, F), "greater_equal": (I, I), "less": (F, F),
    "less_equal": (I, I), "logical_and": (F, F), "logical_or": (F, F), "logical_xor": (F, F),
}
for _name, (_dx, _dy) in BINARY.items():
    case(_name, _dx(3, 1), _dy(1, 4))
    case(_name, _dx(2, 3, dtype=numpy.float32), _dy(dtype=numpy.float32))
    case(_name, _dx(0, 2, dtype=numpy.float32), 2.0)
    case(_name, _dx(3, dtype=numpy.float32), _dy(3))
    case(_name, 1.5, _dy(2, 2))
    case(_name, I(3, 2, lo=1), I(2, lo=1))
for _name in ("maximum", "minimum", "fmax", "fmin", "equal", "heaviside", "copysign", "add",
              "logaddexp", "greater"):
    case(_name, SPECIAL, SPECIAL[::-1].copy())
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm", "left_shift",
              "right_shift"):
    case(_name, I(3, 1, lo=0, hi=9), I(1, 4, lo=0, hi=4))
    case(_name, I(3, lo=0, hi=9, dtype=numpy.uint8), 2)
    case(_name, I(2, 2, lo=0, hi=9, dtype=numpy.int32), I(2, lo=0, hi=4, dtype=numpy.int16))
for _name in ("bitwise_and", "bitwise_or", "bitwise_xor", "logical_and", "logical_or",
              "logical_xor"):
    case(_name, B(3, 2), B(2))
case("divmod", F(3, 1), P(1, 4))
case("divmod", F32(3), 2.0)
case("divmod", I(3, 2), I(2, lo=1))
case("ldexp", F(3, 2), I(3, 2))
case("ldexp", F32(3, 1), I(2, dtype=numpy.int32))
case("ldexp", F(), 3)
for _sx, _sy in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((1, 2, 3), (2, 3, 2)), ((2, 0), (0, 3)), ((0, 3), (3, 2))]:
    case("matmul", F(*_sx), F(*_sy))
case("matmul", F32(2, 3), F32(3, 2))
case("matmul", F32(2, 3), F(3))
case("matmul", I(2, 3), I(3, 2))

# -- reductions --------------------------------------------------------------------------------
# The rule table's axis variants; every reduction gets them on (3, 4), plus 0-d, float32,
# integers and a 3-d tuple axis.
AXES = [dict(), dict(axis=0), dict(axis=1), dict(axis=-1), dict(axis=(0, 1)),
        dict(axis=None, keepdims=True), dict(axis=1, keepdims=True), dict(axis=(-2,))]
REDUCTIONS = {
    "sum": F, "prod": F, "max": D, "min": D, "amax": D, "amin": D, "ptp": D, "mean": F,
    "std": F, "var": F, "nansum": N, "nanprod": N, "nanmax": N, "nanmin": N, "nanmean": N,
    "nanstd": N, "nanvar": N, "all": B, "any": B, "median": D, "average": F,
    "count_nonzero": I, "nanmedian": N,
}
_NO_KEEPDIMS = {"average"}  # numpy.average takes keepdims but no axis tuples: see below
for _name, _dom in REDUCTIONS.items():
    for _kwargs in AXES:
        if _name == "count_nonzero" and _kwargs.get("keepdims") and _kwargs.get("axis") is None:
            continue  # NumPy returns a Python int and ignores keepdims for axis=None
        case(_name, _dom(3, 4), kw=_kwargs)
    case(_name, _dom(2, 3, 2), kw=dict(axis=(0, 2)))
    if _name not in ("count_nonzero", "all", "any"):
        case(_name, _dom(3, 4, dtype=numpy.float32), kw=dict(axis=0))
        case(_name, _dom(3, 4, dtype=numpy.float32))
    if _dom in (F, D) or _name.startswith("nan"):
        case(_name, D(), label="0d")
        case(_name, I(3, 4), kw=dict(axis=1))
case("count_nonzero", I(3, 4), kw=dict(axis=None, keepdims=True))
for _name in ("sum", "prod", "nansum", "nanprod", "all", "any", "count_nonzero"):
    case(_name, F(0, 3))
    case(_name, F(0, 3), kw=dict(axis=0))
    case(_name, F(2, 0), kw=dict(axis=1, keepdims=True))
for _name in ("sum", "prod", "all", "any", "max", "min"):
    case(_name, B(3, 4), kw=dict(axis=0))
    case(_name, I(3, 4, dtype=numpy.int32), kw=dict(axis=1))
    case(_name, I(3, 4, lo=0, dtype=numpy.uint8))
case("sum", F32(3, 4), kw=dict(dtype=numpy.float64))
case("mean", I(3, 4, dtype=numpy.int32), kw=dict(axis=0))
case("mean", F32(3, 4), kw=dict(axis=1, dtype=numpy.float64))
for _name in ("std", "var", "nanstd", "nanvar"):
    case(_name, F(3, 4), kw=dict(ddof=1))
    case(_name, F(3, 4), kw=dict(axis=0, ddof=1, keepdims=True))
    case(_name, F(2, 3), kw=dict(axis=-1, ddof=2))
    case(_name, F32(2, 3), kw=dict(axis=-1, ddof=1))
    case(_name, F(2, 3), kw=dict(axis=1, ddof=5))  # no degrees of freedom: inf or NaN
    case(_name, F(2, 3), kw=dict(axis=1, ddof=3))
for _name in ("argmax", "argmin", "nanargmax", "nanargmin"):
    _x = N(3, 4, nans=(1, 6)) if _name.startswith("nan") else D(3, 4)
    for _kwargs in (dict(), dict(axis=0), dict(axis=1), dict(axis=-1), dict(axis=1, keepdims=True)):
        case(_name, _x, kw=_kwargs)
    case(_name, D(5, dtype=numpy.float32))
    case(_name, D(), label="0d")
    case(_name, I(3, 4), kw=dict(axis=0))
case("average", F(3, 4), kw=dict(axis=1, weights=P(4)))
case("average", F(3, 4), kw=dict(axis=0, weights=P(3, 4), returned=True))
case("average", F(3, 4), kw=dict(returned=True))
case("average", F32(3, 4), kw=dict(axis=1, weights=P(4, dtype=numpy.float32)))
case("average", F32(3, 4), kw=dict(axis=1, weights=P(4)))
case("average", I(3, 4), kw=dict(axis=0, keepdims=True))
for _name, _q in (("quantile", 0.3), ("percentile", 30.0)):
    _qs = [0.1, 0.5, 0.9] if _name == "quantile" else [10.0, 50.0, 90.0]
    case(_name, D(5, 3), _q)
    case(_name, D(5, 3), _q, kw=dict(axis=0))
    case(_name, D(5, 3), _qs, kw=dict(axis=1))
    case(_name, D(5, 3), numpy.array(_qs), kw=dict(axis=-1, keepdims=True))
    case(_name, D(5, 3), _q, kw=dict(axis=None, keepdims=True))
    case(_name, D(2, 3, 4), _q, kw=dict(axis=(0, 2)))
    case(_name, D(4, dtype=numpy.float32), _q)
    case(_name, D(4, dtype=numpy.float32), numpy.float32(_q))
    case(_name, I(5, 3), _q, kw=dict(axis=0))
    case(_name, D(), _q, label="0d")
    for _method in ("lower", "higher", "nearest", "midpoint"):
        case(_name, D(6), _qs, kw=dict(method=_method))
case("median", D(4, 3), kw=dict(axis=0))  # even length: the mean of the two middle ones
case("median", D(4, dtype=numpy.float32))
# an empty reduced axis: NaN (and no values at all where another axis is empty too)
for _shape, _kw in (((0, 0), dict(axis=0)), ((0,), {}), ((2, 0), dict(axis=1, keepdims=True)),
                    ((0, 3), dict(axis=0))):
    case("median", numpy.zeros(_shape, numpy.float32), kw=_kw)

# every method NumPy has (positions where n q is a whole number, where the discrete methods
# switch; q = 0 and 1), integers (discrete methods keep their dtype), the NaN-ignoring variants
# (a slice of NaNs only, slices with different counts), empty axes
QUANTILE_METHODS = (
    "linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf", "averaged_inverted_cdf",
    "closest_observation", "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",
    "normal_unbiased")
_QS = [0.0, 0.25, 0.375, 0.5, 0.6, 1.0]
for _m in QUANTILE_METHODS:
    case("quantile", D(4, 3), _QS, kw=dict(axis=0, method=_m))
    case("percentile", I(2, 5), 37.0, kw=dict(axis=(0, 1), method=_m, keepdims=True))
    case("nanquantile", N(3, 4, nans=(1, 4, 5, 6, 7, 10)), _QS, kw=dict(axis=1, method=_m))
    case("nanpercentile", N(4, 3, nans=(0, 4, 5)), 62.5, kw=dict(axis=0, method=_m))
for _name, _q in (("nanquantile", 0.3), ("nanpercentile", [30.0, 80.0])):
    case(_name, N(2, 3, 4, nans=(0, 5, 13)), _q, kw=dict(axis=(0, 2)))
    case(_name, N(3, 4, nans=(2,)), _q, kw=dict(axis=None, keepdims=True))
    case(_name, N(3, 4, nans=(2,), dtype=numpy.float32), _q, kw=dict(axis=-1))
    case(_name, N(5, dtype=numpy.float32), numpy.float32(0.5))
    case(_name, N(5, dtype=numpy.float32), numpy.float64(0.5))  # a NumPy scalar is not weak
    case(_name, I(3, 4), _q, kw=dict(axis=0))
    case(_name, D(), _q, label="0d")
    case(_name, numpy.zeros((0, 3)), _q, kw=dict(axis=0))
    case(_name, numpy.zeros((2, 0)), _q, kw=dict(axis=1, keepdims=True))
case("quantile", F(3, 4) * numpy.array([1.0, numpy.nan, 1.0, 1.0]), [0.0, 0.5], kw=dict(axis=0))
for _shape, _kw in (((0, 3), dict(axis=0)), ((0,), {}), ((2, 0), dict(axis=(0, 1)))):
    case("nanmedian", numpy.zeros(_shape), kw=_kw)

# -- scans and differences ---------------------------------------------------------------------
for _name, _dom in (("cumsum", F), ("cumprod", F), ("nancumsum", N), ("nancumprod", N)):
    for _kwargs in (dict(), dict(axis=0), dict(axis=1), dict(axis=-1)):
        case(_name, _dom(3, 4), kw=_kwargs)
    case(_name, _dom(3, 4, dtype=numpy.float32), kw=dict(axis=0))
    case(_name, I(3, 4), kw=dict(axis=1))
    case(_name, I(3, 4, dtype=numpy.int32), kw=dict(axis=1))
    case(_name, B(3, 4), kw=dict(axis=0))
    case(_name, F(), label="0d")
    case(_name, F(0, 3), kw=dict(axis=1))
    case(_name, F32(3, 4), kw=dict(axis=0, dtype=numpy.float64))
for _name in ("cumulative_sum", "cumulative_prod"):
    case(_name, F(4))
    case(_name, F(3, 4), kw=dict(axis=0))
    case(_name, F(3, 4), kw=dict(axis=0, include_initial=True))
    case(_name, F(3, 4), kw=dict(axis=-1, include_initial=True))
    case(_name, F32(3, 4), kw=dict(axis=1))
    case(_name, I(3, 4), kw=dict(axis=1, include_initial=True))
    case(_name, I(3, 4, dtype=numpy.int32), kw=dict(axis=1))
    case(_name, B(5))
    case(_name, F(0, 3), kw=dict(axis=0, include_initial=True))
case("diff", F(5, 3))
case("diff", F(5, 3), 2, kw=dict(axis=0))
case("diff", F(5, 3), kw=dict(n=0))
case("diff", F(5, 3), kw=dict(axis=0, prepend=F(1, 3), append=F(2, 3)))
case("diff", F(5), kw=dict(prepend=1.0))
case("diff", F32(5))
case("diff", I(5))
case("diff", B(5))
case("diff", F(1, 3), kw=dict(axis=0))
case("ediff1d", F(3, 4))
case("ediff1d", F(3, 4), kw=dict(to_begin=1.0))
case("ediff1d", I(3), kw=dict(to_begin=[100], to_end=[200, 300]))
case("ediff1d", F(5), kw=dict(to_begin=[100], to_end=[200, 300]))
case("ediff1d", F(5), kw=dict(to_end=numpy.array([7.0, 8.0])))
case("ediff1d", F32(5), kw=dict(to_begin=numpy.float32(1.0)))
case("ediff1d", F(), label="0d")
case("ediff1d", F(0))
case("gradient", F(5))
case("gradient", F(5), 0.5)
case("gradient", F(4, 5))
case("gradient", F(4, 5), kw=dict(axis=1))
case("gradient", F(4, 5), 2.0, kw=dict(axis=0))
case("gradient", F(5), kw=dict(edge_order=2))
case("gradient", F(5), numpy.array([0.0, 1.0, 1.5, 3.0, 4.0]))
case("gradient", F32(5))
case("gradient", I(5))
case("trapezoid", F(3, 4))
case("trapezoid", F(3, 4), kw=dict(dx=0.5))
case("trapezoid", F(3, 4), kw=dict(axis=0))
case("trapezoid", F(3, 4), numpy.cumsum(P(4)))
case("trapezoid", F(3, 4), numpy.cumsum(P(3, 4), axis=0), kw=dict(axis=0))
case("trapezoid", F32(5))
case("trapezoid", I(5))

# -- creation ----------------------------------------------------------------------------------
case("arange", 5)
case("arange", 1, 7, 2)
case("arange", 0.5, 2.0, 0.25)
case("arange", 4, kw=dict(dtype=numpy.float32))
case("arange", 0)
for _name in ("zeros", "ones", "empty"):
    case(_name, (3, 2), values=_name != "empty")
    case(_name, 4, kw=dict(dtype=numpy.float32), values=_name != "empty")
    case(_name, (), kw=dict(dtype=numpy.int32), values=_name != "empty")
    case(_name, (0, 2), values=_name != "empty")
for _name in ("zeros_like", "ones_like", "empty_like"):
    case(_name, F(3, 2), values=_name != "empty_like")
    case(_name, F32(3), values=_name != "empty_like")
    case(_name, I(2, 2), values=_name != "empty_like")
    case(_name, F(), kw=dict(dtype=numpy.int32), values=_name != "empty_like")
case("full", (2, 3), 1.5)
case("full", (2, 3), 7)
case("full", 3, 1.5, kw=dict(dtype=numpy.float32))
case("full", (2, 3), numpy.float32(2.0))
case("full", (2, 3), F(3))
case("full", (), 2.0)
case("full_like", F(3, 2), 7)
case("full_like", F32(3, 2), 0.1)
case("full_like", I(3, 2), 2.5)
case("full_like", F(3, 2), 1, kw=dict(dtype=numpy.int32))
case("full_like", F(3, 2), F(2))
for _name in ("eye", "identity"):
    case(_name, 3)
    case(_name, 3, kw=dict(dtype=numpy.float32))
case("eye", 3, 4, 1)
case("eye", 3, kw=dict(k=-1, dtype=numpy.int64))
case("tri", 3)
case("tri", 3, 4, -1)
case("tri", 3, kw=dict(dtype=numpy.int32))
case("linspace", 0.0, 1.0, 5)
case("linspace", 0.0, 1.0, 5, kw=dict(endpoint=False))
case("linspace", 0.0, 1.0, 5, kw=dict(retstep=True))
case("linspace", 0, 10, 4, kw=dict(dtype=numpy.int64))
case("linspace", 0.0, 1.0, 5, kw=dict(dtype=numpy.float32))
case("linspace", F(3), P(3), 4)
case("linspace", F(3), P(3), 4, kw=dict(axis=1))
case("linspace", F32(2), 1.0, 3)
case("linspace", 0.0, 1.0, 1)
case("linspace", 0.0, 1.0, 0)
case("logspace", 0.0, 2.0, 5)
case("logspace", 0.0, 2.0, 4, kw=dict(base=2.0, endpoint=False))
case("logspace", F(2), P(2), 3)
case("logspace", 0.0, 1.0, 3, kw=dict(dtype=numpy.float32))
case("logspace", F32(2), F32(2), 3, kw=dict(base=P(2), axis=1))
case("linspace", F32(2), F32(3, 1), 4, kw=dict(endpoint=False, axis=-1, retstep=True))
case("linspace", F(2), F(2), 4, kw=dict(dtype=numpy.int64))
case("geomspace", 1.0, 1000.0, 4)
case("geomspace", 1.0, 16.0, 4, kw=dict(endpoint=False))
case("geomspace", -1.0, -8.0, 4)
case("geomspace", P(3), P(3), 5)
case("geomspace", P(2), P(3, 1), 3, kw=dict(axis=-1))
case("geomspace", P(2, dtype=numpy.float32), 2.0, 3)
case("geomspace", P(2, dtype=numpy.float32), P(2, dtype=numpy.float32), 3,
     kw=dict(dtype=numpy.float32))
case("geomspace", 1, 256, 9, kw=dict(dtype=numpy.int64))
case("geomspace", 1.0j, 1000.0j, 4)
case("geomspace", 2.0, 3.0, 1)
case("geomspace", 2.0, 3.0, 0)
for _name in ("array", "asarray", "copy", "ascontiguousarray", "asfortranarray"):
    case(_name, F(3, 2))
    case(_name, F32(3))
    case(_name, I(2, 2))
    case(_name, F(), label="0d")
    case(_name, [1.0, 2.0, 3.0])
case("array", F(3, 2), kw=dict(dtype=numpy.float32))
case("asarray", I(3), kw=dict(dtype=numpy.float64))
case("asarray", [[1, 2], [3, 4]])
case("array", 3.5)
case("astype", F(3, 2), numpy.float32)
case("astype", F32(3, 2), numpy.float64)
case("astype", F(3, 2), numpy.int32)
case("astype", F(3, 2), numpy.complex128)
case("astype", I(3, 2), numpy.float32)
case("astype", F(), "float32")
case("meshgrid", F(3), F(4))
case("meshgrid", F(3), F(4), kw=dict(indexing="ij"))
case("meshgrid", F(3), F(4), F(2))
case("meshgrid", F32(3), F(2), kw=dict(sparse=True))
case("meshgrid", F(3))

# -- shape manipulation ------------------------------------------------------------------------
case("reshape", F(3, 2), (2, 3))
case("reshape", F(3, 2), (-1,))
case("reshape", F(), (1, 1))
case("reshape", F32(3, 2), (6, 1))
case("reshape", F(0, 2), (2, 0))
case("ravel", F(3, 2))
case("ravel", F())
case("ravel", I(2, 3))
case("expand_dims", F(3, 2), 0)
case("expand_dims", F(3, 2), -1)
case("expand_dims", F(3, 2), (0, 2))
case("expand_dims", F(), 0)
case("squeeze", F(1, 3, 1))
case("squeeze", F(1, 3, 1), kw=dict(axis=0))
case("squeeze", F(1, 3, 1), kw=dict(axis=(0, -1)))
case("squeeze", F(1))
case("squeeze", F32(1, 1))
for _name in ("transpose", "permute_dims"):
    case(_name, F(3, 2))
    case(_name, F(2, 3, 4), (1, 2, 0))
    case(_name, F())
    case(_name, F32(3, 2))
case("matrix_transpose", F(2, 3, 4))
case("matrix_transpose", F32(3, 2))
case("swapaxes", F(2, 3, 4), 0, 2)
case("swapaxes", F(3, 2), -1, 0)
case("moveaxis", F(2, 3, 4), 0, -1)
case("moveaxis", F(2, 3, 4), (0, 1), (2, 0))
case("rollaxis", F(2, 3, 4), 2)
case("rollaxis", F(2, 3, 4), 0, 2)
case("broadcast_to", F(2), (3, 2))
case("broadcast_to", F(1, 2), (2, 3, 2))
case("broadcast_to", F(), (3,))
case("broadcast_to", F32(3, 1), (3, 0))
case("broadcast_arrays", F(3, 1), F(2))
case("broadcast_arrays", F(3, 1), F32(1, 2), F())
for _name in ("concatenate", "concat"):
    case(_name, [F(3, 2), F(1, 2)])
    case(_name, (F(3, 2), F(3, 1)), kw=dict(axis=1))
    case(_name, [F(3, 2), F(3, 1), F(3, 2)], kw=dict(axis=-1))
    case(_name, [F(3, 2), F(2)], kw=dict(axis=None))
    case(_name, [F(3, 2), numpy.ones((1, 2))])
    case(_name, [F32(2), F(2)])
    case(_name, [F32(2), I(2)])
    case(_name, [F(0, 2), F(2, 2)])
case("stack", [F(3, 2), F(3, 2)])
case("stack", [F(3, 2), F(3, 2)], kw=dict(axis=-1))
case("stack", (F(3), F(3)), kw=dict(axis=1))
case("stack", [F(), F()])
case("stack", [F32(2), I(2)])
case("unstack", F(3, 4))
case("unstack", F(3, 4), kw=dict(axis=1))
case("unstack", F(2, 3, 2), kw=dict(axis=-1))
for _name in ("hstack", "vstack", "row_stack", "dstack", "column_stack"):
    case(_name, [F(3, 2), F(3, 2)])
    case(_name, [F(3), F(3)])
    case(_name, [F(), F()])
    case(_name, [F32(2, 2), I(2, 2)])
case("hstack", [F(3, 2), F(3, 1)])
case("vstack", [F(3, 2), F(2)])
case("column_stack", [F(3), F(3, 2)])
case("dstack", [F(3, 4, 1), F(3, 4)])
case("block", [[F(2, 2), F(2, 1)], [F(1, 3)]])
case("block", [F(2), F(3)])
case("block", [[F(2, 2), numpy.zeros((2, 1))]])
case("block", F(2, 2))
for _name in ("atleast_1d", "atleast_2d", "atleast_3d"):
    case(_name, F())
    case(_name, F(3))
    case(_name, F(3, 2))
    case(_name, F(2, 3, 2))
    case(_name, F(), F(2))
    case(_name, 3.0)
for _mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
    case("pad", F(3, 2), ((1, 2), (1, 0)), kw=dict(mode=_mode))
    case("pad", F(3), 2, _mode)
case("pad", F(3, 2), ((1, 2), (2, 1)), kw=dict(mode="reflect"))
case("pad", F(3, 2), ((1, 3), (2, 1)), kw=dict(mode="symmetric"))
case("pad", F(3, 2), 1, kw=dict(mode="constant", constant_values=3.0))
case("pad", F32(3, 2), 1, kw=dict(mode="constant", constant_values=3.0))
case("pad", I(3, 2), ((0, 1), (2, 0)), kw=dict(mode="constant"))
case("pad", F(3, 2), ((1, 1), (0, 0)), kw=dict(mode="constant", constant_values=((1.0, 2.0), (0, 0))))
case("pad", F(3), 1, kw=dict(mode="maximum"))
case("pad", F(3), (2, 1), kw=dict(mode="mean"))
case("pad", F(3), 2, kw=dict(mode="linear_ramp", end_values=1.0))
case("flip", F(3, 4))
case("flip", F(3, 4), 1)
case("flip", F(2, 3, 4), kw=dict(axis=(0, 2)))
case("flip", F(), label="0d")
case("fliplr", F(3, 4))
case("flipud", F(3, 4))
case("flipud", F32(3))
case("rot90", F(3, 4))
case("rot90", F(3, 4), 3)
case("rot90", F(3, 4), 2)
case("rot90", F(2, 3, 4), 1, (1, 2))
case("roll", F(3, 4), 2, kw=dict(axis=1))
case("roll", F(3, 4), 5)
case("roll", F(3, 4), -1, kw=dict(axis=0))
case("roll", F(3, 4), (1, 2), kw=dict(axis=(0, 1)))
case("roll", F(0, 3), 1)
case("tile", F(3), (2, 3))
case("tile", F(3, 2), 2)
case("tile", F(), 3)
case("repeat", F(3, 4), 2, kw=dict(axis=0))
case("repeat", F(3), [1, 0, 2])
case("repeat", F(3, 4), 2)
case("repeat", F32(3, 4), numpy.array([1, 2, 0, 1]), kw=dict(axis=1))
case("resize", F(3), (2, 5))
case("resize", F(2, 3), (2, 2))
case("resize", F(2, 3), 4)
case("resize", F(3), (0,))
case("split", F(3, 4), 2, kw=dict(axis=1))
case("split", F(6), [1, 4])
case("split", F(6), 3)
case("array_split", F(5), 3)
case("array_split", F(3, 5), 2, kw=dict(axis=1))
case("array_split", F(5), [1, 1, 7])
case("hsplit", F(3, 4), 2)
case("hsplit", F(6), 3)
case("vsplit", F(3, 4), [1])
case("dsplit", F(2, 3, 4), 2)
case("append", F(3, 4), F(2))
case("append", F(3, 4), F(1, 4), kw=dict(axis=0))
case("append", F32(3), I(2))
case("delete", F(3, 4), [0, 2], kw=dict(axis=1))
case("delete", F(3, 4), 1, kw=dict(axis=0))
case("delete", F(5), slice(1, 4, 2))
case("delete", F(5), [0, -1])
case("delete", F(3, 4), 1)
case("insert", F(3, 4), 1, F(4), kw=dict(axis=0))
case("insert", F(3, 4), [1, 2], F(3, 2), kw=dict(axis=1))
case("insert", F(5), 2, 7.0)
case("insert", F(5), [0, 5], F(2))
case("insert", F(3, 4), 1, F(3), kw=dict(axis=-1))
case("insert", I(5), 1, 2.7)

# -- selection, sorting, searching --------------------------------------------------------------
case("where", F(3, 2) > 0, F(3, 2), F(3, 2))
case("where", F(3, 1) > 0, F(3, 1), F(2))
case("where", numpy.array([True, False]), F(3, 2), F(3, 1))
case("where", F(3, 2) > 0, F(3, 2), 0.0)
case("where", F32(3, 2) > 0, F32(3, 2), 0.0)
case("where", F(3, 2) > 0, F32(3, 2), I(3, 2))
case("where", F(3, 2) > 0)
case("where", numpy.array(True), F(), F())
for _name in ("sort", "argsort"):
    case(_name, D(3, 4))
    case(_name, D(3, 4), kw=dict(axis=0))
    case(_name, D(3, 4), 0)
    case(_name, D(3, 2), kw=dict(axis=None))
    case(_name, D(5, dtype=numpy.float32))
    case(_name, I(6))
    case(_name, F(0))
case("sort", D(5), kw=dict(kind="stable"))
case("argsort", I(8), kw=dict(kind="stable"))
case("msort", D(3, 2), ref=lambda a: numpy.sort(a, axis=0))
case("msort", D(3), ref=lambda a: numpy.sort(a, axis=0))
case("sort_complex", D(5))
case("sort_complex", numpy.array([1 + 2j, 1 - 1j, 0.5 + 0j]))
case("sort_complex", I(4))
for _name in ("partition", "argpartition"):
    case(_name, D(3, 4), 1)
    case(_name, D(3, 4), 1, kw=dict(axis=0))
    case(_name, D(3, 4), 1, 0)
    case(_name, D(6), [1, 4])
    case(_name, D(6, dtype=numpy.float32), -1)
    case(_name, D(3, 4), 2, kw=dict(axis=None))
case("compress", numpy.array([True, False, True]), F(3))
case("compress", numpy.array([True, False, True]), F(3, 2), kw=dict(axis=0))
case("compress", numpy.array([False, True]), F(3, 2), kw=dict(axis=1))
case("compress", numpy.array([True, False, True]), F(3, 2))
case("compress", [0, 1], F32(2, 2), kw=dict(axis=0))
case("extract", F(3, 2) > 0, F(3, 2))
case("extract", numpy.array([[True, False]] * 3), F(3, 2))
case("extract", numpy.array([1, 0, 2]), F32(3))
for _name in ("nonzero", "argwhere", "flatnonzero"):
    case(_name, I(3, 4, lo=-1, hi=2))
    case(_name, F(3) > 0)
    case(_name, numpy.zeros((2, 0)))
case("nonzero", numpy.array([0.0, 1.5, -2.0]))
case("argwhere", numpy.array(1.0))
case("searchsorted", numpy.sort(F(5)), F(3))
case("searchsorted", numpy.sort(F(5)), F(2, 2), kw=dict(side="right"))
case("searchsorted", numpy.array([0.0, 1.0, 1.0, 2.0]), numpy.array([1.0, 0.5, 3.0]),
     kw=dict(side="right"))
case("searchsorted", F(5), F(3), kw=dict(sorter=numpy.argsort(F(5))))
case("searchsorted", numpy.arange(5), 2)
case("lexsort", [I(6), I(6)])
case("lexsort", numpy.stack([I(6), D(6)]))
case("lexsort", [I(2, 3), I(2, 3)], kw=dict(axis=0))
case("take", F(3, 4), [0, 0, 2], kw=dict(axis=1))
case("take", F(3, 4), numpy.array([[1, 5], [11, 0]]))
case("take", F(3, 4), 2, kw=dict(axis=0))
case("take", F(3, 4), [-1, 1], kw=dict(axis=0))
case("take", F32(5), [[0, 1], [4, 2]])
case("take", F(3, 4), [0, 7], kw=dict(axis=1, mode="wrap"))
case("take", F(3, 4), [0, 7], kw=dict(axis=1, mode="clip"))
case("take_along_axis", F(3, 2), numpy.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]]).T[:, :2].copy(),
     1)
case("take_along_axis", F(3, 2), numpy.array([[2, 0], [2, 2]]), 0)
case("take_along_axis", D(3, 4), numpy.argsort(D(3, 4), axis=-1), -1)
case("take_along_axis", F(5), numpy.array([4, 0, 0]), None)
case("select", [F(3, 4) > 0, F(3, 4) < -0.5], [F(3, 4), F(3, 4)])
case("select", [F(3, 4) > 0], [F(3, 4)], 2.0)
case("select", [F(4) > 0, F(4) > 1], [F32(4), F32(4)])
case("clip", F(3, 4), -0.5, 0.5)
case("clip", F(3, 4), None, 0.5)
case("clip", F(3, 4), F(4), 1.0)
case("clip", F32(3, 4), -0.5, 0.5)
case("clip", I(3, 4), 0, 2)
case("clip", I(3, 4), 0.5, 2.0)
case("diag", F(3))
case("diag", F(3), -1)
case("diag", F(3, 4), 1)
case("diag", F(3, 4))
case("diag", F32(2), 2)
case("diagonal", F(3, 3))
case("diagonal", F(3, 2), -1)
case("diagonal", F(2, 3, 2), 0, 2, 0)
case("diagonal", F(3, 4), 5)
case("trace", F(3, 3))
case("trace", F(3, 4), 1)
case("trace", F(2, 3, 3), 0, 1, 2)
case("trace", I(3, 3))
case("trace", F32(3, 3))
case("trace", F(3, 4), -5)
case("tril", F(3, 3))
case("tril", F(3, 4), -1)
case("tril", F(2, 3, 3))
case("triu", F(4, 4), 1)
case("triu", F32(3, 2))
case("triu", F(3), label="1d")
case("tril", I(3, 3))
case("triu", B(3, 3), -1)
case("tril", F32(4), 1)

# -- sets -------------------------------------------------------------------------------------
_SET_A = numpy.array([3.0, 1.0, 2.0, 3.0, 5.0, 1.0])
_SET_B = numpy.array([[2.0, 7.0], [3.0, 3.0]])
for _name in ("intersect1d", "setdiff1d", "setxor1d", "union1d"):
    case(_name, _SET_A, _SET_B)
    case(_name, _SET_A.astype(numpy.int64), numpy.array([1, 9]))
    case(_name, _SET_A.astype(numpy.float32), _SET_B)
    case(_name, numpy.zeros(0), _SET_B)
case("intersect1d", _SET_A, _SET_B, kw=dict(return_indices=True))
case("intersect1d", numpy.array([1.0, 2.0]), numpy.array([2.0, 3.0]), kw=dict(assume_unique=True))
for _name in ("isin", "in1d"):
    _ref = (lambda e, t, **k: numpy.isin(e, t, **k).ravel()) if _name == "in1d" else None
    case(_name, _SET_B, _SET_A, ref=_ref)
    case(_name, _SET_B, _SET_A, kw=dict(invert=True), ref=_ref)
    case(_name, I(3, 2), [0, 1], ref=_ref)
    case(_name, F(), _SET_A, ref=_ref)
case("unique", _SET_A)
case("unique", _SET_B)
case("unique", _SET_A, kw=dict(return_index=True, return_inverse=True, return_counts=True))
case("unique", numpy.array([[1.0, 2.0], [1.0, 2.0], [0.0, 1.0]]), kw=dict(axis=0))
case("unique", I(7))
case("unique", numpy.zeros(0))
for _name in ("unique_all", "unique_counts", "unique_inverse", "unique_values"):
    case(_name, _SET_A)
    case(_name, _SET_B)
    case(_name, numpy.zeros(0))
# (literal inputs: the random ones of the cases below stay as they were)
_INTS = numpy.array([3, -1, 2, 3, 0, -1, 2])
for _name in ("unique_all", "unique_counts", "unique_inverse"):  # (NumPy's unique_values of
    case(_name, _INTS)                                            # integers is not sorted)
case("from_dlpack", _SET_B)
case("from_dlpack", numpy.array([1, 200, 3], dtype=numpy.uint8))
# the array API's names of invert, left_shift and right_shift
case("bitwise_invert", _INTS)
case("bitwise_invert", numpy.array([0, 1, 200], dtype=numpy.uint8))
case("bitwise_invert", numpy.array([True, False]))
for _name in ("bitwise_left_shift", "bitwise_right_shift"):
    case(_name, numpy.array([[1], [5], [8]]), numpy.array([0, 1, 3]))
    case(_name, numpy.array([3, 7, 200], dtype=numpy.uint8), 2)

# -- elementwise functions that are not ufuncs --------------------------------------------------
for _name in ("real", "imag", "angle"):
    case(_name, C(3, 2))
    case(_name, F(3, 2))
    case(_name, F32(3))
    case(_name, C(), label="0d")
    case(_name, (C(2) * 1).astype(numpy.complex64))
case("angle", C(3, 2), kw=dict(deg=True))
case("angle", I(3))
case("real", I(3))
case("imag", I(3))
case("sinc", F(3, 2))
case("sinc", numpy.array([0.0, 0.5, -1.0, 2.0]))
case("sinc", F32(4))
case("sinc", I(4))
case("float_power", P(3), F(3))
case("float_power", P(3, 1), F32(2))
case("float_power", I(3, lo=1), 2)
case("float_power", C(3), 2.0)
case("float_power", P(3, dtype=numpy.float32), F32(3))
case("float_power", 2.0, F32(2, 2))
case("float_power", C(2).astype(numpy.complex64), F32(2))
case("nan_to_num", F(3, 4))
case("nan_to_num", SPECIAL)
case("nan_to_num", SPECIAL, kw=dict(nan=-1.0, posinf=9.0, neginf=-9.0))
case("nan_to_num", SPECIAL.astype(numpy.float32))
case("nan_to_num", I(3))
case("nan_to_num", numpy.array([numpy.nan + 1j, 2.0 + numpy.inf * 1j]))
case("isclose", F(3, 4), F(3, 4))
case("isclose", F(3), F(3) * 0 + 0.5, kw=dict(atol=0.3))
case("isclose", SPECIAL, SPECIAL, kw=dict(equal_nan=True))
case("isclose", SPECIAL, 0.0)
case("isclose", F32(3), F(3))
# (fixed inputs: drawing from _rng here would change every later case's)
_X34 = numpy.linspace(-2.0, 2.0, 12).reshape(3, 4)
case("allclose", _X34, _X34 * (1 + 1e-9))
case("allclose", _X34, _X34 + 0.1)
case("allclose", _X34[0], 0.5, kw=dict(atol=3.0))
case("allclose", SPECIAL, SPECIAL, kw=dict(equal_nan=True))
case("allclose", _X34[0].astype(numpy.float32), 0.5)
for _name in ("iscomplex", "isreal", "iscomplexobj", "isrealobj"):
    case(_name, _X34)
    case(_name, numpy.array([1.0 + 1.0j, 2.0, -0.5j]))
    case(_name, numpy.array([1, 2, -3]))
for _name in ("round", "around"):
    case(_name, F(3, 4) * 10)
    case(_name, F(3, 4) * 10, 1)
    case(_name, F(3, 4) * 100, kw=dict(decimals=-1))
    case(_name, F32(3) * 10, 2)
    case(_name, I(5) * 13, -1)
    case(_name, numpy.array([0.5, 1.5, 2.5, -0.5]))
case("interp", F(5), numpy.array([-2.0, -0.5, 0.3, 2.0]), F(4))
case("interp", numpy.array([-3.0, -2.0, 0.0, 2.0, 3.0]), numpy.array([-2.0, -0.5, 0.3, 2.0]),
     F(4), kw=dict(left=-9.0, right=9.0))
case("interp", numpy.array([-3.0, 0.0, 3.0]), numpy.array([-2.0, 2.0]), F(2))
case("interp", F32(3), numpy.array([-2.0, 0.0, 2.0]), F32(3))
case("interp", F(2, 3), numpy.array([-2.0, 0.0, 2.0]), F(3))
case("interp", 0.5, numpy.array([0.0, 1.0]), numpy.array([1.0, 3.0]))
case("polyval", F(4), F(3))
case("polyval", F(3), F(2, 2))
case("polyval", F(1), F(3))
case("polyval", I(3), I(4))
case("polyval", F32(3), F32(2))
case("polyval", F(3), 2.0)

# -- polynomials (issue 10) ---------------------------------------------------------------------
for _x in (F(4), F32(3), I(3), F(0)):
    case("vander", _x)
case("vander", F(3), kw=dict(N=5, increasing=True))
case("vander", F(3), kw=dict(N=0))
case("vander", F(3), 1)
for _name in ("polyadd", "polysub"):
    case(_name, F(3), F(5))
    case(_name, F(4), F(2))
    case(_name, I(2), F32(3))
    case(_name, 2.0, F(2))
    case(_name, F32(1), F32(0))
case("polymul", F(3), F(2))
case("polymul", I(3), I(2))
case("polymul", F32(2), F32(3))
case("polymul", 2.0, F(3))
# NumPy's polymul drops the factors' leading zeros (poly1d), which sets the result's length
case("polymul", numpy.array([0.0, 1.0, 2.0]), numpy.array([1.0, 3.0]))
case("polymul", numpy.array([0, 0, 1, 2]), numpy.array([0, 3]))
case("polymul", numpy.array([0.0, 0.0]), F(2))
case("polymul", numpy.array([0.0, 0.0]), numpy.array([0.0, 1.0]))
case("polymul", numpy.array([0.0], dtype=numpy.float32), numpy.array([0.0, 2.0], dtype=numpy.float32))
case("polydiv", F(4), F(2))
case("polydiv", F(2), F(3))  # a divisor of higher degree: quotient [0], remainder u
case("polydiv", I(3), I(1))
case("polydiv", F32(4), F32(2))
case("polydiv", numpy.array([1.0, 3.0, 3.0, 1.0]), numpy.array([1.0, 1.0]))  # remainder [0]
case("polydiv", numpy.array([0.0, 1.0, 2.0]), numpy.array([1.0, 3.0]))
for _kw in (dict(), dict(m=2), dict(m=0), dict(m=6)):
    case("polyder", F(5), kw=_kw)
case("polyder", I(4))
case("polyder", F32(3))
for _kw in (dict(), dict(m=2), dict(m=2, k=[1.0, 2.0]), dict(m=3, k=2.5), dict(m=0)):
    case("polyint", F(3), kw=_kw)
case("polyint", F(3), 2, F(2))
case("polyint", I(3))
case("polyint", F32(3))
_X6 = numpy.linspace(-1.0, 1.5, 6)
case("polyfit", _X6, F(6), 2)
case("polyfit", _X6, F(6, 2), 1, kw=dict(w=P(6)))
case("polyfit", _X6.astype(numpy.float32), F32(6), 1)
case("polyfit", _X6, F(6), 2, kw=dict(cov=True))
case("polyfit", _X6, F(6, 2), 1, kw=dict(cov="unscaled"))
case("polyfit", _X6, F(6), 1, kw=dict(full=True))
case("polyfit", I(5, lo=0, hi=9), F(5), 0)
# roots: the eigenvalues of the companion matrix.  Complex roots, trailing and leading zeros;
# real roots (NumPy's eigvals gives them real, Dask's, whose dtype must be known before
# computing, complex); without a root; no non-zero coefficient.
for _label, _p in (("complex", [1.0, 0.0, 1.0]), ("trailing_zeros", [1.0, 2.0, 3.0, 0.0, 0.0]),
                   ("real", [0.0, 0.0, 2.0, -3.0, 1.0]), ("no_root", [3.0, 0.0]),
                   ("zeros", [0.0, 0.0]), ("constant", [2.5]),
                   ("float32", numpy.float32([1.0, 0.5, 2.0])), ("int", [2, 1, 1])):
    case("roots", numpy.asarray(_p), label=_label)

# -- selection and array functions (issue 10) ----------------------------------------------------
case("diagflat", F(2, 2))
case("diagflat", F(3), kw=dict(k=-2))
case("diagflat", I(2), 1)
case("diagflat", F32(1))
case("real_if_close", C(3) * 1e-14 + F(3))
case("real_if_close", F(2, 3) + 1e-20j)
case("real_if_close", C(3))
case("real_if_close", F(3))
case("real_if_close", (F(2) + 1e-3j).astype(numpy.complex64), kw=dict(tol=1e6))
_put = lambda a, i, v, axis, inplace: (numpy.put_along_axis(a, i, v, axis), a)[1]  # noqa: E731
case("put_along_axis", F(3, 4), I(3, 2, lo=-4, hi=4), F(3, 2), 1, kw=dict(inplace=False), ref=_put)
case("put_along_axis", F(3, 4), I(1, 4, lo=0, hi=3), F(4), 0, kw=dict(inplace=False), ref=_put)
case("put_along_axis", F(3, 4), numpy.array([[0, 2, 0]]), F(3, 3), -1, kw=dict(inplace=False),
     ref=_put, label="repeated")
case("put_along_axis", F(2, 3), numpy.array([5, 0]), 9.0, None, kw=dict(inplace=False), ref=_put)
case("put_along_axis", F32(2, 3), I(2, 1, lo=0, hi=3), F(2, 1), 1, kw=dict(inplace=False), ref=_put)
case("put_along_axis", I(2, 3), I(2, 2, lo=0, hi=3), 1.5, 1, kw=dict(inplace=False), ref=_put)
case("put_along_axis", F(0, 3), I(0, 1, lo=0, hi=3), F(0, 1), 1, kw=dict(inplace=False), ref=_put)
case("choose", I(3, 4, lo=0, hi=3), [F(3, 4), F(4), F(1, 4)])
case("choose", I(4, lo=-2, hi=5), [F(4), F32(4)], kw=dict(mode="wrap"))
case("choose", I(2, 4, lo=-2, hi=5), [F32(4), F32(1), 2.0], kw=dict(mode="clip"))
case("choose", I(3, lo=0, hi=2), F(2, 3))
case("choose", I(2, 3, lo=0, hi=2), [I(2, 3), I(3)])
_sq = lambda v: v ** 2 + 1.0  # noqa: E731
case("piecewise", F(5), [B(5), B(5)], [_sq, numpy.sin, 0.5], label="otherwise")
case("piecewise", F(2, 3), [B(2, 3)], [_sq, numpy.cos], label="2d")
case("piecewise", F(4), B(4), [_sq], label="one_condition")
case("piecewise", F32(3), [B(3), B(3)], [0.25, _sq], label="float32")
case("piecewise", I(4), [B(4)], [lambda v: v * 2.5], label="int")
case("piecewise", F(), [True], [numpy.exp], label="0d")
case("piecewise", F(3), [numpy.zeros(3, bool)], [_sq, 2.0], label="never")
_Z = numpy.array([0.0, 0.0, 1.5, 0.0, -2.0, 0.0])
for _kw in (dict(), dict(trim="f"), dict(trim="b"), dict(trim="BF")):
    case("trim_zeros", _Z, kw=_kw)
case("trim_zeros", numpy.zeros(4))
case("trim_zeros", numpy.array([[0.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 1.0, 3.0]]))
case("trim_zeros", numpy.array([[0, 0, 0], [0, 2, 0]]), kw=dict(axis=-1))
case("trim_zeros", F32(3))
case("unwrap", F(7) * 4)
case("unwrap", F(3, 4) * 4, kw=dict(axis=0))
case("unwrap", F(6) * 4, kw=dict(discont=4.0))
case("unwrap", F(6) * 3, kw=dict(period=4.0))
case("unwrap", I(6, lo=-9, hi=9), kw=dict(period=6))
case("unwrap", F32(5) * 4)
case("unwrap", numpy.array([0.0, numpy.pi, 0.0, -numpy.pi, 0.0]), label="half_periods")
case("unwrap", F(0))

# -- products -----------------------------------------------------------------------------------
for _sx, _sy in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 2)), ((), (3,)), ((2, 2, 3), (3, 2)),
                 ((3,), (3, 2))]:
    case("dot", F(*_sx), F(*_sy))
case("dot", F32(2, 3), F32(3))
case("dot", I(2, 3), I(3))
case("dot", F32(2), F(2))
case("vdot", F(3, 2), F(3, 2))
case("vdot", C(3), C(3))
case("vdot", F32(4), F32(4))
case("vdot", I(4), I(4))
case("inner", F(2, 3), F(3))
case("inner", F(2, 3), F(2, 3))
case("inner", F(), F(2))
case("inner", F32(3), F32(3))
case("outer", F(3), F(2, 2))
case("outer", F32(3), F32(2))
case("outer", I(3), F(2))
case("tensordot", F(2, 3, 2), F(3, 2))
case("tensordot", F(2, 3), F(3, 2), kw=dict(axes=([0], [1])))
case("tensordot", F(2), F(3), kw=dict(axes=0))
case("tensordot", F(2, 3), F(2, 3), kw=dict(axes=((0, 1), (0, 1))))
case("tensordot", F32(2, 3), F32(3, 2), 1)
for _sub, _shapes in [("ij,jk->ik", [(2, 3), (3, 2)]), ("ij,j,jk->k", [(2, 3), (3,), (3, 2)]),
                      ("ii", [(3, 3)]), ("ii->i", [(3, 3)]), ("ij,jk", [(2, 3), (3, 2)]),
                      ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]), ("i,i", [(3,), (3,)]),
                      ("ij->", [(2, 3)]), ("ij->ji", [(2, 3)]), ("i,j->ij", [(2,), (3,)])]:
    case("einsum", _sub, *[F(*s) for s in _shapes])
case("einsum", "ij,jk->ik", F32(2, 3), F32(3, 2))
case("einsum", "ij,j->i", I(2, 3), I(3))
# the sublist form: integers for letters, Ellipsis, an implicit output
case("einsum", F(2, 3), [0, 1], F(3, 4), [1, 2], [0, 2])
case("einsum", F(2, 3, 3), [Ellipsis, 0, 0], [Ellipsis])
case("einsum", F(2, 3), [5, 30], F(3), [30])
case("einsum", F32(3), [0], F32(3), [0], [])
case("kron", F(2, 3), F(3, 2))
case("kron", F(2), F(3))
case("kron", F32(2, 2), I(2))
case("kron", F(), F(2))
case("cross", F(4, 3), F(3))
case("cross", F(4, 2), F(4, 2))
case("cross", F(3), F(2))
case("cross", F(3, 4), F(3, 4), kw=dict(axisa=0, axisb=0, axisc=0))
case("cross", F(3, 4), F(4, 3), kw=dict(axisa=0))
case("cross", F(2, 3), F(2, 3), kw=dict(axis=0))
case("cross", F32(3), F32(3))
case("cross", I(3), I(3))
for _name in ("convolve", "correlate"):
    for _mode in ("full", "same", "valid"):
        case(_name, F(5), F(3), _mode)
        case(_name, F(3), F(5), kw=dict(mode=_mode))
    case(_name, F(5), F(3))
    case(_name, F32(4), F32(2))
    case(_name, I(4), I(3))
    case(_name, C(4), C(2))
    case(_name, F(1), F(4))
case("cov", F(3, 5))
case("cov", F(5, 2), F(5), kw=dict(rowvar=False))
case("cov", F(5))
case("cov", F(3, 5), kw=dict(bias=True))
case("cov", F(3, 5), kw=dict(ddof=0))
case("cov", F32(3, 5))
case("cov", I(2, 5))
case("corrcoef", F(3, 5))
case("corrcoef", F(5), F(5))
case("corrcoef", F(5, 2), kw=dict(rowvar=False))
case("corrcoef", F32(3, 5))
case("vecdot", F(3, 4), F(4))
case("vecdot", F(4, 3), F(4, 3), kw=dict(axis=0))
case("vecdot", C(3), C(3))
case("vecdot", F32(2, 3), F32(3))
case("matvec", F(2, 3, 4), F(4))
case("matvec", F(3, 4), F(2, 4))
case("matvec", F32(3, 4), F32(4))
case("vecmat", F(3), F(3, 4))
case("vecmat", F(2, 3), F(2, 3, 4))
case("vecmat", C(3), C(3, 2))

# -- information ----------------------------------------------------------------------------------
for _name in ("shape", "ndim", "size"):
    case(_name, F(3, 2))
    case(_name, F())
    case(_name, F(0, 4))
case("nbytes", F(3, 2), ref=lambda a: a.nbytes)
case("nbytes", F32(3), ref=lambda a: a.nbytes)
case("nbytes", I(2, 2, dtype=numpy.int16), ref=lambda a: a.nbytes)

# -- linalg ---------------------------------------------------------------------------------------
for _ord in (None, 1, 2, numpy.inf, -numpy.inf, 3, 0, 0.5):
    case("linalg.norm", F(5), _ord)
    case("linalg.norm", F(3, 4), _ord, kw=dict(axis=1))
for _ord in (None, "fro", "nuc", 1, -1, 2, -2, numpy.inf, -numpy.inf):
    case("linalg.norm", F(3, 4), _ord)
    case("linalg.norm", F(2, 3, 4), _ord, kw=dict(axis=(1, 2), keepdims=True))
case("linalg.norm", F(2, 3, 2))
case("linalg.norm", F(3, 2), kw=dict(axis=0, keepdims=True))
case("linalg.norm", F(3, 2), 2, kw=dict(axis=(-1,)))
case("linalg.norm", F(3, 4), 1, kw=dict(axis=(1, 0)))
case("linalg.norm", F32(3, 4))
case("linalg.norm", F32(3), 1)
case("linalg.norm", I(3, 4))
case("linalg.norm", C(3))
case("linalg.norm", numpy.zeros(3))
for _ord in (2, 1, numpy.inf, -numpy.inf, 0, 3):
    case("linalg.vector_norm", F(3, 2), kw=dict(ord=_ord))
case("linalg.vector_norm", F(2, 3, 2), kw=dict(axis=(0, 2), keepdims=True))
case("linalg.vector_norm", F(3, 2), kw=dict(axis=-1))
case("linalg.vector_norm", F32(3, 2))
case("linalg.vector_norm", I(3))
case("linalg.vector_norm", F(), label="0d")
for _ord in ("fro", "nuc", 1, -1, 2, -2, numpy.inf, -numpy.inf):
    case("linalg.matrix_norm", F(2, 3, 2), kw=dict(ord=_ord))
case("linalg.matrix_norm", F(3, 2), kw=dict(keepdims=True))
case("linalg.matrix_norm", F32(3, 3))
case("linalg.svdvals", F(4, 3))
case("linalg.svdvals", F(2, 3, 4))
case("linalg.svdvals", F32(3, 3))
for _name in ("inv", "det", "slogdet"):
    case(f"linalg.{_name}", well_conditioned(3, 3))
    case(f"linalg.{_name}", well_conditioned(2, 3, 3))
    case(f"linalg.{_name}", well_conditioned(3, 3).astype(numpy.float32))
    case(f"linalg.{_name}", numpy.array([[2, 1], [1, 3]]))
case("linalg.det", numpy.array([[1.0, 2.0], [2.0, 4.0]]), label="singular")
case("linalg.slogdet", -well_conditioned(2, 3, 3), label="negative")
case("linalg.pinv", F(4, 3))
case("linalg.pinv", F(2, 3))
case("linalg.pinv", F(2, 3, 3))
case("linalg.pinv", F32(3, 2))
case("linalg.pinv", numpy.array([[1.0, 2.0], [2.0, 4.0]]), label="rank1")
case("linalg.solve", well_conditioned(3, 3), F(3))
case("linalg.solve", well_conditioned(3, 3), F(3, 2))
case("linalg.solve", well_conditioned(2, 3, 3), F(2, 3, 2))
case("linalg.solve", well_conditioned(2, 3, 3), F(3))
case("linalg.solve", well_conditioned(3, 3), F(2, 3, 2))
case("linalg.solve", well_conditioned(3, 3).astype(numpy.float32), F32(3))
case("linalg.lstsq", F(4, 3), F(4))
case("linalg.lstsq", F(4, 2), F(4, 3))
case("linalg.lstsq", F(2, 3), F(2))
case("linalg.lstsq", F(4, 3), F(4), kw=dict(rcond=None))
case("linalg.lstsq", F(4, 3).astype(numpy.float32), F32(4))
case("linalg.multi_dot", [F(2, 3), F(3, 4), F(4, 2)])
case("linalg.multi_dot", [F(3), F(3, 4), F(4)])
case("linalg.multi_dot", (F(2, 3), F(3)))
case("linalg.multi_dot", [F(2, 3), numpy.ones((3, 2))])
case("linalg.multi_dot", [F32(2, 3), F32(3, 2)])
for _n in (0, 1, 2, 3, 5, -1, -2):
    case("linalg.matrix_power", well_conditioned(3, 3), _n)
case("linalg.matrix_power", well_conditioned(2, 3, 3), 3)
case("linalg.matrix_power", well_conditioned(3, 3).astype(numpy.float32), 2)
case("linalg.matrix_power", numpy.array([[1, 2], [3, 4]]), 3)
case("linalg.matrix_power", numpy.array([[1, 2], [3, 4]]), 0)
case("linalg.cholesky", spd(3, 3))
case("linalg.cholesky", spd(2, 3, 3))
case("linalg.cholesky", spd(3, 3), kw=dict(upper=True))
case("linalg.cholesky", spd(3, 3).astype(numpy.float32))
case("linalg.qr", F(4, 3))
case("linalg.qr", F(3, 4))
case("linalg.qr", F(2, 4, 3))
case("linalg.qr", F(4, 3), kw=dict(mode="complete"))
case("linalg.qr", F(4, 3), kw=dict(mode="r"))
case("linalg.qr", F(4, 3).astype(numpy.float32))
case("linalg.eigh", spd(3, 3))
case("linalg.eigh", spd(2, 3, 3), kw=dict(UPLO="U"))
case("linalg.eigh", F(3, 3), "U")
case("linalg.eigh", spd(3, 3).astype(numpy.float32))
case("linalg.eigvalsh", spd(3, 3))
case("linalg.eigvalsh", F(2, 3, 3), kw=dict(UPLO="U"))
case("linalg.eigvalsh", spd(3, 3).astype(numpy.float32))
case("linalg.svd", F(4, 3))
case("linalg.svd", F(4, 3), kw=dict(full_matrices=False))
case("linalg.svd", F(2, 3, 3))
case("linalg.svd", F(2, 4, 3), kw=dict(compute_uv=False))
case("linalg.svd", F(3, 4).astype(numpy.float32), kw=dict(full_matrices=False))
case("linalg.matrix_rank", well_conditioned(3, 3))
case("linalg.matrix_rank", numpy.array([[1.0, 2.0], [2.0, 4.0]]))
case("linalg.matrix_rank", F(2, 3, 4))
case("linalg.matrix_rank", F(3))
case("linalg.matrix_rank", numpy.array([[1.0, 2.0], [2.0, 4.1]]), kw=dict(tol=0.5))
for _p in (None, 1, 2, -2, "fro", numpy.inf, "nuc"):
    case("linalg.cond", well_conditioned(3, 3), _p)
case("linalg.cond", well_conditioned(2, 3, 3))
case("linalg.cond", F(4, 3))
case("linalg.cond", well_conditioned(3, 3).astype(numpy.float32))
# eig/eigvals: NumPy's dtype is real when every eigenvalue of a real stack is real; Dask's must
# be known before computing, and is always complex (as JAX's).
_EIG_REAL = {"dask": "Dask's eig/eigvals of a real matrix is always complex; NumPy's is real "
                     "when every eigenvalue is"}
_ROT = numpy.array([[1.0, 2.0, 0.5], [-1.5, 0.3, 1.0], [0.2, -0.7, 2.0]])  # a complex pair
for _name in ("linalg.eig", "linalg.eigvals"):
    case(_name, _ROT)
    case(_name, numpy.stack([_ROT, _ROT.T + 1.0]))
    case(_name, C(3, 3))
    case(_name, _ROT.astype(numpy.float32))
    case(_name, spd(2, 3, 3), xfail=_EIG_REAL)
    case(_name, numpy.array([[2, 1], [1, 3]]), xfail=_EIG_REAL)
    case(_name, F(0, 2, 2), xfail=_EIG_REAL)
case("linalg.tensorsolve", well_conditioned(6, 6).reshape(2, 3, 2, 3), F(2, 3))
case("linalg.tensorsolve", well_conditioned(6, 6).reshape(6, 2, 3), F(6))
case("linalg.tensorsolve", well_conditioned(6, 6).reshape(2, 3, 6), F(6), kw=dict(axes=(0, 1)))
case("linalg.tensorsolve", well_conditioned(6, 6).reshape(6, 3, 2).astype(numpy.float32), F32(6))
case("linalg.tensorinv", well_conditioned(6, 6).reshape(2, 3, 6))
case("linalg.tensorinv", well_conditioned(6, 6).reshape(6, 2, 3), kw=dict(ind=1))
case("linalg.tensorinv", well_conditioned(4, 4).reshape(2, 2, 2, 2).astype(numpy.float32))
case("linalg.matmul", F(2, 3, 4), F(4, 2))
case("linalg.matmul", F(3), F(3))
case("linalg.matmul", F32(2, 3), F32(3))
case("linalg.outer", F(3), F(4))
case("linalg.outer", C(2), F(3))
case("linalg.outer", I(3), F32(2))
case("linalg.tensordot", F(2, 3, 4), F(3, 4, 2))
case("linalg.tensordot", F(2, 3), F(3, 4), kw=dict(axes=1))
case("linalg.tensordot", F(2, 3), F(4, 2), kw=dict(axes=([0], [1])))
case("linalg.vecdot", F(3, 4), F(4))
case("linalg.vecdot", C(2, 3), C(3))
case("linalg.vecdot", F32(3, 2), F32(3, 1), kw=dict(axis=0))
case("linalg.matrix_transpose", F(2, 3, 4))
case("linalg.matrix_transpose", I(3, 2))
case("linalg.cross", F(4, 3), F(3))
case("linalg.cross", F(3, 2), F(3, 1), kw=dict(axis=0))
case("linalg.cross", F32(3), F32(3))
case("linalg.diagonal", F(2, 3, 4))
case("linalg.diagonal", F(3, 4), kw=dict(offset=1))
case("linalg.diagonal", F32(2, 4, 3), kw=dict(offset=-1))
case("linalg.trace", F(2, 3, 4))
case("linalg.trace", F(3, 4), kw=dict(offset=-1))
case("linalg.trace", I(3, 3), kw=dict(dtype=numpy.float32))
case("linalg.trace", F32(2, 2, 2))

# -- fft --------------------------------------------------------------------------------------------
for _name in ("fft", "ifft"):
    case(f"fft.{_name}", F(3, 4))
    case(f"fft.{_name}", C(3, 4), kw=dict(axis=0))
    case(f"fft.{_name}", F(5), 8)
    case(f"fft.{_name}", C(6), 4, kw=dict(norm="ortho"))
    case(f"fft.{_name}", C(2, 3), kw=dict(norm="forward"))
    case(f"fft.{_name}", F32(4))
    case(f"fft.{_name}", C(4).astype(numpy.complex64))
    case(f"fft.{_name}", I(4))
for _name in ("fft2", "ifft2", "fftn", "ifftn"):
    case(f"fft.{_name}", C(3, 4))
    case(f"fft.{_name}", F(2, 3, 4), kw=dict(axes=(0, 2)))
    case(f"fft.{_name}", C(3, 4), (4, 2))
    case(f"fft.{_name}", C(2, 3, 4), kw=dict(s=(3, 5), axes=(-1, 0), norm="ortho"))
    case(f"fft.{_name}", F32(3, 4))
    case(f"fft.{_name}", C(3, 4), kw=dict(norm="forward"))
for _name in ("rfft",):
    case(f"fft.{_name}", F(3, 4))
    case(f"fft.{_name}", F(3, 4), kw=dict(axis=0))
    case(f"fft.{_name}", F(5), 8)
    case(f"fft.{_name}", F(6), 3, kw=dict(norm="ortho"))
    case(f"fft.{_name}", F32(5))
    case(f"fft.{_name}", I(4), kw=dict(norm="forward"))
for _name in ("irfft", "hfft"):
    case(f"fft.{_name}", C(3, 4))
    case(f"fft.{_name}", C(3, 4), kw=dict(axis=0))
    case(f"fft.{_name}", C(5), 9)
    case(f"fft.{_name}", C(5), 4, kw=dict(norm="ortho"))
    case(f"fft.{_name}", C(4).astype(numpy.complex64))
    case(f"fft.{_name}", F(4), kw=dict(norm="forward"))
case("fft.ihfft", F(3, 4))
case("fft.ihfft", F(5), 8, kw=dict(axis=0))
case("fft.ihfft", F(6), kw=dict(norm="ortho"))
case("fft.ihfft", F32(5))
for _name in ("rfft2", "rfftn"):
    case(f"fft.{_name}", F(3, 4))
    case(f"fft.{_name}", F(2, 3, 4), kw=dict(axes=(0, 2)))
    case(f"fft.{_name}", F(3, 4), (4, 6))
    case(f"fft.{_name}", F32(3, 4), kw=dict(norm="ortho"))
for _name in ("irfft2", "irfftn"):
    case(f"fft.{_name}", C(3, 4))
    case(f"fft.{_name}", C(2, 3, 4), kw=dict(axes=(0, 2)))
    case(f"fft.{_name}", C(3, 4), (4, 5))
    case(f"fft.{_name}", C(3, 4).astype(numpy.complex64), kw=dict(norm="forward"))
for _name in ("fftshift", "ifftshift"):
    case(f"fft.{_name}", F(5))
    case(f"fft.{_name}", F(3, 4))
    case(f"fft.{_name}", F(3, 4), kw=dict(axes=1))
    case(f"fft.{_name}", F(3, 4), (0,))
    case(f"fft.{_name}", F32(4))
    case(f"fft.{_name}", I(2, 3))
for _name in ("fftfreq", "rfftfreq"):
    case(f"fft.{_name}", 8)
    case(f"fft.{_name}", 7, 0.1)
    case(f"fft.{_name}", 1)

# -- size-0 axes beside axes Dask splits in chunks ----------------------------------------------
# Dask's max failed along a non-empty axis beside an empty one, and computed a (1, 0) array for
# the (0, 0) maximum of a (1, 0, 0) array over axis 0 (its lazy shape said (0, 0)).
for _name in ("max", "min", "amax", "amin", "ptp", "nanmax", "nanmin", "sum", "prod", "mean"):
    case(_name, F(1, 0, 2), kw=dict(axis=-1))
    case(_name, F(1, 0, 0), kw=dict(axis=0))
    case(_name, F(3, 0, 4), kw=dict(axis=(0, 2), keepdims=True))
for _name in ("argmax", "argmin", "nanargmax", "nanargmin"):
    case(_name, F(1, 0, 2), kw=dict(axis=-1))
    case(_name, F(1, 0, 0), kw=dict(axis=0))
for _mode in ("constant", "edge", "reflect", "maximum", "mean", "linear_ramp"):
    case("pad", F(0, 3), ((0, 0), (1, 2)), kw=dict(mode=_mode))
case("pad", F(0, 0), ((0, 1), (0, 1)), kw=dict(mode="constant"))
case("pad", F(0, 2), ((1, 1), (2, 0)),
     kw=dict(mode="constant", constant_values=((1.0, 2.0), (3.0, 4.0))))
case("pad", I(2, 0), 1, kw=dict(mode="constant", constant_values=7))
case("ravel", F(0, 2, 1))
case("reshape", F(6, 0), (-1,))
case("repeat", F(6, 0), 1)
case("outer", F(0, 2, 1), F(2, 2))
case("vdot", F(0, 2, 1), F(0, 2, 1))
case("concatenate", [F(3, 0), F(3, 0)], kw=dict(axis=1))
case("sort", F(3, 0, 2), kw=dict(axis=None))
case("cumsum", F(3, 0, 2))
case("take_along_axis", F(3, 0), I(0, lo=0, hi=1), kw=dict(axis=None))


# -- Dask: functions it lacks raise naming them; known bugs are strict xfails ------------------------
def on_dask(ids, *, raises=None, bug=None):
    """Mark the cases ``ids``: on Dask they raise NotImplementedError matching ``raises``,
    or fail for the known ``bug``."""
    ids, found = set(ids), set()
    for i, c in enumerate(CASES):
        if c.id in ids or c.name in ids:
            found.update((c.id, c.name))
            CASES[i] = c._replace(dask=raises) if raises else c._replace(xfail={"dask": bug})
    assert ids <= found, f"no such cases: {sorted(ids - found)}"


for _name in ("lexsort", "intersect1d", "setxor1d"):
    on_dask([_name], raises=f"{_name} is not available on the dask inner backend")
on_dask(["searchsorted[f85_f83_sorter=i85]"], raises="searchsorted with a sorter")
on_dask(["unique[f83x2_axis=0]"], raises="unique with axis= .* dask inner backend")

# udiff/_composites.py: NumPy options udiff does not implement yet; each raises a
# NotImplementedError naming the function and the option, on every inner backend.
for _c in CASES:
    _reason = (
        "udiff's gradient takes edge_order=1" if _c.id == "gradient[f85_edge_order=2]"
        else "udiff's gradient takes scalar spacings" if _c.id == "gradient[f85_f85]"
        else None)
    if _reason:
        CASES[CASES.index(_c)] = _c._replace(xfail={"numpy": _reason, "dask": _reason})


on_dask(["roots[real]"], bug=(
    "on Dask eigvals is always complex (its dtype must be known before computing); NumPy "
    "gives real roots real"))


# Public names that are not functions of arrays: the test below checks they still are not.
NOT_ARRAY_FUNCTIONS = {
    "ndarray": "the array type multimethods dispatch on",
    "ufunc": "the class of udiff's ufuncs; each ufunc has its own cases",
    "dtype": "the dtype class",
    "errstate": "a context manager for floating-point error handling",
    "pi": "a float constant", "e": "a float constant", "inf": "a float constant",
    "nan": "a float constant", "newaxis": "None, an indexing constant",
    "linalg": "the namespace udiff.numpy.linalg, whose names have cases of their own",
    "fft": "the namespace udiff.numpy.fft, whose names have cases of their own",
    "linalg.MULTIMETHODS": "the dict of linalg's multimethods, by name",
    "linalg.multimethod": "the helper that declares linalg's multimethods",
    "fft.MULTIMETHODS": "the dict of fft's multimethods, by name",
    **{name: "an array API dtype (NumPy's)" for name in (
        "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
        "float32", "float64", "complex64", "complex128")},
    **{name: "reads dtypes (tests/test_array_api_names.py)" for name in (
        "finfo", "iinfo", "result_type", "can_cast", "isdtype", "promote_types")},
    "r_": "an index-expression concatenator (np.r_[x, 0, 1:3]): tests/test_autograd_parity.py",
    "c_": "an index-expression concatenator (np.c_[x, y]): tests/test_autograd_parity.py",
}


# -- running a case ---------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    # The arrays are tiny: Dask's thread pool would cost more than the arithmetic.
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def _resolve(namespace, name):
    for part in name.split("."):
        namespace = getattr(namespace, part)
    return namespace


def _leaves(value, inner):
    """``value`` with its NumPy arrays (also inside lists and tuples) as DiffArray leaves."""
    if isinstance(value, numpy.ndarray):
        return unp.asarray(chunked(value, inner))
    if isinstance(value, (list, tuple)):
        return type(value)(_leaves(v, inner) for v in value)
    return value


def _copies(value):
    if isinstance(value, numpy.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copies(v) for v in value)
    return value


def _reference(c):
    fun = c.ref or _resolve(numpy, c.name)
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fun(*_copies(c.args), **_copies(c.kwargs))


def _tolerance(dtype, c):
    if dtype.kind not in "fc":
        return 0.0
    if dtype.itemsize <= (4 if dtype.kind == "f" else 8):
        return 1e-5
    return c.rtol or 1e-11


def _check(got, want, c, where="result"):
    if isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)), (
            f"{where}: NumPy gives a {type(want).__name__}, udiff a {type(got).__name__}")
        assert len(got) == len(want), f"{where}: {len(got)} items, NumPy gives {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            _check(g, w, c, f"{where}[{i}]")
        return
    want = numpy.asarray(want)
    if type(got) is udiff.DiffArray:  # the lazy metadata, before computing
        assert numpy.dtype(got.dtype) == want.dtype, (
            f"{where}: dtype {got.dtype} (before computing), NumPy gives {want.dtype}")
        shape = got.shape
        if not any(isinstance(n, float) and n != n for n in shape):
            assert shape == want.shape, f"{where}: shape {shape}, NumPy gives {want.shape}"
    value = compute(got)
    assert value.shape == want.shape, f"{where}: shape {value.shape}, NumPy gives {want.shape}"
    assert value.dtype == want.dtype, f"{where}: dtype {value.dtype}, NumPy gives {want.dtype}"
    if not c.values:
        return
    rtol = _tolerance(want.dtype, c)
    if rtol == 0.0:
        numpy.testing.assert_array_equal(value, want, err_msg=where)
    else:
        finite = numpy.abs(want[numpy.isfinite(want)])
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        numpy.testing.assert_allclose(value, want, rtol=rtol, atol=rtol * scale, equal_nan=True,
                                      err_msg=where)


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_value_shape_dtype_match_numpy(c, inner, request):
    _run(c, inner, request)


def _run(c, inner, request):
    reason = (c.xfail or {}).get(inner.name)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    want = _reference(c)
    fun = _resolve(unp, c.name)
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True), numpy.errstate(all="ignore"):
        args = _leaves(c.args, inner)
        kwargs = {k: _leaves(v, inner) for k, v in c.kwargs.items()}
        if c.dask and inner is udiff.dask_backend:
            with pytest.raises(NotImplementedError, match=c.dask):
                fun(*args, **kwargs)
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = fun(*args, **kwargs)
    # Computed outside the backend: nothing in a Dask task may need uarray's state.
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        _check(got, want, c)


# -- coverage ----------------------------------------------------------------------------------------
def _public_names():
    for prefix, namespace in [("", unp), ("linalg.", unp.linalg), ("fft.", unp.fft)]:
        for name in dir(namespace):
            if not name.startswith("_"):
                yield prefix + name


def _is_array_function(obj):
    return isinstance(obj, unp.ufunc) or hasattr(obj, "arg_extractor")


# -- the derivative tables' rows are forward cases too ------------------------------------------
def _rule_rows():
    """The rows of the derivative tables (``test_rules``, ``test_linalg``) whose function is a
    public function called directly (``case("ldexp", np.ldexp, ...)``), as forward cases:
    a function added with such a row needs no row in this table."""
    import test_linalg
    import test_rules

    public = {}
    for name in _public_names():
        public.setdefault(id(_resolve(unp, name)), name)
    refs = {c.name: c.ref for c in CASES if c.ref is not None}  # (msort: NumPy 2 has none)
    rows = []
    for r in list(test_rules.CASES) + list(test_linalg.CASES):
        name = public.get(id(r.fun))
        if name is None or getattr(r, "xfail", None):
            continue
        row = Case(name, f"rule:{r.name}", tuple(r.make_args(udiff.numpy_backend)), {},
                   ref=refs.get(name))
        if name in ("linalg.eig", "linalg.eigvals") and numpy.asarray(
                _first(_reference(row))).dtype.kind != "c":
            row = row._replace(xfail=_EIG_REAL)  # (see the eig cases above)
        rows.append(row)
    return rows


def _first(result):
    return result[0] if isinstance(result, tuple) else result


RULE_ROWS = _rule_rows()


@pytest.mark.parametrize("c", RULE_ROWS, ids=[c.id for c in RULE_ROWS])
def test_derivative_table_rows_match_numpy(c, inner, request):
    _run(c, inner, request)


def test_every_public_name_has_a_case():
    names = set(_public_names())
    covered = {c.name for c in CASES} | {c.name for c in RULE_ROWS}
    missing = sorted(names - covered - set(NOT_ARRAY_FUNCTIONS))
    assert not missing, f"public names of udiff.numpy with no case: {missing}"
    assert covered <= names, f"cases of names udiff.numpy lacks: {sorted(covered - names)}"
    stale = sorted(set(NOT_ARRAY_FUNCTIONS) - names)
    assert not stale, f"exclusions of names udiff.numpy lacks: {stale}"
    functions = sorted(n for n in NOT_ARRAY_FUNCTIONS if _is_array_function(_resolve(unp, n)))
    assert not functions, f"array functions excluded from the table: {functions}"


# -- Dask chunkings the table's inputs never have ---------------------------------------------------
@pytest.mark.parametrize("mode", ["edge", "reflect", "wrap", "maximum", "mean", "linear_ramp"])
def test_pad_refuses_to_extend_an_empty_axis(mode, inner):
    """As NumPy: only constant padding extends an empty axis (Dask's made up entries)."""
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        x = unp.asarray(chunked(F(0, 2), inner))
        with pytest.raises(ValueError, match="can't extend empty axis 0"):
            compute(unp.pad(x, ((0, 1), (1, 0)), mode=mode))


def test_dask_contractions_over_empty_chunks():
    """Contractions over an empty axis that ``concatenate`` split into two empty chunks:
    zeros, as NumPy's (Dask's own added task keys to values, or lost a block)."""
    import dask.array as da

    z = da.zeros((2, 0, 0))
    x, y = da.zeros((2, 3, 0), chunks=(1, 2, 1)), da.ones((2, 0, 2), chunks=1)
    products = {
        "matmul": lambda xp, a, b: xp.matmul(a, b),
        "dot": lambda xp, a, b: xp.dot(a, b),
        "einsum": lambda xp, a, b: xp.einsum("...ij,...jk->...ik", a, b),
        "tensordot": lambda xp, a, b: xp.tensordot(a, b, axes=1),
    }
    for name, product in products.items():
        for a, b in [(x[0], y[0])] + ([(z, z), (x, y)] if name != "tensordot" else []):
            with ua.set_backend(udiff.dask_backend, coerce=True):
                got = product(unp, da.concatenate([a, a], axis=-1), b)
            want = product(numpy, numpy.concatenate([a.compute()] * 2, axis=-1), b.compute())
            numpy.testing.assert_array_equal(compute(got), want, err_msg=name)


def test_dask_solve_with_stacks_chunked_differently():
    """``apply_gufunc`` needs every operand's stack axes chunked alike."""
    import dask.array as da

    a, b = well_conditioned(2, 3, 3), F(2, 3, 2)
    with ua.set_backend(udiff.dask_backend, coerce=True):
        got = unp.linalg.solve(da.from_array(a, chunks=(2, 1, 1)), da.from_array(b, chunks=1))
    numpy.testing.assert_allclose(compute(got), numpy.linalg.solve(a, b), rtol=1e-12)
