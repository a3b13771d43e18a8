"""Discrete Fourier transforms as multimethods (``numpy.fft``), differentiable.

The functions are uarray multimethods of the ``numpy.fft`` domain: inner
backends resolve them by name (``numpy.fft.fft``, ``dask.array.fft.fft``,
``cupy.fft.fft``), and under :class:`udiff.DiffArrayBackend` they are
recorded and differentiated by the rules in :mod:`udiff.rules.fft`.

Complex convention
------------------
As everywhere in udiff (and in autograd and JAX), a VJP is the *transpose*
of the linear map, not its conjugate transpose: cotangents pair with tangents
through the real bilinear form ``<g, t> = Re(sum(g * t))``.  Every transform
here is linear, so

- the JVP of a transform is the same transform of the tangent;
- the VJP of ``fft``/``ifft``/``fftn``/``ifftn`` is the same transform of
  the cotangent (the DFT matrix is symmetric; the normalisation ``norm`` is
  a scalar and stays), with padding and truncation by ``n``/``s`` undone
  (zero padding transposes to truncation and the other way round);
- the VJP of ``rfft`` zero-pads the cotangent from ``n // 2 + 1`` to ``n``
  frequencies, applies ``fft`` and takes the real part (the input is real);
- the VJP of ``irfft`` is ``ifft`` of the (real) cotangent, keeping the first
  ``n // 2 + 1`` frequencies and doubling all but the zero and (for even
  ``n``) the Nyquist frequency, which ``irfft`` counts once;
- ``hfft``/``ihfft`` are ``irfft``/``rfft`` of conjugates and are
  differentiated as such; ``fftshift`` and ``ifftshift`` are each other's
  transpose.

The cotangent of a real input is real (the real part of the transpose).

Dask
----
``dask.array.fft`` transforms only along axes held in one chunk; the Dask
inner backend rechunks the transformed axes of its argument to one chunk
first (``numpy.fft.fft`` on a DiffArray included); other axes keep their
chunks.

Examples
--------
>>> import numpy, uarray as ua, udiff
>>> import udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     x = np.asarray([1.0, 2.0, 0.0, -1.0])
...     y = np.sum(np.absolute(np.fft.fft(x)) ** 2)  # 4 * sum(x ** 2)
...     print(y.to(x).value)
[ 8. 16.  0. -8.]
"""
import inspect as _inspect

from .._machinery import registry as _registry
from ._declare import array as _array
from ._declare import multimethod as _multimethod
from ._declare import replace_first as _replace_first

_create = _multimethod("numpy.fft")

_NORMS = ("backward", "ortho", "forward")


# -- the parameters of each transform, normalised ----------------------------------
def _sig_1d(a, n=None, axis=-1, norm=None):
    pass


def _sig_2d(a, s=None, axes=(-2, -1), norm=None):
    pass


def _sig_nd(a, s=None, axes=None, norm=None):
    pass


def _sig_shift(x, axes=None):
    pass


# name -> (signature, family): "c" complex-to-complex, "r" real-to-half-spectrum,
# "i" half-spectrum-to-real, "h" hfft, "ih" ihfft, "shift".
_SPECS = {
    "fft": (_sig_1d, "c"), "ifft": (_sig_1d, "c"),
    "fft2": (_sig_2d, "c"), "ifft2": (_sig_2d, "c"),
    "fftn": (_sig_nd, "c"), "ifftn": (_sig_nd, "c"),
    "rfft": (_sig_1d, "r"), "rfft2": (_sig_2d, "r"), "rfftn": (_sig_nd, "r"),
    "irfft": (_sig_1d, "i"), "irfft2": (_sig_2d, "i"), "irfftn": (_sig_nd, "i"),
    "hfft": (_sig_1d, "h"), "ihfft": (_sig_1d, "ih"),
    "fftshift": (_sig_shift, "shift"), "ifftshift": (_sig_shift, "shift"),
}
_SIGNATURES = {f: _inspect.signature(f) for f in (_sig_1d, _sig_2d, _sig_nd, _sig_shift)}


