"""Every derivative rule, checked against finite differences from one table.

``CASES`` drives the tests, in the style of JAX's ``lax_autodiff_test``: a
case is a function written with udiff.numpy, generators for its arguments (each
with the domain the function needs) and the highest order to check.  Every
case runs through :func:`udiff.testing.check_grads` in forward and reverse
mode, on NumPy and on Dask split into several chunks per axis.  A rule added
to ``udiff._machinery.registry._VJP`` without a case here fails
``test_every_rule_has_a_case``.

This is the operation table: a case whose function is a public function called
directly (``case("ldexp", np.ldexp, ...)``) is also run by
``test_forward_values`` against NumPy's own function (value, shape, dtype),
and the composition matrix (``test_compose``) nests every case in every pair of
transformations.  Adding a function takes its declaration, its rules (batching
follows from the declaration for elementwise functions) and one row here.
"""
import zlib
from typing import Callable, NamedTuple

import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
import udiff.numpy as U
from udiff.numpy import _handwritten as mm
from udiff._machinery import registry as _registry
from udiff.backends._base import key_name
from udiff.testing import check_grads

from conftest import OWN_COMPOSITE, OWN_JVP, OWN_VJP, chunked, compute, rule_keys


# -- argument generators: each returns a NumPy array from a random generator ----------------
def real(*shape):
    return lambda rng: rng.uniform(-2.0, 2.0, shape)


