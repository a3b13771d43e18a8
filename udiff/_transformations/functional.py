"""The functional API: derivatives of Python functions, in the style of JAX.

Each operator traces ``f`` once under :class:`DiffArrayBackend` and sweeps
the recorded graph.  ``f`` is written with ``udiff.numpy`` (or unumpy)
functions and receives DiffArrays; the operators accept and return inner
arrays (``numpy.ndarray``, Dask or CuPy arrays).  Called on DiffArrays (one
operator inside another) they return DiffArrays that can be differentiated
again, so ``grad(grad(f))`` works.

Arguments and results may be containers of arrays (dicts, lists, tuples,
named tuples, ``None``, and registered classes: see :mod:`udiff._machinery.tree`): every
array leaf of a differentiated argument is a variable, and derivatives come
back in the same containers, as in JAX.  Keyword arguments are passed to
``f`` and not differentiated.
"""
import inspect
import threading
import warnings

import numpy as np
import uarray as ua

from .._machinery import batched_array as _batched
from .._machinery.diff_array_backend import _SERIALS, CONSTANTS, DiffArrayBackend
from .._machinery.diff_array import (
    _TRACING,
    LAZY,
    DiffArray,
    apply,
    mixed_count,
    parents_of,
    tracing,
)
from .._machinery.sweeps import (
    _finish,
    _seed,
    differentiate,
    forward_sweep,
    forward_sweep_many,
    fresh,
    gradient,
    reverse_sweep_many,
)
from .._machinery.tree import (
    check_structure,
    describe,
    tree_flatten,
    tree_flatten_with_paths,
    tree_map,
    tree_unflatten,
)
from ..backends import inner_of, numpy_backend
from .batching_inner import inner_at

_TEMPLATES = {}
_POOLS = threading.local()
_NO_CACHE = {}
# Argument types that never hold a DiffArray (the common case, checked without flattening).
_PLAIN_ARGS = frozenset({np.ndarray, float, int, complex, bool, type(None)})


def _backend(inner, mode="vjp"):
    """The DiffArrayBackend of one operator call, with a fresh serial number.

    A call's serial number is larger than those of the calls it runs inside,
    so it tells the nodes its call recorded (and those of operators called
    inside it) from the nodes of enclosing calls, whose derivatives must flow
    through its result.  One backend object serves every call at the same
    depth of nesting in a thread (calls at one depth never overlap), so that
    uarray's context for it is built once.  All backends of one inner library
    share one cache of inner functions.
    """
    inner = inner_of(inner)
    level = _batched.active_level()
    if level:
        # Inside vmap the arrays are batched: differentiate them on the batching
        # inner backend of the innermost vmap, whose arrays hold the batch (and
        # which runs each function on whatever library the values belong to).
        inner = inner_at(level)
    pool = getattr(_POOLS, "backends", None)
    if pool is None:
        pool = _POOLS.backends = {}
    key = (inner, mode, len(getattr(_TRACING, "stack", None) or ()))
    backend = pool.get(key)
    if backend is None:
        template = _TEMPLATES.get(inner)
        if template is None:
            template = _TEMPLATES[inner] = DiffArrayBackend(inner)
        backend = pool[key] = DiffArrayBackend(inner, mode)
        backend._impls = template._impls
    else:
        backend.serial = next(_SERIALS)
    return backend


_ARGNUMS = {}  # (argnums, nargs) -> _argnums' answer, for Python ints and tuples of them


def _argnums(argnums, argnum, nargs):
    cached = argnum is None and (type(argnums) is int or type(argnums) is tuple
                                 and all(type(n) is int for n in argnums))
    if cached:  # (1.0 == 1: other types would find an int's answer and escape the check)
        answer = _ARGNUMS.get((argnums, nargs))
        if answer is not None:
            return answer
    answer = _check_argnums(argnums, argnum, nargs)
    if cached:
        _ARGNUMS[argnums, nargs] = answer
    return answer


def _check_argnums(argnums, argnum, nargs):
    if argnum is not None:  # autograd's spelling
        argnums = argnum
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)
    for n in nums:
        if not isinstance(n, (int, np.integer)) or not -nargs <= n < nargs:
            raise ValueError(
                f"argnums {argnums!r} is out of range for a function called with {nargs} "
                "positional arguments"
            )
    return tuple(n % nargs for n in nums), many


# -- tracing: arguments become variables, outputs are checked --------------------------


class _Trace:
    """One traced call of ``f``: its variables, their containers, and its outputs."""

    __slots__ = ("variables", "structures", "nested", "out", "out_leaves", "out_def", "aux")