def _plan(name, shape, args, kwargs):
    """The normalised parameters of ``name(a, *args, **kwargs)`` for an ``a`` of ``shape``.

    Returns
    -------
    axes : tuple of int
        The transformed axes, non-negative, in NumPy's order.
    s : tuple of int or None
        The transform length along each axis (NumPy's ``n``/``s``: the
        length of the *output* for ``irfft``/``hfft``, of the padded input
        otherwise); None for the shifts.
    norm : str
        One of ``"backward"``, ``"ortho"``, ``"forward"``.
    """
    sig, family = _SPECS[name]
    bound = _SIGNATURES[sig].bind(None, *args, **kwargs)
    bound.apply_defaults()
    p = bound.arguments
    nd = len(shape)
    if family == "shift":
        axes = p["axes"]
        if axes is None:
            axes = range(nd)
        elif not isinstance(axes, (tuple, list)):
            axes = (axes,)
        return tuple(int(ax) % nd for ax in axes), None, None
    norm = p["norm"] or "backward"
    if norm not in _NORMS:
        raise ValueError(f'invalid norm {norm!r}; use one of "backward", "ortho", "forward"')
    inverse_real = family in ("i", "h")
    if sig is _sig_1d:
        axis = int(p["axis"]) % nd
        n = p["n"]
        if n is None:
            n = 2 * (shape[axis] - 1) if inverse_real else shape[axis]
        return (axis,), (int(n),), norm
    s, axes = p["s"], p["axes"]
    shapeless = s is None
    if axes is None:
        axes = range(nd) if shapeless else range(-len(s), 0)
    axes = tuple(int(ax) % nd for ax in axes)
    s = [shape[ax] for ax in axes] if shapeless else list(s)
    if len(s) != len(axes):
        raise ValueError("shape and axes have different lengths")
    if inverse_real and shapeless:
        s[-1] = 2 * (shape[axes[-1]] - 1)
    s = tuple(shape[ax] if (n is None or n == -1) else int(n) for n, ax in zip(s, axes))
    return axes, s, norm


# -- the transforms ------------------------------------------------------------------
@_create(_replace_first)
def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional discrete Fourier transform (``numpy.fft.fft``)."""
    return (_array(a),)


@_create(_replace_first)
def ifft(a, n=None, axis=-1, norm=None):
    """One-dimensional inverse discrete Fourier transform (``numpy.fft.ifft``)."""
    return (_array(a),)


@_create(_replace_first)
def fft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional discrete Fourier transform (``numpy.fft.fft2``)."""
    return (_array(a),)


@_create(_replace_first)
def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional inverse discrete Fourier transform (``numpy.fft.ifft2``)."""
    return (_array(a),)


@_create(_replace_first)
def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional discrete Fourier transform (``numpy.fft.fftn``)."""
    return (_array(a),)


@_create(_replace_first)
def ifftn(a, s=None, axes=None, norm=None):
    """N-dimensional inverse discrete Fourier transform (``numpy.fft.ifftn``)."""
    return (_array(a),)


@_create(_replace_first)
def rfft(a, n=None, axis=-1, norm=None):
    """Discrete Fourier transform of real input (``numpy.fft.rfft``)."""
    return (_array(a),)


@_create(_replace_first)
def irfft(a, n=None, axis=-1, norm=None):
    """Inverse of :func:`rfft` (``numpy.fft.irfft``)."""
    return (_array(a),)


@_create(_replace_first)
def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional FFT of real input (``numpy.fft.rfft2``)."""
    return (_array(a),)


@_create(_replace_first)
def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """Inverse of :func:`rfft2` (``numpy.fft.irfft2``)."""
    return (_array(a),)


@_create(_replace_first)
def rfftn(a, s=None, axes=None, norm=None):
    """N-dimensional FFT of real input (``numpy.fft.rfftn``)."""
    return (_array(a),)


@_create(_replace_first)
def irfftn(a, s=None, axes=None, norm=None):
    """Inverse of :func:`rfftn` (``numpy.fft.irfftn``)."""
    return (_array(a),)


@_create(_replace_first)
def hfft(a, n=None, axis=-1, norm=None):
    """FFT of a signal with Hermitian symmetry: a real spectrum (``numpy.fft.hfft``)."""
    return (_array(a),)


@_create(_replace_first)
def ihfft(a, n=None, axis=-1, norm=None):
    """Inverse of :func:`hfft` (``numpy.fft.ihfft``)."""
    return (_array(a),)


@_create(_replace_first)
def fftshift(x, axes=None):
    """Shift the zero frequency to the centre (``numpy.fft.fftshift``)."""
    return (_array(x),)


@_create(_replace_first)
def ifftshift(x, axes=None):
    """Inverse of :func:`fftshift` (``numpy.fft.ifftshift``)."""
    return (_array(x),)


def _no_arrays(args, kwargs, dispatchables):
    return args, kwargs


@_create(_no_arrays)
def fftfreq(n, d=1.0):
    """Sample frequencies of :func:`fft` (``numpy.fft.fftfreq``); a constant."""
    return ()


@_create(_no_arrays)
def rfftfreq(n, d=1.0):
    """Sample frequencies of :func:`rfft` (``numpy.fft.rfftfreq``); a constant."""
    return ()


MULTIMETHODS = {
    f.__name__: f
    for f in (fft, ifft, fft2, ifft2, fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn,
              irfftn, hfft, ihfft, fftshift, ifftshift, fftfreq, rfftfreq)
}
_registry.register_namespace(MULTIMETHODS)
globals().update(MULTIMETHODS)

__all__ = sorted(MULTIMETHODS)
