"""SciPy's ODE integration, differentiable: ``odeint`` in place of ``scipy.integrate.odeint``.

:func:`odeint` solves ``dy/dt = func(y, t, *args)`` with SciPy's own solver
(LSODA, through ``scipy.integrate.odeint``), so its values are SciPy's, and
differentiates the solution with respect to the initial state ``y0``, the
times ``t`` and the extra arguments ``args``, as JAX's
``jax.experimental.ode.odeint`` and autograd's
``autograd.scipy.integrate.odeint`` do.

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> from udiff.scipy.integrate import odeint
>>> t = numpy.array([0.0, 1.0])
>>> def decay(y, t, k):
...     return -k * y
>>> y = odeint(decay, numpy.array([1.0]), t, 0.5, rtol=1e-10, atol=1e-10)
>>> numpy.round(y[1], 8)  # exp(-0.5)
array([0.60653066])
>>> g = udiff.grad(lambda k: odeint(decay, numpy.array([1.0]), t, k,
...                                 rtol=1e-10, atol=1e-10)[1, 0])(0.5)
>>> round(float(g), 8)  # d/dk exp(-k) = -exp(-k)
-0.60653066
"""
import warnings

import numpy
import scipy.integrate
import uarray as ua

from .. import numpy as np
from .._machinery.batched_array import BatchedArray
from .._machinery.diff_array import DiffArray
from ..backends import numpy_backend
from .._transformations.custom import custom_jvp, custom_vjp
from .._transformations.functional import jvp, vjp

__all__ = ["odeint"]


def odeint(func, y0, t, *args, rtol=None, atol=None, mxstep=0):
    """Integrate ``dy/dt = func(y, t, *args)`` from ``t[0]``: SciPy's ``odeint``, differentiable.

    The values are those of ``scipy.integrate.odeint(func, y0, t, args)``
    (SciPy's LSODA solver runs them); the derivatives with respect to ``y0``,
    ``t`` and ``args`` are those of the exact solution, computed by solving
    other ODEs with the same solver and tolerances:

    * reverse mode (:func:`udiff.grad`, :func:`udiff.vjp`,
      :func:`udiff.jacrev`) solves the adjoint system backwards in time, as
      JAX's and autograd's ``odeint`` do; its dynamics take the
      vector-Jacobian products of ``func`` with :func:`udiff.vjp`;
    * forward mode (:func:`udiff.jvp`, :func:`udiff.jacfwd`) solves the
      forward sensitivity system, whose dynamics take the Jacobian-vector
      products of ``func`` with :func:`udiff.jvp`.

    Both systems are solved with :func:`odeint` itself, so derivatives of
    any order and every composition of the transformations work:
    ``grad(grad(f))``, ``hessian``, ``jacfwd(grad(f))``, ``grad`` of
    ``jvp``, ``vmap`` of ``grad`` and ``grad`` of ``vmap`` (``vmap`` solves
    the examples as one larger system where the times are shared, and one
    system per example where the times are batched).  A derivative is only as
    accurate as the solver: keep ``rtol`` and ``atol`` small when you need
    it to match finite differences closely.

    Parameters
    ----------
    func : callable
        ``func(y, t, *args)``, the derivative of ``y`` at ``t``, written with
        ``udiff.numpy`` (so that it can be differentiated); ``y`` has the
        shape of ``y0`` and ``t`` is a number, as SciPy passes them.
    y0 : (N,) array_like
        The initial state, at ``t[0]`` (a number is taken as one entry).
    t : (T,) array_like
        The times at which to return the solution, monotonic; ``t[0]`` is the
        initial time.
    *args : array_like
        Extra arguments of ``func``, arrays or numbers (SciPy's ``args``
        tuple); they can be differentiated.
    rtol, atol : float, optional
        The solver's relative and absolute error tolerances (SciPy's
        defaults, 1.49012e-8, when None).
    mxstep : int, optional
        The most steps per output time (SciPy's default, 500, when 0).

    Returns
    -------
    y : (T, N) ndarray of float64
        ``y[i]`` is the solution at ``t[i]``.

    Notes
    -----
    The state, the times and the arguments are small arrays that the solver
    holds in memory: Dask arrays among them are computed, and the solution
    is a NumPy array.  SciPy's ``Dfun``, ``full_output`` and the other step
    controls are not available.

    Examples
    --------
    The logistic equation, and the derivative of its solution at ``t = 1``
    with respect to the rate:

    >>> import numpy, udiff, udiff.numpy as np
    >>> from udiff.scipy.integrate import odeint
    >>> def logistic(y, t, r):
    ...     return r * y * (1.0 - y)
    >>> t = numpy.linspace(0.0, 1.0, 3)
    >>> y = odeint(logistic, numpy.array([0.5]), t, 1.0, rtol=1e-10, atol=1e-10)
    >>> numpy.round(y[:, 0], 6)
    array([0.5     , 0.622459, 0.731059])
    >>> g = udiff.grad(lambda r: odeint(logistic, numpy.array([0.5]), t, r,
    ...                                 rtol=1e-10, atol=1e-10)[-1, 0])(1.0)
    >>> round(float(g), 6)  # exactly t y (1 - y) at t = 1, y = 1 / (1 + exp(-r t))
    0.196612
    """
    if not callable(func):
        raise TypeError(f"odeint: func must be callable, not {type(func).__name__}")
    y0, t = _as_array(y0), _as_array(t)
    if numpy.ndim(y0) > 1:
        raise ValueError(f"odeint: the initial state y0 must be one-dimensional, not of shape "
                         f"{tuple(numpy.shape(y0))}")
    if numpy.ndim(t) != 1:
        raise ValueError(f"odeint: the times t must be one-dimensional, not of shape "
                         f"{tuple(numpy.shape(t))}")
    if numpy.ndim(y0) == 0:
        y0 = np.reshape(y0, (1,))
    return _odeint(func, (rtol, atol, mxstep), y0, t, tuple(_as_array(a) for a in args))


