"""Custom derivatives of Python functions, ``stop_gradient`` and ``checkpoint``.

A call of a custom function (:func:`custom_vjp`, :func:`custom_jvp`,
:func:`checkpoint`) on DiffArrays is ONE graph node, whatever its body
computes.  Its arguments are gathered in one tuple argument, so that a sweep
calls its rule once per node (as for ``concatenate``); its key is the
function object itself (``(f, i)`` for output ``i`` of several), which
carries its rules (``rules``): ``_registry`` finds them as it finds any
other function's, so the sweeps of ``_sweeps`` need nothing special, and a
function nobody holds any more is freed with its rules.  The node's ``call=`` keyword holds
what the rules need besides the arguments (a :class:`_Call`).

The user's code (the body, ``fwd``, ``bwd``, ``jvp``) always receives
udiff's arrays, as a plain function does, so that what works in a function
differentiated plainly (``x.at``, udiff's corrections of Dask) works in it.
Where the machinery holds inner arrays (the call itself, a plain sweep) it
hands them over as constants of a backend of their own (:class:`_UserCode`)
and takes what the user's code returns back as values: nothing is recorded
that outlives the call or the sweep.  In a recorded sweep (``create_graph``,
``hessian``, ``grad(grad(f))``) the rules receive the node's DiffArrays and
run the user's rules on them, re-running what they need (the residuals of
``fwd``, the body of a checkpoint) recorded from the node's inputs, so that
the derivative is connected to them and can be differentiated again.

Inside :func:`udiff.vmap` a custom function is batched as JAX batches it: a
call on BatchedArrays of the innermost vmap (and no DiffArray of a
differentiation running inside that vmap) calls the function's *batched
version*, a custom function of the same kind whose body and rules are the
user's vmapped (made once per function and pattern of batched arguments), on
the BatchedArrays' values.  Those values may be DiffArrays of a
differentiation running outside the vmap, which records the call as one node
with the batched rules, or BatchedArrays of an outer vmap, which batches it
again: the rule is used whatever the nesting.  ``stop_gradient`` stops every
level, through BatchedArrays too.

Jacobians push seeds with extra leading axes; the user's ``bwd`` and ``jvp``
are written for one seed, so a batch of seeds is pushed one at a time.
Rules that trace the body (checkpoint, the transposed ``jvp``) need no loop:
the traced operations are udiff's own.
"""
import functools
import inspect
import threading
import warnings

import numpy as np
import uarray as ua

from .._machinery import diff_array as _diff_array
from .._machinery import diff_array_backend as _backend
from .._machinery.diff_array_backend import DiffArrayBackend
from .._machinery.batched_array import BatchedArray, frames as _vmap_frames
from .._machinery.diff_array import DiffArray
from ..numpy._declare import Function
from .._machinery.dispatch import call, top_level
from .._machinery.sweeps import forward_sweep, reverse_sweep
from .._machinery.tree import (
    describe,
    register_pytree_node,
    tree_flatten,
    tree_flatten_with_paths,
    tree_leaves,
    tree_map,
    tree_unflatten,
)

__all__ = ["custom_vjp", "custom_jvp", "checkpoint", "stop_gradient"]


def stop_gradient(x):
    """``x`` as a constant: its value, with a zero derivative.

    Parameters
    ----------
    x : DiffArray, array, or a container of them
        A DiffArray becomes a constant, and so does what a batched array of
        :func:`udiff.vmap` holds (the derivatives of every enclosing operator
        stop, as in JAX); anything else is returned unchanged.

    Returns
    -------
    DiffArray, array, or a container of them
        ``x``, in the same containers, with the same values; its DiffArrays
        are constants (their derivatives are zero).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.grad(lambda x: np.sum(x * udiff.stop_gradient(x)))(numpy.array([1.0, 2.0]))
    array([1., 2.])
    >>> udiff.stop_gradient(numpy.array([1.0, 2.0]))  # an inner array: unchanged
    array([1., 2.])
    """
    return tree_map(_stopped, x)


def _stopped(a):
    """``a`` with no derivative at any level: a DiffArray's value becomes a constant of
    its backend, and a BatchedArray keeps its batch but its value is stopped in turn
    (it may be a DiffArray of a ``grad`` running outside the vmap, or a BatchedArray of
    an outer vmap holding one)."""
    t = type(a)
    if t is DiffArray:
        return DiffArray(_stopped(a.value), a._backend)
    if t is BatchedArray:
        value = _stopped(a.value)
        return a if value is a.value else BatchedArray(value, a.level, a.frame)
    return a


class _Call:
    """What a custom node's rules need besides its arguments (shared by its outputs)."""

    __slots__ = ("backend", "static", "defs", "paths", "diff", "avals", "out_def", "residuals",
                 "reversed")

    def __init__(self, backend, static, defs, paths, diff, avals, out_def, residuals):
        self.backend = backend  # the DiffArrayBackend of the call
        self.static = static  # {position: value} of the nondiff_argnums
        self.defs = defs  # the structure of each other argument (a container or a leaf)
        self.paths = paths  # each leaf's name: x, params['w']
        self.diff = diff  # the leaves that are DiffArrays, by index
        self.avals = avals  # ((shape, dtype), ...) of the output's leaves
        self.out_def = out_def  # the output's structure
        self.residuals = residuals  # custom_vjp: what fwd returned for bwd
        self.reversed = False  # custom_vjp: a recorded reverse sweep has passed here

    def __reduce__(self):
        return (_Call, (self.backend, self.static, self.defs, self.paths, self.diff, self.avals,
                        self.out_def, self.residuals))

    def arguments(self, leaves):
        """All positional arguments, with the containers rebuilt around ``leaves``."""
        return _merge(self.static, self.dynamic(leaves))

    def dynamic(self, leaves):
        """The differentiable arguments (not nondiff_argnums), rebuilt around ``leaves``."""
        out, k = [], 0
        for d in self.defs:
            out.append(tree_unflatten(d, leaves[k:k + d.num_leaves]))
            k += d.num_leaves
        return tuple(out)


_INLINED = threading.local()


def _inlined():
    """The custom functions whose fwd is being re-run for a rule, on this thread."""
    stack = getattr(_INLINED, "stack", None)
    if stack is None:
        stack = _INLINED.stack = []
    return stack


