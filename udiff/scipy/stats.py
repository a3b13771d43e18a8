"""SciPy's distributions, differentiable: ``udiff.scipy.stats``.

``norm``, ``t``, ``gamma``, ``beta``, ``chi2`` and ``poisson`` have SciPy's
methods (``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``;
``logpmf`` and ``pmf`` for ``poisson``) with SciPy's arguments (shape
parameters, then ``loc`` and ``scale``, by position or by name);
``dirichlet`` and ``multivariate_normal`` have ``logpdf`` and ``pdf``, and
``multivariate_normal`` ``entropy``.  Each
is written with :mod:`udiff.numpy` and :mod:`udiff.scipy.special`, so it runs
on NumPy, on Dask (lazily, chunk by chunk) and on ``DiffArray`` s, and is
differentiated through the operations it is made of, to any order, in both
modes.  Values, shapes and dtypes are SciPy's.

What is differentiable:

* with respect to ``x``, ``loc`` and ``scale``: every method;
* the shape parameters of ``logpdf``/``pdf`` (``df`` of ``t`` and ``chi2``,
  ``a`` of ``gamma``, ``a`` and ``b`` of ``beta``, ``mu`` of ``poisson``,
  ``alpha`` of ``dirichlet``, ``mean`` and ``cov`` of
  ``multivariate_normal``), ``cov`` in ``multivariate_normal.entropy``, and
  ``mu`` in every method of ``poisson``;
* the shape parameters of the ``cdf`` family of ``t``, ``gamma``, ``beta``
  and ``chi2`` have no closed-form derivative: differentiating with respect
  to them raises the error of ``betainc``/``gammainc`` (naming the function
  and its argument), never a number;
* ``k`` of ``poisson`` is a count: its derivative is 0, as ``floor``'s.

Where SciPy's value does not depend on an argument (outside the support:
``logpdf`` is ``-inf``, ``pdf`` 0, ``cdf`` 0 or 1), the derivatives are 0,
and no NaN comes from the formula that is not used there (the inputs of the
formula are masked, the "double where").  Invalid parameters (``scale <=
0``, ``df <= 0``...) give NaN, as SciPy's.  ``multivariate_normal``'s
``cov`` is differentiated as a symmetric matrix (as ``cholesky``: the
gradient is symmetric, see :mod:`udiff.rules.linalg`), and, singular (with
``allow_singular=True``, and in ``entropy``), where its rank is locally
constant; ``dirichlet`` gives
NaN where SciPy raises for the values of ``x`` or ``alpha`` (they may be lazy
or traced).

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy import stats
>>> x = numpy.array([0.5, 1.5, 2.5])
>>> float(stats.norm.logpdf(1.0, loc=0.5, scale=2.0))
-1.643335713764618
>>> float(udiff.grad(lambda m: stats.norm.logpdf(x, m, 2.0).sum())(1.0))
0.375
"""
import inspect

import numpy

from .. import numpy as np
from . import special as _special
from .._transformations.custom import stop_gradient

__all__ = ["norm", "t", "gamma", "beta", "chi2", "poisson", "dirichlet", "multivariate_normal"]

_LOG_SQRT_2PI = 0.5 * numpy.log(2 * numpy.pi)
_LOG_2PI = numpy.log(2 * numpy.pi)
_POK = inspect.Parameter.POSITIONAL_OR_KEYWORD


# -- helpers ----------------------------------------------------------------------------------
def _at_least_float64(x):
    """``x`` in the dtype SciPy computes in: at least float64 (``promote_types(dtype, float64)``)."""
    x = np.asarray(x)
    dtype = numpy.promote_types(x.dtype, numpy.float64)
    return x if x.dtype == dtype else np.astype(x, dtype)


def _xlogy(c, y):
    """``xlogy(c, y)`` whose derivatives are finite where ``c == y == 0`` (the term is 0 there)."""
    return _special.xlogy(c, np.where((c == 0) & (y == 0), 1.0, y))


def _xlog1py(c, y):
    """``xlog1py(c, y)`` whose derivatives are finite where ``c == 0`` and ``y == -1``."""
    return _special.xlog1py(c, np.where((c == 0) & (y == -1), 0.0, y))


def _scalar(out):
    """SciPy returns a NumPy scalar for a 0-d result; lazy and traced arrays stay arrays."""
    if isinstance(out, numpy.ndarray) and out.ndim == 0:
        return out[()]
    return out


def _masked(valid, inside, value, outside, raw=None):
    """SciPy's result: ``value`` inside the support (everywhere if ``inside is True``),
    ``outside`` out of it, NaN for invalid parameters or a NaN variable (``valid`` says both)."""
    if inside is not True:
        value = np.where(inside, value, outside)
    if raw is None:
        return _scalar(np.where(valid, value, numpy.nan))
    return _scalar(_nan_where(~valid, raw, value))


def _nan_where(mask, raw, value):
    """``value``, NaN where ``mask`` with derivatives NaN there too, at every order, in each
    argument that ``raw`` (their sum) depends on: NaN times ``tanh(raw)``, masked (a constant
    NaN would have derivative 0: ``norm.logpdf``'s in ``scale`` was 0 at ``scale < 0``)."""
    return np.where(mask, numpy.nan * np.tanh(np.where(mask, raw, 0.0)), value)


def _raw(signature, x, args, kwds):
    """The sum of the arguments as given (the variable, shapes, ``loc``, ``scale``), in float64:
    what a NaN for invalid arguments depends on."""
    bound = signature.bind(x, *args, **kwds)
    bound.apply_defaults()
    total = 0.0
    for a in bound.arguments.values():
        total = total + np.asarray(a)
    return _at_least_float64(total)


