"""udiff.vmap: every batching rule against a Python loop over the batch, compositions
with the differential operators, and the errors for bad input.

``CASES`` drives the rule tests: a function of one example and the shapes and
kinds of its array arguments.  Each case runs under several ``in_axes``
(every argument batched on axis 0; the first on its last axis and the rest
unbatched; the last alone batched with a batch of one), on NumPy and on Dask
split into several chunks per axis (the batch axis included), and must equal
a loop over the examples in value, shape and dtype.  A batching rule added
to ``udiff._machinery.registry._BATCH`` without a case fails
``test_every_batching_rule_has_a_case``; a function of udiff's namespace that
gets neither a rule nor a default runs once per example, and
``test_functions_without_rules_are_listed`` keeps that list explicit.
"""
import os
import warnings
from typing import Callable, NamedTuple

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff.numpy import _handwritten as mm
from udiff._machinery import registry as _registry
from udiff.numpy._from_signatures import UFUNCS
from udiff.testing import check_grads

from conftest import OWN_BATCH, OWN_COMPOSITE, OWN_FUNCTIONS, chunked, compute


def gen(kind, shape, rng):
    """A NumPy array of ``shape`` for an argument of ``kind``."""
    if kind == "f":  # in (0.2, 0.9): in the domain of log, arcsin, arctanh...
        return rng.uniform(0.2, 0.9, shape)
    if kind == "s":  # signed, distinct magnitudes
        return rng.uniform(-2.0, 2.0, shape)
    if kind == "h":  # > 1: arccosh
        return rng.uniform(1.2, 3.0, shape)
    if kind == "n":  # small positive integers: bitwise functions, gcd, shifts
        return rng.integers(1, 6, shape)
    if kind == "i":  # indices into an axis of length 3
        return rng.integers(0, 3, shape)
    if kind == "b":
        return rng.uniform(size=shape) > 0.5
    if kind == "c":
        return rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)
    if kind == "32":
        return rng.uniform(-1, 1, shape).astype(numpy.float32)
    if kind == "t":
        return numpy.array(["2020-01-01", "NaT", "2021-05-03"] * 40, dtype="datetime64[D]")[
            :int(numpy.prod(shape))].reshape(shape)
    if kind == "p":  # symmetric positive definite matrices
        a = rng.uniform(-1, 1, shape)
        return a @ numpy.swapaxes(a, -1, -2) + shape[-1] * numpy.eye(shape[-1])
    raise ValueError(kind)


class Case(NamedTuple):
    name: str
    fun: Callable
    args: tuple  # ((shape, kind), ...) of one example
    dask: bool = True  # also on Dask (where Dask has the function)
    rtol: float = 1e-9
    configs: tuple = ("all", "first", "last")  # which in_axes (see _batched_args)


def c(name, fun, *args, **options):
    return Case(name, fun, tuple(args), **options)


F23, F3 = ((2, 3), "f"), ((3,), "f")

_UNARY_DOMAIN = {"arccosh": "h", "invert": "n", "isnat": "t"}
_INTEGER = {"bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "gcd",
            "lcm"}


def _ufunc_cases():
    cases = []
    for name in UFUNCS:
        if name == "matmul":
            continue
        func = getattr(np, name)
        if func.nin == 1:
            kind = _UNARY_DOMAIN.get(name, "f")
            cases.append(c(name, func, ((2, 3), kind), dask=kind != "t"))
        else:
            kind = "n" if name in _INTEGER else "f"
            second = ((3,), "n") if name == "ldexp" else ((3,), kind)
            cases.append(c(name, func, ((2, 1), kind), second))
    return cases