class _inlining:  # noqa: N801 - a context
    """While ``fwd`` of ``f`` re-runs recorded for a derivative of higher order (a recorded
    reverse sweep, forward over reverse), a call of ``f`` inside it runs ``f``'s body: a
    node of ``f`` there would need a forward rule that a custom_vjp lacks."""

    __slots__ = ("f",)

    def __init__(self, f):
        self.f = f

    def __enter__(self):
        _inlined().append(self.f)

    def __exit__(self, *exc):
        _inlined().pop()


class _CustomFunction:
    """A Python function whose call on DiffArrays is one node with rules of its own."""

    _kind = "custom function"

    def __init__(self, fun, nondiff_argnums=()):
        # Not fun's __dict__: a udiff.numpy function's (its key, its multimethod)
        # would make this object pass for that function in udiff's tables.
        functools.update_wrapper(self, fun, updated=())
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(int(n) for n in nondiff_argnums))
        self._batched_versions = {}  # see _batched_version
        self._origin = None  # (function, pattern) of a batched version

    def __repr__(self):
        return f"<udiff.{self._kind} {self.__name__}>"

    def __reduce__(self):
        # A graph that holds a custom node pickles it.  A custom function bound to a
        # module-level name (the decorator's usual use) pickles by that name, so an
        # unpickled graph shares it; others by their functions and rules (which must
        # pickle), and a batched version as its function and pattern.
        if self._origin is not None:
            return (_batched_version_of, self._origin)
        if _module_level(self):
            return self.__qualname__
        return (_rebuilt, (type(self), self.fun, self.nondiff_argnums, self._rule_functions()))

    def _rule_functions(self):
        """The user's rule functions, as :func:`_rebuilt` takes them."""
        return ()

    # -- its rules: the node's key is this object, which carries them ----------
    def rules(self, kind, index):
        """The VJP (``kind="vjp"``) or JVP rule of output ``index`` (None: the only one),
        in the rule tables' form; the sweeps find them through ``_registry``."""
        if kind == "vjp":
            return (lambda ans, args, call: lambda g: self._vjp(index, ans, args, call, g),)
        return (lambda t, ans, args, call: self._jvp(index, t, ans, args, call),)

    # -- calling ---------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        args = self._positional(args, kwargs)
        for i in self.nondiff_argnums:
            if any(type(a) is DiffArray for a in tree_leaves(args[i])):
                raise TypeError(
                    f"{self._kind} {self.__name__}: argument {i} is in nondiff_argnums but holds "
                    "a DiffArray; pass its .value to mean a constant, or differentiate it (leave "
                    "it out of nondiff_argnums)"
                )
        # The innermost transformation handles the call, as for any function
        # (batching/_dispatch.py): a vmap running inside every differentiation
        # whose arrays are here batches it, into a call of the batched version of
        # this function, on the batched arrays' values; else a differentiation
        # records it as one node.
        top = top_level(tree_leaves(args))
        if top is not None and top.batches:
            return self._batch(args, top)
        dynamic = [a for i, a in enumerate(args) if i not in self.nondiff_argnums]
        if top is not None and self in _inlined():
            # fwd calling this function (JAX's idiom), re-run for a derivative of a
            # higher order: its body, whose operations that derivative goes through.
            return self.fun(*args)
        if top is None or type(top) is _UserCode and _constants(args):
            # No DiffArray, or only the constants that user code of a custom call runs
            # on (fwd calling its own function, JAX's idiom): nothing differentiates it.
            return self._unrecorded(args)
        self._check_defined()
        return self._record(top, args, dynamic)

    # -- inside vmap: batching a custom function gives a custom function ----------
    def _batch(self, args, frame):
        """The call on arguments holding BatchedArrays of ``frame``, the innermost vmap
        (and no DiffArray traced inside it): the batched version of this function on
        their values, its outputs made BatchedArrays of ``frame`` again."""
        pattern, values = [], []
        for i, a in enumerate(args):
            leaves, treedef = tree_flatten(a)
            batched = tuple(type(x) is BatchedArray and x.frame is frame for x in leaves)
            if any(batched):
                if i in self.nondiff_argnums:
                    return self._per_example(args, frame)
                a = tree_unflatten(treedef, [x.value if b else x for x, b in zip(leaves, batched)])
            if i not in self.nondiff_argnums:
                pattern.append((treedef, batched))
            values.append(a)
        out = self._batched_version(tuple(pattern))(*values)
        return tree_map(lambda o: BatchedArray(o, frame.level, frame), out)

    def _batched_version(self, pattern):
        """This function vmapped over the arguments ``pattern`` says are batched.

        ``pattern`` has one ``(structure, batched)`` per differentiable argument,
        ``batched`` saying which of its leaves carry a batch axis (axis 0).  Made
        once per pattern: the graph's nodes are keyed by the function object.
        """
        version = self._batched_versions.get(pattern)
        if version is None:
            from .vmap import vmap

            axes = tuple(tree_unflatten(d, [0 if b else None for b in batched])
                         for d, batched in pattern)
            in_axes = _merge({i: None for i in self.nondiff_argnums}, axes)
            version = self._make_batched(vmap, in_axes, axes, pattern)
            version._origin = (self, pattern)
            self._batched_versions[pattern] = version
        return version

    def _make_batched(self, vmap, in_axes, axes, pattern):
        """A custom function of the same kind whose body and rules are vmapped."""
        raise NotImplementedError

    def _per_example(self, args, frame):
        """A call whose nondiff_argnums differ between the examples: one call per example,
        each recorded with this function's rules, the results stacked."""
        if not frame.size:
            raise ValueError(
                f"{self._kind} {self.__name__}: an argument in nondiff_argnums is batched, "
                "which udiff.vmap runs once per example, and the batch is empty")
        per = []
        for k in range(frame.size):
            one = [tree_map(lambda x: x.value[k] if type(x) is BatchedArray and x.frame is frame
                            else x, a) for a in args]
            per.append(tree_flatten(self(*one)))
        out_def = per[0][1]
        return tree_unflatten(out_def, [
            BatchedArray(call("numpy.stack", [p[0][j] for p in per]), frame.level, frame)
            for j in range(out_def.num_leaves)])

    def _positional(self, args, kwargs):
        """The arguments by position, keywords and defaults resolved (JAX's rule)."""
        if self._origin is not None:  # a batched version: its function's are resolved
            return args
        try:
            bound = inspect.signature(self.fun).bind(*args, **kwargs)
        except ValueError:  # no signature (a builtin)
            bound = None
        if bound is None:
            if kwargs:
                raise TypeError(f"{self._kind} {self.__name__} takes no keyword arguments")
            return args
        if not isinstance(self.fun, Function):
            # A udiff.numpy function's defaults (out=None, where=True...) are not
            # arguments its rules take: only those passed are.
            bound.apply_defaults()
        if bound.kwargs:
            raise TypeError(
                f"{self._kind} {self.__name__}: keyword-only arguments "
                f"({', '.join(bound.kwargs)}) cannot be differentiated; make them positional"
            )
        return bound.args

    def _unrecorded(self, args):
        """The body on arguments that hold no DiffArray: a plain call."""
        out = self.fun(*args)
        for o in tree_leaves(out):
            if type(o) is DiffArray and _traced(o):
                raise TypeError(
                    f"{self._kind} {self.__name__} closes over a DiffArray that is being "
                    "differentiated, and its rule cannot see it; pass that array as an argument"
                )
        return out

    def _check_defined(self):
        """Raise if the rules this kind needs are not defined yet."""

    def _record(self, backend, args, dynamic):
        static = {i: args[i] for i in self.nondiff_argnums}
        leaves, paths, defs = [], [], []
        for pos, a in zip((i for i in range(len(args)) if i not in static), dynamic):
            found, names, d = tree_flatten_with_paths(a, self._param(pos))
            # (an array updated by item assignment: the updated array)
            leaves += [_diff_array.current_of(f) if type(f) is DiffArray else f for f in found]
            paths += names
            defs.append(d)
        raw = tuple(_value(a) for a in leaves)
        diff = frozenset(j for j, a in enumerate(leaves) if type(a) is DiffArray)
        call = _Call(backend, static, tuple(defs), tuple(paths), diff, None, None, None)
        run = _user_code(backend)
        # Every backend made from now on is newer: it records for operators called
        # inside the body, not for an array the body closes over (_outputs checks).
        start = next(_backend._SERIALS) if run is not None else None
        out, call.residuals = self._primal(call, raw, run)
        outs, call.out_def = _outputs(self, out, backend, start)
        call.avals = tuple((tuple(np.shape(o)), np.result_type(o)) for o in outs)
        parents = tuple((0, (j,), a) for j, a in enumerate(leaves) if type(a) is DiffArray)
        kwargs = {"call": call}
        if call.out_def.kind is None:  # one array
            return DiffArray(outs[0], backend, parents, self, (raw,), kwargs)
        return tree_unflatten(call.out_def, [
            DiffArray(o, backend, parents, (self, i), (raw,), kwargs) for i, o in enumerate(outs)
        ])

    def _param(self, pos):
        """The name of positional parameter ``pos``, for messages."""
        try:
            names = list(inspect.signature(self.fun).parameters)
        except ValueError:
            names = []
        return names[pos] if pos < len(names) else f"args[{pos}]"

    def _primal(self, call, raw, run):
        """``(output, residuals)`` of the call, run on ``run``'s arrays (see :class:`_UserCode`)."""
        with _backend_set(run or call.backend.inner):
            return self.fun(*call.arguments(_wrapped(call, raw, run))), None

    # -- helpers for the rules ---------------------------------------------------
    def _body_vjp(self, body, index, ans, args, call, g):
        """Cotangents of the arguments, by sweeping ``body`` re-run recorded."""
        recorded = type(ans) is DiffArray
        variables, inputs = _variables(call, args, recorded)
        with _backend_set(call.backend):
            out = _pick(self, call, body(*call.arguments(inputs)), index)
        xs = [v for v in variables if v is not None]
        cts = reverse_sweep(out, xs, g, recorded) if _depends(out) else [None] * len(xs)
        nb = np.ndim(g) - len(call.avals[index or 0][0])
        found = iter(cts)
        return [None if v is None else _full(next(found), args[j], g, nb, call.backend, recorded)
                for j, v in enumerate(variables)]

    def _body_jvp(self, body, index, t, ans, args, call):
        """The tangent of output ``index``, by sweeping ``body`` re-run recorded."""
        recorded = type(ans) is DiffArray
        variables, inputs = _variables(call, args, recorded)
        with _backend_set(call.backend):
            out = _pick(self, call, body(*call.arguments(inputs)), index)
        pairs = [(v, t[j]) for j, v in enumerate(variables) if v is not None and t[j] is not None]
        tangent = None
        if _depends(out) and pairs:
            tangent = forward_sweep(out, [v for v, _ in pairs], [s for _, s in pairs], recorded)
        j, seed = next((j, s) for j, s in enumerate(t) if s is not None)
        nb = np.ndim(seed) - np.ndim(_value(args[j]))
        return _full(tangent, ans, seed, nb, call.backend, recorded)


