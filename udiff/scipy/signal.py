"""SciPy's signal processing, differentiable: import it in place of ``scipy.signal``.

``convolve`` has SciPy's name, signature and defaults, and is a uarray
multimethod of the domain ``numpy.scipy.signal``: under
:class:`udiff.DiffArrayBackend` it is differentiated, outside any backend it
runs on its arguments' own library (``scipy.signal`` for NumPy arrays,
``cupyx.scipy.signal`` for CuPy arrays, and on Dask arrays a lazy sum of
shifted copies of the larger operand, one per entry of the smaller).

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy import signal
>>> signal.convolve(numpy.array([1.0, 2.0, 3.0]), numpy.array([0.0, 1.0, 0.5]))
array([0. , 1. , 2.5, 4. , 1.5])
"""
from ..backends import _scipy  # noqa: F401  (registers the domain on every inner backend)
from ..numpy._declare import generate as _generate

_DOMAIN = "numpy.scipy.signal"

_CONVOLVE_DOC = """Convolve two N-dimensional arrays: SciPy's ``scipy.signal.convolve``,
differentiable in both arguments.

Convolution is bilinear: the JVP convolves each tangent with the other
argument; the VJP of ``in1`` is the ``'valid'`` convolution of the cotangent
(zero-padded to the ``'full'`` output) with ``in2`` flipped along every axis
(a correlation), and symmetrically for ``in2``.  Both run ``convolve`` again,
so higher derivatives exist.

Parameters
----------
in1, in2 : array_like
    Arrays of the same number of dimensions (0-d arrays multiply).
mode : {'full', 'valid', 'same'}, optional
    The output: the full convolution, the part computed without zero padding
    (one input must be at least as large as the other along every axis), or
    the part of ``in1``'s shape centred on the full one.
method : {'auto', 'direct', 'fft'}, optional
    As SciPy's (NumPy and CuPy; Dask always sums shifted copies).

Returns
-------
out : ndarray
    The convolution, of dtype ``result_type(in1, in2)``.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy.signal import convolve
>>> x, k = numpy.array([1.0, 2.0, 3.0]), numpy.array([1.0, -1.0])
>>> convolve(x, k, mode="valid")
array([1., 1.])
>>> udiff.grad(lambda x: convolve(x, k, mode="valid").sum())(x)
array([-1.,  0.,  1.])
"""


def _declare():
    names = {"convolve": _generate("convolve", "in1 in2", "(in1, in2, mode='full', method='auto')",
                                   domain=_DOMAIN, doc=_CONVOLVE_DOC)}
    for func in names.values():
        func.__module__ = __name__
    return names


_NAMES = _declare()
globals().update(_NAMES)
__all__ = sorted(_NAMES)
# The functions are multimethod objects, which doctest's finder skips: their examples are
# collected from here by --doctest-modules.
__test__ = {name: func.__doc__ for name, func in _NAMES.items()}
