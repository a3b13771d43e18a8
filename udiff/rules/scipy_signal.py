"""Rules for SciPy's signal processing (``udiff.scipy.signal``).

``convolve(in1, in2, mode)`` is bilinear, and its ``'valid'`` and ``'same'``
outputs are windows of the ``'full'`` one.  The JVP convolves the tangent of
one argument with the other (``'full'``, then the window); the VJP of
``in1`` pads the cotangent with zeros to the ``'full'`` shape and takes its
``'valid'`` convolution with ``in2`` flipped along every axis (a
correlation): its shape is ``in1``'s.  Both are written with ``convolve``
itself, so they differentiate again.  Leading batch axes of tangents and
cotangents become leading axes of length 1 on the other operand (a
``'valid'`` or ``'full'`` convolution along them is the identity).  Complex
arguments: convolution is holomorphic (no conjugates, udiff's convention).
"""
import numpy as np

from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defvjp
from ..backends._scipy import convolve_window
from ..scipy import signal as sps
from ._helpers import ndim, shape


def _cast(value, like):
    dtype = np.dtype(like.dtype)
    if dtype.kind not in "fc":
        return value
    if dtype.kind == "f" and np.dtype(value.dtype).kind == "c":
        value = np.real(value)
    return value if np.dtype(value.dtype) == dtype else value.astype(dtype)


def _lifted(x, nb):
    """``x`` with ``nb`` leading axes of length 1."""
    return np.reshape(x, (1,) * nb + shape(x)) if nb else x


def _conv(a, b, mode, method):
    return call(sps.convolve, a, b, mode=mode, method=method)


def _vjp(argnum):
    def maker(ans, in1, in2, mode="full", method="auto"):
        x, other = (in1, in2) if argnum == 0 else (in2, in1)
        if ndim(in1) == 0:
            return lambda g: _cast(g * other, x)
        starts, sizes = convolve_window(shape(in1), shape(in2), mode)
        full = tuple(i + j - 1 for i, j in zip(shape(in1), shape(in2)))

        def vjp(g):
            nb = ndim(g) - ndim(ans)
            if mode != "full":
                widths = [(0, 0)] * nb + [(s, f - s - n) for s, n, f in zip(starts, sizes, full)]
                g = call("numpy.pad", g, widths)
            kernel = np.flip(other, axis=tuple(range(ndim(other))))
            return _cast(_conv(g, _lifted(kernel, nb), "valid", method), x)

        return vjp

    return maker


def _jvp(argnum):
    def rule(t, ans, in1, in2, mode="full", method="auto"):
        other = in2 if argnum == 0 else in1
        if ndim(in1) == 0:
            return t * other
        nb = ndim(t) - ndim(other)
        out = _conv(t, _lifted(other, nb), "full", method)
        if mode == "full":
            return out
        starts, sizes = convolve_window(shape(in1), shape(in2), mode)
        return out[(Ellipsis,) + tuple(slice(s, s + n) for s, n in zip(starts, sizes))]

    return rule


defvjp(sps.convolve, _vjp(0), _vjp(1))
defjvp(sps.convolve, _jvp(0), _jvp(1))