class custom_vjp(_CustomFunction):  # noqa: N801  (JAX's name)
    """A function with a reverse-mode derivative of its own (JAX's ``custom_vjp``).

    Decorate a function written with ``udiff.numpy``, then give its rule with
    ``f.defvjp(fwd, bwd)``: ``fwd(*args) -> (output, residuals)`` computes
    the output and whatever ``bwd`` needs; ``bwd(residuals, g)`` returns a
    tuple of cotangents, one per positional argument (``None`` for a zero
    cotangent), shaped like the arguments.  ``g`` is shaped like the output
    (a tuple of cotangents when ``f`` returns a tuple).

    Differentiated in reverse mode (``grad``, ``vjp``, ``jacrev``, ``y.to(x)``
    in ``vjp`` mode), a call is one node whose VJP is ``bwd``; outside any
    differentiation ``f`` runs its body.  Inside :func:`udiff.vmap`, ``f``,
    ``fwd`` and ``bwd`` are vmapped, so the rule is used by a differentiation
    around the vmap too (see docs/conventions.md for higher orders).  As in JAX, forward mode raises
    TypeError, except over a reverse sweep (``hessian``, ``hvp``,
    ``jacfwd(grad(f))``), where the output's tangent is that of ``fwd``'s
    body and ``bwd``'s operations are differentiated: write ``bwd`` with
    ``udiff.numpy`` so that this works, to any order.

    Parameters
    ----------
    fun : callable
        The function.  Its positional arguments are arrays (or numbers);
        keyword arguments are resolved to positions by its signature.
    nondiff_argnums : tuple of int
        Arguments that are not arrays to differentiate (numbers, callables,
        options): passed first to ``bwd``, as ``bwd(*nondiff, residuals, g)``.

    Attributes
    ----------
    fun : callable
        The decorated function.
    fwd, bwd : callable or None
        The rule, once :meth:`defvjp` has given it.

    Notes
    -----
    Called like ``fun``, an instance returns what ``fun`` returns (DiffArrays
    when differentiated).  Differentiated before ``defvjp`` gives its rule,
    it raises ``NotImplementedError``.

    Examples
    --------
    Gradient clipping: the identity, whose gradient is clipped to [-1, 1].

    >>> import numpy, udiff, udiff.numpy as np
    >>> @udiff.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (np.clip(g, -1.0, 1.0),))
    >>> udiff.grad(lambda x: np.sum(3.0 * clip_gradient(x)))(numpy.array([1.0, 2.0]))
    array([1., 1.])
    """

    _kind = "custom_vjp"

    def __init__(self, fun, nondiff_argnums=()):
        self.fwd = self.bwd = None
        super().__init__(fun, nondiff_argnums)

    def defvjp(self, fwd, bwd):
        """Define the rule: ``fwd(*args) -> (out, residuals)``, ``bwd(residuals, g) -> tuple``.

        It only registers the rule (replacing any given before) and returns
        ``None``.

        Parameters
        ----------
        fwd : callable
            ``fwd(*args) -> (output, residuals)``, called with the function's
            arguments: the output (as the function's) and whatever ``bwd``
            needs (arrays, containers of them, or ``None``).
        bwd : callable
            ``bwd(residuals, g) -> tuple`` (``bwd(*nondiff, residuals, g)``
            with ``nondiff_argnums``): one cotangent per positional argument,
            shaped like it, or ``None`` for a zero cotangent.

        Raises
        ------
        TypeError
            If ``fwd`` or ``bwd`` is not callable.

        Examples
        --------
        >>> import numpy, udiff, udiff.numpy as np
        >>> @udiff.custom_vjp
        ... def square(x):
        ...     return x * x
        >>> square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
        >>> udiff.grad(lambda x: np.sum(square(x)))(numpy.array([1.0, 3.0]))
        array([2., 6.])
        """
        if not callable(fwd) or not callable(bwd):
            raise TypeError(f"custom_vjp {self.__name__}.defvjp takes two functions, fwd and bwd")
        self.fwd, self.bwd = fwd, bwd
        self._batched_versions.clear()  # made with the rules they had

    def _rule_functions(self):
        return (self.fwd, self.bwd)

    def _make_batched(self, vmap, in_axes, axes, pattern):
        # JAX's batching rule of custom_vjp: the body, fwd and bwd vmapped.  The
        # residuals that fwd's vmapped body computes from batched values have the
        # batch axis first, the others are passed to bwd as they are; the
        # cotangent of an argument that is not batched is summed over the batch.
        fwd, bwd, nondiff = self.fwd, self.bwd, self.nondiff_argnums

        def batched_fwd(*args):
            found = []

            def one(*args):
                out, residuals = self._split_fwd(fwd(*args))
                leaves, treedef = tree_flatten(residuals)
                frame = _vmap_frames()[-1]
                mask = tuple(type(r) is BatchedArray and r.frame is frame for r in leaves)
                found.append((treedef, mask, [None if m else r for r, m in zip(leaves, mask)]))
                return out, [r for r, m in zip(leaves, mask) if m]

            out, batched = vmap(one, in_axes=in_axes)(*args)
            treedef, mask, leaves = found[-1]
            batched = iter(batched)
            return out, _Residuals(treedef, mask, [next(batched) if m else r
                                                   for r, m in zip(leaves, mask)])

        def batched_bwd(*args):
            static, residuals, g = args[:-2], args[-2], args[-1]
            cts = vmap(lambda r, g: bwd(*static, r, g), in_axes=(residuals.axes(), 0))(
                residuals.tree(), g)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(pattern):
                return cts  # the checks of _bwd name the function
            return type(cts)(_summed(ct, d, batched) for ct, (d, batched) in zip(cts, pattern))

        version = custom_vjp(vmap(self.fun, in_axes=in_axes), nondiff_argnums=nondiff)
        version.defvjp(batched_fwd, batched_bwd)
        return version

    def _check_defined(self):
        if self.bwd is None:
            raise NotImplementedError(
                f"no VJP defined for the custom_vjp function {self.__name__}: call "
                f"{self.__name__}.defvjp(fwd, bwd) before differentiating it"
            )

    def _primal(self, call, raw, run):
        with _backend_set(run or call.backend.inner):
            out, residuals = self._split_fwd(self.fwd(*call.arguments(_wrapped(call, raw, run))))
        if run is not None:
            # Kept for bwd in plain sweeps as constants of user code: the same arrays,
            # without the graph of fwd's operations that made them.
            residuals = _detached(residuals, run)
        return out, residuals

    def _split_fwd(self, pair):
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(
                f"the fwd of custom_vjp {self.__name__} must return a pair (output, residuals), "
                f"not {_describe(pair)}"
            )
        return pair

    def _vjp(self, index, ans, args, call, g):
        recorded = type(ans) is DiffArray
        if recorded:
            # The residuals, recorded from the inputs, so that the cotangent
            # is a function of them: a second derivative goes through bwd.
            call.reversed = True
            with _backend_set(call.backend), _inlining(self):
                _, residuals = self._split_fwd(self.fwd(*call.arguments(args)))
        else:
            residuals = call.residuals
        shape = call.avals[index or 0][0]
        nb = np.ndim(g) - len(shape)
        if nb and not np.prod(np.shape(g)[:nb], dtype=np.int64):  # no seeds at all
            return [_full(None, a, g, nb, call.backend, recorded) if j in call.diff else None
                    for j, a in enumerate(args)]
        return _batched(g, nb, lambda g1: self._bwd(index, args, call, residuals, g1))

    def _bwd(self, index, args, call, residuals, g):
        """One call of bwd: the cotangents of the arguments, checked."""
        recorded = type(g) is DiffArray
        # In a plain sweep, bwd runs on constants of user code too (the residuals are
        # kept so); the cotangents it returns are taken back as values (_checked).
        ours = None if recorded else _user_code(call.backend)
        if ours is not None:
            g = DiffArray(g, ours)
        gs = tree_unflatten(call.out_def, [
            g if i == (index or 0) else _zeros(shape, dtype, ours or call.backend,
                                               type(g) is DiffArray)
            for i, (shape, dtype) in enumerate(call.avals)])
        with _backend_set(call.backend if recorded else ours or call.backend.inner):
            cts = self.bwd(*call.static.values(), residuals, gs)
        n = len(call.defs)
        if not isinstance(cts, (tuple, list)) or len(cts) != n:
            raise ValueError(
                f"the bwd of custom_vjp {self.__name__} must return a tuple of {n} "
                f"cotangent(s), one per positional argument (None for zero), not "
                f"{_describe(cts)}"
            )
        leaves = []
        for k, (ct, d) in enumerate(zip(cts, call.defs)):
            if ct is None:
                found = [None] * d.num_leaves
            else:
                found, ct_def = tree_flatten(ct)
                if ct_def != d:
                    raise ValueError(
                        f"the bwd of custom_vjp {self.__name__} returned a cotangent of structure "
                        f"{describe(ct_def)} for argument {self._param(_position(call, k))}, "
                        f"of structure {describe(d)}"
                    )
            leaves += found
        return [self._checked(leaves[j], args[j], j, call, recorded) if j in call.diff
                else None for j in range(len(args))]

    def _checked(self, ct, arg, j, call, recorded):
        """``ct`` as an array of the sweep's kind, shaped like ``arg``, or ValueError."""
        value = _value(arg)
        if ct is None:
            return _zeros(np.shape(value), _floating(np.result_type(value)), call.backend, recorded)
        if tuple(np.shape(_value(ct))) != tuple(np.shape(value)):  # (a DiffArray's: slow)
            raise ValueError(
                f"the bwd of custom_vjp {self.__name__} returned a cotangent of shape "
                f"{tuple(np.shape(_value(ct)))} for {call.paths[j]}, which has shape "
                f"{tuple(np.shape(value))}"
            )
        return _as_kind(ct, call.backend, recorded)

    def _jvp(self, index, t, ans, args, call):
        if not call.reversed:
            raise TypeError(
                f"can't apply forward-mode differentiation (jvp) to the custom_vjp function "
                f"{self.__name__}: it has a reverse-mode rule only; use reverse mode (grad, "
                "vjp, jacrev), or define it with udiff.custom_jvp (forward over reverse, as in "
                "hessian, works)"
            )
        # Forward over reverse (hessian, hvp): the tangent of fwd's body, as JAX.
        with _inlining(self):
            return self._body_jvp(lambda *a: self.fwd(*a)[0], index, t, ans, args, call)