class _Univariate:
    """What SciPy's ``rv_continuous`` and ``rv_discrete`` do around the formulas.

    The public methods parse SciPy's arguments (the variable, the shape
    parameters, ``loc``, ``scale``), standardize the variable, evaluate the
    formula (``_logpdf``, ``_cdf``... of subclasses, on the standardized
    variable) at masked inputs (inside the support where the parameters are
    valid, a safe point elsewhere) and put SciPy's value outside the support.
    """

    name = ""
    shapes = ()            # the shape parameters, in SciPy's order
    support = (-numpy.inf, numpy.inf)
    interior = 0.0         # a point inside the support, where the formulas are finite

    def __init__(self):
        params = [inspect.Parameter(p, _POK) for p in ("x",) + self.shapes]
        params += [inspect.Parameter("loc", _POK, default=0.0),
                   inspect.Parameter("scale", _POK, default=1.0)]
        self._signature = inspect.Signature(params)

    def __repr__(self):
        return f"udiff.scipy.stats.{self.name}"

    def _argcheck(self, *shapes):
        """Where the shape parameters are valid (SciPy's ``_argcheck``): all positive."""
        valid = True
        for s in shapes:
            valid = valid & (s > 0)
        return valid

    def _parse(self, x, args, kwds):
        """``(z, shapes, scale, valid)``: the standardized variable, the shape parameters and
        ``scale`` masked to safe values where they are invalid, and where they are valid
        (and ``z`` is not NaN)."""
        bound = self._signature.bind(x, *args, **kwds)
        bound.apply_defaults()
        x, *shapes, loc, scale = (np.asarray(a) for a in bound.arguments.values())
        z = _at_least_float64((x - loc) / scale)
        valid = self._argcheck(*shapes) & (scale > 0)
        shapes = [np.where(valid, s, 1.0) for s in shapes]
        return z, shapes, np.where(valid, scale, 1.0), valid & ~np.isnan(z)

    def _safe(self, z, valid, inside):
        """``z`` where ``valid`` and ``inside``, the interior point elsewhere (so that the
        formulas, and their derivatives, stay finite where their value is not used)."""
        return np.where(valid if inside is True else valid & inside, z, self.interior)

    def _inside(self, z, closed):
        """Where ``z`` is in the (closed or open) support; ``True`` for the whole real line,
        where the formulas give SciPy's values at the infinities too."""
        lower, upper = self.support
        if lower == -numpy.inf and upper == numpy.inf:
            return True
        if closed:
            return (z >= lower) & (z <= upper)
        return (z > lower) & (z < upper)

    # -- the formulas on the standardized variable (subclasses give _logpdf, _cdf, _sf) --
    def _pdf(self, z, *shapes):
        return np.exp(self._logpdf(z, *shapes))

    def _logcdf(self, z, *shapes):
        """``log(cdf)`` below the median, ``log1p(-sf)`` above, as SciPy's ``rv_continuous``."""
        cdf, sf = self._cdf(z, *shapes), self._sf(z, *shapes)
        low = cdf <= 0.5
        return np.where(low, np.log(np.where(low, cdf, 1.0)), np.log1p(-np.where(low, 0.0, sf)))

    def _logsf(self, z, *shapes):
        cdf, sf = self._cdf(z, *shapes), self._sf(z, *shapes)
        low = sf < 0.5
        return np.where(low, np.log(np.where(low, sf, 1.0)), np.log1p(-np.where(low, 0.0, cdf)))

    # -- SciPy's methods --
    def logpdf(self, x, *args, **kwds):
        """Log of the probability density function at ``x``, as SciPy's ``logpdf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  Differentiable.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            ``log(pdf(x))``; ``-inf`` outside the support.  Broadcast over
            the arguments: a NumPy scalar where SciPy gives one, else an
            array (a DiffArray, a Dask array).  NaN where a parameter is
            invalid (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([0.5, 1.5])
        >>> stats.norm.logpdf(x, 1.0, 2.0)  # loc 1, scale 2
        array([-1.64333571, -1.64333571])
        >>> udiff.grad(lambda x: stats.norm.logpdf(x, 1.0, 2.0).sum())(x)
        array([ 0.125, -0.125])
        >>> udiff.grad(lambda df: stats.t.logpdf(x, df).sum())(3.0)  # a shape parameter
        array(0.07012812)
        """
        z, shapes, scale, valid = self._parse(x, args, kwds)
        inside = self._inside(z, closed=True)
        value = self._logpdf(self._safe(z, valid, inside), *shapes) - np.log(scale)
        return _masked(valid, inside, value, -numpy.inf, _raw(self._signature, x, args, kwds))

    def pdf(self, x, *args, **kwds):
        """The probability density function at ``x``, as SciPy's ``pdf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  Differentiable.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            The density; 0 outside the support.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array
            (a DiffArray, a Dask array).  NaN where a parameter is invalid
            (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([0.5, 2.0])
        >>> stats.gamma.pdf(x, 2.0, scale=0.5)
        array([0.73575888, 0.14652511])
        >>> udiff.grad(lambda a: stats.gamma.pdf(x, a, scale=0.5).sum())(2.0)
        array(-0.16988892)
        """
        z, shapes, scale, valid = self._parse(x, args, kwds)
        inside = self._inside(z, closed=True)
        value = self._pdf(self._safe(z, valid, inside), *shapes) / scale
        return _masked(valid, inside, value, 0.0, _raw(self._signature, x, args, kwds))

    def _tail(self, formula, x, args, kwds, below, above):
        z, shapes, _, valid = self._parse(x, args, kwds)
        inside = self._inside(z, closed=False)
        value = formula(self._safe(z, valid, inside), *shapes)
        outside = None if inside is True else np.where(z >= self.support[1], above, below)
        return _masked(valid, inside, value, outside, _raw(self._signature, x, args, kwds))

    def cdf(self, x, *args, **kwds):
        """The cumulative distribution function at ``x``, as SciPy's ``cdf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  The shape parameters are not
            differentiable here (``NotImplementedError``); ``loc`` and
            ``scale`` are.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            The probability of a value at most ``x``.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array
            (a DiffArray, a Dask array).  NaN where a parameter is invalid
            (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([0.5, 1.5])
        >>> stats.norm.cdf(x, loc=1.0, scale=2.0)
        array([0.40129367, 0.59870633])
        >>> udiff.grad(lambda x: stats.norm.cdf(x, loc=1.0, scale=2.0).sum())(x)  # the pdf
        array([0.19333406, 0.19333406])
        >>> udiff.grad(lambda s: stats.beta.cdf(0.25, 2.0, 3.0, scale=s))(1.0)
        array(-0.421875)
        """
        return self._tail(self._cdf, x, args, kwds, 0.0, 1.0)

    def logcdf(self, x, *args, **kwds):
        """Log of the cumulative distribution function at ``x``, as SciPy's ``logcdf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  The shape parameters are not
            differentiable here (``NotImplementedError``); ``loc`` and
            ``scale`` are.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            ``log(cdf(x))``, accurate where the cdf is tiny.  Broadcast over
            the arguments: a NumPy scalar where SciPy gives one, else an
            array (a DiffArray, a Dask array).  NaN where a parameter is
            invalid (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([-40.0, 0.0])
        >>> stats.norm.logcdf(x)
        array([-8.04608442e+02, -6.93147181e-01])
        >>> udiff.grad(lambda x: stats.norm.logcdf(x).sum())(x)
        array([40.02496885,  0.79788456])
        """
        return self._tail(self._logcdf, x, args, kwds, -numpy.inf, 0.0)

    def sf(self, x, *args, **kwds):
        """The survival function (``1 - cdf``) at ``x``, as SciPy's ``sf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  The shape parameters are not
            differentiable here (``NotImplementedError``); ``loc`` and
            ``scale`` are.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            The probability of a value above ``x``.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array
            (a DiffArray, a Dask array).  NaN where a parameter is invalid
            (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([0.5, 3.0])
        >>> stats.chi2.sf(x, 2.0)
        array([0.77880078, 0.22313016])
        >>> udiff.grad(lambda x: stats.chi2.sf(x, 2.0).sum())(x)  # -pdf
        array([-0.38940039, -0.11156508])
        """
        return self._tail(self._sf, x, args, kwds, 1.0, 0.0)

    def logsf(self, x, *args, **kwds):
        """Log of the survival function at ``x``, as SciPy's ``logsf``.

        Parameters
        ----------
        x : array_like
            The variable.  Differentiable.
        *args : array_like
            The shape parameters in SciPy's order (none for ``norm``, ``df``
            for ``t`` and ``chi2``, ``a`` for ``gamma``, ``a`` and ``b`` for
            ``beta``), then ``loc`` and ``scale``.  The shape parameters are not
            differentiable here (``NotImplementedError``); ``loc`` and
            ``scale`` are.
        **kwds : array_like
            The same by name.  ``loc`` (default 0) and ``scale`` (default 1,
            positive) are differentiable.

        Returns
        -------
        scalar or array
            ``log(sf(x))``, accurate where the survival function is tiny.
            Broadcast over the arguments: a NumPy scalar where SciPy gives
            one, else an array (a DiffArray, a Dask array).  NaN where a
            parameter is invalid (``scale <= 0``...), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([0.0, 40.0])
        >>> stats.norm.logsf(x)
        array([-6.93147181e-01, -8.04608442e+02])
        >>> udiff.grad(lambda x: stats.norm.logsf(x).sum())(x)
        array([ -0.79788456, -40.02496885])
        """
        return self._tail(self._logsf, x, args, kwds, 0.0, -numpy.inf)


