"""The pieces every udiff multimethod declaration uses.

A multimethod is an argument extractor (which arguments are arrays) and an
argument replacer (how converted arrays go back into the call); these are the
shapes udiff's multimethods need.
"""
import functools

import unumpy
from uarray import Dispatchable, create_multimethod


def multimethod(domain="numpy", **kwargs):
    """``uarray.create_multimethod`` in a NumPy domain (``numpy.linalg``, ``numpy.fft``...)."""
    return functools.partial(create_multimethod, domain=domain, **kwargs)


def array(a):
    """``a`` marked as an array argument."""
    return Dispatchable(a, unumpy.ndarray)


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