class custom_jvp(_CustomFunction):  # noqa: N801  (JAX's name)
    """A function with a forward-mode derivative of its own (JAX's ``custom_jvp``).

    Decorate a function written with ``udiff.numpy``, then give its rule with
    ``f.defjvp(jvp)`` (or decorate the rule with ``@f.defjvp``):
    ``jvp(primals, tangents) -> (output, tangent_out)``, where ``primals``
    and ``tangents`` are tuples with one entry per positional argument.  The
    tangent must be linear in ``tangents``.

    A call is one node whose JVP is ``jvp``; in reverse mode its VJP is the
    transpose of ``jvp`` (found by differentiating ``jvp`` with respect to
    its tangents), so ``f`` works in both modes and to any order (write
    ``jvp`` with ``udiff.numpy``).  Outside any differentiation ``f`` runs
    its body.  Inside :func:`udiff.vmap`, ``f`` and ``jvp`` are vmapped (each
    tangent batched like its primal), so the rule is used by a
    differentiation around the vmap too.

    Parameters
    ----------
    fun : callable
        The function, of positional arrays (keywords are resolved by its
        signature).
    nondiff_argnums : tuple of int
        Arguments that are not differentiated: passed first to ``jvp``, as
        ``jvp(*nondiff, primals, tangents)``, and left out of ``primals``.

    Attributes
    ----------
    fun : callable
        The decorated function.
    jvp : callable or None
        The rule, once :meth:`defjvp` has given it.

    Notes
    -----
    Called like ``fun``, an instance returns what ``fun`` returns (DiffArrays
    when differentiated).  Differentiated before ``defjvp`` gives its rule,
    it raises ``NotImplementedError``.

    Examples
    --------
    A ``log(1 + exp(x))`` whose derivative is finite for large ``x``:

    >>> import numpy, udiff, udiff.numpy as np
    >>> @udiff.custom_jvp
    ... def log1pexp(x):
    ...     return np.log(1.0 + np.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + np.exp(x)))
    >>> with numpy.errstate(over="ignore"):  # exp(1000) overflows in the value
    ...     udiff.grad(lambda x: np.sum(log1pexp(x)))(numpy.array([0.0, 1000.0]))
    array([0.5, 1. ])
    """

    _kind = "custom_jvp"

    def __init__(self, fun, nondiff_argnums=()):
        self.jvp = None
        super().__init__(fun, nondiff_argnums)

    def defjvp(self, jvp):
        """Define the rule ``jvp(primals, tangents) -> (out, tangent_out)``; returns ``jvp``.

        Usable as a decorator.  It registers the rule, replacing any given
        before.

        Parameters
        ----------
        jvp : callable
            ``jvp(primals, tangents) -> (output, tangent_out)``
            (``jvp(*nondiff, primals, tangents)`` with ``nondiff_argnums``):
            ``primals`` and ``tangents`` are tuples with one entry per
            differentiated positional argument; ``tangent_out`` is shaped like
            the output and linear in ``tangents``.

        Returns
        -------
        callable
            ``jvp`` itself, so that the decorated name stays the rule.

        Raises
        ------
        TypeError
            If ``jvp`` is not callable.

        Examples
        --------
        >>> import numpy, udiff, udiff.numpy as np
        >>> @udiff.custom_jvp
        ... def cube(x):
        ...     return x * x * x
        >>> @cube.defjvp
        ... def cube_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return cube(x), 3.0 * x * x * t
        >>> udiff.jvp(cube, (numpy.array([2.0]),), (numpy.array([1.0]),))
        (array([8.]), array([12.]))
        """
        if not callable(jvp):
            raise TypeError(f"custom_jvp {self.__name__}.defjvp takes a function")
        self.jvp = jvp
        self._batched_versions.clear()  # made with the rule they had
        return jvp

    def _rule_functions(self):
        return (self.jvp,)

    def _make_batched(self, vmap, in_axes, axes, pattern):
        # JAX's batching rule of custom_jvp: the body and the jvp vmapped, each
        # tangent batched like its primal.
        jvp = self.jvp

        def batched_jvp(*args):
            static, primals, tangents = args[:-2], args[-2], args[-1]
            return vmap(lambda p, t: jvp(*static, p, t), in_axes=(axes, axes))(primals, tangents)

        version = custom_jvp(vmap(self.fun, in_axes=in_axes), nondiff_argnums=self.nondiff_argnums)
        if jvp is not None:
            version.defjvp(batched_jvp)
        return version

    def _check_defined(self):
        if self.jvp is None:
            raise NotImplementedError(
                f"no JVP defined for the custom_jvp function {self.__name__}: call "
                f"{self.__name__}.defjvp(jvp) before differentiating it"
            )

    def _call_jvp(self, index, call, primals, tangents, recorded):
        # In a plain sweep the primals and tangents that are inner arrays are handed to
        # jvp as constants of user code; the tangent is taken back as a value.
        ours = _user_code(call.backend)
        if ours is not None:
            primals = _wrapped(call, primals, ours)
            tangents = [DiffArray(t, ours) if _raw(t) else t for t in tangents]
        backend = call.backend if recorded else ours or call.backend.inner
        with _backend_set(backend):
            pair = self.jvp(*call.static.values(), call.dynamic(primals), call.dynamic(tangents))
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(
                f"the jvp of custom_jvp {self.__name__} must return a pair (output, tangent), "
                f"not {_describe(pair)}"
            )
        return _pick(self, call, pair[1], index, what="tangent")

    def _jvp(self, index, t, ans, args, call):
        recorded = type(ans) is DiffArray
        shape, dtype = call.avals[index or 0]
        first = next(j for j, s in enumerate(t) if s is not None)
        nb = np.ndim(t[first]) - np.ndim(_value(args[first]))
        batch = tuple(np.shape(t[first])[:nb])

        def one(tangents):
            tangents = [s if s is not None else
                        _zeros(np.shape(_value(a)), _floating(np.result_type(_value(a))),
                               call.backend, recorded)
                        for s, a in zip(tangents, args)]
            out = self._call_jvp(index, call, args, tangents, recorded)
            return self._checked_out(out, shape, dtype, call, recorded)

        if not nb:
            return one(t)
        m = int(np.prod(batch, dtype=np.int64))
        flat = [None if s is None else np.reshape(s, (m,) + tuple(np.shape(s)[nb:])) for s in t]
        if m == 0:
            return _zeros(batch + shape, _floating(dtype), call.backend, recorded)
        per = [one([None if s is None else s[k] for s in flat]) for k in range(m)]
        return np.reshape(np.stack(per), batch + shape)

    def _checked_out(self, out, shape, dtype, call, recorded):
        if out is None:
            return _zeros(shape, _floating(dtype), call.backend, recorded)
        if tuple(np.shape(_value(out))) != shape:
            raise ValueError(
                f"the jvp of custom_jvp {self.__name__} returned a tangent of shape "
                f"{tuple(np.shape(_value(out)))} for an output of shape {shape}"
            )
        return _as_kind(out, call.backend, recorded)

    def _vjp(self, index, ans, args, call, g):
        # The transpose of the JVP: the JVP is linear in the tangents, so its
        # VJP is the gradient of <g, jvp(primals, tangents)> in the tangents,
        # at tangents zero, by a sweep over jvp traced on tangent variables.
        recorded = type(ans) is DiffArray
        tangents = [DiffArray(np.zeros_like(_value(a), dtype=_floating(np.result_type(_value(a)))),
                              call.backend) if j in call.diff else
                    np.zeros_like(_value(a), dtype=_floating(np.result_type(_value(a))))
                    for j, a in enumerate(args)]
        out = self._call_jvp(index, call, args, tangents, True)
        shape, _ = call.avals[index or 0]
        if out is not None and tuple(np.shape(out)) != shape:
            raise ValueError(
                f"the jvp of custom_jvp {self.__name__} returned a tangent of shape "
                f"{tuple(np.shape(out))} for an output of shape {shape}"
            )
        xs = [tangents[j] for j in sorted(call.diff)]
        cts = reverse_sweep(out, xs, g, recorded) if _depends(out) else [None] * len(xs)
        nb = np.ndim(g) - len(shape)
        found = dict(zip(sorted(call.diff), cts))
        return [_full(found[j], args[j], g, nb, call.backend, recorded) if j in found else None
                for j in range(len(args))]


