"""Random programs, checked against NumPy and against finite differences.

A *program* is a small graph drawn by hypothesis: one or two input arrays
(shapes with 0-d, size-1 and size-0 axes, broadcasting pairs), then 2 to 6
operations from ``OPS`` (elementwise ufuncs on safe domains, broadcasting
binary ufuncs, reductions with ``axis``/``keepdims``, reshapes, slices with
negative steps and empty ranges, indexing, ``matmul``, joins, ``where``,
sorting...), each written once against a namespace ``xp`` so that the same
code runs with ``udiff.numpy`` and with NumPy itself.  On NumPy and on Dask
(with chunks drawn by hypothesis) every program is checked for

* its value, shape and dtype against NumPy's own (inputs are float64 or
  float32), and the dtypes of its derivatives (a gradient has its variable's
  dtype);
* in float64, its forward and reverse derivatives against central finite
  differences, to order 2 (:func:`udiff.testing.check_grads`);
* forward against reverse: ``<v, J u>`` computed by ``udiff.jvp`` and by
  ``udiff.vjp`` agree to rounding;
* a Hessian-vector product (``udiff.hvp`` of ``sum(sin(program))``) against
  finite differences of ``udiff.grad``.

The generators stay away from non-differentiable points (denominators and
logarithms see ``x*x + 1``, maxima and sorts see random values whose only
ties are copies of one value) and keep every value small (``MAX_SIZE``
elements, magnitudes up to ``MAX_ABS``, where central differences are
accurate to the tolerances), so a failure is a bug; RuntimeWarnings (an
overflow inside a rule) are errors too.  A failing program is shrunk by
hypothesis and printed as its list of operations.

Budget
------
CI runs a small, derandomized budget: ``CI_EXAMPLES`` programs on NumPy and a
sixth as many on Dask (slower: a graph per evaluation), in well under a
minute.  Set the environment variable ``UDIFF_PROPERTY_EXAMPLES`` to run that
many programs on NumPy (and a sixth as many on Dask) instead, with fresh
random draws each run::

    UDIFF_PROPERTY_EXAMPLES=2000 python -m pytest tests/test_properties.py

The programs such runs found, shrunk, are kept as tests of their own
(``FOUND``).
"""
import dataclasses
import os
import warnings

import numpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import udiff
import udiff.numpy as U
from udiff.testing import check_grads

from conftest import compute

CI_EXAMPLES = 100
EXAMPLES = int(os.environ.get("UDIFF_PROPERTY_EXAMPLES", CI_EXAMPLES))
SETTINGS = settings(
    deadline=None,
    derandomize="UDIFF_PROPERTY_EXAMPLES" not in os.environ,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


# -- the operations ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Op:
    """One operation: ``fun(xp, *arrays, **params)``, and ``params(draw, *shapes)``.

    ``params`` draws the keyword arguments for inputs of these shapes, or
    returns None where the operation does not apply (a maximum over an empty
    axis, a matmul of mismatched shapes...).
    """

    name: str
    arity: int
    fun: callable
    params: callable = lambda draw, *shapes: {}


def _axis(draw, shape, allow_none=True, nonempty=False, at_least=1):
    """An axis of ``shape`` (negative or not), or None; None if none qualifies."""
    axes = [a for a in range(len(shape)) if not nonempty or shape[a] >= at_least]
    choices = ([None] if allow_none and (not nonempty or _size(shape) >= at_least) else [])
    choices += axes + [a - len(shape) for a in axes]
    if not choices:
        return False
    return draw(st.sampled_from(choices))


def _size(shape):
    return int(numpy.prod(shape, dtype=int))


def _ramp(a):
    """0.3, 0.6, ... shaped like ``a``: a constant that no value is a copy of."""
    return 0.3 * numpy.arange(1, _size(a.shape) + 1).reshape(a.shape)


def _reduction(at_least=0):
    """Parameters of a reduction whose reduced axis has ``at_least`` elements."""
    def params(draw, shape):
        axis = _axis(draw, shape, nonempty=at_least > 0, at_least=at_least)
        if axis is False:
            return None
        return {"axis": axis, "keepdims": draw(st.booleans())}
    return params


def _one_axis(draw, shape):
    axis = _axis(draw, shape, allow_none=False)
    return None if axis is False else {"axis": axis}


def _broadcastable(*shapes):
    try:
        numpy.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _binary_params(draw, a, b):
    return {} if _broadcastable(a, b) else None


def _slice(draw, n):
    start = draw(st.sampled_from([None, 0, 1, -1, n]))
    stop = draw(st.sampled_from([None, -1, 1, 0, n]))
    step = draw(st.sampled_from([None, -1, 2, -2]))
    return slice(start, stop, step)


def _slices(draw, shape):
    if not shape:
        return None
    k = draw(st.integers(1, len(shape)))
    return {"index": tuple(_slice(draw, n) for n in shape[:k])}


def _integer(draw, shape):
    if not shape or shape[0] == 0:
        return None
    return {"index": draw(st.integers(-shape[0], shape[0] - 1))}


def _take(draw, shape):
    axis = _axis(draw, shape, allow_none=False, nonempty=True)
    if axis is False:
        return None
    n = shape[axis]
    idx = draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=4))
    return {"indices": numpy.asarray(idx, dtype=numpy.intp), "axis": axis}


