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
import numpy as np
import unumpy

from .backends._base import key_name

_VJP = {}
_JVP = {}
_NONDIFF = set()
_COMPOSITE = set()

# NumPy callables -> keys, for DiffArray.__array_ufunc__/__array_function__.
_FROM_NUMPY = {}
_MODULES = {"numpy": np, "numpy.linalg": np.linalg, "numpy.fft": np.fft}


def register_namespace(names):
    """Record which NumPy callable each multimethod in ``names`` stands for.

    ``names`` maps attribute names to unumpy ufuncs or multimethods.
    """
    for name, obj in names.items():
        if isinstance(obj, unumpy.ufunc):
            module, own = np, obj.name
        else:
            module, own = _MODULES.get(getattr(obj, "domain", None)), getattr(obj, "__name__", name)
        for attr in (name, own):  # NumPy's function of this name, or an alias of it
            target = getattr(module, attr, None)
            if target is not None and target not in _FROM_NUMPY:
                _FROM_NUMPY[target] = obj


def key_of(func):
    """The rule-table key for ``func``.

    Accepts a unumpy ufunc or multimethod, a udiff multimethod, or the NumPy
    function of the same name.
    """
    if isinstance(func, np.ufunc) or not _is_key(func):
        try:
            return _FROM_NUMPY[func]
        except (KeyError, TypeError):
            raise TypeError(
                f"{func!r} is not a multimethod udiff knows; define it with "
                "uarray.generate_multimethod in the 'numpy' domain first"
            ) from None
    return func


def _is_key(func):
    return isinstance(func, (unumpy.ufunc, tuple)) or hasattr(func, "arg_extractor")


def defvjp(func, *makers, argnums=None):
    """Define the VJP rules of ``func``, one per differentiable argument.

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
    >>> import numpy, uarray as ua, unumpy as np, udiff
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def unwrap(p):  # NumPy, Dask and CuPy all have a function of this name
    ...     return (ua.Dispatchable(p, np.ndarray),)
    >>> udiff.defvjp(unwrap, lambda ans, p: lambda g: g)  # unwrap adds constants
    >>> udiff.grad(lambda p: np.sum(unwrap(p) ** 2))(numpy.array([0.0, 7.0]))
    array([0.        , 1.43362939])
    """
    key = key_of(func)
    argnums = range(len(makers)) if argnums is None else argnums
    table = dict(zip(argnums, makers))
    _VJP[key] = tuple(table.get(i) for i in range(max(table, default=-1) + 1))
    _NONDIFF.discard(key)
    _COMPOSITE.discard(key)  # a rule given by hand wins over the default


def defjvp(func, *rules, argnums=None):
    """Define the JVP rules of ``func``, one per differentiable argument.

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
    >>> import numpy, uarray as ua, unumpy as np, udiff
    >>> @ua.create_multimethod(lambda args, kwargs, d: (tuple(d) + args[1:], kwargs),
    ...                        domain="numpy")
    ... def unwrap(p):
    ...     return (ua.Dispatchable(p, np.ndarray),)
    >>> udiff.defjvp(unwrap, lambda t, ans, p: t)
    >>> udiff.jvp(unwrap, (numpy.array([0.0, 7.0]),), (numpy.array([1.0, 2.0]),))[1]
    array([1., 2.])
    """
    key = key_of(func)
    argnums = range(len(rules)) if argnums is None else argnums
    table = dict(zip(argnums, rules))
    _JVP[key] = tuple(table.get(i) for i in range(max(table, default=-1) + 1))
    _NONDIFF.discard(key)
    _COMPOSITE.discard(key)  # a rule given by hand wins over the default


def defnondiff(*funcs):
    """Declare functions whose results are constants (zero derivative).

    Examples
    --------
    >>> import unumpy as np, udiff
    >>> udiff.defnondiff(np.argmax, np.sign)
    """
    for func in funcs:
        _NONDIFF.add(key_of(func))


def defcomposite(*funcs):
    """Differentiate functions through their default implementations.

    Under :class:`DiffArrayBackend` a composite function runs its multimethod
    default (written with other multimethods), so each operation it is made of
    is recorded and differentiated by its own rule; it needs no rules itself.
    Plain inner backends still run the library's own function.

    Examples
    --------
    >>> import udiff, udiff.numpy as np
    >>> udiff.defcomposite(np.fliplr)
    """
    for func in funcs:
        key = key_of(func)
        if getattr(key, "default", None) is None:
            raise ValueError(f"{key_name(key)} has no default implementation to differentiate")
        _COMPOSITE.add(key)


def has_rule(key):
    """Whether ``key`` has a VJP or JVP rule of its own (for one of its outputs, if several)."""
    return any(k in _VJP or k in _JVP for k in (key, (key, 0)))


def stable_name(key):
    """A name for ``key`` that survives pickling: ``("numpy", "sin")``, ``(("numpy", "add.reduce"), 1)``.

    Rule keys are unumpy/udiff objects, which pickling or copying would
    duplicate (and the duplicates have no rules); their names do not change.
    Keys udiff does not know travel as themselves.
    """
    if key is None or not isinstance(key, (unumpy.ufunc, tuple)) and not hasattr(key, "arg_extractor"):
        return key
    if isinstance(key, tuple) and isinstance(key[1], int):  # (key, output index)
        return _StableName((stable_name(key[0]), key[1]))
    name = _StableName((getattr(key[1] if isinstance(key, tuple) else key, "domain", "numpy"),
                        key_name(key)))
    return name if _known_keys().get(name) == key else key


class _StableName(tuple):
    """A rule key's stable name (see :func:`stable_name`)."""

    __slots__ = ()

    def __reduce__(self):
        return (_StableName, (tuple(self),))


def from_stable_name(name):
    """The key a :func:`stable_name` stands for."""
    if type(name) is not _StableName:
        return name
    if isinstance(name[1], int):
        return (from_stable_name(name[0]), name[1])
    return _known_keys()[name]


def _known_keys():
    size = len(_VJP) + len(_JVP) + len(_NONDIFF) + len(_COMPOSITE) + len(_FROM_NUMPY)
    if _KNOWN.get("size") != size:
        _KNOWN["keys"] = _name_keys()
        _KNOWN["size"] = size
    return _KNOWN["keys"]


_KNOWN = {}


def _name_keys():
    keys = {}
    for table in (_VJP, _JVP, _NONDIFF, _COMPOSITE, _FROM_NUMPY.values()):
        for key in table:
            if isinstance(key, tuple) and isinstance(key[1], int):
                key = key[0]
            sub = key[1] if isinstance(key, tuple) else key
            keys[_StableName((getattr(sub, "domain", "numpy"), key_name(key)))] = key
    return keys


def vjp_maker(key, argnum):
    """The VJP maker of argument ``argnum`` of ``key``, or a clear error."""
    makers = _VJP.get(key)
    maker = makers[argnum] if makers is not None and argnum < len(makers) else None
    if maker is None:
        raise NotImplementedError(_missing("VJP", key, argnum, makers))
    return maker


def jvp_rule(key, argnum):
    """The JVP rule of argument ``argnum`` of ``key``, or a clear error."""
    rules = _JVP.get(key)
    rule = rules[argnum] if rules is not None and argnum < len(rules) else None
    if rule is None:
        raise NotImplementedError(_missing("JVP", key, argnum, rules))
    return rule


def _missing(kind, key, argnum, rules):
    if rules is None:
        return f"udiff has no {kind} rule for {key_name(key)}"
    return f"udiff cannot differentiate {key_name(key)} with respect to argument {argnum}"
