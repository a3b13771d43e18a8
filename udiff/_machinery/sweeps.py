"""Graph sweeps: reverse (VJP) and forward (JVP), plain or recorded, batched.

Both sweeps visit each node between ``x`` and ``y`` once, in topological
order found by an iterative depth-first search (no recursion), so their cost
is linear in the size of the graph whatever subexpressions it shares.
"""
import operator
import threading

import numpy as np

from . import registry as _registry
from .batched_array import BatchedArray
from .diff_array import _ASSIGNED, LAZY, DiffArray, current_of, original_of, parents_of
from .tree import check_structure, tree_flatten, tree_flatten_with_paths, tree_unflatten

_SEQ = (list, tuple)


def _toposort(ys, xs):
    """The nodes that depend on some ``x`` and lead to some ``y``, parents first.

    Nodes are their own dictionary keys: a DiffArray hashes by identity (its
    ``==`` is elementwise, but dictionaries compare identical keys first and
    distinct live objects never share an identity hash).
    """
    walk = parents_of if _ASSIGNED[0] else _parents  # (item assignment: edges to fix)
    x_set = set(xs)
    # With one variable nothing above it can depend on a variable, so the search stops
    # there: an operator inside another differentiates with respect to a fresh variable
    # made from the outer one, and must not walk the outer graph behind it on every call
    # (which made a loop of n inner gradients cost n^2).
    stop = x_set if len(x_set) == 1 else ()
    reaches = {}
    order = []
    visited = set()
    for y in ys:
        if y in visited:
            continue
        visited.add(y)
        if y._fn is LAZY and y not in x_set:
            _rederive(y)
        stack = [(y, iter(() if y in stop else walk(y)))]
        while stack:
            node, parents = stack[-1]
            for _, _, parent in parents:
                if parent not in visited:
                    visited.add(parent)
                    if parent._fn is LAZY and parent not in x_set:
                        _rederive(parent)
                    stack.append((parent, iter(() if parent in stop else walk(parent))))
                    break
            else:
                stack.pop()
                hit = node in x_set
                if not hit:
                    for _, _, parent in node._parents:
                        if reaches[parent]:
                            hit = True
                            break
                reaches[node] = hit
                if hit:
                    order.append(node)
    return order


_parents = operator.attrgetter("_parents")


def _resolved(ys, xs):
    """The outputs as the nodes they stand for now, the variables as they were before any
    item assignment (``x[i] = v`` on a DiffArray)."""
    if not _ASSIGNED[0]:
        return ys, xs
    return [current_of(y) for y in ys], [original_of(x) for x in xs]


# -- derivatives that remember how they were made ----------------------------------
class _Derivation:
    """One plain sweep's call, to repeat recorded when a result is differentiated.

    A plain sweep runs its rules on inner arrays, so its results have no
    graph.  Each result instead holds this record (key ``LAZY``); a sweep that
    reaches one repeats the call with ``create_graph=True`` once, and the
    result becomes the identity of the recorded derivative.  So
    ``y.to(x).to(x)`` is the second derivative while first derivatives cost
    no recording.  The record keeps ``y``'s graph alive as long as the result
    lives.
    """

    __slots__ = ("call", "recorded", "lock")

    def __init__(self, call):
        self.call = call
        self.recorded = None
        self.lock = threading.Lock()

    def __reduce__(self):
        return (_Derivation, (self.call,))

    def inputs(self):
        """The arrays the derivation depends on (its output and its seeds)."""
        y, _, seeds = self.call[:3]
        out = [y]
        for s in seeds if isinstance(seeds, (list, tuple)) else [seeds]:
            if type(s) is DiffArray:
                out.append(s)
        return out

    def result(self, index):
        with self.lock:
            if self.recorded is None:
                y, x, seeds, jacobian, chunk_size, mode = self.call
                out = differentiate(y, x, seeds, jacobian, True, chunk_size, mode)
                self.recorded = out if isinstance(out, tuple) else (out,)
        return self.recorded[index]


def _lazy_results(results, backend, call):
    derivation = _Derivation(call)
    return [DiffArray(r.value, backend, (), LAZY, (derivation, i)) for i, r in enumerate(results)]


_REDERIVE_LOCK = threading.Lock()