class _Checkpoint(_CustomFunction):
    """A function whose intermediates are recomputed in the sweeps (see :func:`checkpoint`)."""

    _kind = "checkpoint"

    def _unrecorded(self, args):
        # No DiffArray argument: the body is differentiated as written (a
        # DiffArray it closes over included), only not checkpointed.
        return self.fun(*args)

    def _make_batched(self, vmap, in_axes, axes, pattern):
        return _Checkpoint(vmap(self.fun, in_axes=in_axes))

    def _vjp(self, index, ans, args, call, g):
        return self._body_vjp(self.fun, index, ans, args, call, g)

    def _jvp(self, index, t, ans, args, call):
        return self._body_jvp(self.fun, index, t, ans, args, call)


def checkpoint(fun):
    """``fun``, computed without keeping its intermediates for the sweeps (JAX's ``checkpoint``).

    A call on DiffArrays runs ``fun`` on their values (as constants, keeping
    nothing of that run) and records one node that holds only the inputs and
    the outputs; each sweep that reaches
    it re-runs ``fun`` recorded and sweeps that small graph, so the memory of
    a gradient is that of the checkpointed calls' inputs and outputs plus one
    call's intermediates, for the time of running ``fun`` twice.  Correct in
    both modes and to any order.  Arrays ``fun`` differentiates must be its
    arguments (a DiffArray it closes over raises TypeError).

    Parameters
    ----------
    fun : callable
        The function to checkpoint, written with ``udiff.numpy``; its
        positional arguments are arrays (or containers of them).

    Returns
    -------
    callable
        A function with ``fun``'s arguments and results, whose calls on
        DiffArrays are recorded as single nodes.

    Raises
    ------
    TypeError
        If ``fun`` is not callable.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> layer = udiff.checkpoint(lambda h, w: np.tanh(h @ w))
    >>> def loss(w):
    ...     h = numpy.ones((2, 3))
    ...     for _ in range(4):
    ...         h = layer(h, w)
    ...     return np.sum(h)
    >>> udiff.grad(loss)(numpy.eye(3) * 0.5).shape
    (3, 3)
    """
    if not callable(fun):
        raise TypeError(f"checkpoint takes a function, not {_describe(fun)}")
    return _Checkpoint(fun)


