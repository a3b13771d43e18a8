"""The rule tables: one VJP and one JVP per differentiable function.

Rules follow autograd's signatures.  A VJP rule for argument ``i`` of ``f``
is ``maker(ans, *args, **kwargs) -> (lambda g: cotangent_i)``; a JVP rule is
``jvp(t, ans, *args, **kwargs) -> tangent of ans``.  ``args`` and ``kwargs``
are exactly what the inner function received; ``ans`` is its result.  In a
plain sweep they are inner arrays; in a recorded (``create_graph=True``)
sweep they are DiffArrays, so rules must be written with NumPy functions
(which dispatch to Dask, CuPy or DiffArray through NumPy's
``__array_function__`` protocol) or udiff multimethods, never by converting
to ``numpy.ndarray``.

Cotangents and tangents may carry extra *leading* batch axes (Jacobians push
a stack of seeds through one sweep): rules address axes from the end.
"""
import weakref

import numpy as np

_VJP = {}
_JVP = {}
_NONDIFF = set()
_COMPOSITE = set()
_BATCH = {}  # key -> batching rule (udiff.defbatch)

# NumPy callables -> keys, for DiffArray.__array_ufunc__/__array_function__.
_FROM_NUMPY = {}
_MODULES = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}
# Keys -> udiff's functions, and uarray multimethods -> keys.
_FUNCTIONS = {}
_KEYS = {}
_UFUNC_METHODS = ("__call__", "reduce", "accumulate")


def register_function(func):
    """Make udiff's function ``func`` (a ``_declare.Function``) known by its key."""
    _FUNCTIONS[func.key] = func
    _KEYS[func.multimethod] = func.key


def function(key):
    """udiff's function (or another package's multimethod) of this key, or None."""
    return _FUNCTIONS.get(key)


def default_of(key):
    """The implementation of ``key`` written with other multimethods, or None."""
    return getattr(_FUNCTIONS.get(key), "default", None)


_NAMESPACE = []  # the module udiff's arrays give as their __array_namespace__()


def register_namespace(names, module=None):
    """Record which NumPy callable each function in ``names`` stands for.

    ``names`` maps attribute names to udiff's functions; ``module`` (``udiff.numpy``)
    becomes the namespace of udiff's arrays (:func:`namespace`).
    """
    if module is not None:
        _NAMESPACE[:] = [module]
    for name, obj in names.items():
        module = _MODULES.get(obj.domain)
        for attr in (name, obj.__name__):  # NumPy's function of this name, or an alias of it
            target = getattr(module, attr, None)
            if target is not None and target not in _FROM_NUMPY:
                _FROM_NUMPY[target] = obj.key


def namespace():
    """udiff's NumPy namespace (``udiff.numpy``), once ``udiff`` is imported."""
    return _NAMESPACE[0]


# Functions that find the key of another package's ufunc (SciPy's), registered by the
# namespace that declares its functions (udiff.scipy.special): the machinery imports
# no such package.  Each takes a ufunc and returns a key, or None when the ufunc is
# not its package's; it may raise, naming a function of its package that udiff lacks.
_UFUNC_RESOLVERS = []


def register_ufunc_resolver(resolver):
    """Let ``resolver(ufunc)`` name the key of ufuncs that are not NumPy's.

    ``DiffArray.__array_ufunc__`` (and a batched array's) asks the resolvers about a
    ufunc it finds no key for; the key found is remembered with NumPy's.
    """
    _UFUNC_RESOLVERS.append(resolver)


def key_of_ufunc(ufunc):
    """The key of a ufunc that is not NumPy's (``scipy.special.erf``), or None.

    Raises
    ------
    NotImplementedError
        From a resolver, naming a function of its package that udiff lacks.
    """
    for resolver in _UFUNC_RESOLVERS:
        key = resolver(ufunc)
        if key is not None:
            _FROM_NUMPY[ufunc] = key
            return key
    return None