def _rederive(node):
    """Turn a LAZY result into the identity of its recorded derivative."""
    with _REDERIVE_LOCK:
        if node._fn is not LAZY:  # another thread was first
            return
        derivation, index = node._args
    recorded = derivation.result(index)
    with _REDERIVE_LOCK:
        if node._fn is LAZY:
            # _fn last: a reader that sees it changed sees the rest too.
            node._args = (recorded.value,)
            node._kwargs = None
            node._parents = ((0, (), recorded),)
            node._fn = "numpy.positive"


def _rule_inputs(node, recorded):
    """``(ans, args)`` for a node's rule: inner values, or DiffArrays if recorded."""
    if not recorded:
        return node.value, node._args
    args = list(node._args)
    for argnum, path, parent in node._parents:
        if not path:
            args[argnum] = parent
        else:
            args[argnum] = _replace(args[argnum], path, parent)
    return node, args


def _replace(seq, path, value):
    out = list(seq)
    out[path[0]] = value if len(path) == 1 else _replace(out[path[0]], path[1:], value)
    return out if type(seq) is list else tuple(out)


def _get(seq, path):
    for i in path:
        seq = seq[i]
    return seq


# -- one-hot seed stacks kept diagonal --------------------------------------------------
class _Diagonal:
    """A stack of seeds ``e_k * d`` (``k`` over the flat positions of ``d``), unmaterialised.

    The seeds of a full Jacobian are the identity: an elementwise operation keeps
    them diagonal (its rule applied to ``d`` alone gives the new diagonal), and a
    matrix-vector product turns them into the matrix, scaled, without a matrix
    product.  Anything else materialises them (:meth:`dense`), with the same
    result as sweeping the dense identity.  Plain sweeps of full Jacobians only.
    """

    __slots__ = ("d", "inner", "identity")
    __array_ufunc__ = None  # ``ndarray + _Diagonal`` comes to __radd__

    def __init__(self, d, inner, identity=False):
        self.d = d
        self.inner = inner
        self.identity = identity  # d is all ones: the seeds themselves

    def dense(self):
        d = self.d
        n = int(np.prod(np.shape(d), dtype=np.int64))
        eye = self.inner.one_hot(n, d, np.result_type(d))
        return eye if self.identity else eye * d

    def __add__(self, other):
        if type(other) is _Diagonal:
            return _Diagonal(self.d + other.d, self.inner)
        return self.dense() + other

    __radd__ = __add__


class _Scaled:
    """A stack of tangents ``base * scale``, the scale not multiplied in.

    ``base`` has the stack's leading axis and the node's shape, ``scale`` the
    node's shape (None: ones).  The identity seeds of ``w`` through ``X @ w``
    give ``base = X^T`` and no scale; an elementwise operation after it
    multiplies its derivative into the scale alone (its rule applied to the
    scale), so a chain of elementwise operations on ``n`` rows costs ``n`` per
    operation instead of ``p * n`` for ``p`` seeds, and a Hessian of a sum
    over rows costs about its closed form ``X^T diag(s) X``.  Anything else
    materialises it (:meth:`dense`).  Plain sweeps of full Jacobians only.
    """

    __slots__ = ("base", "scale")
    __array_ufunc__ = None  # ``ndarray + _Scaled`` comes to __radd__

    def __init__(self, base, scale=None):
        self.base = base
        self.scale = scale

    def dense(self):
        return self.base if self.scale is None else self.base * self.scale

    def __add__(self, other):
        if type(other) is _Scaled and other.base is self.base \
                and self.scale is not None and other.scale is not None:
            return _Scaled(self.base, self.scale + other.scale)
        return self.dense() + _dense(other)

    __radd__ = __add__


_ELEMENTWISE = {}  # key -> whether it is a ufunc of one output (its Jacobian is diagonal)


def _elementwise(key):
    known = _ELEMENTWISE.get(key)
    if known is None:
        f = _registry.function(key) if type(key) is str else None
        numpy_ufunc = getattr(np, getattr(f, "name", ""), None) if hasattr(f, "nin") else None
        # (not a generalised ufunc such as matmul, whose core dimensions mix elements)
        known = _ELEMENTWISE[key] = isinstance(numpy_ufunc, np.ufunc) \
            and numpy_ufunc.signature is None and f.nout == 1
    return known