def pos(*shape):
    """In (0.5, 2): log, sqrt, power's base..."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def unit(*shape):
    """In (-0.9, 0.9): arcsin, arccos, arctanh."""
    return lambda rng: rng.uniform(-0.9, 0.9, shape)


def gt1(*shape):
    """In (1.2, 3): arccosh."""
    return lambda rng: rng.uniform(1.2, 3.0, shape)


def nonzero(*shape):
    """Magnitudes in (0.5, 2), random signs: abs, reciprocal, cbrt, copysign."""
    return lambda rng: rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(*shape):
    """Entries at least 0.1 apart: max/min/sort/partition see no ties."""
    def gen(rng):
        n = int(numpy.prod(shape, dtype=int))
        values = numpy.arange(n) * 0.3 - 0.15 * n + rng.uniform(-0.1, 0.1, n)
        return rng.permutation(values).reshape(shape)

    return gen


def with_zeros(*shape, zeros):
    """Real entries with exact zeros at the flat positions ``zeros``."""
    def gen(rng):
        a = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
        a.flat[list(zeros)] = 0.0
        return a

    return gen


def with_nans(*shape, nans):
    """Real entries with NaN at the flat positions ``nans``."""
    def gen(rng):
        a = rng.uniform(0.5, 2.0, shape)
        a.flat[list(nans)] = numpy.nan
        return a

    return gen


def const(value):
    """A fixed array (indices, masks, integer exponents): never differentiated."""
    return lambda rng: numpy.asarray(value)


def _s(shape):
    return "x".join(map(str, shape)) or "0d"


class Case(NamedTuple):
    name: str
    fun: Callable
    args: tuple
    order: int = 2
    xfail: dict = None  # inner backend name -> the known bug or limitation (strict xfail)

    def make_args(self, inner):
        rng = numpy.random.default_rng(zlib.crc32(self.name.encode()))
        return [chunked(gen(rng), inner) for gen in self.args]


CASES = []


def everywhere(reason):
    return {"numpy": reason, "dask": reason}


DASK_UNKNOWN_SHAPE = {"dask": (
    "Dask boolean selection has unknown (NaN) chunk sizes: the output's shape is unknown, "
    "so no cotangent of that shape can be given")}


def case(name, fun, *args, order=2, xfail=None):
    CASES.append(Case(name, fun, args, order, xfail))


# -- unary ufuncs ---------------------------------------------------------------------
UNARY = [
    (np.exp, real), (np.exp2, real), (np.expm1, real), (np.log, pos), (np.log2, pos),
    (np.log10, pos), (np.log1p, pos), (np.sqrt, pos), (np.cbrt, nonzero), (np.square, real),
    (np.reciprocal, nonzero), (np.sin, real), (np.cos, real), (np.tan, unit),
    (np.arcsin, unit), (np.arccos, unit), (np.arctan, real), (np.sinh, real),
    (np.cosh, real), (np.tanh, real), (np.arcsinh, real), (np.arccosh, gt1),
    (np.arctanh, unit), (np.negative, real), (np.positive, real), (np.deg2rad, real),
    (np.rad2deg, real), (np.conj, real), (np.absolute, nonzero), (np.fabs, nonzero),
]
# Elementwise rules see every shape alike: each function gets one, in rotation.
SHAPES = [(3, 2), (), (3,), (1, 2)]
for _k, (_f, _dom) in enumerate(UNARY):
    _shape = SHAPES[_k % len(SHAPES)]
    case(f"{_f.name}_{_s(_shape)}", _f, _dom(*_shape))

# -- binary ufuncs, with broadcasting ----------------------------------------------------
BROADCASTS = [((3, 2), (3, 2)), ((3, 1), (1, 2)), ((2,), (3, 2)), ((), (3,)), ((), ())]
BINARY = [
    (np.add, real, real), (np.subtract, real, real), (np.multiply, real, real),
    (np.divide, real, nonzero), (np.true_divide, real, nonzero), (np.power, pos, real),
    (np.logaddexp, real, real), (np.logaddexp2, real, real), (np.arctan2, nonzero, nonzero),
    (np.hypot, nonzero, nonzero), (np.remainder, real, pos), (np.mod, real, pos),
    (np.fmod, real, pos), (np.copysign, nonzero, nonzero),
]
# Each function: the broadcast (3, 1) with (1, 2), and one more pair in rotation.
for _k, (_f, _dx, _dy) in enumerate(BINARY):
    for _sx, _sy in [BROADCASTS[1], BROADCASTS[[0, 2, 3, 4][_k % 4]]]:
        case(f"{_f.name}_{_s(_sx)}_{_s(_sy)}", _f, _dx(*_sx), _dy(*_sy))


def _pooled(*shapes):
    """Arrays drawn from one pool of distinct values: maximum/minimum see no ties."""
    def gens():
        sizes = [int(numpy.prod(s, dtype=int)) for s in shapes]
        pool = []

        def take(i):
            def gen(rng):
                if not pool:
                    pool.extend(distinct(sum(sizes))(rng))
                start = sum(sizes[:i])
                return numpy.asarray(pool[start:start + sizes[i]]).reshape(shapes[i])

            return gen

        return [take(i) for i in range(len(shapes))]

    return gens()


for _k, _f in enumerate((np.maximum, np.minimum, np.fmax, np.fmin)):
    for _sx, _sy in [BROADCASTS[1], BROADCASTS[[0, 2, 3, 4][_k % 4]]]:
        case(f"{_f.name}_{_s(_sx)}_{_s(_sy)}", _f, *_pooled(_sx, _sy))

case("ldexp", np.ldexp, real(3, 2), const([[1, -2], [0, 3], [2, 1]]))
case("ldexp_broadcast", np.ldexp, real(3, 1), const([1, -2]))
case("divmod_remainder", lambda x, y: np.divmod(x, y)[1], real(3, 2), pos(2))
case("modf_fraction", lambda x: np.modf(x)[0], real(3, 2))
case("frexp_mantissa", lambda x: np.frexp(x)[0], nonzero(3, 2))

# matmul: 1-D and 2-D operands, batches, broadcast batches
for _sx, _sy in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 2)), ((1, 2, 3), (2, 3, 2)),
                 ((3,), (2, 3, 2)), ((2, 2, 3), (3,))]:
    case(f"matmul_{_s(_sx)}_{_s(_sy)}", np.matmul, real(*_sx), real(*_sy))
case("matmul_operator", lambda x, y: x @ y, real(2, 3), real(3, 2))

# -- reductions -------------------------------------------------------------------------
AXES = [dict(), dict(axis=0), dict(axis=1), dict(axis=-1), dict(axis=(0, 1)),
        dict(axis=None, keepdims=True), dict(axis=1, keepdims=True), dict(axis=(-2,))]


def _kw(kwargs):
    return "_".join(f"{k}{v}" for k, v in kwargs.items()).translate({32: None, 40: None, 41: None, 44: "-"}) or "default"


# sum, prod and max get every axis variant; the others three each, in rotation.
for _k, (_f, _dom) in enumerate([
        (np.sum, real), (np.prod, nonzero), (np.max, distinct), (np.min, distinct),
        (np.nansum, real), (np.nanprod, nonzero), (np.nanmax, distinct),
        (np.nanmin, distinct), (np.std, real), (np.var, real)]):
    for _j, _kwargs in enumerate(AXES):
        if _k > 2 and (_j + _k) % len(AXES) not in (0, 3, 6):
            continue
        case(f"{_f.__name__}_{_kw(_kwargs)}", lambda x, f=_f, k=_kwargs: f(x, **k), _dom(3, 2))
    if _k < 5:
        case(f"{_f.__name__}_0d", _f, _dom())
    else:
        case(f"{_f.__name__}_3d_axis02", lambda x, f=_f: f(x, axis=(0, 2)), _dom(2, 2, 2))
for _f in (np.std, np.var):
    case(f"{_f.__name__}_ddof1", lambda x, f=_f: f(x, ddof=1), real(3, 2))
    case(f"{_f.__name__}_axis0_ddof1", lambda x, f=_f: f(x, axis=0, ddof=1, keepdims=True),
         real(3, 2))
    case(f"{_f.__name__}_axis-1_ddof2", lambda x, f=_f: f(x, axis=-1, ddof=2), real(2, 3))
# NumPy's own function on a DiffArray reaches the same rule (__array_function__).
case("numpy.std_ddof1", lambda x: numpy.std(x, axis=1, ddof=1), real(3, 2))
for _uf, _dom in [(np.add, real), (np.multiply, nonzero), (np.maximum, distinct),
                  (np.minimum, distinct)]:
    case(f"{_uf.name}.reduce", lambda x, u=_uf: u.reduce(x), _dom(3, 2))
    case(f"{_uf.name}.reduce_axis0", lambda x, u=_uf: u.reduce(x, axis=0), _dom(3, 2))
    case(f"{_uf.name}.reduce_axis1", lambda x, u=_uf: u.reduce(x, axis=1, keepdims=True),
         _dom(3, 2))
# logaddexp.reduce and logaddexp2.reduce: log-space sums (their -inf cases: test_special.py)
for _uf in (np.logaddexp, np.logaddexp2):
    case(f"{_uf.name}.reduce", lambda x, u=_uf: u.reduce(x), real(3, 2))
    case(f"{_uf.name}.reduce_axis1_keepdims", lambda x, u=_uf: u.reduce(x, axis=1, keepdims=True),
         real(3, 2))
    case(f"{_uf.name}.reduce_None", lambda x, u=_uf: u.reduce(x, axis=None), real(2, 3))
    case(f"{_uf.name}.reduce_where", lambda x, u=_uf: u.reduce(
        x, axis=-1, where=numpy.array([True, False, True]), initial=-numpy.inf), real(2, 3))
    case(f"{_uf.name}.reduce_0d", lambda x, u=_uf: u.reduce(x, axis=None), real())
# products with zeros: one zero in a slice, two or three zeros in a slice, all zeros
for _z, _axes in [((0,), (None, 0)), ((0, 1), (None, 1)), ((0, 2, 4), (0, 1)),
                  ((0, 1, 2, 3, 4, 5), (None,))]:
    for _axis in _axes:
        case(f"prod_zeros{'-'.join(map(str, _z))}_axis{_axis}",
             lambda x, a=_axis: np.prod(x, axis=a), with_zeros(3, 2, zeros=_z))
case("nanprod_zeros0-1", lambda x: np.nanprod(x, axis=1), with_zeros(3, 2, zeros=(0, 1)))
# nan-reductions with NaNs in the input
for _f, _dom in [(np.nansum, with_nans), (np.nanprod, with_nans)]:
    case(f"{_f.__name__}_nans", _f, _dom(3, 2, nans=(1, 4)))
    case(f"{_f.__name__}_nans_axis1", lambda x, f=_f: f(x, axis=1), _dom(3, 2, nans=(1, 4)))
for _f in (np.nanmax, np.nanmin):
    # distinct finite values, with NaN at (0, 1) and (2, 0)
    def _nan_distinct(rng):
        a = distinct(3, 2)(rng)
        a[0, 1] = a[2, 0] = numpy.nan
        return a

    case(f"{_f.__name__}_nans", _f, _nan_distinct)
    case(f"{_f.__name__}_nans_axis0", lambda x, f=_f: f(x, axis=0), _nan_distinct)

# -- shape manipulation ------------------------------------------------------------------------
case("reshape", lambda x: np.reshape(x, (2, 3)), real(3, 2))
case("reshape_-1", lambda x: np.reshape(x, (-1,)), real(3, 2))
case("reshape_0d", lambda x: np.reshape(x, (1, 1)), real())
case("ravel", np.ravel, real(3, 2))
case("expand_dims_0", lambda x: mm.expand_dims(x, 0), real(3, 2))
case("expand_dims_-1", lambda x: mm.expand_dims(x, -1), real(3, 2))
case("expand_dims_tuple", lambda x: mm.expand_dims(x, (0, 2)), real(3, 2))
case("transpose", np.transpose, real(3, 2))
case("transpose_axes", lambda x: np.transpose(x, (1, 2, 0)), real(2, 3, 2))
case("transpose_T", lambda x: x.T, real(3, 2))
case("swapaxes", lambda x: np.swapaxes(x, 0, 2), real(2, 3, 2))
case("swapaxes_neg", lambda x: np.swapaxes(x, -1, 0), real(3, 2))
case("moveaxis", lambda x: np.moveaxis(x, 0, -1), real(2, 3, 2))
case("moveaxis_tuple", lambda x: np.moveaxis(x, (0, 1), (2, 0)), real(2, 3, 2))
case("rollaxis", lambda x: np.rollaxis(x, 2), real(2, 3, 2))
case("rollaxis_start", lambda x: np.rollaxis(x, 0, 2), real(2, 3, 2))
case("broadcast_to", lambda x: np.broadcast_to(x, (3, 2)), real(2))
case("broadcast_to_1x2", lambda x: np.broadcast_to(x, (2, 3, 2)), real(1, 2))
case("broadcast_to_0d", lambda x: np.broadcast_to(x, (3,)), real())
case("broadcast_arrays_0", lambda x, y: np.broadcast_arrays(x, y)[0], real(3, 1), real(2))
case("broadcast_arrays_1", lambda x, y: np.broadcast_arrays(x, y)[1], real(3, 1), real(2))
case("broadcast_arrays_both", lambda x, y: np.stack(np.broadcast_arrays(x, y)),
     real(3, 1), real(1, 2))
case("concatenate", lambda x, y: np.concatenate([x, y]), real(3, 2), real(1, 2))
case("concatenate_axis1", lambda x, y: np.concatenate((x, y), axis=1), real(3, 2), real(3, 1))
case("concatenate_axis-1", lambda x, y: np.concatenate([x, y, x], axis=-1), real(3, 2), real(3, 1))
case("concatenate_None", lambda x, y: np.concatenate([x, y], axis=None), real(3, 2), real(2))
case("concatenate_const", lambda x: np.concatenate([x, numpy.ones((1, 2))]), real(3, 2))
case("stack", lambda x, y: np.stack([x, y]), real(3, 2), real(3, 2))
case("stack_axis-1", lambda x, y: np.stack([x, y], axis=-1), real(3, 2), real(3, 2))
case("stack_axis1", lambda x, y: np.stack((x, y), axis=1), real(3), real(3))
case("hstack", lambda x, y: np.hstack([x, y]), real(3, 2), real(3, 1))
case("hstack_1d", lambda x, y: np.hstack([x, y]), real(3), real(2))
case("hstack_0d", lambda x, y: np.hstack([x, y]), real(), real())
case("vstack", lambda x, y: np.vstack([x, y]), real(3, 2), real(2))
case("vstack_1d", lambda x, y: np.vstack([x, y]), real(2), real(2))
case("column_stack", lambda x, y: np.column_stack([x, y]), real(3), real(3, 2))
case("column_stack_2d", lambda x, y: np.column_stack([x, y]), real(3, 1), real(3, 2))
case("column_stack_0d", lambda x, y: np.column_stack([x, y]), real(), real())
case("block", lambda x, y, z: np.block([[x, y], [z]]), real(2, 2), real(2, 1), real(1, 3))
case("block_1d", lambda x, y: np.block([x, y]), real(2), real(3))
case("block_const", lambda x: np.block([[x, numpy.zeros((2, 1))]]), real(2, 2))
for _n, _f in [(1, np.atleast_1d), (2, np.atleast_2d), (3, np.atleast_3d)]:
    case(f"atleast_{_n}d", _f, real())
    case(f"atleast_{_n}d_2d", _f, real(3, 2))
    case(f"atleast_{_n}d_1d", _f, real(3))
    case(f"atleast_{_n}d_many_0", lambda x, y, f=_f: f(x, y)[0], real(), real(2))
    case(f"atleast_{_n}d_many_1", lambda x, y, f=_f: f(x, y)[1], real(), real(2))
for _mode in ("constant", "edge", "reflect", "symmetric", "wrap"):
    case(f"pad_{_mode}", lambda x, m=_mode: np.pad(x, ((1, 2), (1, 0)), mode=m), real(3, 2))
    case(f"pad_{_mode}_1d", lambda x, m=_mode: np.pad(x, 2, m), real(3))
case("pad_reflect_wide", lambda x: np.pad(x, ((1, 2), (2, 1)), mode="reflect"), real(3, 2))
case("pad_symmetric_wide", lambda x: np.pad(x, ((1, 3), (2, 1)), mode="symmetric"), real(3, 2))
case("pad_constant_value", lambda x: np.pad(x, 1, mode="constant", constant_values=3.0),
     real(3, 2))
case("asarray", np.asarray, real(3, 2))
case("array", np.array, real(3, 2))

# -- selection ----------------------------------------------------------------------------
case("where", lambda x, y: np.where(x > 0, x, y), real(3, 2), real(3, 2))
case("where_broadcast", lambda x, y: np.where(x > 0, x, y), real(3, 1), real(2))
case("where_const_cond", lambda x, y: np.where(numpy.array([True, False]), x, y),
     real(3, 2), real(3, 1))
case("where_scalar", lambda x: np.where(x > 0, x, 0.0), real(3, 2))
case("sort", np.sort, distinct(3, 4))
case("sort_axis0", lambda x: np.sort(x, axis=0), distinct(3, 4))
case("sort_axis0_positional", lambda x: np.sort(x, 0), distinct(3, 4))
case("sort_None", lambda x: np.sort(x, axis=None), distinct(3, 2))
case("sort_1d", np.sort, distinct(5))
case("msort", np.msort, distinct(3, 2))
case("partition", lambda x: np.partition(x, 1), distinct(3, 4))
case("partition_axis0", lambda x: np.partition(x, 1, axis=0), distinct(3, 4))
case("partition_axis0_positional", lambda x: np.partition(x, 1, 0), distinct(3, 4))
case("sort_complex", np.sort_complex, distinct(5))
case("compress", lambda x: np.compress(numpy.array([True, False, True]), x), real(3))
case("compress_axis0", lambda x: np.compress(numpy.array([True, False, True]), x, axis=0),
     real(3, 2))
case("compress_axis1", lambda x: np.compress(numpy.array([False, True]), x, axis=1), real(3, 2))
case("compress_None", lambda x: np.compress(numpy.array([True, False, True]), x), real(3, 2))
case("extract", lambda x: np.extract(x > 0, x), real(3, 2), xfail=DASK_UNKNOWN_SHAPE)
case("extract_const", lambda x: np.extract(numpy.array([[True, False]] * 3), x), real(3, 2))
NO_RULE = everywhere("udiff has no rule for this set function: differentiating it raises "
                     "an error naming it, never zeros")
case("unique", np.unique, real(5), xfail=NO_RULE)
case("intersect1d", lambda x, y: np.intersect1d(x, y), real(3), real(3), xfail=NO_RULE)
case("setdiff1d", lambda x, y: np.setdiff1d(x, y), real(3), real(3), xfail=NO_RULE)
case("setxor1d", lambda x, y: np.setxor1d(x, y), real(3), real(3), xfail=NO_RULE)
case("union1d", lambda x, y: np.union1d(x, y), real(3), real(3), xfail=NO_RULE)
case("unique_values", np.unique_values, real(5), xfail=NO_RULE)
case("unique_all", lambda x: np.unique_all(x).values, real(5), xfail=NO_RULE)
case("unique_counts", lambda x: np.unique_counts(x).values, real(5), xfail=NO_RULE)
case("unique_inverse", lambda x: np.unique_inverse(x).values, real(5), xfail=NO_RULE)
case("getitem_slice_newaxis", lambda x: x[1:, None], real(3, 2))
case("getitem_int", lambda x: x[1], real(3, 2))
case("getitem_ellipsis", lambda x: x[..., 0], real(3, 2))
case("getitem_step", lambda x: x[::-2], real(3, 2))
case("getitem_repeated", lambda x: x[[0, 0, 2]], real(3, 2))
case("getitem_fancy_2d", lambda x: x[[0, 2, 2], [1, 0, 1]], real(3, 2))
case("getitem_mask", lambda x: x[x > 0], real(3, 2), xfail=DASK_UNKNOWN_SHAPE)
case("getitem_const_mask", lambda x: x[numpy.array([True, False, True])], real(3, 2))
case("getitem_0d", lambda x: x[()], real())
case("take_along_axis", lambda x, i: mm.take_along_axis(x, i, 1), real(3, 2),
     const([[1, 1, 0], [0, 1, 1], [1, 0, 0]]))
case("take_along_axis_0", lambda x, i: mm.take_along_axis(x, i, 0), real(3, 2),
     const([[2, 0], [2, 2]]))
case("scatter_add_along_axis", lambda x, i: mm.scatter_add_along_axis(x, i, 1, 3),
     real(3, 2), const([[0, 2], [2, 2], [1, 0]]))
case("scatter_add_along_axis_0", lambda x, i: mm.scatter_add_along_axis(x, i, -2, 2),
     real(3, 2), const([[0, 1], [1, 1], [0, 0]]))
case("index_add", lambda x: mm.index_add(x, ([0, 2, 0],), (4, 2)), real(3, 2))
case("index_add_slice", lambda x: mm.index_add(x, (slice(1, 3), 1), (3, 2)), real(2))

# -- udiff's own multimethods: statistics, scans, contractions ----------------------------------
case("mean", mm.mean, real(3, 2))
case("mean_axis0_keepdims", lambda x: mm.mean(x, axis=0, keepdims=True), real(3, 2))
case("mean_axis-1", lambda x: mm.mean(x, axis=-1), real(3, 2))
case("cumsum", mm.cumsum, real(3, 2))
case("cumsum_axis0", lambda x: mm.cumsum(x, axis=0), real(3, 2))
case("cumsum_axis-1", lambda x: mm.cumsum(x, axis=-1), real(3, 2))
case("cumsum_0d", mm.cumsum, real())
case("squeeze", mm.squeeze, real(1, 3, 1))
case("squeeze_axis", lambda x: mm.squeeze(x, axis=0), real(1, 3, 1))
case("squeeze_0d", lambda x: mm.squeeze(x), real(1))
for _sx, _sy in [((3,), (3,)), ((2, 3), (3,)), ((2, 3), (3, 2)), ((), (3,)), ((2, 2, 3), (3, 2))]:
    case(f"dot_{_s(_sx)}_{_s(_sy)}", mm.dot, real(*_sx), real(*_sy))
case("vdot", mm.vdot, real(3, 2), real(3, 2))
case("inner", mm.inner, real(2, 3), real(3))
case("inner_2d", mm.inner, real(2, 3), real(2, 3))
case("outer", mm.outer, real(3), real(2, 2))
case("tensordot", mm.tensordot, real(2, 3, 2), real(3, 2))
case("tensordot_axes", lambda x, y: mm.tensordot(x, y, axes=([0], [1])), real(2, 3), real(3, 2))
case("tensordot_0", lambda x, y: mm.tensordot(x, y, axes=0), real(2), real(3))
case("einsum_matmul", lambda x, y: mm.einsum("ij,jk->ik", x, y), real(2, 3), real(3, 2))
case("einsum_three", lambda x, y, z: mm.einsum("ij,j,jk->k", x, y, z),
     real(2, 3), real(3), real(3, 2))
case("einsum_trace", lambda x: mm.einsum("ii", x), real(3, 3))
case("einsum_diag", lambda x: mm.einsum("ii->i", x), real(3, 3))
case("einsum_implicit", lambda x, y: mm.einsum("ij,jk", x, y), real(2, 3), real(3, 2))
case("einsum_sublist", lambda x, y: mm.einsum(x, [0, 1], y, [1, 2], [0, 2]), real(2, 3), real(3, 2))
case("einsum_sublist_implicit", lambda x, y, z: np.einsum(x, [Ellipsis, 0, 1], y, [1], z, [0]),
     real(2, 3, 2), real(2), real(3))
case("einsum_ellipsis", lambda x, y: mm.einsum("...ij,...jk->...ik", x, y),
     real(2, 2, 3), real(3, 2))
case("trace", mm.trace, real(3, 3))
case("trace_offset", lambda x: mm.trace(x, 1), real(3, 4))
case("trace_axes", lambda x: mm.trace(x, 0, 1, 2), real(2, 3, 3))
case("diagonal", mm.diagonal, real(3, 3))
case("diagonal_offset", lambda x: mm.diagonal(x, -1), real(3, 2))
case("diagonal_axes", lambda x: mm.diagonal(x, 0, 2, 0), real(2, 3, 2))

# -- elementwise functions that are not ufuncs (complex parts through real arguments) ---------
case("real", lambda x, y: mm.real(x * (1.0 + 2.0j) + y), real(3, 2), real(2))
case("imag", lambda x, y: mm.imag(x * (1.0 + 2.0j) - 1j * y), real(3, 2), real(3, 2))
case("angle", lambda x, y: mm.angle(x + 1j * y), nonzero(3, 2), nonzero(3, 2))
case("angle_deg", lambda x, y: mm.angle(x + 1j * y, deg=True), nonzero(3), nonzero(3))
case("sinc", mm.sinc, real(3, 2))
case("sign_times_x", lambda x: np.sign(x) * x, nonzero(3, 2))
case("fftfreq_d", lambda d: U.fft.fftfreq(5, d), pos())
case("rfftfreq_d", lambda d: U.fft.rfftfreq(6, d=d), pos())
# at and near the removable singularity x = 0, where sinc' is its Maclaurin series
case("sinc_near_0", mm.sinc, const([0.0, 1e-9, -0.05, 0.0999, -0.1, 0.2]), order=3)
case("copy", mm.copy, real(3, 2))
case("from_dlpack", np.from_dlpack, real(3, 2))
case("astype_complex", lambda x: mm.real(mm.astype(x, numpy.complex128) * (1.0 - 1.0j)),
     real(3, 2))
case("astype_float64", lambda x: mm.astype(x, numpy.float64) * x, real(3))

# -- creation functions whose values are differentiable -----------------------------------------
# On Dask, full/full_like/linspace/logspace/geomspace are built from broadcast_to and arange,
# so a Dask array (a variable) among their values stays lazy.
case("full_0d", lambda v: U.full((3, 2), v), real())
case("full_broadcast", lambda v: U.full((3, 2), v) * v, real(2))
case("full_int", lambda v: U.full((3,), v, dtype=int) * v, pos())
case("full_like", lambda x, v: U.full_like(x, v) * x, real(3, 2), real())
case("full_like_shape", lambda x, v: U.full_like(x, v, shape=(2, 2)), real(3), real(2))
case("linspace", lambda a, b: U.linspace(a, b, 5), real(), real())
case("linspace_arrays_axis-1", lambda a, b: U.linspace(a, b, 4, axis=-1), real(2), real(3, 1))
case("linspace_no_endpoint_axis1", lambda a, b: U.linspace(a, b, 3, endpoint=False, axis=1),
     real(2), real(3, 1))
case("linspace_num1", lambda a, b: U.linspace(a, b, 1) * b, real(), real())
case("linspace_num0", lambda a, b: U.linspace(a, b, 0), real(), real())
case("linspace_retstep", lambda a, b: U.linspace(a, b, 4, retstep=True)[0]
     * U.linspace(a, b, 4, retstep=True)[1], real(2), real(2))
case("logspace", lambda a, b: U.logspace(a, b, 4, base=2.0), real(), real())
case("logspace_axis1", lambda a, b: U.logspace(a, b, 3, endpoint=False, axis=1), real(3, 1),
     real(2))
case("geomspace", lambda a, b: U.geomspace(a, b, 5), pos(), pos())
case("geomspace_negative", lambda a, b: U.geomspace(-a, -b, 4), pos(2), pos(2))
case("geomspace_arrays_axis-1", lambda a, b: U.geomspace(a, b, 4, axis=-1), pos(2), pos(3, 1))
case("geomspace_no_endpoint_axis1", lambda a, b: U.geomspace(a, b, 3, endpoint=False, axis=1),
     pos(2), pos(3, 1))
case("geomspace_num1", lambda a, b: U.geomspace(a, b, 1) * b, pos(), pos())
case("geomspace_num0", lambda a, b: U.geomspace(a, b, 0), pos(), pos())
case("geomspace_stop", lambda b: U.geomspace(2.0, b, 4), pos(3))
case("arange", lambda a, s: U.arange(a, 4.0, s), real(), pos())
case("arange_stop_only", lambda a: U.arange(4.0 + a) * a, pos())
case("heaviside_x2", lambda x2: np.heaviside(numpy.array([[0.0, 1.0], [-1.0, 0.0], [0.0, 2.0]]), x2),
     real(2))
case("heaviside_x1", lambda x1, x2: np.heaviside(x1, x2) * x1, nonzero(3, 2), real(2))
case("nextafter", np.nextafter, real(3, 2), real(2))

# -- compositions: second derivatives that mix rules --------------------------------------------
case("softmax", lambda x: np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True), real(3, 2))
case("logsumexp_norm", lambda x, y: np.sqrt(np.sum((x @ y) ** 2)) * np.max(x),
     real(2, 3), real(3, 2))

# -- composites: udiff.numpy functions differentiated through their defaults ----------------------
COMPOSITE_CASES = {}  # composite multimethod -> names of the cases that exercise it


def composite(func, suffix, fun, *args, order=2, xfail=None):
    name = f"{func.__name__}_{suffix}"
    COMPOSITE_CASES.setdefault(func, []).append(name)
    case(name, fun, *args, order=order, xfail=xfail)


composite(U.amax, "axis0", lambda x: U.amax(x, axis=0), distinct(3, 4))
composite(U.amin, "all", U.amin, distinct(3, 4))
composite(U.ptp, "axis1", lambda x: U.ptp(x, axis=1), distinct(3, 4))
composite(U.average, "weights", lambda x, w: U.average(x, axis=1, weights=w), real(3, 4), pos(4))
composite(U.average, "plain", U.average, real(3, 4))
composite(U.flip, "axis1", lambda x: U.flip(x, 1), real(3, 4))
composite(U.fliplr, "2d", U.fliplr, real(3, 4))
composite(U.flipud, "2d", U.flipud, real(3, 4))
composite(U.rot90, "k1", U.rot90, real(3, 4))
composite(U.rot90, "k3", lambda x: U.rot90(x, 3), real(3, 4))
composite(U.roll, "axis1", lambda x: U.roll(x, 2, axis=1), real(3, 4))
composite(U.roll, "flat", lambda x: U.roll(x, 5), real(3, 4))
composite(U.tile, "2x3", lambda x: U.tile(x, (2, 3)), real(3))
composite(U.repeat, "axis0", lambda x: U.repeat(x, 2, axis=0), real(3, 4))
composite(U.repeat, "counts", lambda x: U.repeat(x, [1, 0, 2]), real(3))
composite(U.take, "repeated", lambda x: U.take(x, [0, 0, 2], axis=1), real(3, 4))
composite(U.split, "halves", lambda x: U.split(x, 2, axis=1)[1], real(3, 4))
composite(U.array_split, "uneven", lambda x: U.array_split(x, 3)[0], real(5))
composite(U.hsplit, "2d", lambda x: U.hsplit(x, 2)[0], real(3, 4))
composite(U.vsplit, "at1", lambda x: U.vsplit(x, [1])[1], real(3, 4))
composite(U.dsplit, "3d", lambda x: U.dsplit(x, 2)[1], real(2, 3, 4))
composite(U.dstack, "pair", lambda x, y: U.dstack([x, y]), real(3, 4), real(3, 4))
composite(U.append, "flat", lambda x, y: U.append(x, y), real(3, 4), real(2))
composite(U.meshgrid, "xy", lambda x, y: U.meshgrid(x, y)[0] * U.meshgrid(x, y)[1], real(3), real(4))
composite(U.tril, "square", U.tril, real(3, 3))
composite(U.triu, "k1", lambda x: U.triu(x, 1), real(4, 4))
composite(U.diag, "build", lambda x: U.diag(x, -1), real(3))
composite(U.diag, "extract", lambda x: U.diag(x, 1), real(3, 4))
composite(U.kron, "2d", U.kron, real(2, 3), real(3, 2))
composite(U.cross, "broadcast", U.cross, real(4, 3), real(3))
composite(U.cross, "2d_vectors", U.cross, real(4, 2), real(4, 2))
composite(U.quantile, "axis0", lambda x: U.quantile(x, 0.3, axis=0), distinct(5, 3))
composite(U.percentile, "many", lambda x: U.percentile(x, [10, 50]), distinct(5, 3))
composite(U.median, "keepdims", lambda x: U.median(x, axis=1, keepdims=True), distinct(3, 4))
# every method is lerp(s[lo], s[hi], gamma) with constants lo, hi, gamma (test_forward_values
# checks them); these cases check the derivative of both kinds, fixed weights and ends
composite(U.quantile, "methods", lambda x: np.stack(
    [U.quantile(x, [0.0, 0.3, 0.5, 1.0], axis=0, method=m)
     for m in ("averaged_inverted_cdf", "midpoint", "hazen", "inverted_cdf")]), distinct(4, 3))
composite(U.quantile, "axes02", lambda x: U.quantile(x, 0.4, axis=(0, 2), keepdims=True),
          distinct(2, 3, 2))
composite(U.percentile, "size1", lambda x: U.percentile(x, [20, 70], axis=0, method="hazen"),
          real(1, 3))
composite(U.median, "axes_all", lambda x: U.median(x, axis=(0, 1)), distinct(2, 3))
composite(U.nanquantile, "nans", lambda x: U.nanquantile(x, [0.2, 0.9], axis=1, method="weibull"),
          with_nans(3, 4, nans=[1, 5, 6]))
composite(U.nanpercentile, "nans", lambda x: U.nanpercentile(x, 40.0, axis=(0, 1)),
          with_nans(2, 3, nans=[4]))
composite(U.nanmedian, "nans", lambda x: U.nanmedian(x, axis=0, keepdims=True),
          with_nans(4, 3, nans=[0, 4, 5]))
composite(U.nanmedian, "size0", lambda x: U.nanmedian(x, axis=1), real(0, 3))
composite(U.nanmean, "nans", lambda x: U.nanmean(x, axis=0), with_nans(3, 2, nans=[1]))
composite(U.nanvar, "nans", lambda x: U.nanvar(x, axis=0), with_nans(3, 2, nans=[1]))
composite(U.nanstd, "ddof", lambda x: U.nanstd(x, ddof=1), real(3, 4))
composite(U.nancumsum, "nans", lambda x: U.nancumsum(x, axis=1), with_nans(3, 2, nans=[0]))
composite(U.nancumprod, "nans", U.nancumprod, with_nans(3, nans=[1]))
composite(U.cumprod, "zeros", lambda x: U.cumprod(x, axis=1), with_zeros(3, 4, zeros=[1]))
composite(U.cumulative_sum, "initial", lambda x: U.cumulative_sum(x, axis=0, include_initial=True),
          real(3, 4))
composite(U.cumulative_prod, "1d", U.cumulative_prod, real(4))
composite(U.diff, "second", lambda x: U.diff(x, 2, axis=0), real(5, 3))
composite(U.ediff1d, "begin", lambda x: U.ediff1d(x, to_begin=1.0), real(3, 4))
composite(U.trapezoid, "dx", lambda x: U.trapezoid(x, dx=0.5), real(3, 4))
composite(U.trapezoid, "x", lambda y, x: U.trapezoid(y, mm.cumsum(x * x, axis=-1)), real(3, 4),
          real(4))
composite(U.interp, "xfp", lambda x, fp: U.interp(x, numpy.array([-2.0, -0.5, 0.3, 2.0]), fp),
          real(5), real(4))
composite(U.interp, "x2d", lambda x, xp, fp: U.interp(x, mm.cumsum(xp * xp) - 3.0, fp),
          real(2, 3), nonzero(4), real(4))
composite(U.interp, "x0d", lambda x, fp: U.interp(x, numpy.array([-2.0, 0.5, 2.0]), fp),
          real(), real(3))
composite(U.polyval, "cubic", U.polyval, real(3), real(4))
composite(U.convolve, "full", U.convolve, real(5), real(3))
composite(U.convolve, "same", lambda a, v: U.convolve(a, v, mode="same"), real(5), real(3))
composite(U.correlate, "valid", U.correlate, real(5), real(3))
composite(U.correlate, "full", lambda a, v: U.correlate(a, v, "full"), real(3), real(5))
composite(U.clip, "bounds", lambda x: U.clip(x, -0.5, 0.5), real(3, 4))
composite(U.nan_to_num, "finite", U.nan_to_num, real(3, 4))
composite(U.select, "two", lambda x, y: U.select([x > 0, x < -0.5], [x * y, y]), real(3, 4),
          real(3, 4))
composite(U.vecdot, "broadcast", U.vecdot, real(3, 4), real(4))
composite(U.matvec, "stack", U.matvec, real(2, 3, 4), real(4))
composite(U.vecmat, "plain", U.vecmat, real(3), real(3, 4))
composite(U.matrix_transpose, "stack", U.matrix_transpose, real(2, 3, 4))
composite(U.unstack, "axis1", lambda x: U.unstack(x, axis=1)[2], real(3, 4))
composite(U.delete, "axis1", lambda x: U.delete(x, [0, 2], axis=1), real(3, 4))
composite(U.insert, "row", lambda x, v: U.insert(x, 1, v, axis=0), real(3, 4), real(4))
composite(U.float_power, "pos", lambda x, y: U.float_power(x, y), pos(3), real(3))
composite(U.resize, "grow", lambda x: U.resize(x, (2, 5)), real(3))
composite(U.gradient, "spacing", lambda x: U.gradient(x, 0.5), real(5))
composite(U.gradient, "2d", lambda x: U.gradient(x)[1], real(4, 5))
composite(U.cov, "rows", U.cov, real(3, 5))
composite(U.cov, "columns_y", lambda x, y: U.cov(x, y, rowvar=False), real(5, 2), real(5))
composite(U.corrcoef, "rows", U.corrcoef, real(3, 5))
composite(U.ascontiguousarray, "2d", lambda x: U.ascontiguousarray(x) * x, real(3, 4))
composite(U.asfortranarray, "2d", lambda x: U.asfortranarray(x) * x, real(3, 4))
# issue 10's NumPy functions
composite(U.vander, "n4", lambda x: U.vander(x, 4), real(3))
composite(U.vander, "size1_increasing", lambda x: U.vander(x, increasing=True), real(1))
composite(U.polyadd, "pad", U.polyadd, real(2), real(4))
composite(U.polysub, "pad", U.polysub, real(3), real(2))
composite(U.polymul, "2x3", U.polymul, real(2), real(3))
composite(U.polymul, "leading_zeros", lambda a, b: U.polymul(
    a * numpy.array([0.0, 0.0, 1.0, 1.0]), b * numpy.array([0.0, 1.0])), real(4), real(2))
composite(U.polymul, "zero", lambda a, b: U.polymul(a * numpy.array([0.0, 0.0]), b),
          real(2), real(3))
composite(U.polydiv, "quotient", lambda u, v: U.polydiv(u, v)[0], real(4), pos(2))
composite(U.polydiv, "remainder", lambda u, v: U.polydiv(u, v)[1], real(5), pos(3))
composite(U.polyder, "m2", lambda p: U.polyder(p, 2), real(4))
composite(U.polyint, "k", lambda p, k: U.polyint(p, 2, k), real(3), real(2))
# polyfit is linalg.lstsq's derivative, whose second order on Dask is slow (pinv's SVD rules):
# one case to order 2, the weights and the covariance to order 1
composite(U.polyfit, "xy", lambda x, y: U.polyfit(x, y, 1), distinct(3), real(3))
composite(U.polyfit, "weights", lambda x, y, w: U.polyfit(x, y, 1, w=w), distinct(4), real(4, 2),
          pos(4), order=1)
composite(U.polyfit, "cov", lambda x, y: U.polyfit(x, y, 1, cov=True)[1], distinct(4), real(4),
          order=1)
composite(U.roots, "complex", U.roots, pos(3))
composite(U.diagflat, "k1", lambda v: U.diagflat(v, 1), real(2, 2))
composite(U.real_if_close, "real", lambda x: U.real_if_close(x + 0j), real(3))
composite(U.put_along_axis, "repeated", lambda x, v: U.put_along_axis(
    x, numpy.array([[0, 2, 0], [-1, 1, 1]]), v, 1, inplace=False), real(2, 4), real(2, 3))
composite(U.put_along_axis, "flat_size0", lambda x, v: U.put_along_axis(
    x, numpy.array([], dtype=int), v, None, inplace=False), real(2, 0), real(0))
composite(U.choose, "clip", lambda x, y: U.choose(numpy.array([[0, 1, 2], [3, 1, 0]]), [x, y, x * y],
                                                  mode="clip"), real(2, 3), real(3))
composite(U.piecewise, "funcs", lambda x: U.piecewise(
    x, [x < -0.5, x > 0.5], [lambda v: v ** 3, np.sin, lambda v: 2.0 * v]), real(3, 2))
composite(U.trim_zeros, "2d", lambda x: U.trim_zeros(x * numpy.array([0.0, 1.0, 1.0, 0.0])),
          real(3, 4))
composite(U.unwrap, "axis0", lambda x: U.unwrap(4.0 * x, axis=0), real(3, 2))
composite(U.linalg.vector_norm, "axis_tuple",
          lambda x: U.linalg.vector_norm(x, axis=(0, 2), keepdims=True), nonzero(2, 3, 2))
composite(U.linalg.vector_norm, "ord1", lambda x: U.linalg.vector_norm(x, ord=1), nonzero(3, 2))
composite(U.linalg.matrix_norm, "fro", U.linalg.matrix_norm, real(2, 3, 2))
composite(U.linalg.svdvals, "tall", U.linalg.svdvals, distinct(4, 3))

# -- DiffArray methods and functional updates ------------------------------------------------------
case("method_sum", lambda x: x.sum(axis=0) * x.mean(), real(3, 4))
case("method_std", lambda x: x.std(ddof=1) + x.var(0).sum(), real(3, 4))
case("method_reshape", lambda x: x.reshape(4, 3).T.ravel() * x.flatten(), real(3, 4))
case("method_dot", lambda x, y: x.dot(y).cumsum(), real(3, 4), real(4))
case("at_set", lambda x, v: x.at[1].set(v) * x, real(3, 4), real(4))
case("at_add_repeated", lambda x, v: x.at[[0, 0, 2]].add(v) * x, real(3), real(3))
case("at_multiply", lambda x, v: x.at[:, 1:].multiply(v), real(3, 4), real(3, 3))

# -- size-0 axes beside axes Dask splits in chunks: reductions, flattening, padding, products ---
for _f in (np.max, np.min, np.nanmax, np.nanmin, U.amax, U.ptp):
    case(f"{_f.__name__}_beside_size0", lambda x, f=_f: f(x, axis=-1), real(1, 0, 2))
    case(f"{_f.__name__}_size0_result", lambda x, f=_f: f(x, axis=0), real(1, 0, 0))
case("max_beside_size0_axes02", lambda x: np.max(x, axis=(0, 2), keepdims=True), real(3, 0, 4))
case("maximum.reduce_beside_size0", lambda x: np.maximum.reduce(x, axis=1), real(2, 3, 0))
case("pad_constant_size0", lambda x: np.pad(x, ((0, 1), (0, 1)), "constant"), real(0, 0))
case("pad_constant_size0_other", lambda x: np.pad(x, ((0, 0), (1, 2)), "constant"), real(0, 3))
case("pad_edge_size0_other", lambda x: np.pad(x, ((0, 0), (1, 2)), mode="edge"), real(0, 3))
case("ravel_size0", np.ravel, real(0, 2, 1))
case("reshape_-1_size0", lambda x: np.reshape(x, (-1,)), real(2, 0, 3))
case("method_flatten_size0", lambda x: x.flatten(), real(0, 2, 1))
composite(U.repeat, "size0_flat", lambda x: U.repeat(x, 1), real(6, 0))
case("outer_size0", lambda x: mm.outer(x, x), real(0, 2, 1))
case("vdot_size0", lambda x: mm.vdot(x, x), real(0, 2, 1))
# contractions over an empty axis that concatenate split in two empty chunks (zeros out)
_SPLIT = lambda x: np.concatenate([x, x], axis=-1)  # noqa: E731
case("matmul_split_empty", lambda x, y: np.matmul(_SPLIT(x), y), real(2, 3, 0), real(2, 0, 2))
case("dot_split_empty", lambda x, y: mm.dot(_SPLIT(x), y), real(3, 0), real(0, 2))
case("einsum_split_empty", lambda x, y: mm.einsum("bij,bjk->bik", _SPLIT(x), y),
     real(2, 3, 0), real(2, 0, 2))
case("tensordot_split_empty", lambda x, y: mm.tensordot(_SPLIT(x), y, axes=1),
     real(3, 0), real(0, 2))



@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    # The arrays are tiny: Dask's thread pool would cost more than the arithmetic.
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


CASES_BY_NAME = {c.name: c for c in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(case, inner, request):
    reason = (case.xfail or {}).get(inner.name)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    check_grads(case.fun, case.make_args(inner), modes=("fwd", "rev"), order=case.order,
                inner=inner)


# -- precision: float32 in, float32 out -------------------------------------------------------------
FLOAT32_XFAIL = {}
FLOAT32_DASK = {}  # overrides on Dask: None where a case's own xfail does not apply here


def _single(a):
    kind = a.dtype.kind
    return a.astype(numpy.float32 if kind == "f" else numpy.complex64) if kind in "fc" else a


def _numpy_dtype(case, args):
    """The dtype NumPy's own functions give ``case.fun`` at ``args``, or None if they cannot run it."""
    try:
        with ua.set_backend(udiff.numpy_backend):  # no coercion: Python scalars stay weak
            return numpy.result_type(case.fun(*args))
    except Exception:  # DiffArray-only syntax (x.at[...]); the other checks still run
        return None