def _reshape(draw, shape):
    targets = {(-1,), tuple(shape[::-1]), tuple(shape) + (1,), (1,) + tuple(shape)}
    if len(shape) >= 2:
        targets.add(tuple(shape[:-2]) + (shape[-2] * shape[-1],))
    return {"shape": draw(st.sampled_from(sorted(targets)))}


def _transpose(draw, shape):
    return {"axes": tuple(draw(st.permutations(range(len(shape)))))}


def _swapaxes(draw, shape):
    if not shape:
        return None
    n = len(shape)
    return {"axis1": draw(st.integers(-n, n - 1)), "axis2": draw(st.integers(-n, n - 1))}


def _expand_dims(draw, shape):
    n = len(shape) + 1
    return {"axis": draw(st.integers(-n, n - 1))}


def _squeeze(draw, shape):
    ones = [a for a, n in enumerate(shape) if n == 1]
    return {"axis": draw(st.sampled_from(ones))} if ones else None


def _broadcast_to(draw, shape):
    target = tuple(draw(st.sampled_from([n, 2])) if n == 1 else n for n in shape)
    lead = draw(st.sampled_from([(), (2,), (0,)]))
    return {"shape": lead + target}


def _matmul(draw, a, b):
    if not a or not b:
        return None
    k_b = b[0] if len(b) == 1 else b[-2]
    if a[-1] != k_b or not _broadcastable(a[:-2], b[:-2]):
        return None
    return {}


def _concatenate(draw, a, b):
    if not a or len(a) != len(b):
        return None
    axes = [k for k in range(len(a)) if a[:k] + a[k + 1:] == b[:k] + b[k + 1:]]
    return {"axis": draw(st.sampled_from(axes))} if axes else None


def _stack(draw, a, b):
    if a != b:
        return None
    n = len(a) + 1
    return {"axis": draw(st.integers(-n, n - 1))}


def _roll(draw, shape):
    axis = _axis(draw, shape)
    if axis is False:
        return None
    return {"shift": draw(st.integers(-3, 3)), "axis": axis}


def _repeat(draw, shape):
    axis = _axis(draw, shape)
    return None if axis is False else {"repeats": draw(st.integers(0, 2)), "axis": axis}


def _pad(draw, shape):
    if not shape:
        return None
    return {"pad_width": tuple((draw(st.integers(0, 1)), draw(st.integers(0, 1))) for _ in shape)}


def _gram(xp, a):
    """``a @ a.T`` on the last two axes (``a @ a`` for a vector)."""
    return xp.matmul(a, a if a.ndim == 1 else xp.swapaxes(a, -1, -2))


def _norm(draw, shape):
    return {} if _size(shape) else None


def _matrices(draw, shape):
    return {} if len(shape) >= 2 else None