def _diagonal_vjp(node, argnum, g, ans, args, kwargs, maker):
    """The cotangent of argument ``argnum`` of ``node`` for a diagonal cotangent ``g``,
    or None where it must be materialised."""
    if _elementwise(node._fn) and np.shape(args[argnum]) == np.shape(ans):
        return _Diagonal(maker(ans, *args, **kwargs)(g.d), g.inner)
    if node._fn == "numpy.matmul" and argnum == 1 and not kwargs \
            and np.ndim(args[0]) == 2 and np.ndim(args[1]) == 1:
        return g.d[:, None] * args[0]  # diag(d) @ W (a new array: the result never aliases W)
    return None


def _diagonal_jvp(node, argnum, t, ans, args, kwargs, rule):
    """The tangent of ``node`` from argument ``argnum``'s diagonal tangent ``t``, or None."""
    if _elementwise(node._fn) and np.shape(args[argnum]) == np.shape(ans):
        return _Diagonal(rule(t.d, ans, *args, **kwargs), t.inner)
    if node._fn == "numpy.matmul" and argnum == 1 and not kwargs \
            and np.ndim(args[0]) == 2 and np.ndim(args[1]) == 1:
        if t.identity:  # the identity seeds: W^T itself, a view (_forward copies a
            return _Scaled(np.swapaxes(args[0], -1, -2))  # Jacobian that is one at the end)
        return np.swapaxes(args[0] * t.d, -1, -2)  # (W @ diag(d))^T, seeds first (a new array)
    return None


def _scaled_jvp(node, argnum, t, ans, args, kwargs, rule):
    """The tangent of ``node`` from argument ``argnum``'s scaled tangent ``t``, or None."""
    if _elementwise(node._fn) and np.shape(args[argnum]) == np.shape(ans):
        scale = t.scale
        if scale is None:
            scale = np.ones_like(ans)
        return _Scaled(t.base, rule(scale, ans, *args, **kwargs))
    return None


_STACKS = (_Diagonal, _Scaled)  # stacks of seeds or tangents kept unmaterialised


def _dense(a):
    return a.dense() if type(a) in _STACKS else a


def _grouped(parents, keep):
    """Parents that ``keep`` admits, grouped by argument number."""
    groups = {}
    for argnum, path, parent in parents:
        if parent in keep:
            groups.setdefault(argnum, []).append((path, parent))
    return groups


# Sums at least this large are added into in place (smaller ones cost less to allocate
# than to keep track of).
_IN_PLACE_SIZE = 1 << 14


def _accumulate(adjoint, node, c, owned=None):
    """Add cotangent ``c`` into ``node``'s adjoint.

    ``owned`` (plain sweeps) maps ``id`` to the NumPy sums this sweep made and
    nothing else holds: a further term is added into such a sum in place,
    which spares a large array's allocation and its page faults.  Every other
    adjoint (a user's seed, a rule's result that may be shared) is left alone.
    """
    a = adjoint.get(node)
    if a is None:
        adjoint[node] = c
        return
    if owned is not None and owned.get(id(a)) is a and type(c) is np.ndarray \
            and c.shape == a.shape and c.dtype == a.dtype:
        np.add(a, c, out=a)
        return
    total = a + c
    adjoint[node] = total
    if owned is not None and type(total) is np.ndarray and total.size >= _IN_PLACE_SIZE:
        owned[id(total)] = total


def reverse_sweep(y, xs, seed, recorded):
    """Cotangents of ``xs`` given cotangent ``seed`` of ``y`` (None where unreached)."""
    return reverse_sweep_many([y], xs, [seed], recorded)