def _check_single_precision(fun, args, inner, want):
    """Values of dtype ``want``; derivatives of their variable's dtype (reverse) or their
    result's (forward), at orders 1 and 2."""
    for mode in ("vjp", "jvp"):
        backend = udiff.DiffArrayBackend(inner, mode)
        xs = [udiff.DiffArray(a, backend) if a.dtype.kind in "fc" else a for a in args]
        with ua.set_backend(backend, coerce=True):
            y = fun(*xs)
        assert want is None or y.dtype == want, f"value: {y.dtype}, NumPy: {want}"
        for x in (x for x in xs if type(x) is udiff.DiffArray):
            seed, expected = (y, x.dtype) if mode == "vjp" else (x, y.dtype)
            d = y.to(x, grad_variables=numpy.ones(seed.shape, seed.dtype), create_graph=True)
            assert d.dtype == expected, f"{mode} order 1: {d.dtype}, expected {expected}"
            seed = d if mode == "vjp" else x
            dd = d.to(x, grad_variables=numpy.ones(seed.shape, seed.dtype))
            assert dd.dtype == expected, f"{mode} order 2: {dd.dtype}, expected {expected}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule_keeps_single_precision(case, inner, request):
    """Every case with float32 variables: float32 gradients (JAX's rule), NumPy's values."""
    reason = FLOAT32_XFAIL.get(case.name) or (case.xfail or {}).get(inner.name)
    if inner.name == "dask":
        reason = FLOAT32_DASK.get(case.name, reason)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    args = [_single(a) for a in case.make_args(inner)]
    _check_single_precision(case.fun, args, inner, _numpy_dtype(case, [compute(a) for a in args]))


