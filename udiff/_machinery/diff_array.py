"""DiffArray, the graph node, and ``apply``, which records one operation."""
import inspect
import threading
import warnings

import numpy as np
import uarray as ua

from . import registry as _registry
from .dispatch import Traced, bind
from .operators import define_operators
from .tree import register_leaf_type

_SEQ = (list, tuple)
_NUMPY = (np.ndarray, np.generic)


def _dtype_of(value):
    """The dtype of an inner array, a Python scalar, or a DiffArray held as a value."""
    if type(value) is DiffArray:
        return value.dtype
    return np.result_type(value)


class DiffArray(Traced, level="_backend"):
    """An array that remembers how it was computed.

    A DiffArray wraps an inner array (:attr:`value`: a ``numpy.ndarray``, a
    Dask or a CuPy array) and, when it is the result of a differentiable
    operation, the operation, its parent DiffArrays and the arguments the
    derivative rule needs.  You do not construct DiffArrays yourself: every
    ``udiff.numpy`` function called under :class:`udiff.DiffArrayBackend`
    (with ``coerce=True``, which turns inner arrays and numbers into
    DiffArrays) returns one, and so do the operators, methods and indexing
    of DiffArrays.  ``y.to(x)`` differentiates.  Inside a function given to
    the functional API (:func:`udiff.grad`...) the arguments are DiffArrays.

    Converting a DiffArray to a constant (``numpy.asarray(y)``,
    ``float(y)``, ``y.item()``) gives its value; inside a function the
    functional API is differentiating, converting an array that depends on
    the variables raises ``TypeError``, as it would drop a derivative.

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
    ...     x = np.asarray([1.0, 2.0])
    ...     y = x * x
    ...     y.to(x)
    DiffArray([2., 4.])
    >>> y.value, y.shape, y.dtype
    (array([1., 4.]), (2,), dtype('float64'))
    """

    # A dict of slots documents ``value`` (its descriptor's docstring); same slots as a tuple.
    __slots__ = {
        "value": "The inner array: a ``numpy.ndarray``, a Dask or a CuPy array "
                 "(what the inner backend computed), detached from the graph.",
        "_parents": None, "_fn": None, "_args": None, "_kwargs": None, "_backend": None,
        "__weakref__": None,
    }
    # The documented signature (inspect.signature, Sphinx's autodoc): none, as
    # DiffArrays are made by udiff's operations, never by users; the constructor's
    # arguments are internal.  A class attribute: the hot __init__ is unchanged.
    __signature__ = inspect.Signature()
    __array_priority__ = 100.0

    def __init__(self, value, backend, parents=(), fn=None, args=None, kwargs=None):
        self.value = value
        self._backend = backend
        self._parents = parents
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    # -- array attributes -----------------------------------------------------
    # (NumPy's arrays and scalars answer from their own attributes: rules read these.)
    shape = property(lambda self: self.value.shape if isinstance(self.value, _NUMPY)
                     else tuple(np.shape(self.value)), doc="The shape.")
    ndim = property(lambda self: self.value.ndim if isinstance(self.value, _NUMPY)
                    else np.ndim(self.value), doc="The number of axes.")
    size = property(lambda self: self.value.size if isinstance(self.value, _NUMPY)
                    else int(np.prod(np.shape(self.value), dtype=np.int64)),
                    doc="The number of elements.")
    dtype = property(lambda self: self.value.dtype if isinstance(self.value, _NUMPY)
                     else _dtype_of(self.value), doc="The dtype.")
    T = property(
        lambda self: bind("numpy.transpose", (self,), {}), doc="The transpose."
    )

    # -- the array API's attributes ---------------------------------------------
    @property
    def mT(self):
        """The matrix transpose: the last two axes swapped (``swapaxes``, differentiable)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs an array of at least 2 dimensions, not {self.ndim}")
        return bind("numpy.swapaxes", (self, -1, -2), {})

    @property
    def device(self):
        """The device of the inner array: its library's (a CuPy array's), else ``"cpu"``
        (NumPy's and Dask's arrays)."""
        return getattr(self.value, "device", "cpu")

    def to_device(self, device, /, *, stream=None):
        """This array, on ``device``: itself where it already is there.

        udiff does not move arrays between devices (that would change their inner
        library): make them on the device they are needed on.

        Raises
        ------
        ValueError
            If ``device`` is not this array's device.
        """
        if device == self.device:
            return self
        raise ValueError(
            f"udiff cannot move a DiffArray from device {self.device!r} to {device!r}: "
            "differentiate on the inner backend of that device (udiff.cupy_backend for a "
            "GPU) and make the arrays there")

    def __dlpack__(self, /, *, stream=None, max_version=None, dl_device=None, copy=None):
        """The inner array's DLPack capsule: its value, detached from the graph (a
        constant, as ``numpy.asarray(x)``; inside a function being differentiated, an
        error for an array that depends on the variables).  The array API's keywords
        that are not None go to the inner array's ``__dlpack__``."""
        kwargs = {k: v for k, v in (("stream", stream), ("max_version", max_version),
                                    ("dl_device", dl_device), ("copy", copy)) if v is not None}
        value = _concrete(self, "__dlpack__() (DLPack export)")
        export = getattr(value, "__dlpack__", None)
        if export is None:
            raise TypeError(f"the inner {type(value).__module__}.{type(value).__name__} of "
                            "this DiffArray has no DLPack interface")
        return export(**kwargs)

    def __dlpack_device__(self):
        """The inner array's DLPack device: ``(device type, device id)``."""
        return self.value.__dlpack_device__()

    def __len__(self):
        return len(self.value)

    def __repr__(self):
        value = self.value
        # A NumPy scalar shows as its number (not np.float64(...)), like a 0-d array.
        text = repr(np.asarray(value) if isinstance(value, np.generic) else value)
        if text.startswith("array("):
            text = text[len("array"):]
        else:
            text = f"({text})"
        return "DiffArray" + text.replace("\n", "\n    ")

    # Conversions to constants give the value, detached from the graph.  Inside
    # a function the functional API is differentiating, detaching an array that
    # depends on its variables would silently drop a derivative: an error there.
    def __array__(self, dtype=None, copy=None):
        return np.asarray(_concrete(self, "numpy.asarray()"), dtype=dtype)

    def __float__(self):
        return float(_concrete(self, "float()"))

    def __complex__(self):
        return complex(_concrete(self, "complex()"))

    def __int__(self):
        return int(_concrete(self, "int()"))

    def __index__(self):
        return int(_concrete(self, "an index"))

    def __bool__(self):
        # Control flow on a value is not a derivative that could be dropped.
        return bool(self.value)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d DiffArray")
        return (self[i] for i in range(len(self)))

    __hash__ = object.__hash__

    def item(self, *args):
        """The element as a Python scalar (``numpy.ndarray.item``).

        Parameters
        ----------
        *args : int or tuple of int
            Which element, as for ``numpy.ndarray.item``; none for a
            one-element array.

        Returns
        -------
        int, float or complex
            The element, detached from the graph.

        Examples
        --------
        >>> import uarray as ua, udiff, udiff.numpy as np
        >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        ...     y = np.sum(np.asarray([1.0, 2.0]))
        >>> y.item()
        3.0
        """
        return np.asarray(_concrete(self, "item()")).item(*args)

    def tolist(self):
        """The value as nested Python lists.

        Returns
        -------
        list or scalar
            ``numpy.ndarray.tolist`` of the value, detached from the graph.

        Examples
        --------
        >>> import uarray as ua, udiff, udiff.numpy as np
        >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        ...     y = np.asarray([[1.0, 2.0]]) * 2.0
        >>> y.tolist()
        [[2.0, 4.0]]
        """
        return np.asarray(_concrete(self, "tolist()")).tolist()

    def __reduce__(self):
        # Keys are names, so that an unpickled (or deep-copied) graph finds its rules.
        return (DiffArray, (self.value, self._backend, self._parents,
                            self._fn, self._args, self._kwargs))

    def __array_namespace__(self, api_version=None):
        """udiff's NumPy namespace, whose functions differentiate DiffArrays."""
        return _registry.namespace()

    def __getitem__(self, index):
        return bind("numpy.getitem", (self, _index_value(index)), {})

    # -- differentiation ------------------------------------------------------
    def to(self, x, grad_variables=None, *, jacobian=False, create_graph=False, chunk_size=None):
        """Differentiate this array with respect to ``x``.

        In ``vjp`` mode (reverse), the vector-Jacobian product
        ``grad_variables @ J`` (default cotangent ``ones_like(self)``, which
        gives the gradient of ``sum(self)``), shaped like ``x``.  In ``jvp``
        mode (forward), the Jacobian-vector product ``J @ grad_variables``
        (default tangent ``ones_like(x)``), shaped like ``self``.  The mode is
        that of the :class:`DiffArrayBackend` that made ``x``.

        Parameters
        ----------
        x : DiffArray, or a container of DiffArrays
            The variables.  A list or tuple gives a tuple, computed in one
            sweep in reverse mode; another container (a dict, a named tuple,
            nested containers) gives the derivatives in the same container.
        grad_variables : array_like, optional
            The cotangent (reverse) or tangent (forward) seed; in forward
            mode, one tangent per variable in ``x``'s structure.
        jacobian : bool
            Return the full Jacobian, shaped ``self.shape + x.shape``, built in
            one batched sweep.
        create_graph : bool
            Record the sweep itself.  Without it the sweep records nothing
            (fastest), and the result is re-derived with recording the first
            time it is differentiated again, so ``y.to(x).to(x)`` is the
            second derivative either way; the result then keeps ``self``'s
            graph alive while it lives.
        chunk_size : int, optional
            With ``jacobian=True``, push at most this many seeds at a time.

        Returns
        -------
        DiffArray or tuple of DiffArray
            The derivative: shaped like ``x`` in reverse mode, like ``self``
            in forward mode, ``self.shape + x.shape`` with ``jacobian=True``;
            for a container ``x``, a tuple or the same container.

        Examples
        --------
        >>> import uarray as ua, udiff, udiff.numpy as np
        >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        ...     x = np.asarray([1.0, 2.0])
        ...     y = x * x
        ...     print(y.to(x).value, y.to(x, jacobian=True).value.tolist())
        [2. 4.] [[2.0, 0.0], [0.0, 4.0]]
        """
        return self._backend.differentiate(self, x, grad_variables, jacobian, create_graph, chunk_size)

    # -- NumPy protocols: numpy functions on DiffArrays are recorded ---------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if kwargs.get("out") is not None:
            return NotImplemented
        kwargs.pop("out", None)
        key = _registry._FROM_NUMPY.get(ufunc) or _registry.key_of_ufunc(ufunc)
        if key is None:
            return NotImplemented
        if method == "__call__":
            return bind(key, inputs, kwargs)
        if method in ("reduce", "accumulate"):
            return bind(f"{key}.{method}", inputs, kwargs)
        return NotImplemented

    def __array_function__(self, func, types, args, kwargs):
        key = _registry._FROM_NUMPY.get(func)
        if key is None:
            raise NotImplementedError(
                f"udiff has no multimethod for numpy.{func.__name__}; it cannot be "
                "applied to a DiffArray"
            )
        return bind(key, args, kwargs)


