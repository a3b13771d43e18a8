"""Rules for the discrete Fourier transforms (:mod:`udiff.numpy.fft`).

Every transform is linear.  Its JVP is the transform of the tangent; its VJP
is the *transpose* (not the conjugate transpose, see the convention in
:mod:`udiff.numpy.fft`) under the real pairing ``Re(sum(g * t))``:

========================  ==========================================================
function                  VJP of the cotangent ``g``
========================  ==========================================================
fft, fft2, fftn           ``fftn(g)`` with the same ``norm``, then undo ``n``/``s``
ifft, ifft2, ifftn        ``ifftn(g)`` likewise
rfft, rfft2, rfftn        ``real(fftn(g, s))`` (zero-pads the half spectrum), undo ``s``
irfft, irfft2, irfftn     ``ifftn(g)`` cut to ``s[-1] // 2 + 1`` frequencies, all but
                          the zero and Nyquist ones doubled, undo ``s``
hfft                      ``conj`` of irfft's VJP with the opposite ``norm``
ihfft                     rfft's VJP of ``conj(g)`` with the opposite ``norm``
fftshift, ifftshift       ``ifftshift(g)``, ``fftshift(g)``
========================  ==========================================================

"Undo ``n``/``s``" transposes the padding or truncation of the input: the
transposed result is truncated where the input was zero-padded and
zero-padded where it was truncated.  Cotangents of real inputs are real.

Axes are addressed from the end, so cotangents and tangents may carry leading
batch axes.  Rules call the multimethods through :func:`udiff._machinery.dispatch.call`, so
recorded (``create_graph=True``) sweeps differentiate them again.
"""
import numpy as np

from ..numpy import _handwritten as _mm
from .._machinery.diff_array import DiffArray
from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defvjp
from ..backends import backend_for_value
from ..numpy import fft as F
from ._helpers import from_end, ndim, shape

_SWAP = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


def _like(ref, value):
    """``value`` (a NumPy array) on the same inner backend as ``ref``."""
    inner = ref._backend.inner if type(ref) is DiffArray else backend_for_value(ref)
    return inner.asarray(value)


def _is_complex(a):
    return np.dtype(a.dtype).kind == "c"


def _run(func, a, neg, **kwargs):
    """``func(a, axes=neg, **kwargs)``, on whatever arrays ``a`` holds."""
    return call(func, a, axes=neg, **kwargs)


def _fit(h, neg, lengths):
    """Truncate or zero-pad ``h`` along the negative axes ``neg`` to ``lengths``."""
    nd = ndim(h)
    h_shape = shape(h)
    index = [slice(None)] * nd
    widths = [(0, 0)] * nd
    cut = pad = False
    for ax, n in zip(neg, lengths):
        have = h_shape[nd + ax]
        if have > n:
            index[nd + ax] = slice(0, n)
            cut = True
        elif have < n:
            widths[nd + ax] = (0, n - have)
            pad = True
    if cut:
        h = h[tuple(index)]
    if pad:
        h = np.pad(h, widths)
    return h


def _real_if(h, x):
    """The real part of ``h`` where the input ``x`` is real."""
    return h if _is_complex(x) else call(_mm.real, h)


def _unique(axes, name):
    if len(set(axes)) != len(axes):
        raise NotImplementedError(f"udiff cannot differentiate fft.{name} with repeated axes {axes}")


def _params(name, x, args, kwargs):
    axes, s, norm = F._plan(name, shape(x), args, kwargs)
    if s is not None:
        _unique(axes, name)
    return from_end(axes, ndim(x)), s, norm


# -- the transposes, written for negative axes --------------------------------------
def _c2c_vjp(inverse, g, x, neg, norm):
    h = _run(F.ifftn if inverse else F.fftn, g, neg, norm=norm)
    return _real_if(_fit(h, neg, [shape(x)[ax] for ax in neg]), x)


def _r2c_vjp(g, x, neg, s, norm):
    h = call(_mm.real, _run(F.fftn, g, neg, s=s, norm=norm))
    return _fit(h, neg, [shape(x)[ax] for ax in neg])


def _half_weights(g, n, neg_last):
    """1 for the zero (and even ``n``'s Nyquist) frequency, 2 for the others,
    shaped to broadcast along axis ``neg_last``."""
    m = n // 2 + 1
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    return _like(g, w.reshape((m,) + (1,) * (-neg_last - 1)))


def _c2r_vjp(g, x, neg, s, norm):
    g = _real_cotangent(g)  # only the real part pairs with a real output
    h = _run(F.ifftn, g, neg, norm=norm)
    m = s[-1] // 2 + 1
    h = _fit(h, neg[-1:], [m]) * _half_weights(g, s[-1], neg[-1])
    return _real_if(_fit(h, neg, [shape(x)[ax] for ax in neg]), x)


# -- makers ---------------------------------------------------------------------------
def _vjp_maker(name):
    family = F._SPECS[name][1]
    inverse = name.startswith("i")

    def maker(ans, x, *args, **kwargs):
        neg, s, norm = _params(name, x, args, kwargs)
        if family == "c":
            return lambda g: _c2c_vjp(inverse, g, x, neg, norm)
        if family == "r":
            return lambda g: _r2c_vjp(g, x, neg, s, norm)
        if family == "i":
            return lambda g: _c2r_vjp(g, x, neg, s, norm)
        if family == "h":  # hfft(a) = irfft(conj(a)) with the opposite norm
            return lambda g: np.conj(_c2r_vjp(g, x, neg, s, _SWAP[norm]))
        if family == "ih":  # ihfft(a) = conj(rfft(a)) with the opposite norm
            return lambda g: _r2c_vjp(np.conj(g), x, neg, s, _SWAP[norm])
        back = F.ifftshift if name == "fftshift" else F.fftshift
        return lambda g: call(back, g, axes=neg)

    return maker


def _jvp_rule(name):
    func = F.MULTIMETHODS[name]
    family = F._SPECS[name][1]
    one_d = F._SPECS[name][0] is F._sig_1d

    def rule(t, ans, x, *args, **kwargs):
        neg, s, norm = _params(name, x, args, kwargs)
        if family == "shift":
            return call(func, t, axes=neg)
        if one_d:
            return call(func, t, n=s[0], axis=neg[0], norm=norm)
        return call(func, t, s=s, axes=neg, norm=norm)

    return rule


for _name in F._SPECS:
    defvjp(F.MULTIMETHODS[_name], _vjp_maker(_name))
    defjvp(F.MULTIMETHODS[_name], _jvp_rule(_name))



# fftfreq(n, d) = k / (n d): constant in n, -ans / d in the sample spacing d (a scalar).
def _freq_vjp(ans, n, d=1.0):
    return lambda g: np.sum(g * (-ans / d), axis=-1)


def _freq_jvp(t, ans, n, d=1.0):
    return np.expand_dims(t, -1) * (-ans / d)


for _freq in (F.fftfreq, F.rfftfreq):
    defvjp(_freq, None, _freq_vjp)
    defjvp(_freq, None, _freq_jvp)


def _real_cotangent(g):
    """The real part of ``g``: a cotangent of a real array carries no imaginary
    part (upstream rules may leave one, which must not be rotated into the
    real part by the ``1j`` factors below)."""
    return call(_mm.real, g) if _is_complex(g) else g