def reverse_sweep_many(ys, xs, seeds, recorded, keep=None):
    """Cotangents of ``xs`` given cotangents ``seeds`` of the outputs ``ys``, in one sweep.

    ``keep``, a dict, receives every node's cotangent (for ``udiff.graph``).
    """
    ys, xs = _resolved(ys, xs)
    order = _toposort(ys, xs)
    on_path = set(order)
    x_set = set(xs)
    adjoint = {}
    owned = None if recorded else {}
    for y, seed in zip(ys, seeds):
        if y in on_path:
            _accumulate(adjoint, y, seed)
    found = {}
    no_kwargs = {}
    vjp_table = _registry._VJP
    for node in reversed(order):
        g = adjoint.pop(node, None)
        if g is None:
            continue
        if owned:
            owned.pop(id(g), None)  # from here on, rules may share it
        if keep is not None:
            keep[node] = _dense(g)
        if node in x_set:
            found[node] = g
        parents = node._parents
        if not parents:
            continue
        if recorded:
            ans, args = _rule_inputs(node, recorded)
        else:
            ans, args = node.value, node._args
        kwargs = node._kwargs or no_kwargs
        makers = vjp_table.get(node._fn, ())
        sequences = None
        diagonal = type(g) is _Diagonal
        for argnum, path, parent in parents:
            if parent not in on_path:
                continue
            if path:  # an array inside a list argument: one rule call per argument
                sequences = sequences or {}
                sequences.setdefault(argnum, []).append((path, parent))
                continue
            maker = makers[argnum] if argnum < len(makers) else None
            if maker is None:
                maker = _registry.vjp_maker(node._fn, argnum)  # (raises, naming the function)
            if diagonal:
                c = _diagonal_vjp(node, argnum, g, ans, args, kwargs, maker)
                if c is None:
                    g, diagonal = g.dense(), False
            if not diagonal:
                c = maker(ans, *args, **kwargs)(g)
            if parent in adjoint:
                _accumulate(adjoint, parent, c, owned)
            else:
                adjoint[parent] = c
        if sequences:
            g = _dense(g)
            for argnum, entries in sequences.items():
                cotangents = _registry.vjp_maker(node._fn, argnum)(ans, *args, **kwargs)(g)
                for path, parent in entries:
                    _accumulate(adjoint, parent, _get(cotangents, path), owned)
    return [found.get(x) for x in xs]


def forward_sweep(y, xs, seeds, recorded):
    """The tangent of ``y`` given tangents ``seeds`` of ``xs`` (None if unreached)."""
    return forward_sweep_many([y], xs, seeds, recorded)[0]


def forward_sweep_many(ys, xs, seeds, recorded):
    """The tangents of the outputs ``ys`` (None where unreached), in one sweep.

    A seed may be a :class:`_Diagonal` stack (plain sweeps of full Jacobians).
    """
    ys, xs = _resolved(ys, xs)
    order = _toposort(ys, xs)
    on_path = set(order)
    tangents = dict(zip(xs, seeds))
    sources = set(tangents) | set(ys)  # tangents kept to the end
    uses = {}
    for node in order:
        for _, _, parent in node._parents:
            if parent in on_path:
                uses[parent] = uses.get(parent, 0) + 1
    for node in order:
        groups = _grouped(node._parents, on_path)
        if not groups:
            continue
        ans, args = _rule_inputs(node, recorded)
        kwargs = node._kwargs or {}
        out = tangents.get(node)  # a variable that is also computed from another
        for argnum, entries in groups.items():
            rule = _registry.jvp_rule(node._fn, argnum)
            if entries[0][0]:
                t = _seq_tangent(node._args[argnum], entries, tangents)
            else:
                t = tangents[entries[0][1]]
            contribution = None
            if type(t) is _Diagonal:
                contribution = _diagonal_jvp(node, argnum, t, ans, args, kwargs, rule)
                if contribution is None:
                    t = t.dense()
            elif type(t) is _Scaled:
                contribution = _scaled_jvp(node, argnum, t, ans, args, kwargs, rule)
                if contribution is None:
                    t = t.dense()
            if contribution is None:
                contribution = rule(t, ans, *args, **kwargs)
            out = contribution if out is None else out + contribution
        tangents[node] = out
        for _, parent in (e for es in groups.values() for e in es):
            uses[parent] -= 1
            if uses[parent] == 0 and parent not in sources:
                del tangents[parent]
    return [tangents.get(y) for y in ys]


def _seq_tangent(arg, entries, tangents):
    """Tangents for a sequence argument: same nesting, None for constants."""
    out = _nones(arg)
    for path, parent in entries:
        holder = out
        for i in path[:-1]:
            holder = holder[i]
        holder[path[-1]] = _dense(tangents[parent])
    return out


def _nones(arg):
    return [_nones(a) if type(a) in _SEQ else None for a in arg]


