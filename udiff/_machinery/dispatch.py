"""``bind``: the one dispatch point of every operation on udiff's arrays.

Every function of ``udiff.numpy``, every operator, method and NumPy protocol
call on a DiffArray or a BatchedArray, every multimethod that reaches one of
udiff's uarray backends, and every call that rules and batching rules make,
goes through :func:`bind`, as a primitive does through ``bind`` in JAX.

Traced arrays carry their *level*, the running transformation that made them:
a DiffArray its :class:`udiff.DiffArrayBackend` (a differentiation), a
BatchedArray its vmap call's frame.  A level has

* ``rank``, a tuple that orders levels from outermost to innermost: the
  transformation entered last has the highest rank;
* ``process(key, args, kwargs)``, its interpreter of one operation: record a
  node (differentiation) or run the batching rule (vmap).

``bind`` finds the traced arguments (also inside lists and tuples), takes the
level of the highest rank and hands it the call.  That level sees the arrays of
other levels as plain values: it unwraps only its own, and what it computes on
their values goes through ``bind`` again, where the next level takes it.  No
other place compares levels.  With no traced argument the call runs on the
arrays' own library (NumPy, Dask, CuPy).
"""
import operator

import uarray as ua

from . import registry as _registry
from ..backends._base import backend_for_value

_SEQ = (list, tuple)
_LEVEL_OF = {}  # a traced array type -> the function that gives an array's level


class Traced:
    """The base of udiff's traced array types.

    A subclass names the attribute that holds its level:
    ``class DiffArray(Traced, level="_backend")``.
    """

    __slots__ = ()

    def __init_subclass__(cls, level, **kwargs):
        super().__init_subclass__(**kwargs)
        _LEVEL_OF[cls] = operator.attrgetter(level)


def level_of(a):
    """The level of a traced array ``a``, or None for any other value."""
    get = _LEVEL_OF.get(type(a))
    return None if get is None else get(a)


def _inner(top, level):
    """The inner of two distinct levels (``top`` on a tie, unless ``top`` refuses it)."""
    if level.rank > top.rank:
        return level
    if level.rank == top.rank:
        top.tie(level)
    return top


def _scan(items, top):
    for a in items:
        get = _LEVEL_OF.get(type(a))
        if get is not None:
            level = get(a)
            if top is None:
                top = level
            elif level is not top:
                top = _inner(top, level)
        elif type(a) in _SEQ and a:
            top = _scan(a, top)
    return top


def top_level(args, kwargs=None):
    """The innermost level among the traced arrays in ``args`` and ``kwargs``' values
    (lists and tuples searched too), or None.

    Raises
    ------
    ValueError
        Two levels of the same rank met (a vmap's batched array escaped its call).
    """
    top = _scan(args, None)
    if kwargs:
        top = _scan(kwargs.values(), top)
    return top


def bind(key, args, kwargs, current=None, untraced=None):
    """Run the function ``key`` on ``args`` and ``kwargs`` at the innermost level.

    Parameters
    ----------
    key : str or object
        The function's key (``"numpy.sin"``), or a custom function object.
    args : tuple
    kwargs : dict
    current : level, optional
        The level of the uarray backend the call reached (a DiffArrayBackend
        set with ``uarray.set_backend``): a candidate like the arguments'
        levels, and the one that handles a call with no traced argument.
    untraced : callable, optional
        ``untraced(*args, **kwargs)`` runs a call with no traced argument and
        no ``current`` level; by default it runs on the arrays' own library.

    Returns
    -------
    The result, as the level (or the inner library) gives it.

    Examples
    --------
    >>> import numpy
    >>> from udiff._machinery.dispatch import bind
    >>> bind("numpy.add", (numpy.ones(2), 1.0), {})
    array([2., 2.])
    """
    # _scan(args, None), written out: this loop runs on every operation, and the call
    # costs more than the loop on one or two arguments.
    top = None
    for a in args:
        get = _LEVEL_OF.get(type(a))
        if get is not None:
            level = get(a)
            if top is None:
                top = level
            elif level is not top:
                top = _inner(top, level)
        elif type(a) in _SEQ and a:
            top = _scan(a, top)
    if kwargs:
        top = _scan(kwargs.values(), top)
    if current is not None:
        top = current if top is None or top is current else _inner(top, current)
    if top is not None:
        return top.process(key, args, kwargs)
    if untraced is not None:
        return untraced(*args, **kwargs)
    return run_on_values(key, args, kwargs)


def call(key, *args, **kwargs):
    """Run ``key`` on whatever arrays the arguments hold, through :func:`bind`.

    This is what udiff's functions do outside any uarray backend (their
    default): NumPy's function on NumPy arrays, Dask's on Dask arrays, CuPy's
    on CuPy arrays; on udiff's arrays, their innermost level's.  Rules use it
    for operations NumPy's dispatch protocols do not carry to every library
    (``take_along_axis`` on Dask, udiff's own helpers).

    Raises
    ------
    uarray.BackendNotImplementedError
        (a NotImplementedError) Naming the function and the array type, when
        that library has no such function (and udiff no implementation of it
        in terms of others).
    """
    if type(key) is not str:  # one of udiff's functions
        key = key.key
    return bind(key, args, kwargs)


def run_on_values(key, args, kwargs):
    """``key`` run by the library of its (untraced) array arguments."""
    arrays = _arrays_in(args, kwargs)
    # The array of a library other than NumPy decides (NumPy arrays mix with any).
    first = next((a for a in arrays if type(a).__module__.split(".")[0] != "numpy"),
                 arrays[0] if arrays else None)
    inner = backend_for_value(first)
    try:
        func = inner.impl(key)
    except NotImplementedError:
        kind = type(first)
        raise ua.BackendNotImplementedError(
            f"udiff: {_registry.key_name(key)} is not available for "
            f"{kind.__module__}.{kind.__qualname__} arrays: {inner.name} has no such "
            "function"
        ) from None
    return func(*args, **kwargs)


def _arrays_in(args, kwargs):
    """The arrays among the arguments, also inside lists and tuples."""
    found = []
    stack = list(args) + list(kwargs.values())
    while stack:
        a = stack.pop(0)
        if type(a) in _SEQ:
            if a and not isinstance(a[0], (int, float, complex)):  # not a list of numbers
                stack[:0] = a
        elif hasattr(a, "shape") and hasattr(a, "dtype"):
            found.append(a)
    return found