def _spd(xp, a):
    """``a @ a.T + I`` on the last two axes: symmetric positive definite, well conditioned."""
    return xp.matmul(a, xp.swapaxes(a, -1, -2)) + xp.eye(a.shape[-2], dtype=a.dtype)


def _diagonal(draw, shape):
    return {"axis1": -2, "axis2": -1} if len(shape) >= 2 else None


def _tile(draw, shape):
    return {"reps": tuple(draw(st.integers(1, 2)) for _ in range(draw(st.integers(1, 2))))}


def _moveaxis(draw, shape):
    if not shape:
        return None
    n = len(shape)
    return {"source": draw(st.integers(-n, n - 1)), "destination": draw(st.integers(-n, n - 1))}


def _last_axes_match(draw, a, b):
    return {} if a and b and a[-1] == b[-1] and _broadcastable(a[:-1], b[:-1]) else None


def _solvable(draw, a, b):
    if len(a) < 2 or len(b) < 2 or b[-2] != a[-2]:
        return None
    return {} if _broadcastable(a[:-2], b[:-2]) else None


def _at_set_fun(xp, a, index, scale):
    """``a`` with row ``index`` scaled by ``scale``: ``x.at[i].set`` (a copy in NumPy)."""
    if xp is numpy:
        out = a.copy()
        out[index] = scale * a[index]
        return out
    return a.at[index].set(scale * a[index])


def _sort_along(xp, a, axis):
    """``a`` sorted along ``axis`` through ``take_along_axis`` of its argsort."""
    return xp.take_along_axis(a, xp.argsort(a, axis=axis), axis=axis)


def _at_set(draw, shape):
    params = _integer(draw, shape)
    if params is None:
        return None
    return {"index": params["index"], "scale": draw(st.sampled_from([2.0, -1.0]))}


def _cumulative_flat(draw, shape):
    return {"axis": None}


def _nonempty_last(draw, shape):
    return {} if shape and shape[-1] else None


def _nonempty(draw, shape):
    return {} if shape else None