CASES = _ufunc_cases() + [
    # elementwise, not ufuncs
    c("where", lambda m, x, y: np.where(m, x, y), ((3,), "b"), F23, ((1,), "f")),
    c("astype", lambda x: np.astype(x, numpy.float32), F23),
    c("copy", np.copy, F23),
    c("real", np.real, ((3,), "c")),
    c("imag", np.imag, ((3,), "c")),
    c("angle", np.angle, ((3,), "c")),
    c("sinc", np.sinc, F23),
    c("round", lambda x: np.round(x, 1), F23),
    c("isclose", np.isclose, F23, F3),
    c("iscomplex", np.iscomplex, ((2, 3), "c")),
    c("isreal", np.isreal, ((2, 3), "c")),
    c("sort_complex", np.sort_complex, ((4,), "c"), dask=False),
    c("asarray", lambda x: np.asarray(x, dtype=numpy.float32), F23),
    c("array", np.array, F23),
    c("array of a list", lambda x, y: np.array([x, y, x]), F3, F3),
    c("zeros_like", np.zeros_like, F23),
    c("ones_like", lambda x: np.ones_like(x, shape=(4,)), F23),
    c("empty_like", lambda x: np.empty_like(x).shape, F23),
    c("full_like", lambda x: np.full_like(x, 2.5), F23),
    c("size-0 axis", lambda x, y: np.exp(x) * y, ((0, 3), "f"), F3),
    c("float32", lambda x, y: np.sin(x) * y, ((3,), "32"), ((3,), "32")),
    # reductions
    c("sum", lambda x: np.sum(x, axis=0), F23),
    c("sum all", np.sum, F23),
    c("sum keepdims", lambda x: np.sum(x, axis=-1, keepdims=True), F23),
    c("sum size-0", lambda x: np.sum(x, axis=0), ((0, 3), "f")),
    c("prod", lambda x: np.prod(x, axis=(0, 1)), F23),
    c("min", lambda x: np.min(x, axis=1), F23),
    c("max", np.max, F23),
    c("any", lambda x: np.any(x, axis=0), ((2, 3), "b")),
    c("all", np.all, ((2, 3), "b")),
    c("nanmin", lambda x: np.nanmin(x, axis=0), F23),
    c("nanmax", np.nanmax, F23),
    c("nansum", lambda x: np.nansum(x, axis=1), F23),
    c("nanprod", np.nanprod, F23),
    c("std", lambda x: np.std(x, axis=0, ddof=1), F23),
    c("var", np.var, F23),
    c("count_nonzero", lambda x: np.count_nonzero(x, axis=0), ((2, 3), "b"), dask=False),
    c("mean", lambda x: np.mean(x, axis=-1), F23),
    c("argmin", np.argmin, F23),
    c("argmax", lambda x: np.argmax(x, axis=0), F23),
    c("argmax keepdims", lambda x: np.argmax(x, keepdims=True), F23, dask=False),
    c("nanargmin", np.nanargmin, F23),
    c("nanargmax", lambda x: np.nanargmax(x, axis=1), F23),
    c("cumsum", np.cumsum, F23),
    c("cumsum axis", lambda x: np.cumsum(x, axis=1), F23),
    c("add.reduce", np.add.reduce, F23),
    c("maximum.reduce", lambda x: np.maximum.reduce(x, axis=None), F23),
    c("multiply.accumulate", lambda x: np.multiply.accumulate(x, axis=1), F23),
    c("add.accumulate", np.add.accumulate, F23),
    # shapes
    c("reshape", lambda x: np.reshape(x, (3, -1)), F23),
    c("reshape -1", lambda x: np.reshape(x, -1), F23),
    c("ravel", np.ravel, F23),
    c("transpose", np.transpose, ((2, 3, 4), "f")),
    c("transpose axes", lambda x: np.transpose(x, (2, 0, 1)), ((2, 3, 4), "f")),
    c("T", lambda x: x.T, F23),
    c("swapaxes", lambda x: np.swapaxes(x, 0, -1), ((2, 3, 4), "f")),
    c("moveaxis", lambda x: np.moveaxis(x, (0, 1), (-1, 0)), ((2, 3, 4), "f")),
    c("rollaxis", lambda x: np.rollaxis(x, 2, 1), ((2, 3, 4), "f")),
    c("rollaxis negative", lambda x: np.rollaxis(x, 0, -1), ((2, 3, 4), "f")),
    c("expand_dims", lambda x: np.expand_dims(x, (0, -1)), F23),
    c("squeeze", np.squeeze, ((2, 1, 3), "f")),
    c("squeeze axis", lambda x: np.squeeze(x, -2), ((2, 1, 3), "f")),
    c("concatenate", lambda x, y: np.concatenate([x, y], axis=-1), F23, ((2, 2), "f")),
    c("concatenate None", lambda x, y: np.concatenate([x, y], axis=None), F23, F3),
    c("stack", lambda x, y: np.stack([x, y], axis=1), F23, F23),
    c("broadcast_to", lambda x: np.broadcast_to(x, (4, 2, 3)), ((2, 1), "f")),
    c("broadcast_arrays", lambda x, y: np.broadcast_arrays(x, y), ((2, 1), "f"), F3),
    c("atleast_1d", np.atleast_1d, ((), "f")),
    c("atleast_2d", lambda x, y: np.atleast_2d(x, y), F3, ((), "f")),
    c("atleast_3d", np.atleast_3d, F23),
    c("vstack", lambda x, y: np.vstack([x, y]), F3, F3),
    c("hstack", lambda x, y: np.hstack([x, y]), F23, ((2, 1), "f")),
    c("column_stack", lambda x, y: np.column_stack([x, y]), F3, ((3, 2), "f")),
    c("pad", lambda x: np.pad(x, ((1, 0), (0, 2))), F23),
    c("pad edge", lambda x: np.pad(x, 1, mode="edge"), F23),
    c("diagonal", lambda x: np.diagonal(x, 0, 1, 0), ((3, 3), "f")),
    c("trace", lambda x: np.trace(x, 1), ((3, 4), "f")),
    c("take_along_axis", lambda x, i: np.take_along_axis(x, i, axis=1), F23, ((2, 2), "i"),
      dask=False),
    c("sort", lambda x: np.sort(x, axis=0), F23, dask=False),
    c("sort None", lambda x: np.sort(x, axis=None), F23, dask=False),
    c("argsort", np.argsort, F23, dask=False),
    c("partition", lambda x: np.partition(x, 1), F23, dask=False),
    c("argpartition", lambda x: np.argpartition(x, 1, axis=0), F23, dask=False),
    c("msort", lambda x: np.msort(x), F23, dask=False),
    c("shape", lambda x: numpy.asarray(np.shape(x)), F23),
    c("ndim", lambda x: numpy.asarray(np.ndim(x)), F23),
    c("size", lambda x: numpy.asarray(np.size(x)), F23),
    c("nbytes", lambda x: numpy.asarray(np.nbytes(x)), F23),
    c("methods", lambda x: x.sum(axis=0) + x.mean() + x.reshape(3, 2).T.ravel()[:3]
      + x.max(axis=1).cumsum()[-1] + x.real.std() + x.astype(numpy.float32).clip(0.3, 0.5)[0]
      + x.dot(numpy.ones(3)).argsort()[0] + x.swapaxes(0, 1).squeeze()[0, 0], F23),
    # indexing
    c("getitem", lambda x: x[1:, ::-1], F23),
    c("getitem fancy", lambda x: x[[0, 1, 0], 1:], ((2, 3, 2), "f")),
    c("getitem split fancy", lambda x: x[[0, 1], :, [1, 0]], ((2, 3, 2), "f")),
    c("getitem mask", lambda x: x[numpy.array([True, False, True])], F3),
    c("getitem batched", lambda x, i: x[i], ((3, 2), "f"), ((2, 2), "i"),
      configs=("all", "first")),
    c("getitem batched mid", lambda x, i: x[:, i], ((2, 3, 2), "f"), ((4,), "i"),
      configs=("all", "first")),
    c("getitem batched split", lambda x, i: x[i, :, 1], ((3, 2, 2), "f"), ((2,), "i"),
      configs=("all", "first")),
    c("getitem batched ellipsis", lambda x, i: x[..., None, i], ((2, 3), "f"), ((), "i"),
      configs=("all", "first")),
    c("getitem batched list", lambda x, i, j: x[[i, j, 0]], F3, ((), "i"), ((), "i"),
      configs=("all", "first")),
    c("take", lambda x, i: np.take(x, i, axis=1), ((2, 3), "f"), ((2, 2), "i")),
    # the adjoints of indexing (which per-example gradients run)
    c("index_add", lambda v: mm.index_add(v, (slice(None), [0, 2]), (2, 4)), ((2, 2), "f")),
    c("index_add batched", lambda v, i: mm.index_add(v, (slice(1, None), i), (3, 4)),
      ((2, 2), "f"), ((2,), "i")),
    c("scatter_add_along_axis", lambda v, i: mm.scatter_add_along_axis(v, i, 1, 4),
      ((2, 2), "f"), ((2, 2), "i")),
    c("take None", lambda x, i: np.take(x, i), ((2, 3), "f"), ((2,), "i")),
    # products
    c("matmul", np.matmul, ((2, 3), "f"), ((3, 4), "f")),
    c("matmul vectors", np.matmul, F3, F3),
    c("matmul stacks", np.matmul, ((2, 2, 3), "f"), ((3,), "f")),
    c("matmul @", lambda a, b: a @ b, F3, ((2, 3, 2), "f")),
    c("dot", np.dot, ((2, 3), "f"), ((4, 3, 2), "f")),
    c("dot vector", np.dot, F23, F3),
    c("dot scalar", np.dot, ((), "f"), F3),
    c("inner", np.inner, F23, ((4, 3), "f")),
    c("outer", np.outer, F3, ((2, 2), "f")),
    c("vdot", np.vdot, ((2, 2), "c"), ((4,), "c")),
    c("tensordot", lambda a, b: np.tensordot(a, b, 1), F23, ((3, 4), "f")),
    c("tensordot axes", lambda a, b: np.tensordot(a, b, ([0, 1], [1, 0])), F23, ((3, 2), "f")),
    c("einsum", lambda a, b: np.einsum("ij,jk->ik", a, b), F23, ((3, 2), "f")),
    c("einsum implicit", lambda a, b: np.einsum("ij,j", a, b), F23, F3),
    c("einsum ellipsis", lambda a: np.einsum("...i->...", a), F23),
    # linalg
    c("inv", np.linalg.inv, ((3, 3), "p")),
    c("det", np.linalg.det, ((3, 3), "p"), dask=False),
    c("slogdet", np.linalg.slogdet, ((3, 3), "p"), dask=False),
    c("eigh", np.linalg.eigh, ((3, 3), "p"), dask=False),
    c("eigvalsh", np.linalg.eigvalsh, ((3, 3), "p"), dask=False),
    c("cholesky", np.linalg.cholesky, ((3, 3), "p")),
    c("qr", np.linalg.qr, ((3, 2), "f"), dask=False, rtol=1e-7),
    c("svd", lambda a: np.linalg.svd(a, full_matrices=False), ((3, 2), "f"), dask=False,
      rtol=1e-7),
    c("_svd_reduced", np.linalg._svd_reduced, ((3, 2), "f"), dask=False, rtol=1e-7),
    c("_adjugate", np.linalg._adjugate, ((3, 3), "p"), dask=False, rtol=1e-7),
    c("pinv", np.linalg.pinv, ((3, 2), "f"), dask=False, rtol=1e-7),
    c("matrix_power", lambda a: np.linalg.matrix_power(a, 3), ((2, 2), "f")),
    c("matrix_rank", np.linalg.matrix_rank, ((3, 3), "p"), dask=False),
    c("solve", np.linalg.solve, ((3, 3), "p"), ((3,), "f")),
    c("solve matrix", np.linalg.solve, ((3, 3), "p"), ((3, 2), "f")),
    c("norm", np.linalg.norm, F23),
    c("norm vector", lambda x: np.linalg.norm(x, 1), F3),
    c("norm axis", lambda x: np.linalg.norm(x, axis=0, keepdims=True), F23),
    c("norm flat", lambda x: np.linalg.norm(x, keepdims=True), ((2, 3, 2), "f")),
    # fft
    c("fft", np.fft.fft, F23),
    c("ifft", lambda x: np.fft.ifft(x, axis=0), F23),
    c("rfft", lambda x: np.fft.rfft(x, 4), F23),
    c("irfft", np.fft.irfft, ((2, 3), "c")),
    c("hfft", np.fft.hfft, ((2, 3), "c")),
    c("ihfft", np.fft.ihfft, F23),
    c("fft2", np.fft.fft2, F23),
    c("ifft2", np.fft.ifft2, ((2, 2, 3), "f")),
    c("rfft2", np.fft.rfft2, F23),
    c("irfft2", np.fft.irfft2, ((2, 3), "c")),
    c("fftn", np.fft.fftn, ((2, 3, 2), "f")),
    c("ifftn", lambda x: np.fft.ifftn(x, axes=(0,)), F23),
    c("rfftn", lambda x: np.fft.rfftn(x, s=(2, 4), axes=(0, 2)), ((2, 3, 2), "f")),
    c("irfftn", np.fft.irfftn, ((2, 3), "c")),
    c("fftshift", np.fft.fftshift, F23),
    c("ifftshift", lambda x: np.fft.ifftshift(x, axes=1), F23),
    # functions batched through their defaults (composites)
    c("flip", lambda x: np.flip(x, 1), F23),
    c("roll", lambda x: np.roll(x, 1, axis=0), F23),
    c("tril", np.tril, ((3, 3), "f")),
    c("clip", lambda x: np.clip(x, 0.3, 0.6), F23),
    c("cumprod", lambda x: np.cumprod(x, axis=1), F23),
    c("diff", lambda x: np.diff(x, axis=-1), F23),
    c("cross", np.cross, F3, F3, dask=False),
    c("kron", np.kron, ((2,), "f"), F3),
    c("tile", lambda x: np.tile(x, 2), F23),
    c("nan_to_num", np.nan_to_num, F23),
]

