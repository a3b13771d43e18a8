"""vmap's level: running one function on BatchedArrays, by its batching rule, its
default, or a loop.

Arrays of several transformations can meet in one call: BatchedArrays of
nested vmaps and DiffArrays of ``grad`` running inside or outside them.
:func:`udiff._machinery.dispatch.bind` hands the call to the innermost level, by rank:

* the frame of the ``L``-th nested vmap has rank ``(L, 0, 0)``, so it outranks
  the frames of outer vmaps;
* a differentiation running inside the vmap of level ``L`` (its inner backend is
  :class:`udiff._transformations.batching_inner.BatchingInner` of level ``L``) has rank
  ``(L, 1, serial)``: it outranks frames up to level ``L``; a differentiation
  outside every vmap has ``(0, 1, serial)``, outranked by every frame.

A frame's :meth:`Frame.process` batches the call; it sees the arrays of other
levels as unbatched values, which it passes on to the functions it calls.
"""
import inspect
import warnings

from .._machinery import diff_array as _diff_array, registry as _registry
from .._machinery.batched_array import BatchedArray, BatchingConversionError
from .._machinery.dispatch import call

_SEQ = (list, tuple)


class BatchingFallbackWarning(UserWarning):
    """A function without a batching rule ran once per example inside :func:`udiff.vmap`.

    The result is right; it only costs a Python loop over the batch.  Define
    a rule with :func:`udiff.defbatch` to batch it.  It is warned once per
    function and process; filter it as any warning (``warnings.filterwarnings(
    "ignore", category=udiff.BatchingFallbackWarning)``, or ``"error"`` to
    find the functions that need a rule).

    Examples
    --------
    A function declared without a batching rule (NumPy's ``fix``):

    >>> import warnings, numpy, uarray as ua, udiff, udiff.numpy as np
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def fix(x):
    ...     return (ua.Dispatchable(x, np.ndarray),)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = udiff.vmap(fix)(numpy.array([[1.5, -1.5], [2.7, -3.2]]))
    >>> out
    array([[ 1., -1.],
           [ 2., -3.]])
    >>> [w.category.__name__ for w in caught]
    ['BatchingFallbackWarning']
    """


_WARNED = set()


class Frame:
    """One running vmap call, the level of its BatchedArrays: its nesting level and
    batch size."""

    __slots__ = ("level", "size", "rank")
    batches = True  # (a DiffArrayBackend's level differentiates)

    def __init__(self, level, size):
        self.level = level
        self.size = size
        self.rank = (level, 0, 0)

    def __repr__(self):
        return f"<vmap frame level={self.level} size={self.size}>"

    def process(self, key, args, kwargs):
        """Run ``key`` on arguments holding this frame's BatchedArrays (the innermost level)."""
        return batch(self, key, args, kwargs)

    def tie(self, other):
        """Two frames of one rank: a batched value escaped the vmap that made it."""
        raise _leaked(other)


def _leaked(a):
    return ValueError(
        "a batched array of another vmap call met this one's: a batched value escaped "
        "the vmap that made it (stored in a global or a closure); return it from that "
        "vmap instead"
    )


def batch(frame, key, args, kwargs):
    """Run ``key`` on arguments that hold ``frame``'s BatchedArrays (see the module docstring)."""
    level = frame.level
    kw_batched = kwargs and any(b for b in _unbatched(kwargs.values(), frame)[0])
    if kw_batched:  # rules see batched arrays by position
        args, kwargs = _by_position(key, args, kwargs)
        kw_batched = any(b for b in _unbatched(kwargs.values(), frame)[0])
    batched, values = _unbatched(args, frame)
    if tuple in map(type, batched) and key not in _SEQUENCE_TO_ARRAY:
        converted = _array_likes(key, args, kwargs, batched)
        if converted is not None:
            return batch(frame, key, converted, kwargs)
    rule = _registry._BATCH.get(key)
    if rule is not None and not kw_batched:
        out = rule(frame.size, batched, *values, **kwargs)
        if out is not NotImplemented:  # a case the rule leaves to the loop
            return _wrap(out, level, frame)
    if key in _registry._COMPOSITE and not kw_batched:
        try:
            return _registry.default_of(key)(*args, **kwargs)
        except BatchingConversionError:
            pass  # the default needs constants: loop over the examples instead
    return fallback(key, frame, args, kwargs)


_SEQUENCE_TO_ARRAY = _diff_array._SEQUENCE_TO_ARRAY


def _array_likes(key, args, kwargs, batched):
    """``args`` with each list holding batched arrays that ``key`` takes as one array-like
    (``norm([x, x + 2])``, ``sin([x, 1.0])``) made one batched array by ``asarray``; None
    where there is none.  (A rule would take such a list for an array whose first axis
    is the list's, not the batch.)"""
    out = None
    for i, (a, b) in enumerate(zip(args, batched)):
        if type(b) is tuple and _diff_array._whole(key, args, kwargs, i):
            out = list(args) if out is None else out
            out[i] = call("numpy.asarray", a)
    return None if out is None else tuple(out)