OPS = [
    # elementwise, on domains where every function is smooth
    Op("sin", 1, lambda xp, a: xp.sin(a)),
    Op("cos", 1, lambda xp, a: xp.cos(a)),
    Op("tanh", 1, lambda xp, a: xp.tanh(a)),
    Op("exp_tanh", 1, lambda xp, a: xp.exp(xp.tanh(a))),
    Op("log_sq1", 1, lambda xp, a: xp.log(a * a + 1.0)),
    Op("sqrt_sq1", 1, lambda xp, a: xp.sqrt(xp.square(a) + 1.0)),
    Op("reciprocal_sq1", 1, lambda xp, a: xp.reciprocal(a * a + 1.0)),
    Op("arctan", 1, lambda xp, a: xp.arctan(a)),
    Op("expm1", 1, lambda xp, a: xp.expm1(a)),
    Op("log1p_sq", 1, lambda xp, a: xp.log1p(a * a)),
    Op("cbrt_sq1", 1, lambda xp, a: xp.cbrt(a * a + 1.0)),
    Op("negative", 1, lambda xp, a: -a),
    Op("power_3", 1, lambda xp, a: a ** 3),
    Op("clip", 1, lambda xp, a: xp.clip(a, -0.5, 0.5)),
    # binary, broadcasting
    Op("add", 2, lambda xp, a, b: xp.add(a, b), _binary_params),
    Op("subtract", 2, lambda xp, a, b: a - b, _binary_params),
    Op("multiply", 2, lambda xp, a, b: xp.multiply(a, b), _binary_params),
    Op("divide_sq1", 2, lambda xp, a, b: xp.divide(a, b * b + 1.0), _binary_params),
    Op("maximum", 2, lambda xp, a, b: xp.maximum(a, b), _binary_params),
    Op("minimum", 2, lambda xp, a, b: xp.minimum(a, b), _binary_params),
    Op("logaddexp", 2, lambda xp, a, b: xp.logaddexp(a, b), _binary_params),
    Op("arctan2_sq1", 2, lambda xp, a, b: xp.arctan2(a, b * b + 1.0), _binary_params),
    Op("where", 2, lambda xp, a, b: xp.where(a > 0.0, a, b), _binary_params),
    # reductions
    Op("sum", 1, lambda xp, a, **k: xp.sum(a, **k), _reduction()),
    Op("prod", 1, lambda xp, a, **k: xp.prod(a, **k), _reduction()),
    Op("mean", 1, lambda xp, a, **k: xp.mean(a, **k), _reduction(1)),
    Op("var", 1, lambda xp, a, **k: xp.var(a, **k), _reduction(1)),
    # std and norm are not differentiable where std or the norm is 0 (NaN there, as JAX):
    # a fixed ramp keeps copies of one value (tile, broadcast) apart
    Op("std", 1, lambda xp, a, **k: xp.std(a + _ramp(a), **k), _reduction(2)),
    Op("max", 1, lambda xp, a, **k: xp.max(a, **k), _reduction(1)),
    Op("min", 1, lambda xp, a, **k: xp.min(a, **k), _reduction(1)),
    Op("norm", 1, lambda xp, a: xp.linalg.norm(a + _ramp(a) + 0.5), _norm),
    Op("var_ddof1", 1, lambda xp, a, **k: xp.var(a, ddof=1, **k), _reduction(2)),
    Op("median", 1, lambda xp, a, **k: xp.median(a, **k), _reduction(1)),
    Op("sum_method", 1, lambda xp, a, **k: a.sum(**k), _reduction()),
    Op("trace", 1, lambda xp, a: xp.trace(a, axis1=-2, axis2=-1), _matrices),
    Op("cumsum", 1, lambda xp, a, **k: xp.cumsum(a, **k), _one_axis),
    Op("cumsum_flat", 1, lambda xp, a, **k: xp.cumsum(a, **k), _cumulative_flat),
    Op("cumprod", 1, lambda xp, a, **k: xp.cumprod(a, **k), _one_axis),
    # shapes
    Op("reshape", 1, lambda xp, a, shape: xp.reshape(a, shape), _reshape),
    Op("transpose", 1, lambda xp, a, axes: xp.transpose(a, axes), _transpose),
    Op("swapaxes", 1, lambda xp, a, **k: xp.swapaxes(a, **k), _swapaxes),
    Op("expand_dims", 1, lambda xp, a, **k: xp.expand_dims(a, **k), _expand_dims),
    Op("squeeze", 1, lambda xp, a, **k: xp.squeeze(a, **k), _squeeze),
    Op("squeeze_all", 1, lambda xp, a: xp.squeeze(a)),
    Op("atleast_2d", 1, lambda xp, a: xp.atleast_2d(a)),
    Op("transpose_method", 1, lambda xp, a: a.T),
    Op("moveaxis", 1, lambda xp, a, **k: xp.moveaxis(a, **k), _moveaxis),
    Op("tile", 1, lambda xp, a, reps: xp.tile(a, reps), _tile),
    Op("broadcast_to", 1, lambda xp, a, shape: xp.broadcast_to(a, shape), _broadcast_to),
    Op("flip", 1, lambda xp, a, **k: xp.flip(a, **k), _one_axis),
    Op("roll", 1, lambda xp, a, **k: xp.roll(a, **k), _roll),
    Op("diff", 1, lambda xp, a, **k: xp.diff(a, **k), _one_axis),
    Op("repeat", 1, lambda xp, a, **k: xp.repeat(a, **k), _repeat),
    Op("pad", 1, lambda xp, a, pad_width: xp.pad(a, pad_width, mode="constant"), _pad),
    # selection
    Op("slice", 1, lambda xp, a, index: a[index], _slices),
    Op("integer_index", 1, lambda xp, a, index: a[index], _integer),
    Op("take", 1, lambda xp, a, **k: xp.take(a, **k), _take),
    Op("at_set", 1, lambda xp, a, index, scale: _at_set_fun(xp, a, index, scale), _at_set),
    Op("sort", 1, lambda xp, a, **k: xp.sort(a, **k), _one_axis),
    Op("take_along_argsort", 1, _sort_along, _one_axis),
    Op("diagonal", 1, lambda xp, a, **k: xp.diagonal(a, **k), _diagonal),
    # products, linear algebra and joins
    Op("outer", 2, lambda xp, a, b: xp.outer(a, b)),
    Op("einsum_dot_last", 2, lambda xp, a, b: xp.einsum("...i,...i->...", a, b), _last_axes_match),
    Op("inv_spd", 1, lambda xp, a: xp.linalg.inv(_spd(xp, a)), _matrices),
    Op("det_spd", 1, lambda xp, a: xp.linalg.det(_spd(xp, a)), _matrices),
    Op("solve_spd", 2, lambda xp, a, b: xp.linalg.solve(_spd(xp, a), b), _solvable),
    Op("fft_abs2", 1, lambda xp, a: xp.abs(xp.fft.fft(a)) ** 2, _nonempty_last),
    Op("matmul", 2, lambda xp, a, b: xp.matmul(a, b), _matmul),
    Op("gram", 1, _gram, _nonempty),
    Op("concatenate", 2, lambda xp, a, b, axis: xp.concatenate((a, b), axis=axis), _concatenate),
    Op("stack", 2, lambda xp, a, b, axis: xp.stack((a, b), axis=axis), _stack),
]
OPS_BY_NAME = {op.name: op for op in OPS}