def _trace(f, args, kwargs, nums, backend, has_aux=False):
    """Call ``f`` with the array leaves of the arguments ``nums`` as DiffArray variables."""
    trace = _Trace()
    # Whether anything recorded outside this call can reach its result: an
    # enclosing operator's arrays (as arguments, keywords or closures) or a
    # ``with`` block's.  Then the result depends on them, must stay recorded and
    # is swept recorded, or their derivatives would be silently dropped.
    outside = bool(getattr(_TRACING, "stack", None)) or (
        (kwargs or any(type(a) not in _PLAIN_ARGS for a in args))
        and _traced((args, kwargs), backend))
    args = list(args)
    trace.variables, trace.structures = [], []
    made = {}
    for n in nums:
        if n in made:  # argnums names an argument twice: the same variables again
            variables, treedef = made[n]
        else:
            leaves, treedef = tree_flatten(args[n])
            variables = [_variable(leaf, _path(args[n], lambda n=n: _parameter_name(f, n), j),
                                   backend) for j, leaf in enumerate(leaves)]
            args[n] = tree_unflatten(treedef, variables)
            made[n] = variables, treedef
        trace.variables.extend(variables)
        trace.structures.append(treedef)
    mixed = mixed_count()
    with _set_backend(backend), tracing(trace.variables):
        out = f(*args, **kwargs)
    trace.aux = None
    if has_aux:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(
                f"{_name(f)} was differentiated with has_aux=True, so it must return a pair "
                f"(output, aux), but it returned {_what(out)}"
            )
        out, trace.aux = out
    if out is None:
        _not_an_array(f, out, "output")
    leaves, trace.out_def = tree_flatten(out)
    results = [leaf for leaf in leaves if type(leaf) is DiffArray]
    if trace.aux is not None:
        results += [leaf for leaf in tree_flatten(trace.aux)[0] if type(leaf) is DiffArray]
    trace.nested = (outside or mixed_count() != mixed
                    or any(leaf._backend is not backend for leaf in results)) \
        and _reaches_outside(results, backend)
    trace.out = out
    trace.out_leaves = [_output(f, leaf, _path(out, lambda: "output", j), backend)
                        for j, leaf in enumerate(leaves)]
    return trace


def _traced(tree, backend):
    """Whether ``tree`` holds a DiffArray that ``backend``'s call must differentiate
    through (not one of a grad outside the vmap it runs in, which is a value to it)."""
    return any(type(leaf) is DiffArray and not _outer(leaf, backend)
               and leaf._backend.serial != CONSTANTS for leaf in tree_flatten(tree)[0])


def _reaches_outside(results, backend):
    """Whether the graph of ``results`` reaches a node recorded outside the call that
    ``backend`` records: by an enclosing operator (a backend made earlier) or a
    ``with`` block.  Nodes of operators called inside (made later) are the call's
    own; the walk stops at the first node from outside."""
    serial = backend.serial
    stack, seen = list(results), set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node._backend, "serial", -1) < serial and not _outer(node, backend):
            return True
        stack.extend(p for _, _, p in parents_of(node))
        if node._fn is LAZY:  # _args: (its derivation, its index)
            stack.extend(node._args[0].inputs())
    return False


def _path(tree, root, j):
    """A function giving leaf ``j``'s path in ``tree`` (``params['w'][1]``), for error
    messages only: working it out costs more than differentiating small functions."""
    return lambda: tree_flatten_with_paths(tree, root())[1][j]