# -- the user-facing entry point -------------------------------------------------


_MAKE_A_LEAF = (
    "make the variable a leaf inside the `with ua.set_backend(udiff.DiffArrayBackend(...), "
    "coerce=True)` block, e.g. x = np.asarray(data) with udiff.numpy as np, compute y from "
    "that x, then call y.to(x) (or use the functional API: udiff.grad(f)(data))"
)


def _not_a_variable(leaf, path="x"):
    """The TypeError for ``y.to(leaf)`` where ``leaf`` is not a DiffArray."""
    kind = f"{type(leaf).__module__}.{type(leaf).__qualname__}"
    if hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
        what = (f"{path} is a {kind}, a constant: nothing was recorded for it, so nothing "
                "depends on it")
    else:
        what = f"{path} is a {kind}"
    return TypeError(f"y.to(x) differentiates with respect to DiffArrays, but {what}; "
                     f"{_MAKE_A_LEAF}")


def _no_variables(x):
    """The error for ``y.to(x)`` where ``x`` holds no variable (None, [], {}...)."""
    if x is None:
        return TypeError(f"y.to(None): pass the variable to differentiate with respect to, "
                         f"a DiffArray (or a list, tuple or dict of them); {_MAKE_A_LEAF}")
    return ValueError(f"y.to({x!r}): the {type(x).__name__} holds no variable; pass at least "
                      "one DiffArray leaf, e.g. y.to(x) or y.to([x1, x2])")


def _check_variable(x):
    if type(x) is not DiffArray:
        raise _not_a_variable(x)
    if np.dtype(x.dtype).kind not in "fc":
        raise TypeError(
            f"cannot differentiate with respect to an array of dtype {x.dtype}: variables must "
            "be floating-point or complex (as in JAX and autograd); make the leaf a float array: "
            "x = np.asarray(data, dtype=float) (or convert an existing x: np.asarray(x, "
            "dtype=float))"
        )


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _seed(backend, value, like, name, recorded):
    """Check a user's seed against ``like`` and put it on the inner backend."""
    if type(value) is DiffArray:
        value = value if recorded else value.value
    elif not backend.inner.is_array(value) and type(value) is not BatchedArray:
        # (a batched seed, inside vmap: the sweep batches the rules it runs)
        value = backend.inner.asarray(value, dtype=_float_dtype(like.dtype))
    if np.isnan(like.shape).any():
        raise ValueError(
            f"{name} cannot be checked against an array whose shape Dask does not know "
            f"({like.shape}: unknown chunk sizes, after boolean indexing); call "
            "compute_chunk_sizes() on it first"
        )
    if tuple(np.shape(value)) != like.shape:
        raise ValueError(
            f"{name} has shape {tuple(np.shape(value))} but must have shape {like.shape}"
        )
    if np.dtype(value.dtype).kind not in "biufc":
        raise TypeError(f"{name} has non-numeric dtype {value.dtype}")
    if recorded and type(value) is not DiffArray:
        value = DiffArray(value, backend)
    return value


def _ones(backend, like, recorded):
    value = like.value
    if type(value) is np.float64 or type(value) is np.ndarray and value.shape == () \
            and value.dtype == np.float64:  # (a scalar loss: the common case, first)
        value = np.array(1.0)
    else:
        value = np.ones_like(value, dtype=_float_dtype(like.dtype))
    return DiffArray(value, backend) if recorded else value


def _final(g, value, batch=()):
    """Whether NumPy derivative ``g`` already has the shape ``batch + value.shape`` and
    the dtype of its variable's NumPy ``value``: nothing for :func:`_finish` to do."""
    return type(g) is np.ndarray and type(value) is np.ndarray and g.dtype == value.dtype \
        and g.shape == (batch + value.shape if batch else value.shape)


