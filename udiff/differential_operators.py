"""The functional API: derivatives of Python functions, in the style of JAX.

Each operator traces ``f`` once under :class:`DiffArrayBackend` and sweeps
the recorded graph.  ``f`` is written with ``udiff.numpy`` (or unumpy)
functions and receives DiffArrays; the operators accept and return inner
arrays (``numpy.ndarray``, Dask or CuPy arrays).  Called on DiffArrays (one
operator inside another) they return DiffArrays that can be differentiated
again, so ``grad(grad(f))`` works.
"""
import warnings

import numpy as np
import uarray as ua

from ._backend import DiffArrayBackend
from ._core import DiffArray, tracing
from ._sweeps import differentiate, forward_sweep
from .backends import inner_of, numpy_backend

_BACKENDS = {}


def _backend(inner, mode="vjp"):
    inner = inner_of(inner)
    key = (inner, mode)
    if key not in _BACKENDS:
        _BACKENDS[key] = DiffArrayBackend(inner, mode)
    return _BACKENDS[key]


def _argnums(argnums, nargs):
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    for n in nums:
        if not isinstance(n, (int, np.integer)) or not -nargs <= n < nargs:
            raise ValueError(
                f"argnums {argnums!r} is out of range for a function called with {nargs} "
                "positional arguments"
            )
    return tuple(n % nargs for n in nums), many


def _trace(f, args, nums, backend):
    """Call ``f`` with arguments ``nums`` as DiffArray variables; return (out, variables)."""
    args = list(args)
    variables = []
    nested = False
    for n in nums:
        a = args[n]
        if type(a) is DiffArray:
            nested = True
        else:
            value = a if backend.inner.is_array(a) else backend.inner.asarray(a)
            a = DiffArray(value, backend)
        args[n] = a
        variables.append(a)
    with _set_backend(backend), tracing(variables):
        out = f(*args)
    if type(out) is not DiffArray:
        out = DiffArray(_constant_output(f, out, backend), backend)
    return out, variables, nested


def _constant_output(f, out, backend):
    """An output that is no DiffArray: an array or number (a constant), or an error."""
    if backend.inner.is_array(out) or isinstance(out, (int, float, complex, np.generic)):
        return backend.inner.asarray(out)
    name = getattr(f, "__qualname__", None) or repr(f)
    if out is None:
        what = "None (does it end without `return`?)"
    elif isinstance(out, (tuple, list, dict)):
        what = f"a {type(out).__name__} of {len(out)} items"
    else:
        what = f"a {type(out).__module__}.{type(out).__qualname__}"
    raise TypeError(
        f"udiff differentiates functions that return one array, but {name} returned {what}; "
        "return a single array (containers of arrays are not supported yet)"
    )


def _set_backend(backend):
    # uarray 0.9 warns on every set_backend call, about its own internals: the
    # warning is not the user's, so it must not escape (nor fail warnings-as-errors
    # runs).  The context is built quietly here and entered outside the filter.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ua.set_backend(backend, coerce=True)


def _result(value, nested):
    if nested:
        return value
    if isinstance(value, tuple):
        return tuple(v.value for v in value)
    return value.value


def value_and_grad(f, argnums=0, inner=numpy_backend):
    """A function returning ``(f(*args), gradient of f at args)``.

    Parameters
    ----------
    f : callable
        Returns a scalar.
    argnums : int or tuple of int
        Which positional arguments to differentiate (a tuple gives a tuple).
    inner : uarray backend
        Where the arithmetic runs (``udiff.numpy_backend``, ``udiff.dask_backend``...).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> value, g = udiff.value_and_grad(lambda x: np.sum(x * x))(numpy.array([1.0, 2.0]))
    """

    def value_and_grad_f(*args):
        nums, many = _argnums(argnums, len(args))
        out, xs, nested = _trace(f, args, nums, _backend(inner))
        if out.size != 1 or out.ndim:
            raise ValueError(
                f"grad needs a function with a scalar output, got shape {out.shape}; "
                "use udiff.jacobian for the full Jacobian or udiff.vjp for a "
                "vector-Jacobian product"
            )
        grads = differentiate(out, xs if many else xs[0], None, False, nested, None, "vjp")
        return _result(out, nested), _result(grads, nested)

    return value_and_grad_f