def _complex(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape) * numpy.exp(1j * rng.uniform(-3, 3, shape))


COMPLEX_CASES = [
    Case("exp", np.exp, (_complex(3, 2),)), Case("sin", np.sin, (_complex(3),)),
    Case("multiply", np.multiply, (_complex(3, 1), _complex(2))),
    Case("divide", np.divide, (_complex(3), _complex(3))), Case("sum", np.sum, (_complex(3, 2),)),
    Case("absolute", np.absolute, (_complex(3),)), Case("angle", mm.angle, (_complex(3),)),
    Case("real", mm.real, (_complex(3),)), Case("conj", np.conj, (_complex(2, 2),)),
    Case("matmul", np.matmul, (_complex(2, 3), _complex(3))),
    Case("einsum", lambda a, b: mm.einsum("ij,jk->ik", a, b), (_complex(2, 3), _complex(3, 2))),
]


@pytest.mark.parametrize("case", COMPLEX_CASES, ids=[c.name for c in COMPLEX_CASES])
def test_rule_keeps_complex64(case, inner):
    args = [_single(a) for a in case.make_args(inner)]
    _check_single_precision(case.fun, args, inner, _numpy_dtype(case, [compute(a) for a in args]))


# -- batched Jacobians against finite-difference Jacobians --------------------------------------
JACOBIAN_CASES = [
    "sum_axis1", "max_axis0", "std_axis-1", "prod_zeros0-1_axis1", "multiply_3x1_1x2",
    "power_2_3x2", "matmul_2x2x3_3x4", "matmul_2x3_3", "transpose_axes", "concatenate_axis1",
    "sort_axis0", "getitem_repeated", "getitem_slice_newaxis", "pad_wrap", "where_broadcast",
]