# -- helpers ---------------------------------------------------------------------------
def _summed(ct, treedef, batched):
    """A batched version's cotangent of one argument: summed over the batch axis
    where the argument is not batched."""
    if ct is None or all(batched):
        return ct
    leaves, ct_def = tree_flatten(ct)
    if ct_def != treedef:
        return ct  # the checks of _bwd name the function
    return tree_unflatten(treedef, [c if b or c is None else call("numpy.sum", c, axis=0)
                                    for c, b in zip(leaves, batched)])


class _Residuals:
    """The residuals of a batched version's fwd: the user's, and which have the batch axis.

    A container (a pytree node), so that batching a batched version (nested vmaps)
    batches the residuals inside it too.
    """

    __slots__ = ("treedef", "mask", "leaves")

    def __init__(self, treedef, mask, leaves):
        self.treedef, self.mask, self.leaves = treedef, mask, leaves

    def __reduce__(self):
        return (_Residuals, (self.treedef, self.mask, self.leaves))

    def tree(self):
        return tree_unflatten(self.treedef, self.leaves)

    def axes(self):
        return tree_unflatten(self.treedef, [0 if m else None for m in self.mask])


register_pytree_node(_Residuals, lambda r: (r.leaves, (r.treedef, r.mask)),
                     lambda aux, leaves: _Residuals(aux[0], aux[1], list(leaves)))