def _finish(backend, g, x, batch, recorded):
    """Shape the result like ``batch + x.shape`` in ``x``'s floating dtype, and wrap it.

    A derivative has its variable's dtype (JAX's rule): a float64 constant met
    on the way (``x32 * c64``) does not promote the gradient of a float32 ``x``.
    """
    if _final(g, x.value, batch):  # (the common case: nothing to convert, first)
        return DiffArray(g, backend)
    dtype = _float_dtype(x.dtype)
    if g is None:
        zeros = np.zeros_like(x.value, dtype=dtype)
        if batch:
            zeros = np.broadcast_to(zeros, batch + x.shape)
        return DiffArray(zeros, backend)
    if np.dtype(g.dtype).kind == "c" and dtype.kind != "c":
        # A real variable's cotangent is real: complex intermediates leave an
        # imaginary part that carries no derivative (autograd and JAX agree).
        g = np.real(g)
    if g.dtype != dtype:
        g = g.astype(dtype)
    if isinstance(g, np.generic):  # NumPy's 0-d results are scalars: a variable is an array
        g = np.asarray(g)
    if tuple(g.shape) != batch + x.shape and not np.isnan(x.shape).any():
        # (a Dask array of unknown chunk sizes has NaN in its shape: nothing to compare)
        g = np.broadcast_to(g, batch + x.shape)
    return g if type(g) is DiffArray else DiffArray(g, backend)


def differentiate(y, x, grad_variables, jacobian, create_graph, chunk_size, mode=None):
    """Implements :meth:`DiffArray.to`; ``mode`` overrides the backend's."""
    if type(x) is not DiffArray and not (
            type(x) in _SEQ and x and all(type(v) is DiffArray for v in x)):
        return _differentiate_container(
            y, x, grad_variables, jacobian, create_graph, chunk_size, mode)
    backend = y._backend
    if not create_graph and _holds_diffarray(grad_variables):
        # A seed that is itself recorded is a value like any other: the sweep is
        # recorded too, so that its result is differentiable with respect to it.
        create_graph = True
    many = isinstance(x, _SEQ)
    xs = list(x) if many else [x]
    for v in xs:
        _check_variable(v)
    if jacobian and grad_variables is not None:
        raise ValueError("jacobian=True builds its own seeds: do not pass grad_variables")
    if chunk_size is not None and (not jacobian or int(chunk_size) < 1):
        raise ValueError("chunk_size needs jacobian=True and a positive integer")
    # The variable's backend decides the mode: ``y`` may have been recorded by
    # another one (an operator whose function closed over the variable).
    mode = mode or xs[0]._backend.mode
    if mode == "vjp":
        results = _reverse(backend, y, xs, grad_variables, jacobian, create_graph, chunk_size)
    else:
        if grad_variables is not None and many:
            if not isinstance(grad_variables, _SEQ) or len(grad_variables) != len(xs):
                raise ValueError("give one tangent per variable in grad_variables")
            tangents = list(grad_variables)
        else:
            tangents = [grad_variables] * len(xs)
        results = [
            _forward(backend, y, v, t, jacobian, create_graph, chunk_size)
            for v, t in zip(xs, tangents)
        ]
    if not create_graph:
        results = _lazy_results(results, backend, (y, x, grad_variables, jacobian, chunk_size, mode))
    return tuple(results) if many else results[0]


def fresh(g, sources=()):
    """``g``, or a copy of it where the caller could not safely keep it: a read-only
    NumPy array (a broadcast, such as the gradient of a sum) or one that may share
    memory with one of the NumPy arrays ``sources`` (the caller's own seeds).

    Derivatives are the caller's to change in place, as NumPy's results are.
    """
    if type(g) is not np.ndarray:
        return g
    if not g.flags.writeable or any(
            type(s) is np.ndarray and np.may_share_memory(g, s) for s in sources):
        return g.copy()
    return g


def gradient(y, xs):
    """The gradient of scalar ``y`` with respect to each DiffArray of ``xs``, as inner
    arrays, in one plain reverse sweep.

    The functional API's path (its variables are checked when it makes them):
    none of :meth:`DiffArray.to`'s argument checks, and no record for
    differentiating the results again, which it returns as inner arrays.
    """
    backend = y._backend
    grads = reverse_sweep(y, xs, _ones(backend, y, False), False)
    out = []
    for g, x in zip(grads, xs):
        if not _final(g, x.value):  # (no DiffArray made and unwrapped in the common case)
            g = _finish(backend, g, x, (), False).value
        out.append(fresh(g))
    return out


def _holds_diffarray(tree):
    return any(type(leaf) is DiffArray for leaf in tree_flatten(tree)[0])