def _value_of(f, args, backend):
    xs = [udiff.DiffArray(a, backend) if a.dtype.kind == "f" else a for a in args]
    with ua.set_backend(backend, coerce=True):
        return compute(f(*xs))


def _fd_jacobian(f, args, i, inner, eps=1e-6):
    """d f / d args[i] by central differences, shaped ``out.shape + args[i].shape``."""
    backend = udiff.DiffArrayBackend(inner)
    x = compute(args[i])
    columns = []
    for j in range(x.size):
        step = numpy.zeros(x.size)
        step[j] = eps
        step = step.reshape(x.shape)
        plus = _value_of(f, args[:i] + [chunked(x + step, inner)] + args[i + 1:], backend)
        minus = _value_of(f, args[:i] + [chunked(x - step, inner)] + args[i + 1:], backend)
        columns.append((plus - minus) / (2 * eps))
    out_shape = columns[0].shape
    return numpy.moveaxis(numpy.stack(columns), 0, -1).reshape(out_shape + x.shape)


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("name", JACOBIAN_CASES)
def test_jacobian_matches_finite_differences(name, mode, inner):
    case = CASES_BY_NAME[name]
    args = case.make_args(inner)
    backend = udiff.DiffArrayBackend(inner, mode)
    xs = [udiff.DiffArray(a, backend) if a.dtype.kind == "f" else a for a in args]
    with ua.set_backend(backend, coerce=True):
        y = case.fun(*xs)
    for i, x in enumerate(xs):
        if type(x) is not udiff.DiffArray:
            continue
        jac = y.to(x, jacobian=True)
        assert jac.shape == y.shape + x.shape
        numpy.testing.assert_allclose(compute(jac), _fd_jacobian(case.fun, args, i, inner),
                                      rtol=1e-5, atol=1e-6, err_msg=f"argument {i}")


