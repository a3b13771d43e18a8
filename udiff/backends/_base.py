"""The machinery shared by every inner backend."""
import operator
import string
import threading
import warnings

import numpy as np
import uarray as ua

from .._machinery import registry as _registry
from .._machinery.registry import key_name


def scatter_add_along_axis(xp):
    """``scatter_add_along_axis`` written with array module ``xp``."""

    def scatter(values, indices, axis, length):
        values = xp.asarray(values)
        indices = xp.broadcast_to(xp.asarray(indices), values.shape)
        axis %= values.ndim
        shape = list(values.shape)
        shape[axis] = length
        out = xp.zeros(tuple(shape), dtype=values.dtype)
        index = list(xp.indices(values.shape, sparse=True))
        index[axis] = indices
        xp.add.at(out, tuple(index), values)
        return out

    return scatter


def put_along_axis(xp):
    """``xp.put_along_axis`` with ``jax.numpy``'s ``inplace=``: ``False`` returns a new array."""
    def put(arr, indices, values, axis, inplace=True):
        out = arr if inplace else arr.copy()
        xp.put_along_axis(out, indices, values, axis)
        return None if inplace else out

    return put


def _expand_masks(index):
    """Boolean arrays in an index, replaced by the integer arrays they select."""
    out = []
    for item in index:
        if getattr(item, "dtype", None) == bool and getattr(item, "ndim", 0) > 0:
            out.extend(item.nonzero())
        else:
            out.append(item)
    return tuple(out)


def index_add(xp):
    """``index_add`` written with array module ``xp`` (which must have ``add.at``)."""

    def add(values, index, shape):
        out = xp.zeros(shape, dtype=xp.result_type(values))
        index = index if isinstance(index, tuple) else (index,)
        xp.add.at(out, _expand_masks(index), values)
        return out

    return add


def einsum_operands(args):
    """``(subscripts, operands, positions)`` of ``einsum(*args)``, in either of its forms.

    ``einsum("ij,jk->ik", a, b)`` is returned as it is; the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` gets the subscripts it stands
    for (``"AB,BC->AC"``, as NumPy reads integers 0-51: ``A``-``Z``, ``a``-``z``).
    ``positions`` are the operands' indices in ``args``.

    Examples
    --------
    >>> a, b = np.ones((2, 3)), np.ones(2)
    >>> subscripts, operands, positions = einsum_operands((a, [0, Ellipsis], b, [0], [Ellipsis]))
    >>> subscripts, positions
    ('A...,A->...', [0, 2])
    """
    if isinstance(args[0], str):
        return args[0], list(args[1:]), list(range(1, len(args)))

    def letters(sub):
        return "".join("..." if k is Ellipsis else (string.ascii_uppercase + string.ascii_lowercase)[k]
                       for k in sub)

    positions = list(range(0, len(args) - len(args) % 2, 2))
    subscripts = ",".join(letters(args[i + 1]) for i in positions)
    if len(args) % 2:
        subscripts += "->" + letters(args[-1])
    return subscripts, [args[i] for i in positions], positions


class ndarray:
    """The dispatch type of array arguments in udiff's multimethods."""


class dtype:
    """The dispatch type of dtype arguments in udiff's multimethods."""


def is_array_type(dispatch_type):
    """Whether a ``Dispatchable``'s type marks an array: udiff's ``ndarray`` or unumpy's."""
    return dispatch_type is ndarray or _is_unumpy(dispatch_type, "ndarray")


def _is_unumpy(dispatch_type, name):
    # unumpy's markers are matched by name, so that udiff need not import unumpy.
    return dispatch_type.__name__ == name and dispatch_type.__module__.startswith("unumpy")


def _generic_impls():
    """Implementations that hold for every array library."""
    return {
        "getitem": operator.getitem,
        "shape": np.shape,
        "ndim": np.ndim,
        "size": np.size,
        "nbytes": lambda a: a.nbytes,
        "astype": lambda x, dtype, copy=True: x.astype(dtype, copy=copy),
    }