def _differentiate_container(y, x, grad_variables, jacobian, create_graph, chunk_size, mode):
    """``y.to(params)`` for a container of variables: derivatives in the same container.

    A top-level list or tuple still gives a tuple (as for a sequence of variables).
    """
    leaves, paths, treedef = tree_flatten_with_paths(x, "x")
    if not leaves:
        raise _no_variables(x)
    for leaf, path in zip(leaves, paths):
        if type(leaf) is not DiffArray:
            raise _not_a_variable(leaf, path)
    seeds = grad_variables
    if grad_variables is not None and (mode or y._backend.mode) == "jvp":
        seeds, seeds_def = tree_flatten(grad_variables)
        check_structure(seeds_def, treedef, "grad_variables (like the variables)")
    results = differentiate(y, leaves, seeds, jacobian, create_graph, chunk_size, mode)
    out = tree_unflatten(treedef, results)
    return tuple(out) if type(out) is list else out


def _reverse(backend, y, xs, seed, jacobian, recorded, chunk_size):
    if not jacobian:
        seed = _ones(backend, y, recorded) if seed is None else _seed(
            backend, seed, y, "grad_variables", recorded
        )
        grads = reverse_sweep(y, xs, seed, recorded)
        return [_finish(backend, g, x, (), recorded) for g, x in zip(grads, xs)]
    m = y.size
    blocks = []
    for start, stop in _blocks(m, chunk_size):
        if _diagonal_seeds(backend, recorded, chunk_size, m):
            seeds = _Diagonal(np.ones_like(y.value, dtype=_float_dtype(y.dtype)), backend.inner,
                              identity=True)
            grads = [_dense(g) for g in reverse_sweep(y, xs, seeds, recorded)]
        else:
            seeds = backend.inner.one_hot(m, y.value, _float_dtype(y.dtype))[start:stop]
            if recorded:
                seeds = DiffArray(seeds, backend)
            grads = reverse_sweep(y, xs, seeds, recorded)
        blocks.append(
            [_finish(backend, g, x, (stop - start,), recorded) for g, x in zip(grads, xs)]
        )
    return [
        _reshape(_concat([b[i] for b in blocks]), y.shape + x.shape)
        for i, x in enumerate(xs)
    ]


def _forward(backend, y, x, tangent, jacobian, recorded, chunk_size):
    if not jacobian:
        tangent = _ones(backend, x, recorded) if tangent is None else _seed(
            backend, tangent, x, "grad_variables", recorded
        )
        return _finish(backend, forward_sweep(y, [x], [tangent], recorded), y, (), recorded)
    n = x.size
    blocks = []
    for start, stop in _blocks(n, chunk_size):
        if _diagonal_seeds(backend, recorded, chunk_size, n):
            seeds = _Diagonal(np.ones_like(x.value, dtype=_float_dtype(x.dtype)), backend.inner,
                              identity=True)
            t = _dense(forward_sweep(y, [x], [seeds], recorded))
            if type(t) is np.ndarray and t.base is not None:
                t = t.copy()  # (never a view of the function's arrays: the identity's W^T)
        else:
            seeds = backend.inner.one_hot(n, x.value, _float_dtype(x.dtype))[start:stop]
            if recorded:
                seeds = DiffArray(seeds, backend)
            t = forward_sweep(y, [x], [seeds], recorded)
        blocks.append(_finish(backend, t, y, (stop - start,), recorded))
    jac = _concat(blocks)  # (n,) + y.shape
    jac = np.moveaxis(jac, 0, -1) if y.ndim and n else jac
    return _reshape(jac, y.shape + x.shape)


def _diagonal_seeds(backend, recorded, chunk_size, n):
    """Whether a full Jacobian's seeds sweep as a :class:`_Diagonal` stack: plain sweeps of
    all the seeds at once, on an inner library (not inside vmap)."""
    return not recorded and chunk_size is None and n > 0 \
        and not getattr(backend.inner, "level", 0)


def _blocks(n, chunk_size):
    step = n if chunk_size is None else max(1, int(chunk_size))
    return [(i, min(i + step, n)) for i in range(0, max(n, 1), step)] if n else [(0, 0)]


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts, axis=0)


def _reshape(a, shape):
    return np.reshape(a, shape)