# udiff.scipy.special and linalg.eig, where this build has them
_SPECIAL = {
    "beta": "ff", "betainc": "fff", "betaln": "ff", "digamma": "f", "psi": "f", "erf": "f",
    "erfc": "f", "erfcinv": "f", "erfinv": "f", "erfcx": "f", "expit": "f", "logit": "f",
    "gamma": "f", "gammainc": "ff", "gammaincc": "ff", "gammaln": "f", "gammasgn": "f",
    "rgamma": "f", "i0": "f", "i1": "f", "iv": "ff", "ive": "ff", "j0": "f", "j1": "f",
    "jv": "ff", "jn": "nf", "y0": "f", "y1": "f", "yn": "nf", "xlogy": "ff", "xlog1py": "ff",
    "entr": "f", "log_ndtr": "f", "ndtr": "f", "ndtri": "f", "polygamma": "nf",
    "zeta": "hf",
}


def _optional_cases():
    cases = []
    if hasattr(np.linalg, "eig"):
        cases += [c("eig", lambda a: np.linalg.eig(a)[0], ((3, 3), "p"), dask=False, rtol=1e-7),
                  c("eigvals", np.linalg.eigvals, ((3, 3), "p"), dask=False, rtol=1e-7)]
    if not os.path.exists(os.path.join(os.path.dirname(udiff.__file__), "scipy")):
        return cases
    from udiff.scipy import special

    cases += _scipy_linalg_signal_cases()
    for name, kinds in _SPECIAL.items():
        shapes = [((2, 1), kinds[0])] + [((3,), k) for k in kinds[1:]]
        cases.append(c(name, getattr(special, name), *shapes, rtol=1e-7))
    return cases + [
        c("multigammaln", lambda a: special.multigammaln(a, 2), ((2, 3), "h"), rtol=1e-7),
        c("zeta riemann", special.zeta, ((2, 3), "h"), rtol=1e-7),
        c("logsumexp", lambda a: special.logsumexp(a, axis=0), F23, rtol=1e-7),
        c("logsumexp b", lambda a, b: special.logsumexp(a, b=b, return_sign=True), F23, F3,
          rtol=1e-7),
        c("softmax", special.softmax, F23, rtol=1e-7),
        c("log_softmax", lambda x: special.log_softmax(x, axis=-1), F23, rtol=1e-7),
    ]


