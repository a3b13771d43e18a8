"""DiffArrayBackend: the uarray backend that records operations."""
import itertools

from . import registry as _registry
from .diff_array import DiffArray, apply
from .dispatch import bind
from .sweeps import differentiate
from ..backends import inner_of, numpy_backend
from ..backends._base import PerThreadContexts, is_array_type

_MODES = ("vjp", "jvp")
# Each backend's serial number: a backend made later (an operator called inside
# another's function) has a larger one, so an operator can tell the nodes its own
# call recorded (serial at least its backend's) from those of enclosing ones.
_SERIALS = itertools.count()
# The serial number of a backend whose arrays are constants to every operator (those
# that a custom function's user code runs on): never from outside a call, never a seed
# to differentiate through.
CONSTANTS = float("inf")


class DiffArrayBackend(PerThreadContexts):
    """A uarray backend of the ``numpy`` domain that differentiates.

    Every udiff.numpy (or unumpy) multimethod called under it runs on the inner
    backend and returns a :class:`DiffArray` that records how it was made.

    Parameters
    ----------
    inner : uarray backend, default ``udiff.numpy_backend``
        Where the arithmetic runs: ``udiff.numpy_backend``,
        ``udiff.dask_backend``, ``udiff.cupy_backend``, one of unumpy's
        backend modules, or any uarray backend of the ``numpy`` domain.
    mode : {"vjp", "jvp"}, default ``"vjp"``
        What ``y.to(x)`` computes: a vector-Jacobian product (reverse mode)
        or a Jacobian-vector product (forward mode).

    Attributes
    ----------
    inner : uarray backend
        The inner backend, as udiff resolved it (unumpy's backend modules
        become udiff's inner backends).
    mode : str
        ``"vjp"`` or ``"jvp"``.

    Raises
    ------
    ValueError
        If ``mode`` is neither ``"vjp"`` nor ``"jvp"``.

    Notes
    -----
    Set it with ``coerce=True``, so that inner arrays and Python numbers
    given to ``udiff.numpy`` functions become DiffArrays (constants, or
    variables when they are differentiated with ``y.to(x)``); without it,
    this backend passes over (to the next backend, or the function's
    default) every call whose array arguments are not all DiffArrays.

    Examples
    --------
    >>> import uarray as ua, udiff, udiff.numpy as np
    >>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
    ...     x = np.asarray([0.0, 1.0])
    ...     y = np.exp(x)
    ...     print(y.to(x).value)
    [1.         2.71828183]

    Forward mode: ``y.to(x)`` pushes a tangent (ones by default) forward.

    >>> with ua.set_backend(udiff.DiffArrayBackend(mode="jvp"), coerce=True):
    ...     x = np.asarray([1.0, 2.0])
    ...     print((x * x).to(x, np.asarray([1.0, 0.0])).value)
    [2. 0.]
    """

    __ua_domain__ = "numpy"

    def __init__(self, inner=numpy_backend, mode="vjp"):
        if mode not in _MODES:
            raise ValueError(f"mode must be 'vjp' or 'jvp', not {mode!r}")
        self.inner = inner_of(inner)
        self.mode = mode
        self._impls = _registry.ImplCache()  # (emptied when rules change)
        self.serial = next(_SERIALS)

    def __reduce__(self):
        return (DiffArrayBackend, (self.inner, self.mode))

    def __repr__(self):
        return f"DiffArrayBackend({self.inner!r}, mode={self.mode!r})"

    def _impl(self, key):
        """The inner callable for ``key`` (cached), or None to run its default.

        Composite functions (``udiff._machinery.registry.defcomposite``) always run their
        default, so that the operations they are made of are recorded.
        """
        if key in _registry._COMPOSITE:
            return None
        func = self.inner.native(key)
        if func is None:
            if _registry.default_of(key) is not None and not _registry.has_rule(key):
                return None
            # A function with rules of its own is one node even where the inner
            # library lacks it (its default then runs on the inner backend).
            func = self.inner.impl(key)  # raises, naming function and backend
        self._impls[key] = func
        return func

    # -- its level: how udiff._machinery.dispatch.bind ranks it and hands it a call ------------
    batches = False  # a differentiation (a vmap's frame batches)

    @property
    def rank(self):
        """``(vmap level, 1, serial)``: inside the vmap it differentiates in (none: 0), a
        differentiation outranks that vmap's frame and those of outer vmaps; among
        differentiations at one vmap level, the one made last is the innermost."""
        return (getattr(self.inner, "level", 0), 1, self.serial)

    # Record ``key`` on ``args`` (this backend is the innermost level among them):
    # ``apply`` itself, whose first argument is the backend (one call less per operation).
    process = apply

    def tie(self, other):
        """Two differentiations of one rank (constants' backends): the first records."""

    def differentiate(self, y, x, grad_variables, jacobian, create_graph, chunk_size):
        """``y.to(x, ...)`` for the arrays this backend records (see :meth:`DiffArray.to`)."""
        return differentiate(y, x, grad_variables, jacobian, create_graph, chunk_size)

    def __ua_function__(self, method, args, kwargs):
        key, args = _registry.key_of_call(method, args)
        return bind(key, args, kwargs, current=self)

    def __ua_convert__(self, dispatchables, coerce):
        out = []
        for d in dispatchables:
            value = d.value
            if (
                is_array_type(d.type)
                and value is not None
                and type(value) is not DiffArray
                and not coerce
            ):
                return NotImplemented
            out.append(value)
        return out