def grad(f, argnums=0, inner=numpy_backend):
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.grad(lambda x: np.sum(np.sin(x)))(numpy.array([0.0]))
    array([1.])
    """
    vg = value_and_grad(f, argnums, inner)

    def grad_f(*args):
        return vg(*args)[1]

    return grad_f


def vjp(f, *primals, inner=numpy_backend):
    """``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` gives a tuple, one per primal.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> out, vjp_fn = udiff.vjp(lambda x: x * 2.0, numpy.array([1.0, 2.0]))
    >>> vjp_fn(numpy.array([1.0, 0.0]))
    (array([2., 0.]),)
    """
    nums = tuple(range(len(primals)))
    out, xs, nested = _trace(f, primals, nums, _backend(inner))

    def vjp_fn(cotangent):
        return _result(differentiate(out, xs, cotangent, False, nested, None, "vjp"), nested)

    return _result(out, nested), vjp_fn


def jvp(f, primals, tangents, inner=numpy_backend):
    """``(f(*primals), J @ tangents)``, pushed forward in one sweep.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jvp(lambda x: x * x, (numpy.array([3.0]),), (numpy.array([1.0]),))
    (array([9.]), array([6.]))
    """
    primals, tangents = _primals_and_tangents("jvp", primals, tangents)
    backend = _backend(inner, "jvp")
    out, xs, nested = _trace(f, primals, tuple(range(len(primals))), backend)
    seeds = []
    for i, (x, t) in enumerate(zip(xs, tangents)):
        t_value = t.value if type(t) is DiffArray and not nested else t
        _check_tangent(i, x, t_value)
        if not nested and not backend.inner.is_array(t_value):
            t_value = backend.inner.asarray(t_value)
        seeds.append(t_value if not nested or type(t_value) is DiffArray else DiffArray(t_value, backend))
    t_out = forward_sweep(out, xs, seeds, nested)
    if t_out is None:
        t_out = np.zeros_like(out.value, dtype=float)
        t_out = DiffArray(t_out, backend) if nested else t_out
    elif not nested and type(t_out) is DiffArray:
        t_out = t_out.value
    return _result(out, nested), t_out


def jacobian(f, argnums=0, mode="rev", chunk_size=None, inner=numpy_backend):
    """The Jacobian of ``f``, shaped ``out.shape + x.shape``, from one batched sweep.

    Parameters
    ----------
    mode : {"rev", "fwd"}
        Reverse mode pushes one-hot cotangents (one per output element);
        forward mode pushes one-hot tangents (one per input element).
    chunk_size : int, optional
        Push at most this many seeds at a time, to bound memory.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jacobian(lambda x: x * x)(numpy.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"mode must be 'rev' or 'fwd', not {mode!r}")
    sweep = "vjp" if mode == "rev" else "jvp"

    def jacobian_f(*args):
        nums, many = _argnums(argnums, len(args))
        out, xs, nested = _trace(f, args, nums, _backend(inner, sweep))
        jac = differentiate(out, xs if many else xs[0], None, True, nested, chunk_size, sweep)
        return _result(jac, nested)

    return jacobian_f


def jacrev(f, argnums=0, chunk_size=None, inner=numpy_backend):
    """:func:`jacobian` in reverse mode."""
    return jacobian(f, argnums, "rev", chunk_size, inner)


def jacfwd(f, argnums=0, chunk_size=None, inner=numpy_backend):
    """:func:`jacobian` in forward mode."""
    return jacobian(f, argnums, "fwd", chunk_size, inner)


def hessian(f, argnums=0, inner=numpy_backend):
    """The Hessian of scalar-valued ``f``: forward mode over the recorded gradient.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.hessian(lambda x: np.sum(x * x * x))(numpy.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """

    def hessian_f(*args):
        nums, _ = _argnums(argnums, len(args))
        if len(nums) != 1:
            raise ValueError("hessian takes a single argnum")
        out, (x,), nested = _trace(f, args, nums, _backend(inner))
        _check_scalar(out, "hessian")
        g = differentiate(out, x, None, False, True, None, "vjp")
        return _result(differentiate(g, x, None, True, nested, None, "jvp"), nested)

    return hessian_f


def hvp(f, primals, tangents, inner=numpy_backend):
    """Hessian-vector product of scalar-valued ``f``, forward over reverse.

    Costs about as much as two gradients, never the full Hessian.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.hvp(lambda x: np.sum(x * x * x), (numpy.array([1.0, 2.0]),), (numpy.array([1.0, 0.0]),))
    array([6., 0.])
    """
    primals, tangents = _primals_and_tangents("hvp", primals, tangents)
    backend = _backend(inner)
    out, xs, nested = _trace(f, primals, tuple(range(len(primals))), backend)
    _check_scalar(out, "hvp")
    for i, (x, t) in enumerate(zip(xs, tangents)):
        _check_tangent(i, x, t)
    grads = differentiate(out, xs, None, False, True, None, "vjp")
    seeds = [t if type(t) is DiffArray else DiffArray(
        t if backend.inner.is_array(t) else backend.inner.asarray(t), backend) for t in tangents]
    results = []
    for g in grads:
        t = forward_sweep(g, xs, seeds, True)
        results.append(_result(t if t is not None else g * 0.0, nested))
    return results[0] if len(results) == 1 else tuple(results)


def _primals_and_tangents(name, primals, tangents):
    """Tuples of primals and tangents; a bare array is one primal (or tangent)."""
    primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(primals) != len(tangents):
        raise ValueError(f"{name} got {len(primals)} primals but {len(tangents)} tangents")
    return primals, tangents


def _check_tangent(i, x, t):
    t_shape, t_kind = tuple(np.shape(t)), np.dtype(np.result_type(t)).kind
    x_kind = np.dtype(x.dtype).kind
    if t_shape != x.shape or t_kind not in "fc" or (x_kind == "c") != (t_kind == "c"):
        raise ValueError(
            f"tangent {i} has shape {t_shape} and dtype {np.result_type(t)}, but its primal "
            f"has shape {x.shape} and dtype {x.dtype}: a tangent must match its primal's "
            "shape and be floating (complex for a complex primal)"
        )


def _check_scalar(out, name):
    if out.size != 1 or out.ndim:
        raise ValueError(f"{name} needs a function with a scalar output, got shape {out.shape}")