def _without_keepdims(func):
    # unumpy passes keepdims= to ufunc.accumulate, which takes none.
    def accumulate(a, keepdims=False, **kwargs):
        return func(a, **kwargs)

    return accumulate


class PerThreadContexts:
    """Gives a uarray backend one ``set_backend`` context per thread.

    ``uarray.set_backend(b)`` caches its context object in ``b.__ua_cache__``
    and returns the same object on every call; that object is not safe to
    enter from two threads (a second thread sees BackendNotImplementedError,
    and the process can abort once the first thread has exited).  Answering
    ``__ua_cache__`` with a dictionary of the calling thread's own makes every
    thread build, and keep, contexts of its own.
    """

    @property
    def __ua_cache__(self):
        local = self.__dict__.get("_ua_local")
        if local is None:
            local = self.__dict__.setdefault("_ua_local", threading.local())
        try:
            return local.cache
        except AttributeError:
            local.cache = {}
            return local.cache


class InnerBackend(PerThreadContexts):
    """An inner backend: resolves multimethod keys to one array library.

    Parameters
    ----------
    name : str
        Shown in error messages.
    modules : callable
        Returns ``{domain: module}`` (imported lazily, so that a missing
        optional library only fails when the backend is used).
    overrides : callable
        Returns ``{name: callable}`` for functions the library lacks or gets
        wrong; ``name`` is a multimethod's name, or ``"sub.name"`` for a
        sub-domain such as ``linalg.inv``.
    array_types : callable
        Returns the tuple of the library's array types.
    """

    __ua_domain__ = "numpy"

    def __init__(self, name, modules, overrides, array_types):
        self.name = name
        self._modules_fn = modules
        self._overrides_fn = overrides
        self._types_fn = array_types
        self._loaded = None
        self._exact = set()  # types whose instances is_array has answered True for
        self._cache = {}

    def __repr__(self):
        return f"udiff.{self.name}_backend"

    def __reduce__(self):
        # Backends are module-level singletons: pickle them by name.
        return (_backend_by_name, (self.name,))

    def _load(self):
        if self._loaded is None:
            modules = self._modules_fn()
            overrides = {**_generic_impls(), **self._overrides_fn()}
            self._loaded = (modules, overrides, tuple(self._types_fn()))
        return self._loaded

    @property
    def array_types(self):
        """The array types this backend computes with."""
        return self._load()[2]

    def is_array(self, value):
        """Whether ``value`` is an array (or scalar) of this library."""
        t = type(value)
        if t in self._exact:  # (the hot path: every recorded operation asks)
            return True
        if isinstance(value, self.array_types) or isinstance(value, np.generic):
            self._exact.add(t)
            return True
        return False

    # -- resolution ---------------------------------------------------------
    def native(self, key):
        """The library's own callable for ``key``, or None if it has none."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        func = self._resolve(key)
        self._cache[key] = func
        return func

    def _resolve(self, key):
        """The library's function for a key such as ``numpy.sin``, ``numpy.add.reduce``,
        ``numpy.linalg.inv``: an override, or the function of that name."""
        modules, overrides, _ = self._load()
        domain, _, name = key.rpartition(".")
        qual = key[len("numpy."):]
        if qual in overrides:
            return overrides[qual]
        module = modules.get(domain)
        if module is None and domain in _DOMAINS:  # a domain registered by another module
            module = _DOMAINS[domain](self.name)
        if module is not None:
            return getattr(module, name, None)
        ufunc = getattr(modules["numpy"], domain[len("numpy."):], None)  # numpy.add.reduce
        if ufunc is None or "." in domain[len("numpy."):]:
            return None
        func = getattr(ufunc, name, None)
        if name == "accumulate" and func is not None:
            return _without_keepdims(func)
        if name in ("types", "identity"):
            return lambda: func
        return func

    def impl(self, key):
        """A callable that runs ``key`` on raw arrays of this library.

        Falls back to the multimethod's default implementation (run with this
        backend alone) where the library has no function of that name.

        Raises
        ------
        NotImplementedError
            Naming the function and the backend, when neither exists.
        """
        func = self.native(key)
        if func is not None:
            return func
        default = _registry.default_of(key)
        if default is not None:
            return self._via_default(default)
        raise NotImplementedError(
            f"{key_name(key)} is not available on the {self.name} inner backend"
        )

    def _via_default(self, default):
        def run(*args, **kwargs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                with ua.set_backend(self, coerce=True, only=True):
                    return default(*args, **kwargs)

        return run

    # -- the uarray protocol -------------------------------------------------
    def __ua_function__(self, method, args, kwargs):
        key, args = _registry.key_of_call(method, args)
        func = self.native(key)
        if func is None:
            if _registry.default_of(key) is None:
                # Like NotImplemented, lets uarray try the next backend; if none has
                # it, uarray's error carries this message (naming function and backend).
                raise ua.BackendNotImplementedError(
                    f"{key_name(key)} is not available on the {self.name} inner backend"
                )
            func = self.impl(key)  # the default, run on this backend
        return func(*args, **kwargs)

    def __ua_convert__(self, dispatchables, coerce):
        types = self.array_types
        out = []
        for d in dispatchables:
            value = d.value
            if is_array_type(d.type) and value is not None:
                if not isinstance(value, types) and not isinstance(value, np.generic):
                    if not (coerce and d.coercible):
                        return NotImplemented
                    value = self.asarray(value)
            elif (d.type is dtype or _is_unumpy(d.type, "dtype")) and value is not None:
                value = np.dtype(value)
            out.append(value)
        return out

    # -- helpers the sweeps need -------------------------------------------
    def asarray(self, value, dtype=None):
        """Convert ``value`` to this library's array type."""
        return self._load()[0]["numpy"].asarray(value, dtype=dtype)

    def one_hot(self, n, like, dtype):
        """``n`` one-hot seeds stacked: shape ``(n,) + like.shape``."""
        eye = self._load()[0]["numpy"].eye(n, dtype=dtype)
        return eye.reshape((n,) + tuple(like.shape))


