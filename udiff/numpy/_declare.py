"""How udiff declares its NumPy namespace.

Every function of ``udiff.numpy`` is a :class:`Function`: a uarray multimethod
of a NumPy domain (``numpy``, ``numpy.linalg``, ``numpy.fft``), with NumPy's
name, signature and defaults, so that any uarray backend of the ``numpy``
domain can run it, plus

* a fast path: called on udiff's arrays (a :class:`udiff.DiffArray`, a
  BatchedArray inside :func:`udiff.vmap`) it goes to the innermost
  transformation among them (:func:`udiff._machinery.dispatch.bind`), without a uarray
  dispatch;
* a uarray default that runs it on its arguments' own library (NumPy, Dask,
  CuPy) when no backend is set, so that code written with ``udiff.numpy`` is
  plain NumPy outside :class:`udiff.DiffArrayBackend`;
* a stable name, its *key* (``"numpy.sin"``, ``"numpy.add.reduce"``,
  ``"numpy.linalg.inv"``), by which rules and inner backends find it.

Most declarations are generated (:func:`generate`) from NumPy's own signature
and the names of the parameters that are arrays; the rest are written as
extractor functions (:func:`multimethod`).
"""
import functools
import inspect

import numpy as np
from uarray import Dispatchable, create_multimethod

from .._machinery import registry as _registry
from .._machinery.dispatch import bind, call
from ..backends._base import ndarray

def array(a):
    """``a`` marked as an array argument."""
    return Dispatchable(a, ndarray)


class Function:
    """A function of udiff's NumPy namespace (see the module docstring).

    Parameters
    ----------
    key : str
        The stable name, ``domain + "." + name``.
    extractor : callable
        The argument extractor, with NumPy's signature; it returns the
        array arguments as ``Dispatchable``s.
    replacer : callable
        uarray's argument replacer for ``extractor``.
    default : callable, optional
        An implementation written with other functions of the namespace:
        inner libraries that lack the function run it, and
        :func:`udiff.defcomposite` differentiates through it.
    """

    def __init__(self, key, extractor, replacer, default=None):
        self.key = key
        self.domain, _, name = key.rpartition(".")
        self.__name__ = name
        self.__qualname__ = name
        self.__doc__ = extractor.__doc__
        self.__module__ = "udiff.numpy" if self.domain == "numpy" else "udiff." + self.domain
        self.arg_extractor = extractor
        self.default = default
        self.multimethod = create_multimethod(
            replacer, domain=self.domain, default=functools.partial(call, key)
        )(extractor)
        _registry.register_function(self)

    @property
    def __signature__(self):
        return inspect.signature(self.arg_extractor)

    def __repr__(self):
        return f"<udiff function {self.key}>"

    def __reduce__(self):
        return (_registry.function, (self.key,))

    def __call__(self, *args, **kwargs):
        return bind(self.key, args, kwargs, untraced=self.multimethod)


class ufunc(Function):
    """A universal function of udiff's namespace, with ``reduce`` and ``accumulate``.

    ``nin``, ``nout``, ``identity`` and ``types`` are NumPy's for the ufunc of
    the same name.
    """

    def __init__(self, name, nin, nout):
        self.name = name
        self.nin = nin
        self.nout = nout
        inputs = ("x",) if nin == 1 else tuple(f"x{i + 1}" for i in range(nin))
        signature = inspect.Signature(
            [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in inputs]
            + [inspect.Parameter("out", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None),
               inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD)]
        )
        super().__init__(f"numpy.{name}", *_generated(name, signature, inputs))
        for method in ("reduce", "accumulate"):
            signature = inspect.signature(getattr(np.add, method))
            setattr(self, method, Function(
                f"numpy.{name}.{method}", *_generated(method, signature, ("array",))))

    def __repr__(self):
        return f"<ufunc '{self.name}'>"

    nargs = property(lambda self: self.nin + self.nout)
    identity = property(lambda self: getattr(np, self.name).identity)
    types = property(lambda self: getattr(np, self.name).types)
    ntypes = property(lambda self: len(self.types))


