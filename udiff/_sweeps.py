"""Graph sweeps: reverse (VJP) and forward (JVP), plain or recorded, batched.

Both sweeps visit each node between ``x`` and ``y`` once, in topological
order found by an iterative depth-first search (no recursion), so their cost
is linear in the size of the graph whatever subexpressions it shares.
"""
import numpy as np

from . import _registry
from ._core import DiffArray

_SEQ = (list, tuple)


def _toposort(y, xs):
    """The nodes that depend on some ``x`` and lead to ``y``, parents first."""
    x_ids = {id(x) for x in xs}
    reaches = {}
    order = []
    visited = {id(y)}
    stack = [(y, iter(y._parents))]
    while stack:
        node, parents = stack[-1]
        for _, _, parent in parents:
            if id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            nid = id(node)
            hit = nid in x_ids
            if not hit:
                for _, _, parent in node._parents:
                    if reaches[id(parent)]:
                        hit = True
                        break
            reaches[nid] = hit
            if hit:
                order.append(node)
    return order


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


def _grouped(parents, keep):
    """Parents that ``keep`` admits, grouped by argument number."""
    groups = {}
    for argnum, path, parent in parents:
        if id(parent) in keep:
            groups.setdefault(argnum, []).append((path, parent))
    return groups


def reverse_sweep(y, xs, seed, recorded):
    """Cotangents of ``xs`` given cotangent ``seed`` of ``y`` (None where unreached)."""
    order = _toposort(y, xs)
    on_path = {id(n) for n in order}
    x_ids = {id(x) for x in xs}
    adjoint = {id(y): seed} if on_path else {}
    found = {}
    kwargs_of = {}
    for node in reversed(order):
        nid = id(node)
        g = adjoint.pop(nid, None)
        if g is None:
            continue
        if nid in x_ids:
            found[nid] = g
        groups = _grouped(node._parents, on_path)
        if not groups:
            continue
        ans, args = _rule_inputs(node, recorded)
        kwargs = node._kwargs or kwargs_of
        for argnum, entries in groups.items():
            maker = _registry.vjp_maker(node._fn, argnum)
            cotangent = maker(ans, *args, **kwargs)(g)
            for path, parent in entries:
                c = _get(cotangent, path) if path else cotangent
                pid = id(parent)
                if pid in adjoint:
                    adjoint[pid] = adjoint[pid] + c
                else:
                    adjoint[pid] = c
    return [found.get(id(x)) for x in xs]


def forward_sweep(y, xs, seeds, recorded):
    """The tangent of ``y`` given tangents ``seeds`` of ``xs`` (None if unreached)."""
    order = _toposort(y, xs)
    on_path = {id(n) for n in order}
    tangents = {id(x): t for x, t in zip(xs, seeds)}
    sources = set(tangents)
    uses = {}
    for node in order:
        for _, _, parent in node._parents:
            if id(parent) in on_path:
                uses[id(parent)] = uses.get(id(parent), 0) + 1
    for node in order:
        nid = id(node)
        groups = _grouped(node._parents, on_path)
        if not groups:
            continue
        ans, args = _rule_inputs(node, recorded)
        kwargs = node._kwargs or {}
        out = tangents.get(nid)  # a variable that is also computed from another
        for argnum, entries in groups.items():
            rule = _registry.jvp_rule(node._fn, argnum)
            if entries[0][0]:
                t = _seq_tangent(node._args[argnum], entries, tangents)
            else:
                t = tangents[id(entries[0][1])]
            contribution = rule(t, ans, *args, **kwargs)
            out = contribution if out is None else out + contribution
        tangents[nid] = out
        for _, parent in (e for es in groups.values() for e in es):
            pid = id(parent)
            uses[pid] -= 1
            if uses[pid] == 0 and pid not in sources:
                del tangents[pid]
    return tangents.get(id(y))


def _seq_tangent(arg, entries, tangents):
    """Tangents for a sequence argument: same nesting, None for constants."""
    out = _nones(arg)
    for path, parent in entries:
        holder = out
        for i in path[:-1]:
            holder = holder[i]
        holder[path[-1]] = tangents[id(parent)]
    return out


def _nones(arg):
    return [_nones(a) if type(a) in _SEQ else None for a in arg]


# -- the user-facing entry point -------------------------------------------------


def _check_variable(x):
    if type(x) is not DiffArray:
        raise TypeError(
            f"can only differentiate with respect to a DiffArray made under "
            f"DiffArrayBackend, not {type(x).__name__}; create it inside the "
            "`with ua.set_backend(...)` block, e.g. with np.asarray"
        )
    if np.dtype(x.dtype).kind not in "biufc":
        raise TypeError(f"cannot differentiate with respect to an array of dtype {x.dtype}")


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _as_float(g):
    if np.dtype(g.dtype).kind in "fc":
        return g
    return g * 1.0 if type(g) is DiffArray else g.astype(np.float64)


def _seed(backend, value, like, name, recorded):
    """Check a user's seed against ``like`` and put it on the inner backend."""
    if type(value) is DiffArray:
        value = value if recorded else value.value
    elif not backend.inner.is_array(value):
        value = backend.inner.asarray(value, dtype=_float_dtype(like.dtype))
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
    value = np.ones_like(like.value, dtype=_float_dtype(like.dtype))
    return DiffArray(value, backend) if recorded else value


def _finish(backend, g, x, batch, recorded):
    """Shape the result like ``batch + x.shape`` with a floating dtype, and wrap it."""
    if g is None:
        zeros = np.zeros_like(x.value, dtype=_float_dtype(x.dtype))
        if batch:
            zeros = np.broadcast_to(zeros, batch + x.shape)
        return DiffArray(zeros, backend)
    g = _as_float(g)
    if np.dtype(g.dtype).kind == "c" and np.dtype(x.dtype).kind != "c":
        # A real variable's cotangent is real: complex intermediates leave an
        # imaginary part that carries no derivative (autograd and JAX agree).
        g = np.real(g)
    if tuple(g.shape) != batch + x.shape:
        g = np.broadcast_to(g, batch + x.shape)
    return g if type(g) is DiffArray else DiffArray(g, backend)


def differentiate(y, x, grad_variables, jacobian, create_graph, chunk_size, mode=None):
    """Implements :meth:`DiffArray.to`; ``mode`` overrides the backend's."""
    backend = y._backend
    many = isinstance(x, _SEQ)
    xs = list(x) if many else [x]
    for v in xs:
        _check_variable(v)
    if jacobian and grad_variables is not None:
        raise ValueError("jacobian=True builds its own seeds: do not pass grad_variables")
    if chunk_size is not None and (not jacobian or int(chunk_size) < 1):
        raise ValueError("chunk_size needs jacobian=True and a positive integer")
    if (mode or backend.mode) == "vjp":
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
    return tuple(results) if many else results[0]


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
        seeds = backend.inner.one_hot(n, x.value, _float_dtype(x.dtype))[start:stop]
        if recorded:
            seeds = DiffArray(seeds, backend)
        t = forward_sweep(y, [x], [seeds], recorded)
        blocks.append(_finish(backend, t, y, (stop - start,), recorded))
    jac = _concat(blocks)  # (n,) + y.shape
    jac = np.moveaxis(jac, 0, -1) if y.ndim else jac
    return _reshape(jac, y.shape + x.shape)


def _blocks(n, chunk_size):
    step = n if chunk_size is None else max(1, int(chunk_size))
    return [(i, min(i + step, n)) for i in range(0, max(n, 1), step)] if n else [(0, 0)]


def _concat(parts):
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts, axis=0)


def _reshape(a, shape):
    return np.reshape(a, shape)