# -- the variables the functional API is differentiating, per thread ---------------
_TRACING = threading.local()
# How many operations (in this thread) took a DiffArray recorded by another
# DiffArrayBackend of the same inner library: the functional API looks again
# at what a function returned only when this count moved while it ran.
_MIXED = threading.local()


def mixed_count():
    """The number of operations so far, in this thread, that mixed two recordings."""
    return getattr(_MIXED, "count", 0)


def _other_recording(key, backend, a):
    """Note an argument ``a`` recorded by another backend, or raise if its inner
    library differs."""
    if a._backend.inner is not backend.inner:
        raise _mixed(key, backend, a)
    _MIXED.count = getattr(_MIXED, "count", 0) + 1


def tracing(variables):
    """Mark ``variables`` as being differentiated while a function runs (a context).

    Inside, converting an array that depends on them to a constant
    (``float(x)``, ``x.item()``, ``numpy.asarray(x)``...) raises TypeError.
    """
    return _Tracing(variables)


class _Tracing:
    __slots__ = ("variables",)

    def __init__(self, variables):
        self.variables = variables

    def __enter__(self):
        stack = getattr(_TRACING, "stack", None)
        if stack is None:
            stack = _TRACING.stack = []
        stack.append(self.variables)

    def __exit__(self, *exc):
        _TRACING.stack.pop()