def _batched_version_of(function, pattern):
    return function._batched_version(pattern)


def _module_level(f):
    """Whether ``f`` is what its module's name for it (its qualified name) holds."""
    import sys

    found = sys.modules.get(getattr(f, "__module__", None))
    for name in getattr(f, "__qualname__", "<lambda>").split("."):
        found = getattr(found, name, None)
    return found is f


def _rebuilt(kind, fun, nondiff_argnums, rule_functions):
    f = kind(fun) if kind is _Checkpoint else kind(fun, nondiff_argnums)
    if rule_functions and rule_functions[-1] is not None:
        getattr(f, "defvjp" if kind is custom_vjp else "defjvp")(*rule_functions)
    return f


def _backend_set(backend):
    # uarray 0.9 warns on every set_backend call, about its own internals.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return ua.set_backend(backend, coerce=True)


def _merge(static, dynamic):
    """All positional arguments from the nondiff ones (by position) and the others."""
    if not static:
        return tuple(dynamic)
    rest = iter(dynamic)
    return tuple(static[i] if i in static else next(rest)
                 for i in range(len(static) + len(dynamic)))


def _describe(obj):
    if type(obj) is DiffArray:  # what user code returned, on udiff's arrays
        return _describe(obj.value)
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of {len(obj)} items"
    return "None" if obj is None else f"a {type(obj).__module__}.{type(obj).__qualname__}"


def _value(a):
    return a.value if type(a) is DiffArray else a


def _floating(dtype):
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _is_array(a):
    return hasattr(a, "shape") and hasattr(a, "dtype") or isinstance(a, (int, float, complex))


def _outputs(f, out, backend, start):
    """The output arrays (leaves) of a call, as inner arrays, and the output's structure.

    ``start``: the serial number taken when the call began to run on constants of
    user code (:class:`_UserCode`); None if it ran on inner arrays.
    """
    outs, out_def = tree_flatten(out)
    seen = set()
    for k, o in enumerate(outs):
        if type(o) is DiffArray:
            # Made from a DiffArray the body closes over (not only from its arguments
            # and what it made itself): its derivative would not go through the rule.
            if (_from_outside(o, start, seen) if start is not None
                    else o._parents or o._fn is not None or _traced(o)):
                raise TypeError(
                    f"{f._kind} {f.__name__} closes over a DiffArray that is being "
                    "differentiated (its output depends on an array that is not one of its "
                    "arguments); pass that array as an argument (or its .value to mean a "
                    "constant)"
                )
            outs[k] = o = o.value
        if not _is_array(o):
            raise TypeError(
                f"{f._kind} {f.__name__} must return arrays (or containers of arrays), not "
                f"{_describe(o)}"
            )
        if not backend.inner.is_array(o):
            outs[k] = backend.inner.asarray(o)
    return outs, out_def


def _pick(f, call, out, index, what="output"):
    """Leaf ``index`` (None: the only one) of a result of ``f``'s body or rule."""
    leaves, out_def = tree_flatten(out)
    if out_def != call.out_def:
        raise TypeError(
            f"{f._kind} {f.__name__}: a {what} has the structure {describe(out_def)}, where "
            f"its output has the structure {describe(call.out_def)}"
        )
    return leaves[index or 0]


def _position(call, k):
    """The position among all arguments of differentiable argument ``k``."""
    return [i for i in range(len(call.static) + k + 1) if i not in call.static][k]