def _scipy_linalg_signal_cases():
    from udiff.scipy import linalg as sla, signal as ss

    a = gen("p", (3, 3), numpy.random.default_rng(7))
    band = numpy.array([[0.0], [6.0], [0.0]])
    return [
        c("solve_triangular", lambda a, b: sla.solve_triangular(a, b, lower=True),
          ((3, 3), "p"), F3, dask=False),
        c("solve_triangular matrix", lambda a, b: sla.solve_triangular(a, b, trans=1),
          ((3, 3), "p"), ((3, 2), "f"), dask=False),
        c("solve_triangular b", lambda b: sla.solve_triangular(a, b, unit_diagonal=True), F3),
        c("cho_solve", lambda c, b: sla.cho_solve((c, False), b), ((3, 3), "p"), F3,
          dask=False),
        c("cho_solve b", lambda b: sla.cho_solve((a, True), b), ((3, 2), "f")),
        c("solve_banded", lambda ab, b: sla.solve_banded((1, 1), ab + band, b), ((3, 3), "f"),
          F3, dask=False),
        c("expm", sla.expm, ((3, 3), "s"), dask=False),
        c("sqrtm", sla.sqrtm, ((3, 3), "p"), dask=False),
        c("solve_sylvester", sla.solve_sylvester, ((3, 3), "p"), ((2, 2), "p"),
          ((3, 2), "f"), dask=False),
        c("convolve", lambda x, k: ss.convolve(x, k, "same"), ((5,), "f"), F3),
        c("convolve valid", lambda x, k: ss.convolve(x, k, "valid"), F3, ((4,), "f")),
        c("convolve 2d", lambda x, k: ss.convolve(x, k), F23, ((2, 2), "f")),
    ]


CASES += _optional_cases()

# Cases that run once per example on purpose (functions without a rule).
LOOPED = [
    c("searchsorted", lambda a, v: np.searchsorted(a, v), ((4,), "i"), ((3,), "f"), dask=False),
    c("lstsq", lambda a, b: np.linalg.lstsq(a, b)[0], ((3, 2), "f"), F3, dask=False),
]


def _batched_args(case, rng, config, size):
    """``(arrays, in_axes)``: the examples' arguments with batch axes, per ``config``."""
    n = len(case.args)
    if config == "all":
        axes = [0] * n
    elif config == "first":
        axes = [-1] + [None] * (n - 1)
    else:
        axes = [None] * (n - 1) + [0]
    arrays = []
    for (shape, kind), axis in zip(case.args, axes):
        if axis is None:
            arrays.append(gen(kind, shape, rng))
        else:
            arrays.append(numpy.stack([gen(kind, shape, rng) for _ in range(size)],
                                      axis=axis % (len(shape) + 1)))
    return arrays, tuple(axes)


def _loop(fun, arrays, axes, size):
    """The reference: ``fun`` on each example with NumPy, stacked on axis 0."""
    results = [fun(*[a if ax is None else numpy.take(a, i, axis=ax)
                     for a, ax in zip(arrays, axes)]) for i in range(size)]
    leaves = [udiff.tree_flatten(r)[0] for r in results]
    treedef = udiff.tree_flatten(results[0])[1]
    return udiff.tree_unflatten(treedef, [numpy.stack([numpy.asarray(r[j]) for r in leaves])
                                          for j in range(len(leaves[0]))])


def _check(case, inner, config, size, seed=0):
    rng = numpy.random.default_rng(seed)
    arrays, axes = _batched_args(case, rng, config, size)
    expected = _loop(case.fun, arrays, axes, size)
    inputs = [chunked(a, inner) if a.dtype.kind in "fc" else a for a in arrays]
    got = udiff.vmap(case.fun, in_axes=axes)(*inputs)
    got_leaves, got_def = udiff.tree_flatten(got)
    want_leaves, want_def = udiff.tree_flatten(expected)
    where = f"{case.name} ({config}, batch of {size}, {inner.name})"
    assert got_def == want_def, where
    for g, w in zip(got_leaves, want_leaves):
        g = compute(g)
        assert g.shape == w.shape, f"{where}: shape {g.shape}, loop {w.shape}"
        assert g.dtype == w.dtype, f"{where}: dtype {g.dtype}, loop {w.dtype}"
        if w.dtype.kind in "fc":
            numpy.testing.assert_allclose(g, w, rtol=case.rtol, atol=1e-12, err_msg=where)
        else:
            numpy.testing.assert_array_equal(g, w, err_msg=where)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_rule_matches_a_loop(case):
    with warnings.catch_warnings():
        warnings.simplefilter("error", udiff.BatchingFallbackWarning)
        for config, size in (("all", 3), ("first", 2), ("last", 1)):
            if config in case.configs:
                _check(case, udiff.numpy_backend, config, size)
        if case.dask:
            for config, size in (("all", 3), ("first", 2)):
                if config in case.configs:
                    _check(case, udiff.dask_backend, config, size)


@pytest.mark.parametrize("case", LOOPED, ids=[case.name for case in LOOPED])
def test_functions_without_rules_run_once_per_example(case):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", udiff.BatchingFallbackWarning)
        _check(case, udiff.numpy_backend, "all", 3)
        _check(case, udiff.numpy_backend, "first", 2)