def _concrete(a, what):
    """``a.value``, unless ``a`` depends on a variable being differentiated."""
    stack = getattr(_TRACING, "stack", None)
    if stack and _depends_on(a, {id(v) for vs in stack for v in vs}):
        raise TypeError(
            f"{what} of a DiffArray that depends on the variables being differentiated "
            "would make it a constant and silently drop its derivative; keep it an "
            "array (use udiff.numpy functions), or take .value to mean a constant"
        )
    return a.value


def _depends_on(a, variable_ids):
    stack, seen = [a], set()
    while stack:
        node = stack.pop()
        if id(node) in variable_ids:
            return True
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.extend(p for _, _, p in parents_of(node))
        if node._fn is LAZY:  # _args: (its derivation, its index)
            stack.extend(node._args[0].inputs())
    return False


class _Key:
    """A node key (``node._fn``) that names no function: a module-level constant, which
    pickles as its name and prints as ``udiff.NAME``."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"udiff.{self.name}"

    def __reduce__(self):
        return self.name


# The key of a derivative from a plain sweep, until it is re-derived recorded.
LAZY = _Key("LAZY")


# -- item assignment: x[index] = v --------------------------------------------------------
# The key of a DiffArray updated by item assignment (``x[i] = v``).
#
# Such an array ``x`` stands, for the code that uses it from then on, for the
# updated array (a separate node, ``x._args[1]``): its value, shape and
# backend are that node's, and operations record that node as their parent.
# Edges recorded *before* the update still point at ``x`` itself and mean its
# value before the update: a copy of the node it was (``x._args[0]``).  Graph
# walks go through :func:`parents_of`, which turns those edges into edges to
# the copy; sweeps start from :func:`current_of` the outputs and take
# derivatives with respect to :func:`original_of` the variables.
ITEM_ASSIGNED = _Key("ITEM_ASSIGNED")
_ASSIGNED = [False]  # set once any DiffArray was updated by item assignment (then walks check)


def assign(x, updated):
    """Make DiffArray ``x`` stand for ``updated`` (item assignment's new array) from now on."""
    if x._fn is ITEM_ASSIGNED:
        before = x._args[0]
    else:  # the first update: keep the node x was, for the edges recorded until now
        before = DiffArray(x.value, x._backend, x._parents, x._fn, x._args, x._kwargs)
    _ASSIGNED[0] = True
    # _fn last: a reader that sees it changed sees the rest too.
    x.value = updated.value
    x._backend = updated._backend
    x._parents = ((0, (), updated),)  # an identity of the updated node, as an output
    x._kwargs = None
    x._args = (before, updated)
    x._fn = ITEM_ASSIGNED


def current_of(a):
    """The node DiffArray ``a`` stands for now (itself, unless updated by item assignment)."""
    return a._args[1] if a._fn is ITEM_ASSIGNED else a


def original_of(a):
    """The node ``a`` was before any item assignment (the variable, for a variable)."""
    return a._args[0] if a._fn is ITEM_ASSIGNED else a


def parents_of(node):
    """``node._parents``, with edges to an array updated since by item assignment pointing
    at its value before (fixed in place, once)."""
    parents = node._parents
    if _ASSIGNED[0]:
        for _, _, p in parents:
            if p._fn is ITEM_ASSIGNED:
                parents = node._parents = tuple(
                    (i, path, q._args[0] if q._fn is ITEM_ASSIGNED else q)
                    for i, path, q in parents)
                break
    return parents


define_operators(DiffArray, bind)
register_leaf_type(DiffArray)


def _index_value(index):
    """An index with DiffArrays (masks, integer arrays) replaced by their values.

    Indices are never differentiated, so they must not become parents.
    """
    if type(index) is DiffArray:
        return index.value
    if type(index) is tuple:
        return tuple(i.value if type(i) is DiffArray else i for i in index)
    return index


def _unwrap_seq(backend, key, seq, argnum, path, parents):
    """Replace DiffArrays inside a (nested) list/tuple argument by their values."""
    out = None
    for j, a in enumerate(seq):
        t = type(a)
        if t is DiffArray:
            if a._fn is ITEM_ASSIGNED:  # updated by x[i] = v: the updated array
                a = a._args[1]
            if a._backend is not backend:
                _other_recording(key, backend, a)
            value = a.value
            parents.append((argnum, path + (j,), a))
        elif (t is list or t is tuple) and a:
            value = _unwrap_seq(backend, key, a, argnum, path + (j,), parents)
            if value is a:
                continue
        else:
            continue
        if out is None:
            out = list(seq)
        out[j] = value
    if out is None:
        return seq
    return out if type(seq) is list else tuple(out)


def apply(backend, key, args, kwargs):
    """Run ``key`` on the inner backend and record the result in the graph.

    The interpreter of a differentiation (``DiffArrayBackend.process``), which
    :func:`udiff._machinery.dispatch.bind` calls when ``backend`` is the innermost level
    among the arguments.  This is the hot path of every operation: unwrap the
    DiffArray arguments, call the inner implementation directly (no second
    uarray dispatch), wrap array results in DiffArray nodes.  DiffArrays of
    other differentiations of the same inner library become parents too (one
    graph); the arrays of other levels are values to the inner function.
    """
    parents = []
    raw = args
    lists = None  # the positions of list or tuple arguments that hold DiffArrays
    for i, a in enumerate(args):
        t = type(a)
        if t is DiffArray:
            if a._fn is ITEM_ASSIGNED:  # updated by x[i] = v: the updated array
                a = a._args[1]
            if a._backend is not backend:
                _other_recording(key, backend, a)
            if raw is args:
                raw = list(args)
            raw[i] = a.value
            parents.append((i, (), a))
        elif (t is list or t is tuple) and a:
            value = _unwrap_seq(backend, key, a, i, (), parents)
            if value is not a:
                if raw is args:
                    raw = list(args)
                raw[i] = value
                lists = [i] if lists is None else lists + [i]
    if kwargs:
        for a in kwargs.values():
            if type(a) is DiffArray or type(a) in _SEQ and _holds_diffarray(a):
                return apply(backend, key, *_positional(key, args, kwargs))
    if lists is not None:
        known = _WHOLE.get(key, _UNKNOWN)
        for i in lists:
            if known.get(i) is not False:  # (stack, concatenate... take their lists apart)
                converted = _array_likes(backend, key, args, kwargs, lists)
                if converted is not None:
                    return apply(backend, key, converted, kwargs)
                break
    func = backend._impls.get(key)
    if func is None:
        func = backend._impl(key)
        if func is None:
            return _via_default(backend, key, args, kwargs)
    value = func(*raw, **kwargs)
    if not parents or key in _registry._NONDIFF:
        return _wrap_constant(backend, value)
    parents = tuple(parents)
    raw = tuple(raw)
    if backend.inner.is_array(value):
        return DiffArray(value, backend, parents, key, raw, kwargs)
    if isinstance(value, _SEQ):  # several outputs (NumPy's named tuples included)
        nondiff = _registry._NONDIFF
        return _same_kind(value, [
            v if not backend.inner.is_array(v)
            else DiffArray(v, backend) if (key, i) in nondiff
            else DiffArray(v, backend, parents, (key, i), raw, kwargs)
            for i, v in enumerate(value)
        ])
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        # An array of another library: an argument came from another inner
        # backend, and wrapping its result would drop the graph.
        raise TypeError(
            f"udiff: {_registry.key_name(key)} on the {backend.inner.name} inner backend "
            f"returned a {type(value).__module__}.{type(value).__name__}: an argument "
            f"is an array of another library; convert it with np.asarray under the "
            f"{backend.inner.name} backend first"
        )
    return value


def _mixed(key, backend, a):
    return TypeError(
        f"udiff: {_registry.key_name(key)} mixes inner backends: an argument is a DiffArray "
        f"on the {a._backend.inner.name} inner backend, under a DiffArrayBackend on "
        f"{backend.inner.name}; differentiate on one inner backend (create the arrays "
        "under the backend you want; x.value is x's data, as a constant)"
    )


def _holds_diffarray(seq):
    return any(type(a) is DiffArray or type(a) in _SEQ and _holds_diffarray(a) for a in seq)


def _same_kind(seq, items):
    """``items`` in a sequence of ``seq``'s kind: a named tuple stays one."""
    if hasattr(seq, "_fields"):
        return type(seq)(*items)
    return list(items) if type(seq) is list else tuple(items)


def _positional(key, args, kwargs):
    """Move keyword arguments that hold DiffArrays into positions, by signature.

    Rules see differentiable inputs only as positional arguments.
    """
    try:
        bound = inspect.signature(_registry.function(key).arg_extractor).bind(*args, **kwargs)
    except (AttributeError, TypeError, ValueError):
        bound = None
    if bound is not None:
        _fill_defaults_before_arrays(bound)
        args, kwargs = bound.args, bound.kwargs
    for name, a in kwargs.items():
        if type(a) is DiffArray or type(a) in _SEQ and _holds_diffarray(a):
            raise TypeError(
                f"udiff: pass the differentiable array {name}= to "
                f"{_registry.key_name(key)} positionally"
            )
    return args, kwargs


def _fill_defaults_before_arrays(bound):
    """Give the parameters before a DiffArray their defaults, so that it can go by position.

    ``diff(a, prepend=p)`` binds ``p`` after the unbound ``n`` and ``axis``;
    with their defaults filled in, ``bound.args`` reaches ``p``.
    """
    params = list(bound.signature.parameters.values())
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    tracked = [positional.index(n) for n, a in bound.arguments.items() if n in positional
               and (type(a) is DiffArray or type(a) in _SEQ and _holds_diffarray(a))]
    for p in params[:max(tracked, default=0)]:
        if p.name not in bound.arguments and p.default is not p.empty:
            bound.arguments[p.name] = p.default


# The functions that turn a (nested) list of DiffArrays into an array: their rules take
# the list apart (udiff.rules.shape).
_SEQUENCE_TO_ARRAY = frozenset({"numpy.asarray", "numpy.array"})
_UNKNOWN = {}


def _array_likes(backend, key, args, kwargs, positions):
    """``args`` with each list or tuple of DiffArrays that ``key`` takes as one array
    (NumPy's array-like: ``norm([x, y])``, ``sin([x, 1.0])``) made an array by a recorded
    ``asarray``; None where there is none.

    Functions that take a sequence of arrays (``stack``, ``concatenate``) declare its
    elements, not the list, as arrays, and keep it.  Which positions a function takes
    whole is found once (from its declaration) and kept.
    """
    out = None
    for i in positions:
        if _whole(key, args, kwargs, i):
            out = list(args) if out is None else out
            out[i] = apply(backend, "numpy.asarray", (args[i],), {})
    return None if out is None else tuple(out)


# key -> {position: whether the function takes a list there as one array}
_WHOLE = {key: {0: False} for key in _SEQUENCE_TO_ARRAY}


def _whole(key, args, kwargs, i):
    """Whether ``key`` takes its argument ``i`` (a list or tuple) as one array-like (also
    used by vmap's frames)."""
    known = _WHOLE.get(key)
    if known is None:
        known = _WHOLE[key] = {}
    whole = known.get(i)
    if whole is None:
        whole = known[i] = _takes_whole(key, args, kwargs, i)
    return whole


def _takes_whole(key, args, kwargs, i):
    try:
        marked = _registry.function(key).arg_extractor(*args, **kwargs)
    except Exception:  # not a declared function (a custom rule's key), or a bad call
        return False
    return any(isinstance(d, ua.Dispatchable) and d.value is args[i] for d in marked)


def _wrap_constant(backend, value):
    if backend.inner.is_array(value):
        return DiffArray(value, backend)
    if isinstance(value, _SEQ):
        return _same_kind(value, [_wrap_constant(backend, v) for v in value])
    return value


def _via_default(backend, key, args, kwargs):
    # A composite function, or one the inner library lacks but whose multimethod
    # has a default written with other multimethods: run the default under this
    # backend, so each operation it performs is recorded (and differentiated by
    # its own rule).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with ua.set_backend(backend, coerce=True):
            return _registry.default_of(key)(*args, **kwargs)