class _UserCode(DiffArrayBackend):
    """The backend of the constants that user code of a custom function runs on.

    The body, ``fwd``, ``bwd`` and ``jvp`` of a custom function are user code: they
    get udiff's arrays in every sweep, as a plain function does, so that methods only
    DiffArrays have (``x.at``) and udiff's corrections of the inner library (Dask's nd
    fancy indexing, ``flatten``...) apply there too.  Where the machinery holds inner
    arrays (the call itself, a plain sweep) it hands them over as DiffArray constants
    of this backend, runs the user code under it, and takes what it returns back as
    values (outputs, cotangents, tangents) or as constants (fwd's residuals): the
    small graph their operations record is dropped.  Nothing differentiates with
    respect to these constants, so a custom function called on them alone runs its
    body (``fwd`` calling its own function, JAX's idiom), as on inner arrays.  One
    per inner backend and mode.
    """

    def __init__(self, inner, mode):
        super().__init__(inner, mode)
        # Constants: no derivative of an enclosing operator runs through them, so no
        # operator counts them as arrays from outside its call (one called in a rule on
        # them returns inner arrays, from a plain sweep).
        self.serial = _backend.CONSTANTS

    @property
    def rank(self):
        """Below every differentiation at its vmap level: an operation that mixes these
        constants with another differentiation's arrays is that one's."""
        return (getattr(self.inner, "level", 0), 1, -1)

    def __reduce__(self):
        return (_user_code_of, (self.inner, self.mode))


_USER_CODE = {}  # (inner, mode) -> its _UserCode


def _user_code_of(inner, mode):
    ours = _USER_CODE.get((inner, mode))
    if ours is None:
        ours = _USER_CODE.setdefault((inner, mode), _UserCode(inner, mode))
    return ours


def _user_code(backend):
    """The :class:`_UserCode` for the calls that ``backend`` records, or None where user
    code runs on the inner backend's arrays: inside a vmap, where a differentiation's
    values are BatchedArrays (which go to udiff's batching rules already)."""
    if getattr(backend.inner, "level", 0):
        return None
    ours = _USER_CODE.get((backend.inner, backend.mode))
    return ours if ours is not None else _user_code_of(backend.inner, backend.mode)


def _constants(args):
    """Whether every DiffArray among ``args`` is a constant of user code."""
    return all(type(a._backend) is _UserCode for a in tree_leaves(args) if type(a) is DiffArray)


def _raw(a):
    """Whether ``a`` is an array to hand user code as a DiffArray constant."""
    t = type(a)
    return t is not DiffArray and t is not BatchedArray and a is not None


def _wrapped(call, leaves, backend):
    """The argument ``leaves`` with those that were DiffArrays in the call, if now inner
    arrays, as DiffArray constants of ``backend`` (None: unchanged)."""
    if backend is None:
        return leaves
    return [DiffArray(a, backend) if j in call.diff and _raw(a) else a
            for j, a in enumerate(leaves)]


def _detached(tree, ours):
    """``tree`` with each DiffArray leaf a constant of ``ours`` holding its value."""
    t = type(tree)
    if t is DiffArray:
        return DiffArray(tree.value, ours)
    if (t is tuple or t is list) and all(type(a) is DiffArray or a is None for a in tree):
        return t(a if a is None else DiffArray(a.value, ours) for a in tree)
    return tree_map(lambda a: DiffArray(a.value, ours) if type(a) is DiffArray else a, tree)


def _from_outside(a, start, seen):
    """Whether the graph of DiffArray ``a`` reaches a node recorded by a backend older
    than the serial number ``start`` (other than constants of user code): an array the
    call that began at ``start`` closes over.  Nodes in ``seen`` are known not to."""
    stack = [a]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        b = node._backend
        if type(b) is not _UserCode and getattr(b, "serial", -1) < start:
            return True
        for _, _, p in _diff_array.parents_of(node):
            stack.append(p)
        if node._fn is _diff_array.LAZY:  # _args: (its derivation, its index)
            stack.extend(node._args[0].inputs())
    return False


def _traced(a):
    """Whether ``a`` depends on a variable the functional API is differentiating."""
    stack = getattr(_diff_array._TRACING, "stack", None)
    return bool(stack) and _diff_array._depends_on(a, {id(v) for vs in stack for v in vs})


def _depends(out):
    """Whether a sweep could reach ``out`` (a DiffArray: a variable or a node)."""
    return type(out) is DiffArray


def _variables(call, args, recorded):
    """Variables for the arguments that hold DiffArrays (None elsewhere), and the inputs.

    Recorded: the identity of each input (distinct even where one array is
    passed twice), so the result stays connected to the inputs.  Plain: new
    leaves holding the inner arrays.
    """
    variables = []
    for j, a in enumerate(args):
        if j not in call.diff:
            variables.append(None)
        elif recorded:
            variables.append(np.positive(a))
        else:
            variables.append(DiffArray(a, call.backend))
    inputs = [a if v is None else v for a, v in zip(args, variables)]
    return variables, inputs


def _zeros(shape, dtype, backend, recorded):
    z = backend.inner.asarray(np.zeros(shape, dtype=dtype))
    return DiffArray(z, backend) if recorded else z


def _as_kind(a, backend, recorded):
    """``a`` as the sweep's kind of array: a DiffArray if recorded, else an inner array."""
    if type(a) is DiffArray:
        return a if recorded else a.value
    if not backend.inner.is_array(a):
        a = backend.inner.asarray(a)
    return DiffArray(a, backend) if recorded else a


def _full(d, like, seed, nb, backend, recorded):
    """Derivative ``d`` shaped ``batch + like.shape`` (zeros if None), batch from ``seed``."""
    shape = tuple(np.shape(seed)[:nb]) + tuple(np.shape(_value(like)))
    if d is None:
        return _zeros(shape, _floating(np.result_type(_value(like))), backend, recorded)
    d = _as_kind(d, backend, recorded)
    return d if tuple(d.shape) == shape else np.broadcast_to(d, shape)


def _batched(g, nb, one):
    """``one(g)`` per seed of a batch (the ``nb`` leading axes of ``g``), stacked.

    ``one`` returns a list of derivatives (None where there is none).
    """
    if not nb:
        return one(g)
    batch = tuple(np.shape(g)[:nb])
    m = int(np.prod(batch, dtype=np.int64))
    flat = np.reshape(g, (m,) + tuple(np.shape(g)[nb:]))
    per = [one(flat[k]) for k in range(m)]
    return [None if per[0][j] is None else
            np.reshape(np.stack([p[j] for p in per]), batch + tuple(np.shape(per[0][j])))
            for j in range(len(per[0]))]