def key_of_call(method, args):
    """The key of a uarray multimethod call, and the arguments without a ufunc.

    udiff's own multimethods have their keys.  Others (unumpy's, a user's) are
    matched by domain and name: ``unumpy.sin`` is ``"numpy.sin"``, a call of
    ``unumpy.ufunc.reduce`` on ``unumpy.add`` is ``"numpy.add.reduce"``.
    """
    key = _KEYS.get(method)
    if key is not None:
        return key, args
    name = method.__name__
    if name in _UFUNC_METHODS + ("types", "identity") and args and hasattr(args[0], "nin"):
        suffix = "" if name == "__call__" else "." + name
        return f"{method.domain}.{args[0].name}{suffix}", args[1:]
    key = _foreign_key(method)
    _KEYS[method] = key
    return key, args


def _foreign_key(method):
    key = f"{method.domain}.{method.__name__}"
    _FUNCTIONS.setdefault(key, method)
    return key


def key_of(func):
    """The rule-table key (a stable name) for ``func``.

    Accepts a name (``"numpy.linalg.inv"``, ``"numpy.add.reduce"``), a
    function of ``udiff.numpy`` (``unp.add.reduce`` included), the NumPy
    function of the same name (``numpy.sin``, ``numpy.add.reduce``), a
    multimethod or ufunc of another package (unumpy's: matched by domain and
    name), or ``(func, i)`` for output ``i`` of a function with several.
    """
    if isinstance(func, str):
        return func
    if isinstance(func, tuple):
        if isinstance(func[1], int):
            return (key_of(func[0]), func[1])
        method, uf = func  # unumpy's (ufunc.reduce, add)
        return f"{key_of(uf)}.{method.__name__}"
    key = getattr(func, "key", None)
    if isinstance(key, str):
        return key
    owner = getattr(func, "__self__", None)
    if isinstance(owner, np.ufunc) and func.__name__ in _UFUNC_METHODS:
        return f"{key_of(owner)}.{func.__name__}"
    if func in _FROM_NUMPY if _hashable(func) else False:
        return _FROM_NUMPY[func]
    if hasattr(func, "nin") and isinstance(getattr(func, "name", None), str):
        return f"numpy.{func.name}"  # another package's ufunc object
    if hasattr(func, "arg_extractor") and hasattr(func, "domain"):
        return _foreign_key(func)
    raise TypeError(
        f"{func!r} is not a function udiff knows; declare it as a uarray multimethod "
        "in the 'numpy' domain first (to give a Python function a derivative of its own, "
        "decorate it with @udiff.custom_vjp and call f.defvjp(fwd, bwd), or @udiff.custom_jvp "
        "and f.defjvp(jvp))"
    )


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def key_name(key):
    """A readable name for a key, used in every error message: ``sin``, ``linalg.inv``."""
    if isinstance(key, tuple):
        return f"{key_name(key[0])} (output {key[1]})"
    if isinstance(key, str):
        return key[len("numpy."):] if key.startswith("numpy.") else key
    return getattr(key, "__name__", repr(key))


class ImplCache(dict):
    """A backend's cache of the callables it runs per key, emptied whenever a rule,
    a non-differentiable or composite declaration changes what a key runs."""

    __slots__ = ("__weakref__",)
    __hash__ = object.__hash__  # (by identity, for the set of caches)

    def __init__(self):
        super().__init__()
        _CACHES.add(self)


_CACHES = weakref.WeakSet()


def _rules_changed():
    for cache in list(_CACHES):
        cache.clear()