# -- ties: the derivative is shared evenly between tied winners -----------------------------------
TIED = numpy.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
TIES = [
    # (function, input, value, Jacobian of the value with respect to the input)
    (lambda x: np.max(x, axis=1), TIED, [3.0, 2.0],
     [[[0, 0.5, 0.5], [0, 0, 0]], [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]]),
    (lambda x: np.min(x, axis=1), TIED, [1.0, 2.0],
     [[[1, 0, 0], [0, 0, 0]], [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]]),
    (lambda x: np.max(x), TIED, 3.0, [[0, 0.5, 0.5], [0, 0, 0]]),
    (lambda x: np.nanmax(x, axis=0), [[numpy.nan, 1.0], [2.0, 1.0], [2.0, 0.0]], [2.0, 1.0],
     [[[0, 0], [0.5, 0], [0.5, 0]], [[0, 0.5], [0, 0.5], [0, 0]]]),
    (lambda x: np.nanmin(x), [[numpy.nan, 1.0], [1.0, 4.0]], 1.0, [[0, 0.5], [0.5, 0]]),
    (lambda x: np.maximum.reduce(x, axis=1), TIED, [3.0, 2.0],
     [[[0, 0.5, 0.5], [0, 0, 0]], [[0, 0, 0], [1 / 3, 1 / 3, 1 / 3]]]),
    # maximum(x, y) with x == y: half to each
    (lambda x: np.maximum(x[0], x[1]), [[1.0, 2.0], [1.0, 0.0]], [1.0, 2.0],
     [[[0.5, 0], [0.5, 0]], [[0, 1], [0, 0]]]),
    (lambda x: np.fmin(x[0], x[1]), [[1.0, 2.0], [1.0, 0.0]], [1.0, 0.0],
     [[[0.5, 0], [0.5, 0]], [[0, 0], [0, 1]]]),
]


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
@pytest.mark.parametrize("k", range(len(TIES)))
def test_ties_split_the_derivative_evenly(k, mode, inner):
    f, x, value, jac = TIES[k]
    backend = udiff.DiffArrayBackend(inner, mode)
    with ua.set_backend(backend, coerce=True):
        x = np.asarray(chunked(x, inner))
        y = f(x)
        numpy.testing.assert_allclose(compute(y), value)
        numpy.testing.assert_allclose(compute(y.to(x, jacobian=True)), jac, atol=1e-15)
        # the weights are constants: the second derivative is zero
        d = y.to(x, grad_variables=numpy.ones(y.shape if mode == "vjp" else x.shape),
                 create_graph=True)
        numpy.testing.assert_allclose(compute(d.to(x, jacobian=True)), 0.0, atol=1e-15)