def _as_array(x):
    """An array of udiff's or of an inner library kept as it is; anything else as a NumPy array."""
    if isinstance(x, (DiffArray, BatchedArray)) or hasattr(x, "__array_namespace__"):
        return x
    return numpy.asarray(x, dtype=numpy.result_type(numpy.asarray(x), numpy.float64))


# -- the primal: SciPy's solver on plain values -------------------------------------------------
def _plain(x):
    """The NumPy value under ``x``: DiffArrays and batched arrays unwrapped, Dask computed.

    Only the primal value of a call is computed this way; its derivatives are the rules'.
    """
    x = _unwrapped(x)
    if isinstance(x, BatchedArray):  # pragma: no cover - _solve solves batches per example
        raise TypeError("odeint: internal error, a batched array reached the solver")
    if hasattr(x, "compute") and hasattr(x, "dask"):  # a Dask array: a small state, computed
        x = x.compute()
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        x = x.get()
    return numpy.asarray(x)


def _unwrapped(x):
    """``x`` without its DiffArrays (the primal's value does not depend on them)."""
    while isinstance(x, DiffArray):
        x = x.value
    return x


def _solve(func, opts, y0, t, args):
    """SciPy's ``odeint`` on the values of the arguments; ``func`` may return udiff's arrays.

    Values batched by :func:`udiff.vmap` (a ``grad`` inside a ``vmap`` computes its primal
    on them) are solved one example at a time.
    """
    leaves = [_unwrapped(x) for x in (y0, t) + tuple(args)]
    batched = [x for x in leaves if isinstance(x, BatchedArray)]
    if batched:
        top = max(batched, key=lambda x: x.level)
        pick = [x.value if isinstance(x, BatchedArray) and x.frame is top.frame else None
                for x in leaves]

        def example(i):
            y0, t, *args = [x if p is None else p[i] for x, p in zip(leaves, pick)]
            return _solve(func, opts, y0, t, args)

        per = [example(i) for i in range(numpy.shape(top.value)[0])]
        return BatchedArray(np.stack(per), top.level, top.frame)
    rtol, atol, mxstep = opts
    y0, t = _plain(y0), _plain(t)
    args = tuple(_plain(a) for a in args)
    shape = y0.shape

    def rhs(y, s):
        dy = func(y.reshape(shape), s, *args)
        if isinstance(dy, (DiffArray, BatchedArray)):
            # On NumPy arguments, func returns udiff's arrays only from arrays it closes
            # over: their derivatives would be lost.
            raise TypeError(
                "odeint: func returned a differentiated or batched array for NumPy arguments, "
                "so it closes over an array being differentiated or vmapped; pass that array "
                "to odeint as one of its extra arguments (odeint(func, y0, t, k)) instead")
        dy = _plain(dy)
        if dy.size != y.size:
            raise ValueError(f"odeint: func returned an array of shape {dy.shape} for a state "
                             f"of shape {shape}")
        return dy.ravel()

    # func runs on NumPy whatever backend the caller's context set (a custom rule's
    # constants on Dask, say): the solver hands it NumPy arrays.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # uarray 0.9 on set_backend
        context = ua.set_backend(numpy_backend, coerce=True)
    with context:
        ys = scipy.integrate.odeint(rhs, y0.ravel(), t, rtol=rtol, atol=atol, mxstep=mxstep)
    return ys.reshape((len(t),) + shape)


# -- the rules ------------------------------------------------------------------------------------
def _scalar(s):
    """A time as an array (the solver passes Python floats; rules may pass arrays)."""
    return s if hasattr(s, "shape") else numpy.asarray(s, dtype=numpy.float64)


def _flat(xs):
    """The arrays ``xs`` raveled and joined (an empty float64 array for none)."""
    xs = [np.reshape(x, (-1,)) for x in xs]
    return np.concatenate(xs) if xs else numpy.zeros(0)


def _split(flat, start, shapes):
    """The arrays of ``shapes`` laid end to end in ``flat`` from ``start``."""
    out = []
    for shape in shapes:
        size = int(numpy.prod(shape, dtype=numpy.int64))
        out.append(np.reshape(flat[start:start + size], shape))
        start += size
    return out