# -- Student's t: the density's constant and the smaller tail, accurate for every df ---------------
# The t density's constant, log(Gamma((df + 1) / 2) / Gamma(df / 2) / sqrt(df pi)), is Stirling's
# series in a = df / 2 from _T_SERIES_A on (the two gammaln cancel to 1e-9 at df = 1e8 otherwise):
# log Gamma(a + 1/2) - log Gamma(a) = log(a) / 2 - 1/(8a) + 1/(192a^3) - 1/(640a^5) + ...
_T_SERIES_A = 25.0
# Above _T_FISHER_DF the tail is the normal one with Fisher's 1/df and 1/df^2 terms (exact to
# rounding there; the incomplete beta's argument 1 - z^2/(df + z^2) no longer resolves z).
_T_FISHER_DF = 1e12
# Below _T_TINY the tail's log comes from the incomplete beta's continued fraction, in logs (the
# second derivative of log(p) squares p: it would overflow below 1e-154).
_T_TINY = 1e-100
_T_CF_PAIRS = 12  # pairs of terms of the continued fraction: 10 give 5e-16 below _T_TINY


def _t_log_constant(df):
    """``gammaln((df + 1) / 2) - gammaln(df / 2) - log(df pi) / 2``, without cancellation."""
    a = df / 2.0
    large = a >= _T_SERIES_A
    inv = 1.0 / np.where(large, a, _T_SERIES_A)
    inv2 = inv * inv
    series = -_LOG_SQRT_2PI + inv * (-1 / 8 + inv2 * (1 / 192 + inv2 * (
        -1 / 640 + inv2 * (17 / 14336 - inv2 * 31 / 18432))))
    small = np.where(large, 1.0, a)
    direct = (_special.gammaln(small + 0.5) - _special.gammaln(small)
              - 0.5 * (np.log(2.0 * small) + numpy.log(numpy.pi)))
    return np.where(large, series, direct)


def _t_log1p(z, s):
    """``log1p((z / s)**2)``, finite where ``(z / s)**2`` overflows (and smooth at ``z == 0``:
    no ``abs`` there)."""
    big = np.abs(z) > s
    ub = np.where(big, np.abs(z), 2.0 * s) / s
    us = np.where(big, 0.0, z) / s
    return np.where(big, 2.0 * np.log(ub) + np.log1p((1.0 / ub) ** 2), np.log1p(us * us))


def _t_log_kernel(z, df):
    """``(df + 1) / 2 * log1p(z**2 / df)``, with derivatives in ``df`` that do not cancel: for
    ``w = z**2 / df < 0.01`` it is ``(1 + 1/df) z**2 / 2 * log1p(w) / w``, the last factor by its
    series (``log1p(w) - w / (1 + w)``, in the ``df`` derivative, is ``w**2 / 2`` in the
    direct form: 1e-7 of it was left at ``df = 1e8``)."""
    s = np.sqrt(df)
    small = np.abs(z) < 0.1 * s
    zs = np.where(small, z, 0.0)
    w = zs * zs / df
    series = 0.1
    for k in range(8, -1, -1):  # log1p(w) / w = sum (-w)^k / (k + 1), by Horner; w^10 < 1e-20
        series = 1.0 / (k + 1) - w * series
    small_kernel = (1.0 + 1.0 / df) * (zs * zs / 2.0) * series
    zl = np.where(small, s, z)
    return np.where(small, small_kernel, (df + 1) / 2 * _t_log1p(zl, s))


def _t_log_tail_cf(u, df):
    """``log P(T <= -z)`` for ``u = z / sqrt(df) > 0``, from the continued fraction of
    ``I_x(df/2, 1/2)`` (``x = 1 / (1 + u**2)``, ``y = 1 - x``), evaluated from its last term up
    with the odd steps written in ``y`` (``1 + d_k / t`` cancels where ``x`` is near 1):
    ``P = pdf(z) z / df * CF``."""
    a, b = df / 2.0, 0.5
    x, y = 1.0 / (1.0 + u * u), 1.0 / (1.0 + (1.0 / u) ** 2)
    t = 1.0
    for m in range(_T_CF_PAIRS - 1, -1, -1):
        n = m + 1  # the even step 2n: d = n (b - n) x / ((a + 2n - 1)(a + 2n))
        s = n * (b - n) * x / ((a + 2 * n - 1) * (a + 2 * n)) / t
        # the odd step 2m + 1: d = -q x, and 1 + d / (1 + s) = (s + (1 - q) + q y) / (1 + s)
        den = (a + 2 * m) * (a + 1 + 2 * m)
        t = (s + (a * (1 + 2 * m - b) + m * (2 + 3 * m - b)) / den
             + (a + m) * (a + b + m) / den * y) / (1.0 + s)
    log_pdf = _t_log_constant(df) - (df + 1) / 2.0 * _t_log1p(u, 1.0)
    return log_pdf + np.log(u / np.sqrt(df)) - np.log(t)


def _t_taylor(value, step, log_slope, curvature, curvature_slope):
    """A function at ``x0 + step`` by Taylor's polynomial of order 3 at ``x0``, from its value,
    its slope ``f1`` (by its log), ``L = f2 / f1`` and ``L1 = dL/dx`` there (``f3 = f1 (L**2 +
    L1)``).  With ``x0`` a constant (stopped) and ``step`` carrying the derivatives, the first
    two derivatives are those written here (right to order ``step**2``), not those of the
    incomplete beta's rule (whose ``betaln`` is off by up to 2e-10 for ``df/2`` in 500..5e5)."""
    third = (curvature * curvature + curvature_slope) / 6.0
    return value + np.exp(log_slope) * step * (1.0 + step * (0.5 * curvature + third * step))


def _t_incomplete_beta(a, log_inv_beta, x0, y0, step):
    """``I_x(a, 1/2)`` at ``x = x0 + step`` (``y0 = 1 - x0``), by :func:`_t_taylor`."""
    positive = x0 > 0  # x0 underflows to 0 for z / sqrt(df) > 1e154: the value is 0 there
    xs = np.where(positive, x0, 0.5)
    log_slope = np.where(positive, log_inv_beta + (a - 1.0) * np.log(xs) - 0.5 * np.log(y0),
                         -numpy.inf)
    # the curvature (with 1/x**2) without overflow: from z**2/df = 1e100 on (steps are 0 there,
    # and only the second derivative of cdf is approximate, for df < 2)
    xc = np.where(x0 > 1e-100, x0, 1e-100)
    return _t_taylor(_special.betainc(a, 0.5, x0), step, log_slope,
                     (a - 1.0) / xc + 0.5 / y0, 0.5 / (y0 * y0) - (a - 1.0) / (xc * xc))