def test_the_loop_warns_once_per_function():
    from udiff._transformations import batching as _dispatch

    _dispatch._WARNED.discard("numpy.searchsorted")
    f = udiff.vmap(lambda a, v: np.searchsorted(a, v), in_axes=(None, 0))
    with pytest.warns(udiff.BatchingFallbackWarning, match="searchsorted"):
        f(numpy.arange(4.0), numpy.array([0.5, 2.5]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", udiff.BatchingFallbackWarning)
        assert f(numpy.arange(4.0), numpy.zeros((0,))).shape == (0,)


# -- coverage: every rule has a case; functions without one are listed ----------------------
class _Recording(dict):
    def __init__(self, table, seen):
        super().__init__(table)
        self.seen = seen

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)


def _family(key):
    """ufunc.reduce and ufunc.accumulate share one rule each (made per ufunc)."""
    for method in (".reduce", ".accumulate"):
        if key.endswith(method):
            return "ufunc" + method
    return key


def test_every_batching_rule_has_a_case(monkeypatch):
    seen = set()
    monkeypatch.setattr(_registry, "_BATCH", _Recording(_registry._BATCH, seen))
    with warnings.catch_warnings():
        warnings.simplefilter("error", udiff.BatchingFallbackWarning)
        for case in CASES:
            _check(case, udiff.numpy_backend, "all", 2)
    covered = {_family(k) for k in seen}
    # (rules of functions this build does not declare, such as udiff.scipy's, are skipped)
    missing = sorted({_family(k) for k in OWN_BATCH
                      if _registry.function(k) is not None} - covered)
    assert not missing, f"batching rules with no case in CASES: {missing}"


# udiff's functions that have no batching rule and no default to batch through: they
# run once per example (correct, with a BatchingFallbackWarning).  Most make arrays
# from shapes, or return a different length per example (unique, nonzero).
FALLBACK = {
    "arange", "argwhere", "block", "compress", "empty", "extract", "eye",
    "flatnonzero", "full", "geomspace", "identity", "in1d", "intersect1d", "isin",
    "lexsort", "linalg.lstsq", "linalg.multi_dot", "linspace", "logspace", "nonzero",
    "ones", "searchsorted", "setdiff1d", "setxor1d", "tri", "union1d", "unique", "zeros",
    "fft.fftfreq", "fft.rfftfreq", "unique_all", "unique_counts", "unique_inverse",
    "unique_values", "from_dlpack",
    # tests whose result per example is one bool: the loop stacks them
    "allclose", "iscomplexobj", "isrealobj",
}


def test_functions_without_rules_are_listed():
    keys = {k for k, f in OWN_FUNCTIONS.items() if hasattr(f, "arg_extractor")
            and not isinstance(f, udiff.numpy.ufunc)}
    looped = {_registry.key_name(k) for k in keys
              if k not in OWN_BATCH and k not in OWN_COMPOSITE}
    assert looped == FALLBACK, (
        f"new functions without a batching rule: {sorted(looped - FALLBACK)}; "
        f"listed but batched now: {sorted(FALLBACK - looped)}")


# -- compositions -------------------------------------------------------------------------
def _loss(w, x, y):
    return (np.tanh(np.dot(w, x)) - y) ** 2


def _data(rng, inner, n=5, dtype=numpy.float64):
    w = rng.normal(size=4).astype(dtype)
    xs = rng.normal(size=(n, 4)).astype(dtype)
    ys = rng.normal(size=n).astype(dtype)
    return w, chunked(xs, inner), chunked(ys, inner), xs, ys


def test_per_example_gradients(inner):
    rng = numpy.random.default_rng(1)
    w, xs, ys, xs_np, ys_np = _data(rng, inner)
    got = udiff.vmap(udiff.grad(_loss), in_axes=(None, 0, 0))(w, xs, ys)
    want = numpy.stack([udiff.grad(_loss)(w, x, y) for x, y in zip(xs_np, ys_np)])
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-12)
    # with respect to the batched argument too, float32 staying float32
    w, xs, ys, xs_np, ys_np = _data(rng, inner, dtype=numpy.float32)
    got = udiff.vmap(udiff.grad(_loss, argnums=(0, 1)), in_axes=(None, 0, 0))(w, xs, ys)
    for k in range(2):
        want = numpy.stack([udiff.grad(_loss, argnums=(0, 1))(w, x, y)[k]
                            for x, y in zip(xs_np, ys_np)])
        assert compute(got[k]).dtype == numpy.float32
        numpy.testing.assert_allclose(compute(got[k]), want, rtol=1e-5)


def test_grad_of_a_function_that_calls_vmap(inner):
    rng = numpy.random.default_rng(2)
    _, xs, ys, _, _ = _data(rng, inner)

    def total(w):
        per_example = udiff.vmap(_loss, in_axes=(None, 0, 0))(w, xs, ys)
        return np.sum(per_example * np.arange(1.0, 6.0))

    check_grads(total, (chunked(rng.normal(size=4), inner),), inner=inner)
    # batched along another axis, and the variable itself batched
    check_grads(lambda m: np.sum(udiff.vmap(lambda r: np.sin(r) * np.sum(r), in_axes=1)(m)),
                (chunked(rng.normal(size=(3, 4)), inner),), inner=inner)


def test_grad_of_vmap_of_grad():
    rng = numpy.random.default_rng(3)
    w, xs, ys, _, _ = _data(rng, udiff.numpy_backend)

    def norms(w):
        g = udiff.vmap(udiff.grad(_loss), in_axes=(None, 0, 0))(w, xs, ys)
        return np.sum(g * g)

    check_grads(norms, (w,), order=1)


def test_vmap_of_vmap(inner):
    rng = numpy.random.default_rng(4)
    a = rng.normal(size=(3, 4, 2))
    b = rng.normal(size=2)

    def f(x, y):
        return np.sin(x) * np.sum(x * y)

    got = udiff.vmap(udiff.vmap(f, in_axes=(0, None)), in_axes=(1, None))(chunked(a, inner), b)
    want = numpy.stack([numpy.stack([numpy.sin(a[i, j]) * numpy.sum(a[i, j] * b)
                                     for i in range(3)]) for j in range(4)])
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-12)
    # the inner function closes over the outer batched value
    got = udiff.vmap(lambda x: udiff.vmap(lambda y: x * y)(chunked(b, inner)))(chunked(a[0], inner))
    numpy.testing.assert_allclose(compute(got), a[0][:, None, :] * b[:, None], rtol=1e-12)


def test_vmap_of_jacfwd_jacrev_hessian_jvp():
    rng = numpy.random.default_rng(5)
    xs = rng.normal(size=(3, 4))

    def f(x):
        return np.sin(x) * np.sum(x ** 2)

    for op in (udiff.jacfwd(f), udiff.jacrev(f), udiff.hessian(lambda x: np.sum(f(x)))):
        got = udiff.vmap(op)(xs)
        numpy.testing.assert_allclose(got, numpy.stack([op(x) for x in xs]), rtol=1e-12)
    ts = rng.normal(size=(3, 4))
    got = udiff.vmap(lambda x, t: udiff.jvp(f, (x,), (t,))[1])(xs, ts)
    want = numpy.stack([udiff.jvp(f, (x,), (t,))[1] for x, t in zip(xs, ts)])
    numpy.testing.assert_allclose(got, want, rtol=1e-12)


def test_jacobian_as_vmap_over_vjp(inner):
    rng = numpy.random.default_rng(6)
    x = chunked(rng.normal(size=4), inner)

    def f(x):
        return np.concatenate([np.sin(x) * np.sum(x), np.cumsum(x)[1:]])

    out, vjp_fn = udiff.vjp(f, x, inner=inner)
    jac = udiff.vmap(lambda ct: vjp_fn(ct)[0])(numpy.eye(7))
    numpy.testing.assert_allclose(compute(jac), compute(udiff.jacobian(f, inner=inner)(x)),
                                  rtol=1e-12)


def test_per_example_gradients_through_batched_indices():
    rng = numpy.random.default_rng(7)
    table = rng.normal(size=(5, 3, 4))
    idx = numpy.array([2, 0, 1])

    def f(t, i):
        return np.sum(np.sin(t[i, 1:, 2]) * t[1:, None, i, 3])

    got = udiff.vmap(udiff.grad(f), in_axes=(None, 0))(table, idx)
    want = numpy.stack([udiff.grad(f)(table, i) for i in idx])
    numpy.testing.assert_allclose(got, want, rtol=1e-12)
    tables = rng.normal(size=(3, 5, 3, 4))
    got = udiff.vmap(udiff.grad(f), in_axes=(0, 0))(tables, idx)
    want = numpy.stack([udiff.grad(f)(t, i) for t, i in zip(tables, idx)])
    numpy.testing.assert_allclose(got, want, rtol=1e-12)