# -- coverage of the rule tables ----------------------------------------------------------------
def _family(key):
    """``(f, i)``, output ``i`` of a function registered per output, stands for ``f``."""
    key = _registry.key_of(key)
    if isinstance(key, tuple) and isinstance(key[1], int):
        return key[0]
    return key


# Rule modules whose functions another test module checks from its own case table, named
# by its COVERED_KEYS (linear algebra and FFTs need structured inputs of their own).
DELEGATED = ("test_linalg", "test_fft", "test_special", "test_scipy_linalg_signal")


def _recorded_keys(c):
    try:
        return rule_keys(c.fun, c.make_args(udiff.numpy_backend))
    except NotImplementedError:
        if (c.xfail or {}).get("numpy"):  # a known limitation: the function itself raises
            return set()
        raise


def test_every_rule_has_a_case():
    import importlib

    covered = {_family(k) for c in CASES for k in _recorded_keys(c)}
    for test_module in DELEGATED:
        covered |= {_family(k) for k in importlib.import_module(test_module).COVERED_KEYS}
    missing = sorted({key_name(_family(k)) for k in OWN_VJP if _family(k) not in covered})
    assert not missing, f"rules with no case in CASES: {missing}"


def test_every_composite_has_a_case():
    import importlib

    covered = {_registry.key_of(f) for f, names in COMPOSITE_CASES.items() if names}
    for test_module in DELEGATED:
        covered |= set(map(_registry.key_of, getattr(importlib.import_module(test_module),
                                                     "COVERED_COMPOSITES", set())))
    missing = sorted(key_name(f) for f in OWN_COMPOSITE if f not in covered)
    assert not missing, f"composite functions with no case: {missing}"