def _t_tail(z, df, log=True):
    """``(p, log p)``: ``p = P(T <= -|z|)`` for finite ``df > 0`` and finite ``z != 0``
    (``log p`` is ``None`` unless ``log``).

    ``y = z**2 / (df + z**2)``; ``p = (1 - I_y(1/2, df/2)) / 2`` where that does not cancel (``p
    > 1/4``), else ``I_x(df/2, 1/2) / 2`` at ``x = 1 - y`` (``y <= 1/2``: ``x`` rounded, and
    corrected by Taylor's polynomial to second order in the rounding error, known exactly) or
    at ``x = 1 / (1 + z**2 / df)`` (``y > 1/2``); above ``_T_FISHER_DF`` the normal tail with
    Fisher's terms.  ``log p`` is ``log(p)``, or the continued fraction where ``p < _T_TINY``.
    """
    normal = df >= _T_FISHER_DF
    dfb = np.where(normal, 1.0, df)
    a = dfb / 2.0
    log_inv_beta = _t_log_constant(dfb) + 0.5 * np.log(dfb)  # -log B(df/2, 1/2)
    u = np.where(normal, 1.0, np.abs(z)) / np.sqrt(dfb)
    y = 1.0 / (1.0 + (1.0 / u) ** 2)
    y_const = stop_gradient(y)
    c_const = _special.betainc(0.5, a, y_const)
    central = c_const < 0.5
    near = ~central & (y <= 0.5)
    # central: I_y(1/2, df/2), its slope y^(-1/2) (1 - y)^(df/2 - 1) / B
    yc = np.where(central, y, 0.25)
    y0 = stop_gradient(yc)
    c = _t_taylor(c_const, yc - y0,
                  log_inv_beta - 0.5 * np.log(y0) + (a - 1.0) * np.log1p(-y0),
                  -0.5 / y0 - (a - 1.0) / (1.0 - y0),
                  0.5 / (y0 * y0) - (a - 1.0) / ((1.0 - y0) * (1.0 - y0)))
    # near (y <= 1/2): I_x(df/2, 1/2) at x0 = 1 - y rounded; 1 - x0 is exact (Sterbenz), so the
    # step from x0 to the true x = 1 - y is (1 - x0) - y, known to rounding
    yn = np.where(near, y, 0.25)
    x_near = stop_gradient(1.0 - yn)
    # far (y > 1/2): x = 1 / (1 + z^2 / df), accurate as it is
    iu = 1.0 / np.where(near | central, 1.0, u)  # u > 1 there
    xf = iu * iu / (1.0 + iu * iu)  # 1 / (1 + u**2), without overflow
    x_far = stop_gradient(xf)
    x0 = np.where(near, x_near, x_far)
    tail = _t_incomplete_beta(a, log_inv_beta, x0, 1.0 - x0,
                              np.where(near, (1.0 - x_near) - yn, xf - x_far))
    p = np.where(central, (1.0 - c) / 2, tail / 2)
    # df >= _T_FISHER_DF: Phi(-z) + phi(z) ((z^3 + z) / (4 df) + (5z^7 + 16z^5 + 3z^3 - 3z) / (96 df^2))
    dfn = np.where(normal, df, _T_FISHER_DF)
    zn = np.where(normal & (np.abs(z) < 50.0), np.abs(z), 50.0)  # p is 0 from z = 39 on
    z2 = zn * zn
    fisher = (zn * (z2 + 1.0) / (4.0 * dfn)
              + zn * (((5.0 * z2 + 16.0) * z2 + 3.0) * z2 - 3.0) / (96.0 * dfn * dfn))
    p = np.where(normal, _special.ndtr(-zn) + np.exp(-z2 / 2.0 - _LOG_SQRT_2PI) * fisher, p)
    if not log:
        return p, None
    tiny = p < _T_TINY
    log_p = np.log(np.where(tiny, 1.0, p))
    ut = np.where(tiny, np.abs(z) / np.sqrt(df), 1.0)
    return p, np.where(tiny, _t_log_tail_cf(ut, np.where(tiny, df, 1.0)), log_p)


# -- the continuous distributions ----------------------------------------------------------------
class norm_gen(_Univariate):
    """The normal distribution: ``norm.logpdf(x, loc=0, scale=1)`` and SciPy's other methods.

    Examples
    --------
    >>> from udiff.scipy import stats
    >>> float(stats.norm.cdf(1.0)), float(stats.norm.logsf(40.0))
    (0.8413447460685429, -804.6084420137539)
    """

    name = "norm"

    def _logpdf(self, z):
        return -z ** 2 / 2.0 - _LOG_SQRT_2PI

    def _pdf(self, z):
        return np.exp(-z ** 2 / 2.0) / numpy.sqrt(2 * numpy.pi)

    def _cdf(self, z):
        return _special.ndtr(z)

    def _sf(self, z):
        return _special.ndtr(-z)

    def _logcdf(self, z):
        return _special.log_ndtr(z)

    def _logsf(self, z):
        return _special.log_ndtr(-z)


class t_gen(_Univariate):
    """Student's t distribution: ``t.logpdf(x, df, loc=0, scale=1)`` and SciPy's other methods.

    ``df`` may be ``inf`` (the normal distribution).  The ``cdf`` family is not
    differentiable with respect to ``df`` (``betainc`` raises).

    Examples
    --------
    >>> from udiff.scipy import stats
    >>> round(float(stats.t.cdf(-2.0, 3.0)), 12)
    0.069662984279
    """

    name = "t"
    shapes = ("df",)

    def _logpdf(self, z, df):
        infinite = np.isinf(df)
        df = np.where(infinite, 1.0, df)
        finite = _t_log_constant(df) - _t_log_kernel(z, df)
        return np.where(infinite, -z ** 2 / 2.0 - _LOG_SQRT_2PI, finite)

    def _cdf(self, z, df):
        """Boost's ``students_t`` cdf (SciPy's ``stdtr``) with ``betainc``; at ``z == 0`` its
        Taylor polynomial ``1/2 + z pdf(0)`` (right to order 2, with finite derivatives)."""
        return self._t_cdf(z, df, log=False)

    def _sf(self, z, df):
        return self._cdf(-z, df)

    def _logcdf(self, z, df):
        """From the smaller tail ``p = cdf(-|z|)`` alone: ``log(p)`` or ``log1p(-p)``."""
        return self._t_cdf(z, df, log=True)

    def _t_cdf(self, z, df, log):
        """``cdf`` (or its log) from the smaller tail ``p = cdf(-|z|)`` of ``_t_tail``: ``p`` or
        ``1 - p`` (``log p`` or ``log1p(-p)``); at ``z == 0`` the Taylor polynomial ``1/2 + z
        pdf(0)`` (right to order 2, with finite derivatives); ``ndtr`` for ``df = inf``."""
        infinite = np.isinf(df)
        dfs = np.where(infinite, 1.0, df)
        # |z| / sqrt(df) < 1e-100: the polynomial (z**3 is below rounding), as at z == 0
        zero, unbounded = np.abs(z) < 1e-100 * np.sqrt(dfs), np.isinf(z)
        nonzero = np.where(zero, 1.0, z)
        finite_z = np.where(zero | unbounded, 1.0, z)
        p, log_p = _t_tail(finite_z, dfs, log)
        z0 = np.where(zero, z, 0.0)
        at_zero = 0.5 + z0 * np.exp(self._logpdf(0.0 * z0, df))
        if log:
            finite = np.where(finite_z < 0, log_p, np.log1p(-p))
            value = np.where(zero, np.log(np.where(zero, at_zero, 0.5)),
                             np.where(infinite, _special.log_ndtr(nonzero), finite))
            limit = np.where(z > 0, 0.0, -numpy.inf)
        else:
            finite = np.where(finite_z < 0, p, 1 - p)
            value = np.where(zero, at_zero, np.where(infinite, _special.ndtr(nonzero), finite))
            limit = np.where(z > 0, 1.0, 0.0)
        return np.where(unbounded & ~infinite, limit, value)

    def _logsf(self, z, df):
        return self._logcdf(-z, df)