class ForeignBackend(InnerBackend):
    """Wraps any other uarray backend of the ``numpy`` domain as an inner backend.

    Every call is dispatched through uarray to the wrapped backend alone,
    which costs a few microseconds more per operation than udiff's own
    backends.
    """

    def __init__(self, backend):
        self.backend = backend
        self._proxy = _ThreadSafeProxy(backend)
        super().__init__(
            getattr(backend, "__name__", type(backend).__name__),
            lambda: {"numpy": np},
            dict,
            lambda: (),
        )

    def __reduce__(self):
        return (ForeignBackend, (self.backend,))

    def is_array(self, value):
        return hasattr(value, "shape") and hasattr(value, "dtype")

    def native(self, key):
        """A callable that runs ``key`` through uarray on the wrapped backend alone."""
        backend = self._proxy
        call = _registry.function(key)
        if call is None:
            domain, _, method = key.rpartition(".")
            call = getattr(_registry.function(domain), method)  # numpy.add.reduce

        def run(*args, **kwargs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                with ua.set_backend(backend, coerce=True, only=True):
                    return call(*args, **kwargs)

        return run

    impl = native

    def __ua_function__(self, method, args, kwargs):
        return NotImplemented

    def asarray(self, value, dtype=None):
        return self.impl("numpy.asarray")(value, dtype=dtype)

    def one_hot(self, n, like, dtype):
        return self.asarray(np.eye(n, dtype=dtype).reshape((n,) + tuple(like.shape)))


class _ThreadSafeProxy(PerThreadContexts):
    """Stands in for a foreign uarray backend in ``set_backend``, one context per thread.

    The foreign object's own ``__ua_cache__`` is shared by every thread that
    sets it; this proxy forwards the protocol to it instead.
    """

    def __init__(self, backend):
        self.backend = backend
        self.__ua_domain__ = backend.__ua_domain__

    def __ua_function__(self, method, args, kwargs):
        return self.backend.__ua_function__(method, args, kwargs)

    def __ua_convert__(self, dispatchables, coerce):
        convert = getattr(self.backend, "__ua_convert__", None)
        if convert is None:
            return [d.value for d in dispatchables]
        return convert(dispatchables, coerce)


_BY_NAME = {}
_UNUMPY_MODULES = {}
_DOMAINS = {}  # domain -> function(backend name) -> its module (or None)


def register_domain(domain, modules):
    """Give the domain ``domain`` (``"numpy.scipy.linalg"``) a module on each inner backend.

    ``modules(name)`` returns the module (or any object with the functions as
    attributes) that the inner backend called ``name`` runs for that domain,
    or None where it has none (its functions then run their defaults, or raise
    an error naming the function and the backend).  Used by domains declared
    outside the backends' own module tables (``udiff.backends._scipy``).
    """
    _DOMAINS[domain] = modules


_FOREIGN = {}  # other uarray backends, each wrapped once


def register(backend, unumpy_module=None):
    """Make ``backend`` known by name (for pickling) and by unumpy's module name."""
    _BY_NAME[backend.name] = backend
    if unumpy_module:
        _UNUMPY_MODULES[unumpy_module] = backend
    return backend


def _backend_by_name(name):
    return _BY_NAME[name]


def inner_of(obj):
    """The inner backend for ``obj``.

    ``obj`` may be one of udiff's inner backends, one of unumpy's backend
    modules (``unumpy.numpy_backend``, ``unumpy.dask_backend``,
    ``unumpy.cupy_backend``; each is replaced by udiff's corrected equivalent,
    because unumpy 0.6.1's run ufuncs block by block on Dask and lack
    multimethods udiff adds), or any other uarray backend of the ``numpy``
    domain (used through uarray, more slowly).

    Raises
    ------
    TypeError
        If ``obj`` is not a uarray backend.
    """
    if isinstance(obj, InnerBackend):
        return obj
    name = getattr(obj, "__name__", None)
    if name in _UNUMPY_MODULES:
        return _UNUMPY_MODULES[name]
    if getattr(obj, "__ua_domain__", None) is None or not hasattr(obj, "__ua_function__"):
        raise TypeError(
            f"inner backend must be a uarray backend (such as udiff.numpy_backend), "
            f"got {obj!r}"
        )
    if obj not in _FOREIGN:
        _FOREIGN[obj] = ForeignBackend(obj)
    return _FOREIGN[obj]


def to_numpy(a):
    """The values of an inner array as a NumPy array: a Dask array computed, a CuPy
    array copied to the host.  For constants a result's shape, dtype or positions
    depend on, and for error checks; never for a result."""
    if hasattr(a, "compute"):
        a = a.compute()
    if not isinstance(a, np.ndarray) and hasattr(a, "get"):
        a = a.get()
    return np.asarray(a)


def backend_for_value(value):
    """The udiff inner backend whose library made ``value``."""
    module = type(value).__module__
    if module.startswith("dask"):
        return _BY_NAME["dask"]
    if module.startswith("cupy"):
        return _BY_NAME["cupy"]
    return _BY_NAME["numpy"]


# -- array helpers written with NumPy's protocols (any library's arrays) ----------------------
def exclusive_prod(x):
    """``prod_{j != i} x_j`` along the last axis, without dividing (exact where ``x_i`` is 0).

    An empty axis is returned as it is: concatenating empty pieces would give it two empty
    chunks on Dask, whose ``matmul`` against one empty chunk builds a broken graph.
    """
    if np.shape(x)[-1] == 0:
        return x
    one = np.ones_like(x[..., :1])
    left = np.concatenate([one, np.cumprod(x[..., :-1], axis=-1)], axis=-1)
    right = np.concatenate([one, np.cumprod(np.flip(x[..., 1:], -1), axis=-1)], axis=-1)
    return left * np.flip(right, -1)


def _ct(x):
    """The conjugate transpose of the last two axes."""
    return np.conj(np.swapaxes(x, -1, -2))


def adjugate_from_svd(u, s, vh, phase):
    """``adj(A)`` of ``A = u diag(s) vh``, with ``phase = det(u) det(vh)``.

    ``adj(A) = phase V diag(prod_{j != i} s_j) U^H``, exact for singular ``A``.
    """
    return phase[..., None, None] * ((_ct(vh) * exclusive_prod(s)[..., None, :]) @ _ct(u))