# -- order statistics under vmap and the differential operators -----------------------------
# Their rules compute a permutation from the input's values (argsort, argpartition); inside a
# vmap the input is a BatchedArray, whose permutation must be one per example.
_W4 = numpy.array([1.0, -2.0, 0.5, 3.0])
ORDER_STATISTICS = {
    "sort": lambda v: np.sum(np.sin(np.sort(v)) * _W4),
    "sort axis=None": lambda v: np.sum(np.sort(np.reshape(v, (2, 2)), axis=None) ** 2 * _W4),
    "sort axis=0": lambda v: np.sum(np.sort(np.reshape(v, (2, 2)), axis=0) ** 2
                                    * numpy.array([[1.0, 2.0], [-3.0, 0.5]])),
    "partition": lambda v: np.sum(np.partition(v, 1)[:2] ** 2 * _W4[:2]),
    "take_along_axis argsort": lambda v: np.sum(
        np.take_along_axis(v, np.argsort(v), axis=0) ** 2 * _W4),
    "median": lambda v: np.median(v ** 2),
    "quantile": lambda v: np.sum(np.quantile(v, numpy.array([0.3, 0.8])) * numpy.array([1.0, 2.0])),
    "percentile": lambda v: np.percentile(np.sin(v), 70.0),
    "nanmedian": lambda v: np.nanmedian(v ** 3),
    "nanquantile": lambda v: np.nanquantile(v, 0.3),
    "max": lambda v: np.max(v) * np.sum(v),
    "cumsum": lambda v: np.sum(np.cumsum(v ** 2) * _W4),
}


def _fd_grads(f, xs, eps=1e-6):
    """Central differences of scalar ``f`` at each row of ``xs`` (NumPy)."""
    out = numpy.zeros_like(xs)
    for i, x in enumerate(xs):
        for j in range(x.size):
            e = numpy.zeros_like(x)
            e[j] = eps
            out[i, j] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return out


@pytest.mark.parametrize("name", list(ORDER_STATISTICS))
def test_order_statistics_under_vmap_and_derivatives(name, inner):
    f = ORDER_STATISTICS[name]
    rng = numpy.random.default_rng(10)
    xs = rng.uniform(-2.0, 2.0, size=(3, 4))  # distinct values: differentiable there
    x = chunked(xs, inner)
    want = _fd_grads(f, xs)
    got = {
        "vmap(grad)": udiff.vmap(udiff.grad(f))(x),
        "vmap(jacfwd)": udiff.vmap(udiff.jacfwd(f))(x),
        "vmap(jacrev)": udiff.vmap(udiff.jacrev(f))(x),
        "grad(sum of vmap)": udiff.grad(lambda m: np.sum(udiff.vmap(f)(m)), inner=inner)(x),
        "jacrev(vmap)": numpy.einsum("iij->ij", compute(
            udiff.jacrev(udiff.vmap(f), inner=inner)(x))),
    }
    for how, g in got.items():
        numpy.testing.assert_allclose(compute(g), want, rtol=1e-6, atol=1e-7,
                                      err_msg=f"{name}: {how}")
    # second order: against a loop of per-example Hessians
    got = udiff.vmap(udiff.hessian(f))(x)
    want = numpy.stack([udiff.hessian(f)(r) for r in xs])
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name, f", [
    ("sort", lambda v: np.sort(v)),
    ("median", lambda v: np.median(v)),
    ("quantiles", lambda v: np.quantile(v, numpy.array([0.25, 0.5, 0.9]))),
    ("take_along_axis", lambda v: np.take_along_axis(v, np.argsort(-v), axis=0)),
    ("max with ties", lambda v: np.max(v) * v),
    ("cumsum", lambda v: np.cumsum(v)),
])
def test_jacobians_of_order_statistics_with_ties_under_vmap(name, f, inner):
    xs = numpy.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [4.0, -1.0, 0.0, 4.0]])
    x = chunked(xs, inner)
    for op in (udiff.jacrev, udiff.jacfwd):
        want = numpy.stack([op(f)(r) for r in xs])  # the rules' own choice at ties
        numpy.testing.assert_allclose(compute(udiff.vmap(op(f))(x)), want, rtol=1e-12,
                                      err_msg=f"{name}: vmap({op.__name__})")
        # the Jacobian of the batched function is block diagonal
        jac = compute(op(udiff.vmap(f), inner=inner)(x))
        blocks = numpy.zeros(jac.shape)
        for i in range(3):
            blocks[i, ..., i, :] = want[i]
        numpy.testing.assert_allclose(jac, blocks, rtol=1e-12,
                                      err_msg=f"{name}: {op.__name__}(vmap)")


# -- a batched index into an array that is not batched ---------------------------------------
# NumPy's own w[i] cannot be batched (test_constants_of_batched_values_are_refused); these
# spellings can, and an array of udiff (a variable of grad) is indexed as it is.
_LOOKUPS = {  # name: (the udiff.numpy spelling, NumPy's indexing of one example)
    "w[i]": (lambda w, i: np.take(w, i, axis=0), lambda w, i: w[i]),
    "w[:, i]": (lambda w, i: np.take(w, i, axis=1), lambda w, i: w[:, i]),
    "w[..., -i]": (lambda w, i: np.take(w, -i, axis=-1), lambda w, i: w[..., -i]),
    "ravel(w)[i]": (lambda w, i: np.take(w, i), lambda w, i: w.ravel()[i]),
}


@pytest.mark.parametrize("name", list(_LOOKUPS))
def test_batched_index_into_an_unbatched_array(name, inner):
    spelled, indexed = _LOOKUPS[name]
    rng = numpy.random.default_rng(11)
    w_np = rng.normal(size=(3, 4))
    w = chunked(w_np, inner)
    for idx in (numpy.array([0, 2, 1]), numpy.array([[0, 1], [2, -1], [1, 1]])):
        want = numpy.stack([indexed(w_np, i) for i in idx])
        for index in (idx, chunked(idx, inner)):
            got = udiff.vmap(lambda i: spelled(w, i))(index)
            numpy.testing.assert_array_equal(compute(got), want, err_msg=name)
        # a variable of grad outside the vmap: indexed as it is, or with the spelling
        for f in (spelled, indexed):
            check_grads(lambda v: np.sum(np.sin(udiff.vmap(lambda i: f(v, i))(idx))), (w,),
                        order=1, inner=inner)
            # per-example gradients with respect to the unbatched array
            per_example = udiff.grad(lambda v, i: np.sum(np.sin(f(v, i))))
            got = udiff.vmap(per_example, in_axes=(None, 0))(w, idx)
            want = numpy.stack([per_example(w_np, i) for i in idx])
            numpy.testing.assert_allclose(compute(got), want, rtol=1e-12, err_msg=name)