class gamma_gen(_Univariate):
    """The gamma distribution: ``gamma.logpdf(x, a, loc=0, scale=1)`` and SciPy's other methods.

    The ``cdf`` family is not differentiable with respect to ``a`` (``gammainc``
    raises).

    Examples
    --------
    >>> from udiff.scipy import stats
    >>> float(stats.gamma.logpdf(2.0, 3.0, scale=0.5))
    -1.2274112777602189
    """

    name = "gamma"
    shapes = ("a",)
    support = (0.0, numpy.inf)
    interior = 1.0

    def _logpdf(self, z, a):
        return _xlogy(a - 1.0, z) - z - _special.gammaln(a)

    def _cdf(self, z, a):
        return _special.gammainc(a, z)

    def _sf(self, z, a):
        return _special.gammaincc(a, z)


class beta_gen(_Univariate):
    """The beta distribution: ``beta.logpdf(x, a, b, loc=0, scale=1)`` and SciPy's other methods.

    The ``cdf`` family is not differentiable with respect to ``a`` and ``b``
    (``betainc`` raises).

    Examples
    --------
    >>> from udiff.scipy import stats
    >>> round(float(stats.beta.cdf(0.25, 2.0, 3.0)), 12)
    0.26171875
    """

    name = "beta"
    shapes = ("a", "b")
    support = (0.0, 1.0)
    interior = 0.5

    def _logpdf(self, z, a, b):
        return _xlog1py(b - 1.0, -z) + _xlogy(a - 1.0, z) - _special.betaln(a, b)

    def _cdf(self, z, a, b):
        return _special.betainc(a, b, z)

    def _sf(self, z, a, b):
        return _special.betainc(b, a, 1.0 - z)


class chi2_gen(_Univariate):
    """The chi-squared distribution: ``chi2.logpdf(x, df, loc=0, scale=1)`` and SciPy's others.

    The ``cdf`` family is not differentiable with respect to ``df``
    (``gammainc`` raises).

    Examples
    --------
    >>> from udiff.scipy import stats
    >>> round(float(stats.chi2.sf(3.0, 2.0)), 12)
    0.223130160148
    """

    name = "chi2"
    shapes = ("df",)
    support = (0.0, numpy.inf)
    interior = 1.0

    def _logpdf(self, z, df):
        return _xlogy(df / 2.0 - 1, z) - z / 2.0 - _special.gammaln(df / 2.0) - numpy.log(2) * df / 2.0

    def _cdf(self, z, df):
        return _special.gammainc(df / 2.0, z / 2.0)

    def _sf(self, z, df):
        return _special.gammaincc(df / 2.0, z / 2.0)


