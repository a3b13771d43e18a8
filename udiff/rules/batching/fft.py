"""Batching rules of ``numpy.fft``: the transformed axes shift past the batch axis."""
from ..._machinery.registry import defbatch
from . import _helpers as h
from ._helpers import axes, axis, call, ndim

ONE = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
TWO = ["fft2", "ifft2", "rfft2", "irfft2"]
MANY = ["fftn", "ifftn", "rfftn", "irfftn"]


def one(key):
    def rule(size, batched, a, n=None, ax=-1, *rest, **kwargs):
        ax = kwargs.pop("axis", ax)
        return call(key, a, n, axis(ax, ndim(a) - 1), *rest, **kwargs)

    return rule


def many(key, default):
    def rule(size, batched, a, s=None, ax=default, *rest, **kwargs):
        ax = kwargs.pop("axes", ax)
        nd = ndim(a) - 1
        if ax is None:
            ax = range(nd) if s is None else range(-len(s), 0)
        return call(key, a, s, axes(tuple(ax), nd), *rest, **kwargs)

    return rule


def shift(key):
    def rule(size, batched, x, axes=None):
        nd = ndim(x) - 1
        return call(key, x, h.axes(tuple(range(nd)) if axes is None else axes, nd))

    return rule


for _name in ONE:
    defbatch("numpy.fft." + _name, one("numpy.fft." + _name))
for _name in TWO:
    defbatch("numpy.fft." + _name, many("numpy.fft." + _name, (-2, -1)))
for _name in MANY:
    defbatch("numpy.fft." + _name, many("numpy.fft." + _name, None))
for _name in ("fftshift", "ifftshift"):
    defbatch("numpy.fft." + _name, shift("numpy.fft." + _name))