def test_batched_indices_into_two_axes_of_an_unbatched_array(inner):
    rng = numpy.random.default_rng(12)
    w_np = rng.normal(size=(3, 4))
    w = chunked(w_np, inner)
    i, j = numpy.array([0, 2, 2, 1]), numpy.array([3, 0, -1, 1])
    got = udiff.vmap(lambda i, j: np.take(np.take(w, i, axis=0), j, axis=0))(i, j)
    numpy.testing.assert_array_equal(compute(got), w_np[i, j])
    weights = numpy.array([1.0, -2.0, 0.5, 3.0])
    check_grads(lambda v: np.sum(udiff.vmap(lambda i, j: v[i, j])(i, j) * weights), (w,),
                order=1, inner=inner)
    check_grads(lambda v: np.sum(udiff.vmap(lambda i, j: np.take(np.take(v, i, axis=0), j,
                                                                 axis=0))(i, j) * weights),
                (w,), order=1, inner=inner)


# -- functional updates x.at[index] inside vmap ------------------------------------------------
def _numpy_update(how):
    """The reference of ``a.at[i].how(v)`` on NumPy arrays of one example."""
    def update(a, index, v):
        a = numpy.array(a, dtype=float)
        if how == "add":
            numpy.add.at(a, index, v)
        elif how == "set":
            a[index] = v
        elif how == "multiply":
            a[index] = a[index] * v
        elif how == "power":
            a[index] = a[index] ** v
        elif how == "min":
            a[index] = numpy.minimum(a[index], v)
        return a

    return update


_UPDATES = {  # name: (index of one example from i, the update)
    "set": (lambda i: i, "set"),
    "add": (lambda i: i, "add"),
    "add repeated": (lambda i: [i, i], "add"),
    "multiply": (lambda i: i, "multiply"),
    "power": (lambda i: i, "power"),
    "min": (lambda i: i, "min"),
    "set [:, i]": (lambda i: (slice(None), i), "set"),
    "add [i, 1:]": (lambda i: (i, slice(1, None)), "add"),
}


@pytest.mark.parametrize("name", list(_UPDATES))
def test_functional_updates_under_vmap(name, inner):
    make_index, how = _UPDATES[name]

    def f(a, i, v):
        return getattr(a.at[make_index(i)], how)(v)

    ref = _numpy_update(how)
    rng = numpy.random.default_rng(13)
    a_np, v_np = rng.uniform(0.5, 2.0, size=(3, 3, 4)), rng.uniform(0.5, 2.0, size=3)
    i_np = numpy.array([0, 2, 1])
    a, v = chunked(a_np, inner), chunked(v_np, inner)
    # batched index, unbatched index (the same in every example), batched or constant values
    for i, i_axis in ((i_np, 0), (chunked(i_np, inner), 0), (1, None)):
        for v_in, v_axis in ((v, 0), (0.25, None)):
            got = udiff.vmap(f, in_axes=(0, i_axis, v_axis))(a, i, v_in)
            want = numpy.stack([ref(a_np[k], make_index(i_np[k] if i_axis == 0 else i),
                                    v_np[k] if v_axis == 0 else v_in) for k in range(3)])
            numpy.testing.assert_allclose(compute(got), want, rtol=1e-12,
                                          err_msg=f"{name}, in_axes=(0, {i_axis}, {v_axis})")

    # derivatives: per example, with respect to the batched array and the values
    def loss(a, i, v):
        return np.sum(np.sin(f(a, i, v)) * (1.0 + a))

    per_example = udiff.grad(loss, argnums=(0, 2))
    got = udiff.vmap(per_example)(a, i_np, v)
    for k, want in enumerate((numpy.stack([per_example(a_np[k], i_np[k], v_np[k])[j]
                                           for k in range(3)]) for j in range(2))):
        numpy.testing.assert_allclose(compute(got[k]), want, rtol=1e-12, err_msg=name)
    # with respect to an array that is not batched, and through an outer grad
    got = udiff.vmap(udiff.grad(loss), in_axes=(None, 0, 0))(a[0], i_np, v)
    want = numpy.stack([udiff.grad(loss)(a_np[0], i_np[k], v_np[k]) for k in range(3)])
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-12, err_msg=name)
    check_grads(lambda a, v: np.sum(udiff.vmap(loss)(a, i_np, v)), (a, v), order=1, inner=inner)
    check_grads(lambda a, v: np.sum(udiff.vmap(loss, in_axes=(None, 0, 0))(a, i_np, v)),
                (a[0], v), order=1, inner=inner)


def test_functional_set_with_repeated_batched_indices_is_refused():
    xs = numpy.ones((2, 3))
    with pytest.raises(ValueError, match="repeated indices is ambiguous"):
        udiff.vmap(lambda a, i: a.at[i].set(0.0))(xs, numpy.array([[0, 1], [2, 2]]))
    got = udiff.vmap(lambda a, i: a.at[i].add(1.0))(xs, numpy.array([[0, 1], [2, 2]]))
    numpy.testing.assert_array_equal(got, [[2.0, 2.0, 1.0], [1.0, 1.0, 3.0]])


# Composites that read their arguments' values (positions, conditions, corrections) must
# read one example's, never every example's stacked: with a batched argument they either
# compute batched or run once per example.
def _put(a, i):
    a = numpy.array(a)
    numpy.put_along_axis(a, i, 9.0, axis=0)
    return a


_VALUE_READERS = [
    ("choose", lambda a, c: np.choose(c, [a, 2.0 * a]),
     lambda a, c: numpy.choose(c, [a, 2.0 * a])),
    ("piecewise", lambda a, c: np.piecewise(a, [c > 0], [lambda t: 2.0 * t, lambda t: t]),
     lambda a, c: numpy.piecewise(a, [c > 0], [lambda t: 2.0 * t, lambda t: t])),
    ("put_along_axis", lambda a, c: np.put_along_axis(a, c[:1], 9.0, axis=0, inplace=False),
     lambda a, c: _put(a, c[:1])),
    ("unwrap axis=0", lambda a, c: np.unwrap(10.0 * a, axis=0),
     lambda a, c: numpy.unwrap(10.0 * a, axis=0)),
    ("unwrap", lambda a, c: np.unwrap(10.0 * a), lambda a, c: numpy.unwrap(10.0 * a)),
]