def test_vjp_and_jvp_tables_have_the_same_keys():
    only_vjp = sorted(map(key_name, OWN_VJP.keys() - OWN_JVP.keys()))
    only_jvp = sorted(map(key_name, OWN_JVP.keys() - OWN_VJP.keys()))
    assert not only_vjp and not only_jvp, f"VJP only: {only_vjp}; JVP only: {only_jvp}"


def _unclassified(namespace, tables):
    missing = []
    for name in dir(namespace):
        obj = getattr(namespace, name)
        if isinstance(obj, np.ufunc):  # its reduce and accumulate are checked by their cases
            keys = [obj.key] + [(obj.key, i) for i in range(obj.nout)]
        elif hasattr(obj, "arg_extractor"):
            keys = [obj.key] + [(obj.key, i) for i in range(2)]
        else:
            continue
        if not any(k in table for k in keys for table in tables):
            missing.append(name)
    return missing


def test_every_core_function_is_classified():
    """NumPy's core functions and ufuncs (``udiff.numpy._from_signatures``) have rules or are constants."""
    from udiff.numpy import _from_signatures as _api

    for name in dir(np):
        obj = getattr(np, name)
        if isinstance(obj, type):
            # (the array API's dtypes are NumPy's own)
            allowed = name in ("ndarray", "ufunc", "dtype", "errstate")
            assert allowed or getattr(numpy, name) is obj, name
    missing = _unclassified(_api, (_registry._VJP, _registry._NONDIFF))
    assert not missing, f"neither differentiable nor declared constant: {missing}"


def test_every_udiff_numpy_function_is_classified():
    import udiff.numpy as unp

    tables = (_registry._VJP, _registry._NONDIFF, _registry._COMPOSITE)
    from udiff.scipy import special

    missing = [f"{prefix}{name}" for prefix, namespace in
               [("", unp), ("linalg.", unp.linalg), ("fft.", unp.fft),
                ("scipy.special.", special)]
               for name in _unclassified(namespace, tables)]
    assert not missing, f"neither differentiable, constant nor composite: {missing}"


def test_missing_rule_raises_naming_the_function(inner):
    from uarray import Dispatchable, generate_multimethod

    def fix(a):  # the inner libraries resolve the multimethod by this name
        return (Dispatchable(a, np.ndarray),)

    def replacer(args, kwargs, dispatchables):
        return tuple(dispatchables) + tuple(args[1:]), kwargs

    fresh = generate_multimethod(fix, replacer, "numpy")
    key = _registry.key_of(fresh)
    assert key == "numpy.fix" and key not in _registry._VJP and key not in _registry._NONDIFF
    for mode in ("vjp", "jvp"):
        backend = udiff.DiffArrayBackend(inner, mode)
        with ua.set_backend(backend, coerce=True):
            x = np.asarray(chunked([[1.5, -2.5], [3.5, 4.0]], inner))
            y = np.sin(fresh(x))
            numpy.testing.assert_allclose(compute(y), numpy.sin([[1.0, -2.0], [3.0, 4.0]]))
            with pytest.raises(NotImplementedError, match="fix"):
                y.to(x)


# -- the checker itself catches wrong rules -------------------------------------------------------
def _fresh_sin():
    """A new multimethod that the inner libraries run as their ``sin`` (udiff's ``sin`` by name)."""
    from uarray import Dispatchable, generate_multimethod

    def sin(a):
        return (Dispatchable(a, np.ndarray),)

    return generate_multimethod(sin, lambda args, kwargs, d: (tuple(d), kwargs), "numpy")


def _detached(x):
    return getattr(x, "value", x)


@pytest.mark.parametrize("wrong, message", [
    # first derivative wrong in reverse mode only
    (dict(vjp=lambda ans, x: lambda g: g * numpy.cos(x) * 1.001), "^VJP: "),
    # first derivative wrong in forward mode only
    (dict(jvp=lambda t, ans, x: t * numpy.cos(x) + 1e-3), "^JVP, output"),
    # right first derivatives, but computed from detached values: the second is zero
    (dict(vjp=lambda ans, x: lambda g: g * numpy.cos(_detached(x)),
          jvp=lambda t, ans, x: t * numpy.cos(_detached(x))), " of (JVP|VJP)"),
])
def test_check_grads_catches_wrong_rules(wrong, message, monkeypatch, inner):
    key = _fresh_sin()
    rules = {"vjp": lambda ans, x: lambda g: g * numpy.cos(x),
             "jvp": lambda t, ans, x: t * numpy.cos(x), **wrong}
    monkeypatch.setitem(_registry._VJP, _registry.key_of(key), (rules["vjp"],))
    monkeypatch.setitem(_registry._JVP, _registry.key_of(key), (rules["jvp"],))
    x = chunked(numpy.linspace(0.1, 1.0, 4), inner)
    if message.startswith(" of"):
        check_grads(key, [x], order=1, inner=inner)  # the first derivatives are right
    with pytest.raises(AssertionError, match=message):
        check_grads(key, [x], inner=inner)


# -- guarded points: removable singularities are right at every order ------------------------------
def _nth_derivative(f, x, n, mode):
    """The n-th derivative of the elementwise ``f`` at each entry of ``x``, recorded sweeps."""
    backend = udiff.DiffArrayBackend(_inner_of(x), mode)
    v = udiff.DiffArray(x, backend)
    with ua.set_backend(backend, coerce=True):
        d = f(v)
        for _ in range(n):
            d = d.to(v, grad_variables=numpy.ones(numpy.shape(x)), create_graph=True)
    return compute(d)


def _inner_of(x):
    return udiff.numpy_backend if isinstance(x, numpy.ndarray) else udiff.dask_backend


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_sinc_derivatives_at_zero(mode, inner):
    # sinc(x) = 1 - (pi x)^2 / 6 + (pi x)^4 / 120 - ...: derivatives 0, -pi^2/3, 0, pi^4/5 at 0
    x = chunked(numpy.zeros(3), inner)
    exact = [0.0, -numpy.pi ** 2 / 3, 0.0, numpy.pi ** 4 / 5]
    for n, want in enumerate(exact, 1):
        numpy.testing.assert_allclose(_nth_derivative(mm.sinc, x, n, mode), want, atol=1e-9,
                                      err_msg=f"order {n}")


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_power_at_zero_base(mode, inner):
    # x ** y at x = 0, y = 2.5 (the rule guards log(x)): every first and second derivative is 0
    backend = udiff.DiffArrayBackend(inner, mode)
    x, y = (udiff.DiffArray(chunked(numpy.array([0.0, 0.0]), inner), backend),
            udiff.DiffArray(chunked(numpy.array([2.5, 3.5]), inner), backend))
    with ua.set_backend(backend, coerce=True):
        f = np.power(x, y)
        for a in (x, y):
            d = f.to(a, grad_variables=numpy.ones(2), create_graph=True)
            numpy.testing.assert_allclose(compute(d), 0.0)
            for b in (x, y):
                numpy.testing.assert_allclose(
                    compute(d.to(b, grad_variables=numpy.ones(2))), 0.0)


@pytest.mark.parametrize("f", [np.var, np.std])
@pytest.mark.parametrize("ddof, axis", [(6, None), (2, 0), (5, 1)])
@pytest.mark.filterwarnings("ignore:Degrees of freedom:RuntimeWarning",
                            "ignore:divide by zero:RuntimeWarning",
                            "ignore:invalid value:RuntimeWarning")
def test_var_std_ddof_at_least_n_give_nan(f, ddof, axis, inner):
    # NumPy divides by max(n - ddof, 0): the value is inf or NaN, the derivative NaN (as JAX's)
    x = chunked(numpy.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]]), inner)
    for mode in ("vjp", "jvp"):
        backend = udiff.DiffArrayBackend(inner, mode)
        v = udiff.DiffArray(x, backend)
        with ua.set_backend(backend, coerce=True):
            y = f(v, axis=axis, ddof=ddof)
            d = y.to(v, grad_variables=numpy.ones(y.shape if mode == "vjp" else v.shape),
                     create_graph=True)
            assert numpy.isnan(compute(d)).all()
            seed = d if mode == "vjp" else v
            assert numpy.isnan(compute(d.to(v, grad_variables=numpy.ones(seed.shape)))).all()