# -- poisson ------------------------------------------------------------------------------------
class poisson_gen:
    """The Poisson distribution: ``poisson.logpmf(k, mu, loc=0)`` and SciPy's other methods.

    ``k`` is a count: the derivatives with respect to ``k`` (and ``loc``) are 0,
    as ``floor``'s.  Every method is differentiable with respect to ``mu``.

    Examples
    --------
    >>> import numpy, udiff
    >>> from udiff.scipy import stats
    >>> k = numpy.array([0, 2, 3])
    >>> float(stats.poisson.logpmf(2, 1.5))
    -1.3822169643436166
    >>> round(float(udiff.grad(lambda mu: stats.poisson.logpmf(k, mu).sum())(1.5)), 12)
    0.333333333333
    """

    def __init__(self):
        params = [inspect.Parameter(p, _POK) for p in ("k", "mu")]
        self._signature = inspect.Signature(params + [inspect.Parameter("loc", _POK, default=0)])

    def __repr__(self):
        return "udiff.scipy.stats.poisson"

    def _parse(self, k, args, kwds):
        """``(k, mu, valid)``: ``k - loc`` in float64, ``mu`` masked where invalid (< 0), and
        where ``mu`` is valid and ``k`` not NaN."""
        bound = self._signature.bind(k, *args, **kwds)
        bound.apply_defaults()
        k, mu, loc = (np.asarray(a) for a in bound.arguments.values())
        k = _at_least_float64(k - loc)
        valid = mu >= 0
        return k, np.where(valid, mu, 1.0), valid & ~np.isnan(k)

    def logpmf(self, k, *args, **kwds):
        """Log of the probability mass function at ``k``, as SciPy's ``logpmf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            ``log(pmf(k))``; ``-inf`` where ``k`` is not a non-negative
            integer.  Broadcast over the arguments: a NumPy scalar where
            SciPy gives one, else an array (a DiffArray, a Dask array).  NaN
            where a parameter is invalid (``mu < 0``), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.logpmf(k, 1.5)
        array([-1.5       , -1.38221696, -2.07536414])
        >>> udiff.grad(lambda mu: stats.poisson.logpmf(k, mu).sum())(1.5)
        array(0.33333333)
        """
        k, mu, valid = self._parse(k, args, kwds)
        raw = _raw(self._signature, k, args, kwds)  # k - loc by now: its derivative is 0 anyway
        inside = (k >= 0) & (np.floor(k) == k)
        k = np.floor(np.where(valid & inside, k, 0.0))  # a constant: floor's derivative is 0
        value = _xlogy(k, mu) - _special.gammaln(k + 1) - mu
        return _masked(valid, inside, value, -numpy.inf, raw)

    def pmf(self, k, *args, **kwds):
        """The probability mass function at ``k``, as SciPy's ``pmf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            The probability of ``k``; 0 where ``k`` is not a non-negative
            integer.  Broadcast over the arguments: a NumPy scalar where
            SciPy gives one, else an array (a DiffArray, a Dask array).  NaN
            where a parameter is invalid (``mu < 0``), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.pmf(k, 1.5)
        array([0.22313016, 0.25102143, 0.12551072])
        >>> udiff.grad(lambda mu: stats.poisson.pmf(k, mu).sum())(1.5)
        array(-0.01394564)
        """
        return _scalar(np.exp(self.logpmf(k, *args, **kwds)))

    def _tail(self, formula, k, args, kwds, below, above):
        k, mu, valid = self._parse(k, args, kwds)
        raw = _raw(self._signature, k, args, kwds)
        inside = (k >= 0) & (k < numpy.inf)
        value = formula(np.floor(np.where(valid & inside, k, 0.0)), mu)
        return _masked(valid, inside, value, np.where(k >= numpy.inf, above, below), raw)

    def cdf(self, k, *args, **kwds):
        """The cumulative distribution function at ``k``, as SciPy's ``cdf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            The probability of a count at most ``k``.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array
            (a DiffArray, a Dask array).  NaN where a parameter is invalid
            (``mu < 0``), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.cdf(k, 1.5)
        array([0.22313016, 0.80884683, 0.93435755])
        >>> udiff.grad(lambda mu: stats.poisson.cdf(k, mu).sum())(1.5)
        array(-0.59966231)
        """
        return self._tail(self._cdf, k, args, kwds, 0.0, 1.0)

    def logcdf(self, k, *args, **kwds):
        """Log of the cumulative distribution function at ``k``, as SciPy's ``logcdf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            ``log(cdf(k))``.  Broadcast over the arguments: a NumPy scalar
            where SciPy gives one, else an array (a DiffArray, a Dask
            array).  NaN where a parameter is invalid (``mu < 0``), as in
            SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.logcdf(k, 1.5)
        array([-1.5       , -0.21214571, -0.0678961 ])
        >>> udiff.grad(lambda mu: stats.poisson.logcdf(k, mu).sum())(1.5)
        array(-1.44467319)
        """
        return self._tail(lambda k, mu: np.log(self._cdf(k, mu)), k, args, kwds, -numpy.inf, 0.0)

    def sf(self, k, *args, **kwds):
        """The survival function (``1 - cdf``) at ``k``, as SciPy's ``sf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            The probability of a count above ``k``.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array
            (a DiffArray, a Dask array).  NaN where a parameter is invalid
            (``mu < 0``), as in SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.sf(k, 1.5)
        array([0.77686984, 0.19115317, 0.06564245])
        >>> udiff.grad(lambda mu: stats.poisson.sf(k, mu).sum())(1.5)
        array(0.59966231)
        """
        return self._tail(self._sf, k, args, kwds, 1.0, 0.0)

    def logsf(self, k, *args, **kwds):
        """Log of the survival function at ``k``, as SciPy's ``logsf``.

        Parameters
        ----------
        k : array_like
            The count.  Its derivative is 0 (as ``floor``'s).
        *args : array_like
            ``mu`` (the mean, non-negative; differentiable), then ``loc``
            (default 0, a shift of ``k``; derivative 0).
        **kwds : array_like
            ``mu`` and ``loc`` by name.

        Returns
        -------
        scalar or array
            ``log(sf(k))``.  Broadcast over the arguments: a NumPy scalar
            where SciPy gives one, else an array (a DiffArray, a Dask
            array).  NaN where a parameter is invalid (``mu < 0``), as in
            SciPy.

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> k = numpy.array([0, 2, 3])
        >>> stats.poisson.logsf(k, 1.5)
        array([-0.25248246, -1.65468024, -2.72353262])
        >>> udiff.grad(lambda mu: stats.poisson.logsf(k, mu).sum())(1.5)
        array(3.51244783)
        """
        return self._tail(lambda k, mu: np.log(self._sf(k, mu)), k, args, kwds, 0.0, -numpy.inf)

    def _cdf(self, k, mu):
        return _special.gammaincc(k + 1, mu)

    def _sf(self, k, mu):
        return _special.gammainc(k + 1, mu)



# -- dirichlet ----------------------------------------------------------------------------------
class dirichlet_gen:
    """The Dirichlet distribution: ``dirichlet.logpdf(x, alpha)`` and ``pdf``, as SciPy's.

    ``alpha`` is a vector of ``K`` concentrations; the *first* axis of ``x``
    holds the components (``K``, or ``K - 1`` and the last is ``1 - sum``),
    as in SciPy's code.  Where SciPy raises for the values (``alpha <= 0``,
    ``x`` off the simplex, ``x == 0`` where ``alpha < 1``) the result is NaN:
    udiff cannot look at values that may be lazy or traced.  Shapes are
    checked as SciPy does.

    Examples
    --------
    >>> import numpy, udiff
    >>> from udiff.scipy import stats
    >>> x, alpha = numpy.array([0.2, 0.3, 0.5]), numpy.array([1.5, 2.0, 3.0])
    >>> round(float(stats.dirichlet.logpdf(x, alpha)), 12)
    1.69521099527
    >>> udiff.grad(stats.dirichlet.logpdf, argnums=1)(x, alpha).round(6)
    array([0.146983, 0.166154, 0.17698 ])
    """

    def __repr__(self):
        return "udiff.scipy.stats.dirichlet"

    def logpdf(self, x, alpha):
        """Log of the probability density function at ``x``, as SciPy's ``logpdf``.

        Parameters
        ----------
        x : array_like
            The point on the simplex: ``K`` components (or ``K - 1``, the
            last being ``1 - sum``) along the first axis; further axes are a
            batch.  Differentiable.
        alpha : array_like
            The ``K`` concentrations, positive.  Differentiable.

        Returns
        -------
        scalar or array
            ``log(pdf(x))``.  Broadcast over the arguments: a NumPy scalar
            where SciPy gives one, else an array (a DiffArray, a Dask
            array).  NaN where SciPy raises for the values (``alpha <= 0``,
            ``x`` off the simplex).

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x, alpha = numpy.array([0.2, 0.3, 0.5]), numpy.array([1.5, 2.0, 3.0])
        >>> round(float(stats.dirichlet.logpdf(x, alpha)), 8)
        1.695211
        >>> udiff.grad(stats.dirichlet.logpdf, argnums=1)(x, alpha)
        array([0.14698344, 0.16615419, 0.17697981])
        """
        return _scalar(np.squeeze(self._logpdf(x, alpha)))

    def pdf(self, x, alpha):
        """The probability density function at ``x``, as SciPy's ``pdf``.

        Parameters
        ----------
        x : array_like
            The point on the simplex: ``K`` components (or ``K - 1``, the
            last being ``1 - sum``) along the first axis; further axes are a
            batch.  Differentiable.
        alpha : array_like
            The ``K`` concentrations, positive.  Differentiable.

        Returns
        -------
        scalar or array
            The density.  Broadcast over the arguments: a NumPy scalar where
            SciPy gives one, else an array (a DiffArray, a Dask array).  NaN
            where SciPy raises for the values (``alpha <= 0``, ``x`` off the
            simplex).

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x, alpha = numpy.array([0.2, 0.3, 0.5]), numpy.array([1.5, 2.0, 3.0])
        >>> round(float(stats.dirichlet.pdf(x, alpha)), 8)
        5.4477953
        >>> udiff.grad(stats.dirichlet.pdf, argnums=0)(x, alpha)
        array([13.61948826, 18.15931768, 21.79118121])
        """
        return _scalar(np.squeeze(np.exp(self._logpdf(x, alpha))))

    def _logpdf(self, x, alpha):
        alpha, x = np.asarray(alpha), np.asarray(x)
        if alpha.ndim != 1:
            raise ValueError("Parameter vector 'a' must be one dimensional, "
                             f"but a.shape = {alpha.shape}.")
        k = alpha.shape[0]
        if x.ndim == 0 or x.shape[0] not in (k - 1, k):
            raise ValueError("Vector 'x' must have either the same number of entries as, or one "
                             f"entry fewer than, parameter vector 'a', but alpha.shape = "
                             f"{alpha.shape} and x.shape = {x.shape}.")
        if x.shape[0] == k - 1:
            if x.ndim > 2:
                raise ValueError("The input must be one dimensional or a two dimensional "
                                 "matrix containing the entries.")
            x = np.concatenate([x, 1 - np.sum(x, axis=0, keepdims=True)], axis=0)
        c = np.reshape(alpha - 1, (k,) + (1,) * (x.ndim - 1))
        log_b = np.sum(_special.gammaln(alpha)) - _special.gammaln(np.sum(alpha))
        value = np.sum(_xlogy(c, x), axis=0) - log_b
        bad = (np.any((x < 0) | (x > 1) | ((x == 0) & (c < 0)), axis=0)
               | (np.abs(np.sum(x, axis=0) - 1.0) > 10e-10) | np.any(alpha <= 0))
        return np.where(bad, numpy.nan, value)