# -- programs ------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Step:
    op: str
    args: tuple
    params: dict

    def __repr__(self):
        params = "".join(f", {k}={_show(v)}" for k, v in self.params.items())
        return f"{self.op}({', '.join(f'v{i}' for i in self.args)}{params})"


def _show(v):
    return repr(v.tolist()) if isinstance(v, numpy.ndarray) else repr(v)


@dataclasses.dataclass(frozen=True)
class Program:
    """Inputs ``v0`` (and ``v1``), then one new value per step; the result is the last."""

    shapes: tuple
    chunks: tuple
    dtype: str
    seed: int
    steps: tuple

    def inputs(self):
        """The input arrays (NumPy), uniform in (-1, 1)."""
        rng = numpy.random.default_rng(self.seed)
        return [rng.uniform(-1.0, 1.0, shape).astype(self.dtype) for shape in self.shapes]

    def run(self, xp, *inputs):
        """The result, computed with the namespace ``xp`` (``udiff.numpy`` or NumPy)."""
        values = list(inputs)
        for step in self.steps:
            values.append(OPS_BY_NAME[step.op].fun(xp, *(values[i] for i in step.args),
                                                   **step.params))
        return values[-1]

    def __repr__(self):
        lines = [f"Program(dtype={self.dtype}, seed={self.seed})"]
        for i, shape in enumerate(self.shapes):
            chunks = f", chunks {self.chunks[i]}" if self.chunks else ""
            lines.append(f"  v{i}: input of shape {shape}{chunks}")
        for k, step in enumerate(self.steps, start=len(self.shapes)):
            lines.append(f"  v{k} = {step!r}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        # hypothesis prints a falsifying example with this: one operation a line
        printer.text(repr(self))


MAX_SIZE, MAX_ABS = 64, 10.0  # every value of a program stays within these
_DIMS = st.sampled_from([2, 3, 1, 2, 3, 0])  # shrinks towards 2; one axis in six is empty


@st.composite
def input_shapes(draw):
    """One shape, or two that broadcast together (one may have fewer axes or unit axes)."""
    shape = tuple(draw(st.lists(_DIMS, max_size=3)))
    if not draw(st.booleans()):
        return (shape,)
    other = shape[draw(st.integers(0, len(shape))):]
    other = tuple(draw(st.sampled_from([n, 1])) for n in other)
    return (other, shape) if draw(st.booleans()) else (shape, other)


def _chunks(draw, shape):
    return tuple(draw(st.integers(1, n)) if n > 1 else 1 for n in shape)


@st.composite
def programs(draw, dask):
    shapes = draw(input_shapes())
    chunks = tuple(_chunks(draw, s) for s in shapes) if dask else ()
    dtype = draw(st.sampled_from(["float64", "float64", "float64", "float32"]))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    program = Program(shapes, chunks, dtype, seed, ())
    values = program.inputs()
    steps = []
    n = draw(st.sampled_from([2, 3, 4, 5, 6]))
    while len(steps) < n:
        # An operation applies to the last value, a binary one pairs it with any value.
        op = draw(st.sampled_from(OPS))
        last = len(values) - 1
        args = (last,) if op.arity == 1 else (last, draw(st.sampled_from(range(last, -1, -1))))
        params = op.params(draw, *(values[i].shape for i in args))
        if params is None:
            continue  # does not apply to these shapes: draw again
        with numpy.errstate(all="raise", under="ignore"):
            value = numpy.asarray(op.fun(numpy, *(values[i] for i in args), **params))
        if value.size > MAX_SIZE or numpy.any(numpy.abs(value) > MAX_ABS):
            continue  # large values or arrays: finite differences lose accuracy, checks slow down
        values.append(value)
        steps.append(Step(op.name, args, params))
    return dataclasses.replace(program, steps=tuple(steps))


# -- the checks ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True, scope="module")
def _synchronous_dask():
    import dask

    with dask.config.set(scheduler="synchronous"):
        yield


def _inner_inputs(program, inner):
    arrays = program.inputs()
    if inner is udiff.dask_backend:
        import dask.array as da

        return [da.from_array(a, chunks=c) for a, c in zip(arrays, program.chunks)]
    return arrays


def _like(rng, a, inner, dtype):
    r = rng.standard_normal(numpy.shape(a)).astype(dtype)
    if inner is udiff.dask_backend:
        import dask.array as da

        return da.from_array(r, chunks=a.chunks) if hasattr(a, "chunks") else da.from_array(r)
    return r


def check_program(program, inner):
    """Every check of the module docstring, for ``program`` on ``inner``."""
    xs = _inner_inputs(program, inner)
    f = lambda *args: program.run(U, *args)  # noqa: E731
    expected = numpy.asarray(program.run(numpy, *program.inputs()))
    out, vjp_fn = udiff.vjp(f, *xs, inner=inner)
    _check_value(out, expected, program.dtype)
    rng = numpy.random.default_rng(program.seed + 1)
    us = [_like(rng, x, inner, program.dtype) for x in xs]
    v = _like(rng, expected, inner, expected.dtype)
    _, ju = udiff.jvp(f, xs, us, inner=inner)
    vjs = vjp_fn(v)
    # a gradient has its variable's dtype, a tangent its value's
    assert [g.dtype for g in vjs] == [x.dtype for x in xs], "vjp dtype"
    assert tuple(ju.shape) == expected.shape and ju.dtype == expected.dtype, "jvp shape or dtype"
    if program.dtype != "float64":
        return  # float32 is too coarse for finite differences
    # forward and reverse derivatives against finite differences, to order 2
    check_grads(f, xs, modes=("fwd", "rev"), order=2, inner=inner, seed=program.seed)
    # forward against reverse: <v, J u> both ways
    forward = numpy.sum(compute(v) * compute(ju))
    reverse = sum(numpy.sum(compute(g) * compute(u)) for g, u in zip(vjs, us))
    numpy.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12, err_msg="<v, J u>")
    _check_hvp(f, xs, us, inner)