def _parameter_name(f, n):
    """The name of positional argument ``n`` in error messages: ``params``, or ``argument 0``."""
    try:
        params = [p.name for p in inspect.signature(f).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[n] if n < len(params) else f"argument {n}"


def _outer(leaf, backend):
    """Whether DiffArray ``leaf`` belongs to a differentiation outside the vmap ``backend``
    runs in: to this one it is a value (whose operations its own graph records)."""
    return getattr(leaf._backend.inner, "level", 0) < getattr(backend.inner, "level", 0)


def _variable(leaf, path, backend):
    """A leaf of a differentiated argument as a DiffArray variable, or a clear error.

    ``path()`` is the leaf's place, for the error message.
    """
    if type(leaf) is np.ndarray and leaf.dtype.kind in "fc" and backend.inner.is_array(leaf):
        return DiffArray(leaf, backend)  # (the common case, first)
    if type(leaf) is DiffArray and _outer(leaf, backend):
        value = DiffArray(leaf, backend)
    elif type(leaf) is DiffArray:
        # An operator inside another: a fresh variable that depends on the outer one,
        # so that the inner derivative does not also run through everything else
        # computed from it (the outer one's other uses are constants to the inner).
        value = apply(backend, "numpy.positive", (leaf,), {})
    elif backend.inner.is_array(leaf) or isinstance(leaf, (int, float, complex, np.generic)) \
            or isinstance(leaf, np.ndarray):
        value = DiffArray(
            leaf if backend.inner.is_array(leaf) else backend.inner.asarray(leaf), backend)
    elif hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        raise TypeError(
            f"{path()} is a {_type_name(leaf)}, but this operator computes on the "
            f"{backend.inner.name} inner backend; pass inner= for that array's library "
            "(e.g. inner=udiff.dask_backend), or convert the array first"
        )
    else:
        raise TypeError(
            f"cannot differentiate with respect to {path()}, a {_type_name(leaf)}: the leaves "
            "of a differentiated argument must be arrays or numbers (containers: dict, list, "
            "tuple, named tuple, None, dict subclasses such as OrderedDict, or a class "
            "registered with udiff.register_pytree_node)"
        )
    if np.dtype(value.dtype).kind not in "fc":
        raise TypeError(
            f"cannot differentiate with respect to {path()}, of dtype {value.dtype}: variables "
            "must be floating-point or complex (as in JAX and autograd); convert it first: "
            f"{_as_float(path())}, or leave it out of argnums"
        )
    return value


def _as_float(path):
    """The one-line fix for an integer or boolean variable at ``path``."""
    try:  # the place itself where it is an expression (x, p['w'], params.layers[0])
        compile(path, "<path>", "eval")
    except SyntaxError:
        path = "x"
    return f"np.asarray({path}, dtype=float)"


def _output(f, leaf, path, backend):
    """An output leaf as a DiffArray: an array or number is a constant; anything else raises
    (naming ``path()``, its place in the output)."""
    if type(leaf) is DiffArray and not _outer(leaf, backend):
        return leaf
    if backend.inner.is_array(leaf) or isinstance(leaf, (int, float, complex, np.generic)) \
            or isinstance(leaf, np.ndarray):
        return DiffArray(leaf if backend.inner.is_array(leaf) else backend.inner.asarray(leaf),
                         backend)
    _not_an_array(f, leaf, path())


def _not_an_array(f, out, path):
    raise TypeError(
        f"udiff differentiates functions that return arrays (or containers of arrays), but "
        f"{_name(f)} returned {_what(out)}" + ("" if path == "output" else f" at {path}")
        + "; return arrays"
    )


def _name(f):
    return getattr(f, "__qualname__", None) or repr(f)


def _type_name(obj):
    kind = type(obj)
    return kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"


def _what(out):
    if out is None:
        return "None (does it end without `return`?)"
    if type(out) is DiffArray:
        return f"one array (of shape {out.shape})"
    if isinstance(out, (tuple, list, dict)):
        return f"a {type(out).__name__} of {len(out)} items"
    return f"a {type(out).__module__}.{type(out).__qualname__}"


def _set_backend(backend):
    # uarray 0.9 warns on every set_backend call, about its own internals: the
    # warning is not the user's, so it must not escape (nor fail warnings-as-errors
    # runs).  The context is built quietly here and entered outside the filter.
    # uarray keeps one context per backend object, which later calls reuse as is
    # (the backends of operator calls are pooled: see _backend).
    ctx = getattr(backend, "__ua_cache__", _NO_CACHE).get(("set", True, False))
    if ctx is not None:
        return ctx
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ua.set_backend(backend, coerce=True)


# -- results: leaves back into containers ----------------------------------------------


def _plain(tree, nested):
    """``tree`` with DiffArray leaves replaced by their inner arrays (unless nested)."""
    if nested:
        return tree
    if type(tree) is DiffArray:
        return tree.value
    return tree_map(lambda a: a.value if type(a) is DiffArray else a, tree)


def _per_argument(trace, leaves, many):
    """Derivative leaves, one per variable, in the containers of the arguments."""
    trees, start = [], 0
    for treedef in trace.structures:
        trees.append(tree_unflatten(treedef, leaves[start:start + treedef.num_leaves]))
        start += treedef.num_leaves
    return tuple(trees) if many else trees[0]


def _single_output(trace, f, name):
    """The one scalar output of ``f``, for grad, hessian and hvp."""
    if type(trace.out) is not DiffArray and trace.out_def.kind is not None:
        raise TypeError(
            f"{name} needs a function with a scalar output, but {_name(f)} returned "
            f"{describe(trace.out_def)}; use udiff.jacobian or udiff.vjp for containers"
        )
    out = trace.out_leaves[0]
    if out.size != 1 or out.ndim:
        raise ValueError(
            f"{name} needs a function with a scalar output, got shape {out.shape}; "
            "use udiff.jacobian for the full Jacobian or udiff.vjp for a "
            "vector-Jacobian product"
        )
    return out


def _check_complex(name, f, trace, holomorphic, outputs=True, inputs=False):
    """The dtype rules of JAX's ``holomorphic`` flag, as a TypeError naming the fix.

    Without the flag, a reverse-mode operator (``outputs``) refuses a complex
    output, whose imaginary part its real cotangents would drop, and a
    forward-mode one (``inputs``) a complex input; with it, the function must
    be complex in and complex out, and the result is its complex derivative.
    """
    if not (holomorphic or inputs) and len(trace.out_leaves) == 1 \
            and trace.out_leaves[0].dtype.kind != "c":
        return  # (one real output, the common case: nothing to check)
    if holomorphic:
        for what, leaves in (("input", trace.variables), ("output", trace.out_leaves)):
            real = next((leaf.dtype for leaf in leaves if leaf.dtype.kind != "c"), None)
            if real is not None:
                raise TypeError(
                    f"{name}(..., holomorphic=True) of {_name(f)} needs complex {what}s, but "
                    f"an {what} is {real}; convert it (np.asarray(x, dtype=complex)), or "
                    "drop holomorphic=True to differentiate a real function"
                )
        return
    why = {"output": "its real cotangents would drop the imaginary part",
           "input": "its complex tangents give the derivative of a holomorphic function only"}
    for what, check, leaves in (("output", outputs, trace.out_leaves),
                                ("input", inputs, trace.variables)):
        kind = next((leaf.dtype for leaf in leaves if leaf.dtype.kind == "c"), None) \
            if check else None
        if kind is not None:
            raise TypeError(
                f"{name} of {_name(f)}: an {what} is complex ({kind}), and {name} takes "
                f"derivatives of real functions ({why[what]}); pass holomorphic=True for "
                "the complex derivative of a holomorphic function, differentiate a real "
                "function (np.real(y), np.abs(y) ** 2), or use udiff.vjp / udiff.jvp, "
                "which take complex values as they are"
            )


def _output_tree(trace, leaves):
    return tree_unflatten(trace.out_def, leaves)


def _with_aux(trace, result, has_aux):
    return (result, _plain(trace.aux, trace.nested)) if has_aux else result


# -- the operators -----------------------------------------------------------------------


def value_and_grad(f, argnums=0, inner=numpy_backend, *, has_aux=False, argnum=None,
                   holomorphic=False):
    """A function returning ``(f(*args), gradient of f at args)``.

    The returned function takes ``f``'s arguments.  Keyword arguments given
    to it are passed to ``f`` and not differentiated.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.  It
        returns a scalar (with ``has_aux``, a pair ``(scalar, aux)``).
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0; a tuple
        gives a tuple of gradients).  Each may be an array or a container of
        arrays (dict, list, tuple, named tuple): its gradient is the same
        container.
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is ``((value, aux), gradient)``
        and ``aux`` is passed through undifferentiated.
    argnum : int or tuple of int, optional
        autograd's spelling of ``argnums``.
    holomorphic : bool, optional
        ``f`` is holomorphic, with complex inputs and a complex output: return
        its complex derivative ``f'(z)``.  Without it a complex output is a
        TypeError (its imaginary part would be dropped), as in JAX.

    Returns
    -------
    callable
        ``value_and_grad_f(*args, **kwargs)``, returning ``(value, gradient)``
        (``((value, aux), gradient)`` with ``has_aux``): arrays of the inner
        backend, each gradient shaped like its argument.

    See Also
    --------
    grad : the gradient alone.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> def loss(params, x):
    ...     error = np.sum((params["w"] * x + params["b"]) ** 2)
    ...     return error, {"error": error}
    >>> params = {"w": numpy.array([1.0, 2.0]), "b": numpy.array(0.5)}
    >>> (value, aux), g = udiff.value_and_grad(loss, has_aux=True)(params, numpy.ones(2))
    >>> float(value)
    8.5
    >>> g
    {'b': array(8.), 'w': array([3., 5.])}
    """

    def value_and_grad_f(*args, **kwargs):
        nums, many = _argnums(argnums, argnum, len(args))
        trace = _trace(f, args, kwargs, nums, _backend(inner), has_aux)
        out = _single_output(trace, f, "grad")
        _check_complex("grad", f, trace, holomorphic)
        if trace.nested:  # derivatives an enclosing operator differentiates again
            grads = differentiate(out, trace.variables, None, False, True, None, "vjp")
            value = out
        else:
            grads = gradient(out, trace.variables)
            value = out.value
        grads = _per_argument(trace, list(grads), many)
        return (_with_aux(trace, value, has_aux), grads)

    return value_and_grad_f


def grad(f, argnums=0, inner=numpy_backend, *, has_aux=False, argnum=None, holomorphic=False):
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.

    Keyword arguments given to the returned function are passed to ``f``
    and not differentiated.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.  It
        returns a scalar (with ``has_aux``, a pair ``(scalar, aux)``).
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0; a tuple
        gives a tuple of gradients).  Each may be an array, a number or a
        container of arrays (dict, list, tuple, named tuple): its gradient
        is the same container.
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is ``(gradient, aux)``
        and ``aux`` is passed through undifferentiated.
    argnum : int or tuple of int, optional
        autograd's spelling of ``argnums``.
    holomorphic : bool, optional
        ``f`` is holomorphic, with complex inputs and a complex output: return
        its complex derivative ``f'(z)``.  Without it a complex output is a
        TypeError (its imaginary part would be dropped), as in JAX.

    Returns
    -------
    callable
        ``grad_f(*args, **kwargs)``, returning the gradient (``(gradient,
        aux)`` with ``has_aux``): arrays of the inner backend, each shaped
        like its argument.

    See Also
    --------
    value_and_grad : the value and the gradient from one trace.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.grad(lambda x: np.sum(np.sin(x)))(numpy.array([0.0]))
    array([1.])
    >>> udiff.grad(lambda p: np.sum(p[0] * p[1]))([numpy.array(2.0), numpy.array(3.0)])
    [array(3.), array(2.)]
    >>> udiff.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0)
    (array(3.), array(2.))
    """
    vg = value_and_grad(f, argnums, inner, has_aux=has_aux, argnum=argnum,
                        holomorphic=holomorphic)

    def grad_f(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def vjp(f, *primals, inner=numpy_backend, has_aux=False):
    """The output of ``f`` and a function of the vector-Jacobian product.

    ``f`` is traced once; ``vjp_fn(cotangent)`` sweeps its graph backwards
    and may be called many times.  The primals and the output may be
    containers of arrays.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.
    *primals : array_like or container of arrays
        The arguments at which ``f`` is differentiated, all of them.
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; ``aux`` is passed through
        undifferentiated.

    Returns
    -------
    out : array or container of arrays
        ``f(*primals)``.
    vjp_fn : callable
        ``vjp_fn(cotangent)``: the cotangent has the output's structure,
        shapes and dtypes; the result is a tuple with one entry per primal,
        each with the structure of its primal.
    aux : object
        Only with ``has_aux``: the second output of ``f``.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> out, vjp_fn = udiff.vjp(lambda x: x * 2.0, numpy.array([1.0, 2.0]))
    >>> out
    array([2., 4.])
    >>> vjp_fn(numpy.array([1.0, 0.0]))
    (array([2., 0.]),)
    """
    backend = _backend(inner)
    # vjp_fn runs later: it must see the primals as they are now, not as the
    # caller may have changed them in place since (JAX's arrays cannot change).
    primals = tree_map(_snapshot, primals)
    trace = _trace(f, primals, {}, tuple(range(len(primals))), backend, has_aux)

    def vjp_fn(cotangent):
        # A cotangent that an enclosing operator traces is a value like any other:
        # the sweep is recorded, so the derivative flows through it (it is linear in it).
        recorded = trace.nested or _traced(cotangent, backend)
        seeds = [_seed(backend, s, y, "the cotangent" + path, recorded)
                 for (s, path), y in zip(_cotangent_leaves(trace, cotangent), trace.out_leaves)]
        grads = reverse_sweep_many(trace.out_leaves, trace.variables, seeds, recorded)
        grads = [_finish(backend, g, x, (), recorded) for g, x in zip(grads, trace.variables)]
        grads = list(_plain(grads, recorded))
        if not recorded:  # (never the caller's cotangent itself, nor a view of it)
            grads = [fresh(g, seeds) for g in grads]
        return _per_argument(trace, grads, True)

    out = _plain(_output_tree(trace, trace.out_leaves), trace.nested)
    return (out, vjp_fn, _plain(trace.aux, trace.nested)) if has_aux else (out, vjp_fn)


def _snapshot(leaf):
    """A copy of a mutable array leaf (NumPy, CuPy; a new Dask array object, sharing
    its immutable graph); anything else as it is."""
    if type(leaf) is DiffArray or not hasattr(leaf, "copy") or not hasattr(leaf, "shape"):
        return leaf
    return leaf.copy()


def _cotangent_leaves(trace, cotangent):
    """``(seed, path)`` per output leaf, in the output's structure."""
    leaves, paths, treedef = tree_flatten_with_paths(cotangent, "")
    check_structure(treedef, trace.out_def, "the cotangent (like the output)")
    return [(s, p) for s, p in zip(leaves, paths)]