# -- multivariate_normal --------------------------------------------------------------------------
class multivariate_normal_gen:
    """The multivariate normal distribution: ``multivariate_normal.logpdf(x, mean=None, cov=1,
    allow_singular=False)``, ``pdf`` and ``entropy(mean=None, cov=1)``, as SciPy's.

    The *last* axis of ``x`` holds the ``d`` components; any leading axes are a
    batch (on Dask they may be chunked, and so may the last).  ``mean`` is a
    vector (or ``None``: zeros), ``cov`` a matrix, a vector (its diagonal) or a
    scalar (times the identity), as in SciPy.  ``cov`` is read and
    differentiated as a symmetric matrix (the gradient is symmetric), as
    ``cholesky``.

    By default the covariance is factored by Cholesky: it must be positive
    definite (a singular one raises ``LinAlgError``).  With
    ``allow_singular=True`` (and always in ``entropy``, as SciPy) it may be
    positive *semi*-definite: as SciPy's ``_PSD``, eigenvalues at most
    ``1e6 * eps * max|eigenvalue|`` count as zero, and the density uses the
    pseudo-inverse (``pinv``), the pseudo-determinant and the rank ``r``
    (``-(r log(2 pi) + log pdet(cov) + dev^T cov^+ dev) / 2``), with
    ``logpdf = -inf`` (``pdf = 0``) for points off the support ``mean +
    range(cov)``.  The derivatives are those of the pseudo-inverse and
    pseudo-determinant where the rank is locally constant (Golub-Pereyra's
    formula for ``pinv``): exact along perturbations that keep the rank,
    such as ``cov = B B^T`` in ``B``, and for ``x`` moving within the
    support; where a perturbation changes the rank, the density itself jumps.
    Where SciPy raises because ``cov`` is not positive semi-definite (an
    eigenvalue below ``-1e6 * eps * max|eigenvalue|``), the result is NaN:
    udiff cannot look at values that may be lazy or traced.

    Examples
    --------
    >>> import numpy, udiff
    >>> from udiff.scipy import stats
    >>> x = numpy.array([[0.5, -1.0], [1.0, 2.0]])
    >>> cov = numpy.array([[2.0, 0.3], [0.3, 1.0]])
    >>> stats.multivariate_normal.logpdf(x, mean=[0.0, 1.0], cov=cov).round(6)
    array([-4.478183, -2.789701])
    >>> udiff.grad(lambda m: stats.multivariate_normal.logpdf(x, m, cov).sum())(
    ...     numpy.zeros(2)).round(6)
    array([0.628272, 0.811518])
    """

    def __repr__(self):
        return "udiff.scipy.stats.multivariate_normal"

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """Log of the probability density function at ``x``, as SciPy's ``logpdf``.

        Parameters
        ----------
        x : array_like
            The point: ``d`` components along the last axis; leading axes
            are a batch.  Differentiable.
        mean : array_like, optional
            The mean, a vector of length ``d`` (default zeros).
            Differentiable.
        cov : array_like, optional
            The covariance: a ``d x d`` positive definite matrix, a vector
            (its diagonal) or a scalar (times the identity); default 1.
            Differentiable (as a symmetric matrix: the gradient is
            symmetric).
        allow_singular : bool, optional
            Whether ``cov`` may be singular (positive semi-definite): then
            the density uses its pseudo-inverse and pseudo-determinant, and
            is differentiable where its rank is locally constant (see the
            class).  Without it a singular ``cov`` raises ``LinAlgError``.

        Returns
        -------
        scalar or array
            ``log(pdf(x))``; with ``allow_singular``, ``-inf`` off the
            support and NaN where ``cov`` is not positive semi-definite.
            Broadcast over the arguments: a NumPy scalar where SciPy gives
            one, else an array (a DiffArray, a Dask array).

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([[0.5, -1.0], [1.0, 2.0]])
        >>> cov = numpy.array([[2.0, 0.3], [0.3, 1.0]])
        >>> stats.multivariate_normal.logpdf(x, [0.0, 1.0], cov)
        array([-4.47818261, -2.78970094])
        >>> udiff.grad(lambda c: stats.multivariate_normal.logpdf(x, [0.0, 1.0], c).sum())(cov)
        array([[-0.29056221, -0.30550149],
               [-0.30550149,  1.7094515 ]])
        """
        return _scalar(np.squeeze(self._logpdf(x, mean, cov, allow_singular)))

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """The probability density function at ``x``, as SciPy's ``pdf``.

        Parameters
        ----------
        x : array_like
            The point: ``d`` components along the last axis; leading axes
            are a batch.  Differentiable.
        mean : array_like, optional
            The mean, a vector of length ``d`` (default zeros).
            Differentiable.
        cov : array_like, optional
            The covariance: a ``d x d`` positive definite matrix, a vector
            (its diagonal) or a scalar (times the identity); default 1.
            Differentiable (as a symmetric matrix: the gradient is
            symmetric).
        allow_singular : bool, optional
            Whether ``cov`` may be singular (positive semi-definite): then
            the density uses its pseudo-inverse and pseudo-determinant, and
            is differentiable where its rank is locally constant (see the
            class).  Without it a singular ``cov`` raises ``LinAlgError``.

        Returns
        -------
        scalar or array
            The density; with ``allow_singular``, 0 off the support and NaN
            where ``cov`` is not positive semi-definite.  Broadcast over the
            arguments: a NumPy scalar where SciPy gives one, else an array (a
            DiffArray, a Dask array).

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> x = numpy.array([[0.5, -1.0], [1.0, 2.0]])
        >>> cov = numpy.array([[2.0, 0.3], [0.3, 1.0]])
        >>> stats.multivariate_normal.pdf(x, cov=cov)
        array([0.05907379, 0.01494597])
        >>> udiff.grad(lambda m: stats.multivariate_normal.pdf(x, m, cov).sum())(numpy.zeros(2))
        array([ 0.02787299, -0.03754375])
        """
        return _scalar(np.squeeze(np.exp(self._logpdf(x, mean, cov, allow_singular))))

    def entropy(self, mean=None, cov=1):
        """The differential entropy, as SciPy's ``entropy``.

        ``(r (log(2 pi) + 1) + log pdet(cov)) / 2``, with ``r`` the rank of
        ``cov`` and ``pdet`` its pseudo-determinant: as in SciPy, ``cov`` may
        be singular (positive semi-definite; see the class).

        Parameters
        ----------
        mean : array_like, optional
            The mean, a vector of length ``d`` (default zeros): it sets the
            dimension only, the entropy does not depend on it.
        cov : array_like, optional
            The covariance: a ``d x d`` positive semi-definite matrix, a
            vector (its diagonal) or a scalar (times the identity); default
            1.  Differentiable (as a symmetric matrix: the gradient is
            symmetric), where its rank is locally constant.

        Returns
        -------
        scalar or array
            The entropy: a NumPy scalar for NumPy arguments, else a 0-d
            array (a DiffArray, a Dask array).  NaN where ``cov`` is not
            positive semi-definite (SciPy raises).

        Examples
        --------
        >>> import numpy, udiff
        >>> from udiff.scipy import stats
        >>> cov = numpy.array([[2.0, 0.3], [0.3, 1.0]])
        >>> round(float(stats.multivariate_normal.entropy(cov=cov)), 8)
        3.16142869
        >>> udiff.grad(lambda c: stats.multivariate_normal.entropy(cov=c))(cov)  # inv(cov) / 2
        array([[ 0.2617801 , -0.07853403],
               [-0.07853403,  0.52356021]])
        """
        _, _, cov = _mvn_parameters(mean, cov)
        psd = _PSD(cov)
        out = 0.5 * (psd.rank * (_LOG_2PI + 1) + psd.log_pdet)
        return _scalar(np.where(psd.invalid, numpy.nan, out))

    def _logpdf(self, x, mean, cov, allow_singular=False):
        dim, mean, cov = _mvn_parameters(mean, cov)
        x = _at_least_float64(x)
        if x.ndim == 0:
            x = np.reshape(x, (1,))
        if x.ndim == 1:
            x = np.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        if allow_singular:
            return _PSD(cov).logpdf(x - mean, dim)
        low = np.linalg.cholesky(cov)
        z = np.linalg.solve(low, (x - mean)[..., None])[..., 0]
        log_det = 2 * np.sum(np.log(np.diagonal(low)))
        return -0.5 * (dim * _LOG_2PI + log_det + np.sum(z * z, axis=-1))