def _check_value(out, expected, dtype):
    """The value, shape and dtype are NumPy's."""
    assert tuple(out.shape) == expected.shape, "shape"
    assert out.dtype == expected.dtype, "dtype"
    rtol = 1e-12 if dtype == "float64" else 1e-5
    numpy.testing.assert_allclose(compute(out), expected, rtol=rtol, atol=rtol / 100)


def _check_hvp(f, xs, us, inner, eps=1e-6):
    """``udiff.hvp`` of ``sum(sin(f))`` against central differences of ``udiff.grad``."""
    loss = lambda *args: U.sum(U.sin(f(*args)))  # noqa: E731
    hv = udiff.hvp(loss, xs, us, inner=inner)
    hv = hv if isinstance(hv, tuple) else (hv,)
    gradient = udiff.grad(loss, tuple(range(len(xs))), inner=inner)
    plus = gradient(*(x + eps * u for x, u in zip(xs, us)))
    minus = gradient(*(x - eps * u for x, u in zip(xs, us)))
    for i, (h, p, m) in enumerate(zip(hv, plus, minus)):
        assert tuple(h.shape) == tuple(xs[i].shape), f"hvp shape, argument {i}"
        numpy.testing.assert_allclose(compute(h), (compute(p) - compute(m)) / (2 * eps),
                                      rtol=1e-5, atol=1e-6, err_msg=f"hvp, argument {i}")