def _fwd(func, opts, y0, t, args):
    # The inputs are the residuals: the adjoint re-solves the forward system, so
    # that in a recorded sweep the solution it uses is itself a node of odeint.
    return _solve(func, opts, y0, t, args), (y0, t, args)


def _bwd(func, opts, residuals, g):
    """The adjoint method (JAX's ``_odeint_rev``): the state and its cotangent run backwards
    from each output time to the previous one, gathering the cotangents of ``args`` and ``t[0]``."""
    y0, t, args = residuals
    ys = _odeint(func, opts, y0, t, args)
    shape = tuple(numpy.shape(y0))
    n = int(numpy.prod(shape, dtype=numpy.int64))
    shapes = [tuple(numpy.shape(a)) for a in args]

    def adjoint(state, s, *args):
        y = np.reshape(state[:n], shape)
        y_bar = np.reshape(state[n:2 * n], shape)
        y_dot, back = vjp(func, y, -_scalar(s), *args)
        cts = back(y_bar)
        return _flat((-y_dot,) + tuple(cts))

    y_bar = g[-1]
    t0_bar = numpy.zeros(1)
    args_bar = numpy.zeros(sum(int(numpy.prod(s, dtype=numpy.int64)) for s in shapes))
    ts_bar = []
    for i in range(len(t) - 1, 0, -1):
        t_bar = np.sum(func(ys[i], t[i], *args) * g[i])
        ts_bar.append(t_bar)
        state = _flat([ys[i], y_bar, t0_bar - t_bar, args_bar])
        out = _odeint(adjoint, opts, state, np.stack([-t[i], -t[i - 1]]), args)[1]
        y_bar = np.reshape(out[n:2 * n], shape) + g[i - 1]
        t0_bar = out[2 * n:2 * n + 1]
        args_bar = out[2 * n + 1:]
    t_bar = np.concatenate([t0_bar] + [np.reshape(b, (1,)) for b in ts_bar[::-1]])
    return y_bar, t_bar, tuple(_split(args_bar, 0, shapes))


def _jvp_rule(func, opts, primals, tangents):
    """Forward sensitivities: ``S' = J_y f S + J_args f args_dot`` from
    ``S(t[0]) = y0_dot - f(y0, t[0]) t_dot[0]``, plus ``f(y(t_i), t_i) t_dot[i]``."""
    (y0, t, args), (y0_dot, t_dot, args_dot) = primals, tangents
    ys = _odeint(func, opts, y0, t, args)
    shape = tuple(numpy.shape(y0))
    n, k = int(numpy.prod(shape, dtype=numpy.int64)), len(args)

    def sensitivity(state, s, *both):
        y = np.reshape(state[:n], shape)
        dy = np.reshape(state[n:], shape)
        y_dot, s_dot = jvp(lambda y, *a: func(y, s, *a), (y,) + tuple(both[:k]),
                           (dy,) + tuple(both[k:]))
        return _flat([y_dot, s_dot])

    start = y0_dot - func(y0, t[0], *args) * t_dot[0]
    out = _odeint(sensitivity, opts, _flat([y0, start]), t, tuple(args) + tuple(args_dot))
    sens = np.reshape(out[:, n:], (len(t),) + shape)
    moved = np.stack([func(ys[i], t[i], *args) * t_dot[i] for i in range(len(t))])
    return ys, sens + moved


def _batched(self, vmap, in_axes, axes, pattern):
    """vmap's rule for odeint: one larger system whose dynamics are ``func`` vmapped, where the
    times are shared; one call per example where they are batched."""
    y_axis, t_axis, arg_axes = axes

    def batched(func, opts, y0, t, args):
        size = next(numpy.shape(x)[0] for x, ax in zip((y0, t) + tuple(args),
                                                       (y_axis, t_axis) + tuple(arg_axes))
                    if ax is not None)
        if t_axis is not None:
            def pick(x, ax, i):
                return x if ax is None else x[i]
            return np.stack([
                self(func, opts, pick(y0, y_axis, i), t[i],
                     tuple(pick(a, ax, i) for a, ax in zip(args, arg_axes)))
                for i in range(size)])
        if y_axis is None:
            y0 = np.broadcast_to(y0, (size,) + tuple(numpy.shape(y0)))
        vfunc = vmap(func, in_axes=(0, None) + tuple(arg_axes))
        return np.moveaxis(self(vfunc, opts, y0, t, args), 1, 0)

    return batched


class _ODEInt(custom_vjp):
    """odeint's node: the adjoint method as its VJP (custom_vjp's fwd/bwd) and the forward
    sensitivities as its JVP (custom_jvp's rule), both solved with this node again."""

    _kind = "function"
    _jvp = custom_jvp._jvp
    _call_jvp = custom_jvp._call_jvp
    _checked_out = custom_jvp._checked_out
    _make_batched = _batched

    def __init__(self):
        super().__init__(_solve, nondiff_argnums=(0, 1))
        self.__name__ = self.__qualname__ = "odeint"
        self.jvp = _jvp_rule
        self.defvjp(_fwd, _bwd)

    def __reduce__(self):
        return "_odeint"


_odeint = _ODEInt()