def defvjp(func, *makers, argnums=None):
    """Define the VJP rules of ``func``, one per differentiable argument.

    It only registers the rules (in the table every reverse sweep reads) and
    returns ``None``.  A rule given by hand replaces what :func:`defnondiff`
    or :func:`defcomposite` declared for ``func``.

    Parameters
    ----------
    func : multimethod or ufunc
        A unumpy/udiff multimethod (or the NumPy function of the same name).
    *makers : callable or None
        ``makers[i](ans, *args, **kwargs)`` returns ``vjp(g)``, the
        cotangent of argument ``argnums[i]``.  For an argument that is a
        sequence of arrays (``concatenate``), ``vjp(g)`` returns a sequence.
        ``None`` declares that argument non-differentiable (a differentiable
        input there raises an error naming the function).
    argnums : sequence of int, optional
        Which arguments the makers are for; default ``0, 1, ...``.

    Examples
    --------
    >>> import numpy, uarray as ua, udiff, udiff.numpy as np
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def asarray_chkfinite(a):  # the inner library runs its function of this name
    ...     return (ua.Dispatchable(a, np.ndarray),)
    >>> udiff.defvjp(asarray_chkfinite, lambda ans, a: lambda g: g)  # the identity
    >>> udiff.grad(lambda a: np.sum(asarray_chkfinite(a) ** 2))(numpy.array([0.0, 7.0]))
    array([ 0., 14.])
    """
    key = key_of(func)
    argnums = range(len(makers)) if argnums is None else argnums
    table = dict(zip(argnums, makers))
    _VJP[key] = tuple(table.get(i) for i in range(max(table, default=-1) + 1))
    _NONDIFF.discard(key)
    _COMPOSITE.discard(key)  # a rule given by hand wins over the default
    _rules_changed()


def defjvp(func, *rules, argnums=None):
    """Define the JVP rules of ``func``, one per differentiable argument.

    It only registers the rules (in the table every forward sweep reads) and
    returns ``None``.  A rule given by hand replaces what :func:`defnondiff`
    or :func:`defcomposite` declared for ``func``.

    Parameters
    ----------
    func : multimethod or ufunc
        As for :func:`defvjp`.
    *rules : callable or None
        ``rules[i](t, ans, *args, **kwargs)`` returns the tangent of ``ans``
        caused by tangent ``t`` of argument ``argnums[i]`` (a list with
        ``None`` for constant entries when that argument is a sequence).
    argnums : sequence of int, optional
        Which arguments the rules are for; default ``0, 1, ...``.

    Examples
    --------
    >>> import numpy, uarray as ua, udiff, udiff.numpy as np
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def asarray_chkfinite(a):
    ...     return (ua.Dispatchable(a, np.ndarray),)
    >>> udiff.defjvp(asarray_chkfinite, lambda t, ans, a: t)
    >>> udiff.jvp(asarray_chkfinite, (numpy.array([0.0, 7.0]),), (numpy.array([1.0, 2.0]),))[1]
    array([1., 2.])
    """
    key = key_of(func)
    argnums = range(len(rules)) if argnums is None else argnums
    table = dict(zip(argnums, rules))
    _JVP[key] = tuple(table.get(i) for i in range(max(table, default=-1) + 1))
    _NONDIFF.discard(key)
    _COMPOSITE.discard(key)  # a rule given by hand wins over the default
    _rules_changed()


def defnondiff(*funcs):
    """Declare functions whose results are constants (zero derivative).

    Their results are recorded as constants: derivatives do not flow
    through them, in either mode.  It only registers the declaration and
    returns ``None``.

    Parameters
    ----------
    *funcs : multimethod or ufunc
        udiff's (or unumpy's) functions, or the NumPy functions of the same
        names.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.defnondiff(np.argmax, np.argsort)  # (udiff declares these two already)
    >>> udiff.grad(lambda x: np.sum(x * np.argmax(x)))(numpy.array([1.0, 3.0]))
    array([1., 1.])
    """
    for func in funcs:
        _NONDIFF.add(key_of(func))
    _rules_changed()