def _by_position(key, args, kwargs):
    """``(args, kwargs)`` with keyword arguments bound to their positions, as far as the
    function's signature allows (the parameters before them get their defaults)."""
    try:
        signature = inspect.signature(_registry.function(key).arg_extractor)
        bound = signature.bind(*args, **kwargs)
    except (AttributeError, TypeError, ValueError):
        return args, kwargs
    positional = [p.name for p in signature.parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # Positions up to the last one given, the skipped ones at their defaults; the
    # parameters after it stay unset (a rule's extra positional None is not its default).
    given = [i for i, name in enumerate(positional) if name in bound.arguments]
    positional = positional[:given[-1] + 1] if given else []
    for name in positional:
        if name not in bound.arguments:
            bound.arguments[name] = signature.parameters[name].default
    args = tuple(bound.arguments[name] for name in positional)
    kwargs = {k: v for k, v in bound.arguments.items() if k not in positional}
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            kwargs.update(kwargs.pop(p.name, {}))
        elif p.kind is p.VAR_POSITIONAL:
            args += tuple(kwargs.pop(p.name, ()))
    return args, kwargs


def _unbatched(args, frame):
    """``(batched, values)``: which arguments are ``frame``'s BatchedArrays, and the
    arguments with those replaced by their values."""
    batched, values = [], []
    for a in args:
        t = type(a)
        if t is BatchedArray and a.frame is frame:
            batched.append(True)
            values.append(a.value)
        elif (t is list or t is tuple) and a:
            mask, inner = _unbatched(a, frame)
            if any(mask):
                batched.append(tuple(mask))
                values.append(_diff_array._same_kind(a, inner))
            else:
                batched.append(False)
                values.append(a)
        else:
            batched.append(False)
            values.append(a)
    return tuple(batched), values


def _wrap(out, level, frame):
    """A rule's result as BatchedArrays: every array output has the batch axis first."""
    if getattr(out, "ndim", 0) >= 1 and hasattr(out, "dtype"):
        return BatchedArray(out, level, frame)
    if isinstance(out, _SEQ):
        return _diff_array._same_kind(out, [_wrap(o, level, frame) for o in out])
    return out


# -- the fallback: one call per example ------------------------------------------------------
def fallback(key, frame, args, kwargs):
    """``key`` run once per example of ``frame``'s batch, the results stacked.

    Warns once per function (:class:`BatchingFallbackWarning`).
    """
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(
            f"udiff.vmap has no batching rule for {_registry.key_name(key)}; it runs once "
            "per example (correct, but a Python loop); define one with udiff.defbatch",
            BatchingFallbackWarning, stacklevel=4,
        )
    if frame.size == 0:
        return _empty(key, frame, args, kwargs)
    results = [call(key, *_example(args, frame, i), **_example_kw(kwargs, frame, i))
               for i in range(frame.size)]
    return _stacked(results, frame)


def _example(args, frame, i):
    """Example ``i`` of the arguments: ``frame``'s BatchedArrays indexed, the rest as they are."""
    out = []
    for a in args:
        if type(a) is BatchedArray and a.frame is frame:
            out.append(a.value[i])
        elif type(a) in _SEQ:
            out.append(_diff_array._same_kind(a, _example(a, frame, i)))
        else:
            out.append(a)
    return out


def _example_kw(kwargs, frame, i):
    return {k: v for k, v in zip(kwargs, _example(list(kwargs.values()), frame, i))}


def _stacked(results, frame):
    first = results[0]
    if isinstance(first, _SEQ):
        return _diff_array._same_kind(first, [_stacked([r[j] for r in results], frame)
                                        for j in range(len(first))])
    if not hasattr(first, "shape") and not isinstance(first, (int, float, complex)):
        return first  # not an array (a dtype, a shape): the same for every example
    return BatchedArray(call("numpy.stack", results), frame.level, frame)


def _empty(key, frame, args, kwargs):
    """The result for a batch of no examples: run one example of zeros for its shape."""
    import numpy as np

    def zeros(a):
        if type(a) is BatchedArray and a.frame is frame:
            return np.zeros(a.shape, a.dtype)
        if type(a) in _SEQ:
            return type(a)(zeros(b) for b in a)
        return a

    one = call(key, *[zeros(a) for a in args], **{k: zeros(v) for k, v in kwargs.items()})

    def empty(r):
        if isinstance(r, _SEQ):
            return _diff_array._same_kind(r, [empty(x) for x in r])
        if not hasattr(r, "shape"):
            return r
        return BatchedArray(np.zeros((0,) + tuple(r.shape), r.dtype), frame.level, frame)

    return empty(one)