def jvp(f, primals, tangents, inner=numpy_backend, *, has_aux=False):
    """The output of ``f`` and its Jacobian times ``tangents``, in one forward sweep.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.
    primals : tuple
        The arguments of ``f`` (a bare array is one argument), each an array
        or a container of arrays.
    tangents : tuple
        One tangent per primal, with its primal's structure, shapes and
        (floating) dtypes.
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; ``aux`` is passed through
        undifferentiated.

    Returns
    -------
    out : array or container of arrays
        ``f(*primals)``.
    tangent_out : array or container of arrays
        ``J @ tangents``, with the output's structure.
    aux : object
        Only with ``has_aux``: the second output of ``f``.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jvp(lambda x: x * x, (numpy.array([3.0]),), (numpy.array([1.0]),))
    (array([9.]), array([6.]))
    """
    primals, tangents = _primals_and_tangents("jvp", primals, tangents)
    backend = _backend(inner, "jvp")
    trace = _trace(f, primals, {}, tuple(range(len(primals))), backend, has_aux)
    # Tangents that an enclosing operator traces are values like any other: the
    # sweep is recorded, so the derivative flows through them.
    nested = trace.nested or _traced(tangents, backend)
    seeds = _tangent_leaves(trace, tangents, backend, nested)
    t_out = forward_sweep_many(trace.out_leaves, trace.variables, seeds, nested)
    t_out = [_finish(backend, t, y, (), nested) for t, y in zip(t_out, trace.out_leaves)]
    out = _plain(_output_tree(trace, trace.out_leaves), trace.nested)
    if not nested:  # (never the caller's tangent itself, nor a view of it)
        t_out = [fresh(t.value, seeds) for t in t_out]
    t_out = _plain(_output_tree(trace, t_out), nested)
    return (out, t_out, _plain(trace.aux, nested)) if has_aux else (out, t_out)