def _run(program, inner):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        check_program(program, inner)


@settings(SETTINGS, max_examples=EXAMPLES)
@given(programs(dask=False))
def test_random_programs_on_numpy(program):
    _run(program, udiff.numpy_backend)


@settings(SETTINGS, max_examples=max(1, EXAMPLES // 6))
@given(programs(dask=True))
def test_random_programs_on_dask(program):
    _run(program, udiff.dask_backend)


# -- programs the long runs found, shrunk: each stays a test --------------------------------------
def _program(shapes, chunks, steps, dtype="float64", seed=0):
    return Program(shapes, chunks, dtype, seed,
                   tuple(Step(op, args, params) for op, args, params in steps))


FOUND = {
    # udiff's logaddexp derivative capped exp's argument at 700, which overflows float32
    "logaddexp_float32_overflow": ("numpy", _program(((),), (), [
        ("sin", (0,), {}), ("sin", (1,), {}), ("add", (2, 0), {}), ("power_3", (3,), {}),
        ("power_3", (4,), {}), ("logaddexp", (5, 0), {})], dtype="float32", seed=4870549)),
    # Dask's norm of a 3-D array (NumPy flattens it)
    "dask_norm_3d": ("dask", _program(((2, 2, 2),), ((2, 1, 1),), [
        ("sin", (0,), {}), ("norm", (1,), {})])),
    # Dask's max along an axis of an array with another, empty, axis
    "dask_max_beside_an_empty_axis": ("dask", _program(((1, 0, 2),), ((1, 1, 2),), [
        ("max", (0,), {"axis": -1, "keepdims": False}), ("sin", (1,), {})])),
    # Dask's max over axis 0 of a (1, 0, 0) array computes a (1, 0) array
    "dask_max_of_empty_keeps_an_axis": ("dask", _program(((1, 0, 0),), ((1, 1, 1),), [
        ("sin", (0,), {}), ("max", (1,), {"axis": 0, "keepdims": False})])),
    "dask_pad_of_empty": ("dask", _program(((0, 0),), ((1, 1),), [
        ("sin", (0,), {}), ("pad", (1,), {"pad_width": ((0, 1), (0, 1))})])),
    "dask_repeat_of_empty_flattened": ("dask", _program(((6, 0),), ((2, 1),), [
        ("sin", (0,), {}), ("repeat", (1,), {"repeats": 1, "axis": None})])),
    "dask_outer_of_empty": ("dask", _program(((0, 2, 1),), ((1, 1, 1),), [
        ("sin", (0,), {}), ("outer", (1, 1), {})])),
    # solve's derivative on Dask, stack axes chunked differently in its two operands
    "dask_solve_of_a_chunked_stack": ("dask", _program(((2, 2, 2),), ((1, 1, 2),), [
        ("solve_spd", (0, 0), {})])),
    # the second derivative of det on a stack of 0 x 0 matrices: a Dask graph with a missing key
    "dask_det_of_empty_matrices": ("dask", _program(((2, 0, 3),), ((2, 1, 2),), [
        ("det_spd", (0,), {}), ("sin", (1,), {})])),
}


@pytest.mark.parametrize("name", list(FOUND))
def test_programs_found_by_long_runs(name):
    backend, program = FOUND[name]
    _run(program, {"numpy": udiff.numpy_backend, "dask": udiff.dask_backend}[backend])