def generate(name, arrays, signature=None, default=None, domain="numpy", doc=None):
    """Declare NumPy's function ``name`` with NumPy's own signature.

    Parameters
    ----------
    name : str
        The function's name in ``domain``.
    arrays : str
        The array parameters, separated by spaces: ``a`` for an array,
        ``*arys`` for varargs of arrays, ``[arrays]`` for a sequence of arrays,
        ``[[arrays]]`` for nested sequences (``block``).
    signature : str, optional
        ``"(a, axis=None)"``, where the installed NumPy has no function of
        that name (or none with a signature).
    default : callable, optional
        See :class:`Function`.
    domain : str
        ``numpy``, ``numpy.linalg`` or ``numpy.fft``.
    doc : str, optional
        The docstring; by default it names NumPy's function.
    """
    if signature is None:
        module = np if domain == "numpy" else getattr(np, domain[len("numpy."):])
        sig = inspect.signature(getattr(module, name))
    else:
        namespace = {}
        exec(f"def f{signature}: pass", {}, namespace)  # noqa: S102 - a literal from our table
        sig = inspect.signature(namespace["f"])
    extractor, replacer = _generated(name, sig, tuple(arrays.split()))
    extractor.__doc__ = doc or f"NumPy's ``{domain}.{name}``, differentiable."
    return Function(f"{domain}.{name}", extractor, replacer, default)


class _Default:
    """A parameter default, shown by name in generated source."""

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"_d{self.index}"


def _generated(name, signature, arrays):
    """An extractor with ``signature`` and the replacer for it."""
    params = list(signature.parameters.values())
    namespace = {"_D": Dispatchable, "_nd": ndarray, "_flat": _flat}
    for i, p in enumerate(params):
        if p.default is not p.empty:
            namespace[f"_d{i}"] = p.default
    text = str(signature.replace(
        parameters=[p.replace(default=_Default(i), annotation=p.empty) if p.default is not p.empty
                    else p.replace(annotation=p.empty) for i, p in enumerate(params)],
        return_annotation=signature.empty))
    items = []
    for spec in arrays:
        if spec.startswith("*"):
            items.append(f"*(_D(v, _nd) for v in {spec[1:]})")
        elif spec.startswith("[["):
            items.append(f"*_flat({spec.strip('[]')}, True)")
        elif spec.startswith("["):
            items.append(f"*_flat({spec.strip('[]')}, False)")
        else:
            items.append(f"_D({spec}, _nd)")
    source = f"def {name}{text}:\n    return ({', '.join(items)}{',' if items else ''})\n"
    exec(source, namespace)  # noqa: S102 - generated from a signature and our table
    return namespace[name], _replacer(params, arrays)


def _flat(seq, nested):
    """The entries of a sequence of arrays, as Dispatchables (``nested``: any depth)."""
    for v in seq:
        if nested and isinstance(v, (list, tuple)):
            yield from _flat(v, True)
        else:
            yield Dispatchable(v, ndarray)


def _rebuilt(seq, values, nested):
    return type(seq)(
        _rebuilt(v, values, True) if nested and isinstance(v, (list, tuple)) else next(values)
        for v in seq
    )


def _replacer(params, arrays):
    """uarray's argument replacer for the array parameters ``arrays`` of ``params``."""
    positions = {p.name: i for i, p in enumerate(params)
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)}
    plan = [(spec.strip("*[]"), spec[:2]) for spec in arrays]

    def replace(args, kwargs, dispatchables):
        args, kwargs, values = list(args), dict(kwargs), iter(dispatchables)
        for name, kind in plan:
            pos = positions.get(name)
            if kind[0] == "*":
                args[pos:] = [next(values) for _ in args[pos:]]
                continue
            if pos is not None and pos < len(args):
                holder, where = args, pos
            elif name in kwargs:
                holder, where = kwargs, name
            else:  # left at its default, which was extracted as it is
                next(values)
                continue
            if kind[0] == "[":
                holder[where] = _rebuilt(holder[where], values, kind == "[[")
            else:
                holder[where] = next(values)
        return tuple(args), kwargs

    return replace


def multimethod(domain="numpy", **kwargs):
    """A decorator that declares a :class:`Function` from a hand-written extractor.

    ``multimethod(domain)(replacer, default=...)(extractor)``, as
    ``uarray.create_multimethod``.
    """

    def declare(replacer, default=None):
        return lambda extractor: Function(
            f"{domain}.{extractor.__name__}", extractor, replacer, default)

    return declare


def replace_first(args, kwargs, dispatchables):
    """Replacer for ``f(a, ...)``."""
    return tuple(dispatchables) + tuple(args[1:]), kwargs


def replace_first_two(args, kwargs, dispatchables):
    """Replacer for ``f(a, b, ...)``."""
    return tuple(dispatchables) + tuple(args[2:]), kwargs


def replace_sequence(args, kwargs, dispatchables):
    """Replacer for ``f([a, b, ...], ...)``."""
    return (list(dispatchables),) + tuple(args[1:]), kwargs


def replace_varargs(args, kwargs, dispatchables):
    """Replacer for ``f(*arrays, ...)``."""
    return tuple(dispatchables), kwargs