# SciPy's _eigvalsh_to_eps for float64: eigenvalues up to this times the largest are zero.
_PSD_COND = 1e6 * numpy.finfo(numpy.float64).eps


class _PSD:
    """SciPy's ``_PSD`` of a symmetric positive semi-definite ``cov``, differentiable where its
    rank is locally constant.

    The rank, the cutoff and the projector onto the null space (for the support) are
    constants, from the eigenvalues of ``cov``'s value.  The pseudo-inverse is ``pinv``
    with SciPy's cutoff (its derivative is Golub-Pereyra's, for a constant rank), and the
    log pseudo-determinant is ``log det(P cov + I - P)`` with ``P = cov cov^+``: the null
    space's zero eigenvalues become ones, so this is the sum of the logs of the others,
    and it is written with ``cholesky`` and ``pinv`` alone, with no eigenvector, whose
    derivative would divide by the differences of the repeated zero eigenvalues.  Its
    gradient is ``cov^+``, as SciPy's value changes: 0 on the null space, where a small
    perturbation stays below the cutoff.
    """

    def __init__(self, cov):
        cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))  # differentiated as a symmetric matrix
        dim = cov.shape[-1]
        w = np.linalg.eigvalsh(stop_gradient(cov))
        self.cut = _PSD_COND * np.max(np.abs(w))
        self.rank = np.sum(w > self.cut)
        self.invalid = np.min(w) < -self.cut  # SciPy: "must be symmetric positive semidefinite"
        self.prec = np.linalg.pinv(cov, rcond=_PSD_COND)
        projector = cov @ self.prec  # onto the range of cov
        null = numpy.eye(dim) - projector
        self.null = stop_gradient(null)
        # cov P = cov on the matrices of rank r, and stays put where a perturbation of the null
        # space would raise the rank: its eigenvalues there stay below the cutoff (SciPy's pdet
        # does not change), and so does log pdet.  Where cov is not positive semi-definite
        # (NaN) the factored matrix is the identity.
        kept = np.where(self.invalid, numpy.eye(dim), projector @ cov + null)
        self.log_pdet = 2 * np.sum(np.log(np.diagonal(np.linalg.cholesky(kept))))

    def logpdf(self, dev, dim):
        """SciPy's ``_logpdf`` at ``dev = x - mean``: ``-inf`` off the support."""
        maha = np.sum(dev * (dev @ self.prec), axis=-1)
        out = -0.5 * (self.rank * _LOG_2PI + self.log_pdet + maha)
        residual = np.linalg.norm(stop_gradient(dev) @ self.null, axis=-1)
        outside = (self.rank < dim) & (residual >= 1e3 * self.cut)
        return np.where(self.invalid, numpy.nan, np.where(outside, -numpy.inf, out))


def _mvn_parameters(mean, cov):
    """``(dim, mean, cov)`` as SciPy's ``_process_parameters_psd``: float64, a vector of
    length ``dim`` and a ``dim x dim`` matrix, with SciPy's errors."""
    cov = _at_least_float64(1.0 if cov is None else cov)
    if mean is not None:
        mean = _at_least_float64(mean)
        dim = mean.size
    else:
        dim = 1 if cov.ndim < 2 else cov.shape[0]
        mean = numpy.zeros(dim)
    if dim == 1:
        mean, cov = np.reshape(mean, (1,)), np.reshape(cov, (1, 1))
    if mean.ndim != 1 or mean.shape[0] != dim:
        raise ValueError(f"Array 'mean' must be a vector of length {dim}.")
    if cov.ndim == 0:
        cov = cov * numpy.eye(dim)
    elif cov.ndim == 1:
        cov = np.diag(cov)
    elif cov.ndim == 2 and cov.shape != (dim, dim):
        rows, cols = cov.shape
        if rows != cols:
            raise ValueError("Array 'cov' must be square if it is two dimensional, "
                             f"but cov.shape = {cov.shape}.")
        raise ValueError(f"Dimension mismatch: array 'cov' is of shape {cov.shape}, "
                         f"but 'mean' is a vector of length {dim}.")
    elif cov.ndim > 2:
        raise ValueError(f"Array 'cov' must be at most two-dimensional, but cov.ndim = {cov.ndim}")
    return dim, mean, cov


norm = norm_gen()
t = t_gen()
gamma = gamma_gen()
beta = beta_gen()
chi2 = chi2_gen()
poisson = poisson_gen()
dirichlet = dirichlet_gen()
multivariate_normal = multivariate_normal_gen()