def defcomposite(*funcs):
    """Differentiate functions through their default implementations.

    Under :class:`DiffArrayBackend` a composite function runs its multimethod
    default (written with other multimethods), so each operation it is made of
    is recorded and differentiated by its own rule; it needs no rules itself.
    Plain inner backends still run the library's own function.  It only
    registers the declaration and returns ``None``.

    Parameters
    ----------
    *funcs : multimethod or ufunc
        udiff's (or unumpy's) functions that have a default implementation,
        or the NumPy functions of the same names.

    Raises
    ------
    ValueError
        If a function has no default implementation.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> udiff.defcomposite(np.fliplr)  # (udiff declares it so already)
    >>> udiff.grad(lambda x: np.sum(np.fliplr(x)[0] * numpy.array([1.0, 2.0])))(
    ...     numpy.array([[5.0, 6.0]]))
    array([[2., 1.]])
    """
    for func in funcs:
        key = key_of(func)
        if default_of(key) is None:
            raise ValueError(f"{key_name(key)} has no default implementation to differentiate")
        _COMPOSITE.add(key)
    _rules_changed()


def defbatch(func, rule):
    """Define the batching rule of ``func``, which :func:`udiff.vmap` runs.

    It only registers the rule and returns ``None``.

    Parameters
    ----------
    func : multimethod or ufunc
        As for :func:`defvjp`.
    rule : callable
        ``rule(axis_size, batched, *args, **kwargs)`` returns ``func``'s
        result for every example at once, each output with the batch axis
        first.  ``args`` and ``kwargs`` are ``func``'s arguments with each
        batched array replaced by its values stacked on axis 0 (of length
        ``axis_size``); ``batched`` tells which: one bool per positional
        argument (a tuple of them for a sequence of arrays).  Unbatched
        arguments are passed as they are.  A rule computes with NumPy's or
        udiff's functions (never by converting to ``numpy.ndarray``), so that
        the values may be DiffArrays, Dask arrays or an outer vmap's batched
        arrays, and ``grad``, ``vmap`` and ``jacfwd`` nest in any order.
        A rule may return ``NotImplemented`` for a case it does not batch:
        the function then runs once per example.

    Examples
    --------
    >>> import numpy, uarray as ua, udiff, udiff.numpy as np
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def unwrap(p):
    ...     return (ua.Dispatchable(p, np.ndarray),)
    >>> udiff.defbatch(unwrap, lambda size, batched, p: numpy.unwrap(p))  # along the last axis
    >>> udiff.vmap(unwrap)(numpy.array([[0.0, 7.0], [0.0, 1.0]]))
    array([[0.        , 0.71681469],
           [0.        , 1.        ]])
    """
    _BATCH[key_of(func)] = rule


def has_rule(key):
    """Whether ``key`` has a VJP or JVP rule of its own (for one of its outputs, if several)."""
    return any(k in _VJP or k in _JVP for k in (key, (key, 0)))


def _carried(key, kind):
    """The rules a key object carries itself (udiff's custom functions), or None.

    Such functions are not entered in the tables, which would keep every one
    ever made (``checkpoint(f)`` in a loop) alive for good.
    """
    owner, index = key, None
    if type(key) is tuple and not isinstance(key[0], str):  # (function, output index)
        owner, index = key
    rules = getattr(owner, "rules", None) if not isinstance(owner, (str, tuple)) else None
    return rules(kind, index) if rules is not None else None


def vjp_maker(key, argnum):
    """The VJP maker of argument ``argnum`` of ``key``, or a clear error."""
    makers = _VJP.get(key)
    if makers is None:
        makers = _carried(key, "vjp")
    maker = makers[argnum] if makers is not None and argnum < len(makers) else None
    if maker is None:
        raise NotImplementedError(_missing("VJP", key, argnum, makers))
    return maker


def jvp_rule(key, argnum):
    """The JVP rule of argument ``argnum`` of ``key``, or a clear error."""
    rules = _JVP.get(key)
    if rules is None:
        rules = _carried(key, "jvp")
    rule = rules[argnum] if rules is not None and argnum < len(rules) else None
    if rule is None:
        raise NotImplementedError(_missing("JVP", key, argnum, rules))
    return rule


def _missing(kind, key, argnum, rules):
    if rules is None:
        return f"udiff has no {kind} rule for {key_name(key)}"
    return f"udiff cannot differentiate {key_name(key)} with respect to argument {argnum}"