def _tangent_leaves(trace, tangents, backend, recorded):
    """The tangent of each variable, checked against it: DiffArrays if ``recorded``."""
    leaves = []
    for i, (tangent, treedef) in enumerate(zip(tangents, trace.structures)):
        t_leaves, t_def = tree_flatten(tangent)
        check_structure(t_def, treedef, f"tangent {i} (like its primal)")
        leaves.extend(t_leaves)
    seeds = []
    for i, (x, t) in enumerate(zip(trace.variables, leaves)):
        t_value = t.value if type(t) is DiffArray and not recorded else t
        _check_tangent(i, x, t_value)
        if not recorded and not backend.inner.is_array(t_value) \
                and type(t_value) is not _batched.BatchedArray:
            t_value = backend.inner.asarray(t_value)
        if recorded and type(t_value) is not DiffArray:
            t_value = DiffArray(t_value if backend.inner.is_array(t_value)
                                else backend.inner.asarray(t_value), backend)
        seeds.append(t_value)
    return seeds


def jacobian(f, argnums=0, mode="rev", chunk_size=None, inner=numpy_backend, *,
             has_aux=False, argnum=None, holomorphic=False):
    """The Jacobian of ``f``, shaped ``out.shape + x.shape``, from batched sweeps.

    Outputs and arguments may be containers: the result has the output's
    structure, each entry the structure of the arguments (JAX's layout).

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0; a tuple
        gives a tuple of blocks in each entry).
    mode : {"rev", "fwd"}, optional
        Reverse mode (the default) pushes one-hot cotangents (one per output
        element); forward mode pushes one-hot tangents (one per input
        element).
    chunk_size : int, optional
        Push at most this many seeds at a time, to bound memory (default:
        all at once).
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is ``(jacobian, aux)``.
    argnum : int or tuple of int, optional
        autograd's spelling of ``argnums``.
    holomorphic : bool, optional
        ``f`` is holomorphic, complex in and complex out: return its complex
        Jacobian.  Without it, as in JAX, reverse mode refuses a complex
        output and forward mode a complex input (TypeError).

    Returns
    -------
    callable
        ``jacobian_f(*args, **kwargs)``, returning the Jacobian: one array
        shaped ``out.shape + x.shape`` for an array output and argument.
        With containers, the result has the output's structure, each entry
        the structure of the arguments (JAX's layout).  Keyword arguments
        are passed to ``f`` and not differentiated.

    See Also
    --------
    jacrev, jacfwd : the two modes by name.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jacobian(lambda x: x * x)(numpy.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    >>> udiff.jacobian(lambda x: np.sin(x), mode="fwd")(numpy.array([0.0]))
    array([[1.]])
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"mode must be 'rev' or 'fwd', not {mode!r}")
    sweep = "vjp" if mode == "rev" else "jvp"

    def jacobian_f(*args, **kwargs):
        nums, many = _argnums(argnums, argnum, len(args))
        trace = _trace(f, args, kwargs, nums, _backend(inner, sweep), has_aux)
        _check_complex("jacrev" if sweep == "vjp" else "jacfwd", f, trace, holomorphic,
                       outputs=sweep == "vjp", inputs=sweep == "jvp")
        rows = []
        for y in trace.out_leaves:
            jac = differentiate(y, trace.variables, None, True, trace.nested, chunk_size, sweep)
            rows.append(_per_argument(trace, list(_plain(jac, trace.nested)), many))
        return _with_aux(trace, _output_tree(trace, rows), has_aux)

    return jacobian_f


def jacrev(f, argnums=0, chunk_size=None, inner=numpy_backend, **options):
    """:func:`jacobian` in reverse mode: one sweep per output element.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0; a tuple
        gives a tuple of blocks in each entry).
    chunk_size : int, optional
        Push at most this many seeds at a time, to bound memory (default:
        all at once).
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    **options
        ``has_aux``, ``argnum`` and ``holomorphic``, as for :func:`jacobian`.

    Returns
    -------
    callable
        ``jacobian_f(*args, **kwargs)``, returning the Jacobian: one array
        shaped ``out.shape + x.shape`` for an array output and argument.
        With containers, the result has the output's structure, each entry
        the structure of the arguments (JAX's layout).  Keyword arguments
        are passed to ``f`` and not differentiated.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jacrev(lambda x: np.sum(x) * x)(numpy.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """
    return jacobian(f, argnums, "rev", chunk_size, inner, **options)


def jacfwd(f, argnums=0, chunk_size=None, inner=numpy_backend, **options):
    """:func:`jacobian` in forward mode: one sweep per input element.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0; a tuple
        gives a tuple of blocks in each entry).
    chunk_size : int, optional
        Push at most this many seeds at a time, to bound memory (default:
        all at once).
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    **options
        ``has_aux``, ``argnum`` and ``holomorphic``, as for :func:`jacobian`.

    Returns
    -------
    callable
        ``jacobian_f(*args, **kwargs)``, returning the Jacobian: one array
        shaped ``out.shape + x.shape`` for an array output and argument.
        With containers, the result has the output's structure, each entry
        the structure of the arguments (JAX's layout).  Keyword arguments
        are passed to ``f`` and not differentiated.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.jacfwd(lambda x: np.sum(x) * x)(numpy.array([1.0, 2.0]))
    array([[4., 1.],
           [2., 5.]])
    """
    return jacobian(f, argnums, "fwd", chunk_size, inner, **options)


def hessian(f, argnums=0, inner=numpy_backend, *, has_aux=False, argnum=None,
            holomorphic=False):
    """The Hessian of scalar-valued ``f``: forward mode over the recorded gradient.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``.  It
        returns a scalar (with ``has_aux``, a pair ``(scalar, aux)``).
    argnums : int or tuple of int, optional
        Which positional arguments to differentiate (default 0).
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is ``(hessian, aux)``.
    argnum : int or tuple of int, optional
        autograd's spelling of ``argnums``.
    holomorphic : bool, optional
        ``f`` is holomorphic, complex in and complex out: return its complex
        second derivative.  Without it a complex input or output is a
        TypeError, as in JAX.

    Returns
    -------
    callable
        ``hessian_f(*args, **kwargs)``, returning the Hessian, shaped
        ``x.shape + x.shape``.  With a tuple ``argnums`` it is a nested tuple
        of blocks (``H[i][j]`` differentiates by arguments ``argnums[i]`` and
        ``argnums[j]``, shaped ``x_i.shape + x_j.shape``); for a container
        argument, a container of containers (JAX's layout).  Keyword
        arguments are passed to ``f`` and not differentiated.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.hessian(lambda x: np.sum(x * x * x))(numpy.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    >>> h = udiff.hessian(lambda x, y: np.sum(x * y * y), argnums=(0, 1))(
    ...     numpy.array(2.0), numpy.array(3.0))
    >>> h[0][1], h[1][1]
    (array(6.), array(4.))
    """

    def hessian_f(*args, **kwargs):
        nums, many = _argnums(argnums, argnum, len(args))
        trace, _, _, hess = _second_order(f, args, kwargs, nums, many, inner, "hessian",
                                          holomorphic, has_aux)
        return _with_aux(trace, hess, has_aux)

    return hessian_f


def _second_order(f, args, kwargs, nums, many, inner, name, holomorphic=False, has_aux=False):
    """``(trace, output, gradients, Hessian)`` of ``f`` from one trace: the gradient
    recorded (reverse), then its Jacobian (forward over reverse), per argument."""
    trace = _trace(f, args, kwargs, nums, _backend(inner), has_aux)
    out = _single_output(trace, f, name)
    _check_complex(name, f, trace, holomorphic, outputs=True, inputs=True)
    xs = trace.variables
    grads = differentiate(out, xs, None, False, True, None, "vjp")
    rows = [_per_argument(trace, list(_plain(
        differentiate(g, xs, None, True, trace.nested, None, "jvp"), trace.nested)), many)
        for g in grads]
    return trace, out, grads, _per_argument(trace, rows, many)


def hvp(f, primals, tangents, inner=numpy_backend):
    """Hessian-vector product of scalar-valued ``f``, forward over reverse.

    Costs about as much as two gradients, never the full Hessian.

    Parameters
    ----------
    f : callable
        The function to differentiate, written with ``udiff.numpy``; it
        returns a scalar.
    primals : tuple
        The arguments of ``f`` (a bare array is one argument), each an array
        or a container of arrays.
    tangents : tuple
        The vector: one tangent per primal, with its primal's structure and
        shapes.
    inner : uarray backend, optional
        The inner backend the arithmetic runs on: ``udiff.numpy_backend``
        (the default), ``udiff.dask_backend`` or ``udiff.cupy_backend``.

    Returns
    -------
    array or container of arrays
        ``H @ tangents``, with the primals' structure (one primal: its own;
        several: a tuple).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> f = lambda x: np.sum(x * x * x)
    >>> udiff.hvp(f, (numpy.array([1.0, 2.0]),), (numpy.array([1.0, 0.0]),))
    array([6., 0.])
    """
    primals, tangents = _primals_and_tangents("hvp", primals, tangents)
    backend = _backend(inner)
    trace = _trace(f, primals, {}, tuple(range(len(primals))), backend)
    out = _single_output(trace, f, "hvp")
    xs = trace.variables
    nested = trace.nested or _traced(tangents, backend)
    seeds = _tangent_leaves(trace, tangents, backend, True)
    grads = differentiate(out, xs, None, False, True, None, "vjp")
    results = []
    for g, x in zip(grads, xs):
        t = _finish(backend, forward_sweep(g, xs, seeds, True), x, (), True)
        results.append(_plain(t, nested))
    return _per_argument(trace, results, len(primals) > 1)


def _primals_and_tangents(name, primals, tangents):
    """Tuples of primals and tangents; a bare array is one primal (or tangent)."""
    primals = tuple(primals) if isinstance(primals, (tuple, list)) else (primals,)
    tangents = tuple(tangents) if isinstance(tangents, (tuple, list)) else (tangents,)
    if len(primals) != len(tangents):
        raise ValueError(f"{name} got {len(primals)} primals but {len(tangents)} tangents")
    return primals, tangents


def _check_tangent(i, x, t):
    t_dtype = np.dtype(t.dtype if hasattr(t, "dtype") else np.result_type(t))
    t_shape, t_kind = tuple(t.shape if hasattr(t, "shape") else np.shape(t)), t_dtype.kind
    x_kind = np.dtype(x.dtype).kind
    if t_shape != x.shape or t_kind not in "fc" or (x_kind == "c") != (t_kind == "c"):
        raise ValueError(
            f"tangent {i} has shape {t_shape} and dtype {t_dtype}, but its primal "
            f"has shape {x.shape} and dtype {x.dtype}: a tangent must match its primal's "
            "shape and be floating (complex for a complex primal)"
        )