@pytest.mark.parametrize("name, f, ref", _VALUE_READERS, ids=[r[0] for r in _VALUE_READERS])
def test_composites_read_values_of_one_example(name, f, ref):
    rng = numpy.random.default_rng(14)
    a = rng.uniform(-1.0, 1.0, size=(3, 4, 2))
    c = rng.integers(0, 2, size=(3, 4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", udiff.BatchingFallbackWarning)
        for in_axes in ((0, 0), (None, 0), (0, None)):
            got = udiff.vmap(f, in_axes=in_axes)(a if in_axes[0] == 0 else a[0],
                                                  c if in_axes[1] == 0 else c[0])
            want = numpy.stack([ref(a[k] if in_axes[0] == 0 else a[0],
                                    c[k] if in_axes[1] == 0 else c[0]) for k in range(3)])
            numpy.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{name} {in_axes}")
        # per-example gradients (with positions or conditions that are the same for every
        # example: inside grad, a composite that reads a batched argument's values cannot
        # run once per example, and raises BatchingConversionError)
        loss = udiff.grad(lambda a, c: np.sum(np.sin(f(a, c))))
        got = udiff.vmap(loss, in_axes=(0, None))(a, c[0])
        numpy.testing.assert_allclose(got, numpy.stack([loss(a[k], c[0]) for k in range(3)]),
                                      rtol=1e-12, err_msg=name)


def test_vmap_under_diffarraybackend(inner):
    rng = numpy.random.default_rng(8)
    a = rng.normal(size=(3, 4))
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        x = np.asarray(chunked(a, inner))
        y = np.sum(udiff.vmap(lambda r: np.tanh(r) * np.max(r))(x))
        g = y.to(x)
    want = numpy.stack([udiff.grad(lambda r: np.sum(np.tanh(r) * np.max(r)))(r) for r in a])
    numpy.testing.assert_allclose(compute(g), want, rtol=1e-12)


def test_outputs_containers_and_out_axes():
    xs = numpy.arange(6.0).reshape(3, 2)
    out = udiff.vmap(lambda x, c: {"x": x * 2, "c": c, "one": 1.0},
                     in_axes=(0, None), out_axes={"x": 1, "c": None, "one": 0})(xs, 7.0)
    numpy.testing.assert_array_equal(out["x"], (xs * 2).T)
    assert out["c"] == 7.0
    numpy.testing.assert_array_equal(out["one"], numpy.ones(3))
    # an unbatched output is broadcast along the batch axis (JAX's semantics)
    out = udiff.vmap(lambda x: numpy.array([1.0, 2.0]), out_axes=-1)(xs)
    numpy.testing.assert_array_equal(out, numpy.array([[1.0] * 3, [2.0] * 3]))
    out = udiff.vmap(lambda: np.zeros(2), in_axes=(), axis_size=4)()
    assert out.shape == (4, 2)
    # containers in in_axes, keyword arguments batched on axis 0
    out = udiff.vmap(lambda p, scale: p["a"] * p["b"] * scale, in_axes=({"a": 0, "b": None},))(
        {"a": xs, "b": numpy.array([1.0, -1.0])}, scale=numpy.array([1.0, 2.0, 3.0]))
    numpy.testing.assert_array_equal(out, xs * [1.0, -1.0] * numpy.array([[1.0], [2.0], [3.0]]))


# -- bad input ------------------------------------------------------------------------------
def _f(x, y):
    return x + y


@pytest.mark.parametrize("in_axes, args, message", [
    (({"a": 0},), (numpy.ones(3),), r"in_axes \{'a': 0\} for x does not match its structure"),
    (({"a": 0, "c": 1}, 0), ({"a": numpy.ones(3), "b": numpy.ones(3)}, numpy.ones(3)),
     r"for x does not match"),
    ((0,), (numpy.ones(3), numpy.ones(3)), r"in_axes has 1 entries but _f was called with 2"),
    ((2, 0), (numpy.ones((3, 2)), numpy.ones(3)),
     r"in_axes 2 is out of range for x, of shape \(3, 2\) \(rank 2\)"),
    ((0, -2), (numpy.ones(3), numpy.ones(3)), r"in_axes -2 is out of range for y"),
    ((0, 0), (numpy.ones(3), 1.0), r"in_axes 0 is out of range for y, of shape \(\) \(rank 0\)"),
    ((0, 1), (numpy.ones((3, 2)), numpy.ones((2, 4))),
     r"batch sizes differ: x has size 3 on axis 0; y has size 4 on axis 1"),
    ((None, None), (numpy.ones(3), numpy.ones(3)), r"no argument is batched"),
    ("x", (numpy.ones(3), numpy.ones(3)), r"in_axes must be an int, None"),
])
def test_bad_in_axes(in_axes, args, message):
    with pytest.raises(ValueError, match=message):
        udiff.vmap(_f, in_axes=in_axes)(*args)


def test_bad_out_axes_and_axis_size():
    with pytest.raises(ValueError, match=r"out_axes is None for output\[1\], but"):
        udiff.vmap(lambda x: (x.shape[0], x), out_axes=(None, None))(numpy.ones((3, 2)))
    with pytest.raises(ValueError, match=r"out_axes 2 is out of range for output"):
        udiff.vmap(lambda x: x, out_axes=2)(numpy.ones(3))
    with pytest.raises(ValueError, match=r"x has size 3 on axis 0; axis_size is 4"):
        udiff.vmap(lambda x: x, axis_size=4)(numpy.ones(3))
    with pytest.raises(ValueError, match=r"out_axes must be an int, None"):
        udiff.vmap(lambda x: x, out_axes=1.5)


def test_constants_of_batched_values_are_refused():
    with pytest.raises(TypeError, match=r"float\(\) of a batched array"):
        udiff.vmap(lambda x: float(x))(numpy.ones(3))
    with pytest.raises(TypeError, match=r"bool\(\) .* of a batched array"):
        udiff.vmap(lambda x: x if x > 0 else -x)(numpy.ones(3))
    # NumPy's own indexing cannot be batched (it asks the index for one NumPy value): the
    # error says how to write it with udiff.numpy
    for f in (lambda i: numpy.arange(3.0)[i], lambda i: numpy.ones((2, 3))[:, i],
              lambda i: [1.0, 2.0][i]):
        with pytest.raises(TypeError, match=r"np.take\(w, i, axis=0\) for w\[i\], np.take\("
                                            r"w, i, axis=1\) for w\[:, i\]"):
            udiff.vmap(f)(numpy.array([0, 1]))


def test_a_batched_value_that_escapes_its_vmap_is_refused():
    leaked = []
    udiff.vmap(lambda x: leaked.append(x) or x)(numpy.ones(3))
    with pytest.raises(ValueError, match="escaped the vmap that made it"):
        udiff.vmap(lambda y: y + leaked[0])(numpy.ones(3))


def test_polymul_under_a_derivative_inside_vmap_trims_leading_zeros_alike():
    """polymul drops its factors' leading zeros (NumPy's poly1d): inside vmap, under a
    derivative, the examples must drop as many (else their products differ in length)."""
    import udiff.numpy as np

    b = numpy.array([1.0, 3.0])
    same = numpy.array([[0.0, 1.0, 2.0], [0.0, 4.0, 5.0]])
    f = lambda a: np.sum(np.polymul(a, b) ** 2)  # noqa: E731
    got = udiff.vmap(udiff.grad(f))(same)
    want = numpy.stack([udiff.grad(f)(row) for row in same])
    numpy.testing.assert_allclose(got, want, rtol=1e-14)
    assert got[:, 0].tolist() == [0.0, 0.0]  # a dropped zero's derivative is zero
    differ = numpy.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]])
    with pytest.raises(ValueError, match=r"polymul inside vmap.*leading zeros differ"):
        udiff.vmap(udiff.grad(f))(differ)
