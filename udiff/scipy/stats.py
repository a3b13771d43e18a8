"""SciPy's distributions, differentiable: ``udiff.scipy.stats``.

``norm``, ``t``, ``gamma``, ``beta``, ``chi2`` and ``poisson`` have SciPy's
methods (``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``;
``logpmf`` and ``pmf`` for ``poisson``) with SciPy's arguments (shape
parameters, then ``loc`` and ``scale``, by position or by name);
``dirichlet`` and ``multivariate_normal`` have ``logpdf`` and ``pdf``.  Each
is written with :mod:`udiff.numpy` and :mod:`udiff.scipy.special`, so it runs
on NumPy, on Dask (lazily, chunk by chunk) and on ``DiffArray`` s, and is
differentiated through the operations it is made of, to any order, in both
modes.  Values, shapes and dtypes are SciPy's.

What is differentiable:

* with respect to ``x``, ``loc`` and ``scale``: every method;
* the shape parameters of ``logpdf``/``pdf`` (``df`` of ``t`` and ``chi2``,
  ``a`` of ``gamma``, ``a`` and ``b`` of ``beta``, ``mu`` of ``poisson``,
  ``alpha`` of ``dirichlet``, ``mean`` and ``cov`` of
  ``multivariate_normal``), and ``mu`` in every method of ``poisson``;
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
gradient is symmetric, see :mod:`udiff.rules.linalg`); ``dirichlet`` gives
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


def _masked(valid, inside, value, outside):
    """SciPy's result: ``value`` inside the support (everywhere if ``inside is True``),
    ``outside`` out of it, NaN for invalid parameters or a NaN variable (``valid`` says both)."""
    if inside is not True:
        value = np.where(inside, value, outside)
    return _scalar(np.where(valid, value, numpy.nan))


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
        return _masked(valid, inside, value, -numpy.inf)

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
        return _masked(valid, inside, value, 0.0)

    def _tail(self, formula, x, args, kwds, below, above):
        z, shapes, _, valid = self._parse(x, args, kwds)
        inside = self._inside(z, closed=False)
        value = formula(self._safe(z, valid, inside), *shapes)
        outside = None if inside is True else np.where(z >= self.support[1], above, below)
        return _masked(valid, inside, value, outside)

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
        finite = (_special.gammaln((df + 1) / 2) - _special.gammaln(df / 2)
                  - 0.5 * (np.log(df) + numpy.log(numpy.pi)) - (df + 1) / 2 * np.log1p(z * z / df))
        return np.where(infinite, -z ** 2 / 2.0 - _LOG_SQRT_2PI, finite)

    def _cdf(self, z, df):
        """Boost's ``students_t`` cdf (SciPy's ``stdtr``) with ``betainc``; at ``z == 0`` its
        Taylor polynomial ``1/2 + z pdf(0)`` (right to order 2, with finite derivatives)."""
        infinite = np.isinf(df)
        dfs = np.where(infinite, 1.0, df)
        zero = z == 0
        nonzero = np.where(zero, 1.0, z)
        z2 = nonzero * nonzero
        central = dfs > 2 * z2  # |z| small: the incomplete beta in z^2 / (df + z^2)
        half_tail = np.where(
            central,
            (1 - _special.betainc(0.5, dfs / 2, np.where(central, z2 / (dfs + z2), 0.25))) / 2,
            _special.betainc(dfs / 2, 0.5, np.where(central, 0.5, dfs / (dfs + z2))) / 2)
        finite = np.where(nonzero > 0, 1 - half_tail, half_tail)
        at_zero = 0.5 + z * np.exp(self._logpdf(0.0 * z, df))
        return np.where(zero, at_zero, np.where(infinite, _special.ndtr(nonzero), finite))

    def _sf(self, z, df):
        return self._cdf(-z, df)

    def _logcdf(self, z, df):
        """From the smaller tail ``p = cdf(-|z|)`` alone: ``log(p)`` or ``log1p(-p)``."""
        below = z < 0
        p = self._cdf(np.where(below, z, -z), df)
        return np.where(below, np.log(p), np.log1p(-p))

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
        inside = (k >= 0) & (np.floor(k) == k)
        k = np.floor(np.where(valid & inside, k, 0.0))  # a constant: floor's derivative is 0
        value = _xlogy(k, mu) - _special.gammaln(k + 1) - mu
        return _masked(valid, inside, value, -numpy.inf)

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
        inside = (k >= 0) & (k < numpy.inf)
        value = formula(np.floor(np.where(valid & inside, k, 0.0)), mu)
        return _masked(valid, inside, value, np.where(k >= numpy.inf, above, below))

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
    allow_singular=False)`` and ``pdf``, as SciPy's.

    The *last* axis of ``x`` holds the ``d`` components; any leading axes are a
    batch (on Dask they may be chunked, and so may the last).  ``mean`` is a
    vector (or ``None``: zeros), ``cov`` a matrix, a vector (its diagonal) or a
    scalar (times the identity), as in SciPy.  The covariance is factored by
    Cholesky: it must be positive definite (a singular one raises
    ``LinAlgError``, also with ``allow_singular=True``, which SciPy
    accepts).  ``cov`` is read and differentiated as a symmetric matrix (the
    gradient is symmetric), as ``cholesky``.

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
            SciPy's; a singular ``cov`` raises ``LinAlgError`` either way.

        Returns
        -------
        scalar or array
            ``log(pdf(x))``.  Broadcast over the arguments: a NumPy scalar
            where SciPy gives one, else an array (a DiffArray, a Dask
            array).

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
        return _scalar(np.squeeze(self._logpdf(x, mean, cov)))

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
            SciPy's; a singular ``cov`` raises ``LinAlgError`` either way.

        Returns
        -------
        scalar or array
            The density.  Broadcast over the arguments: a NumPy scalar where
            SciPy gives one, else an array (a DiffArray, a Dask array).

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
        return _scalar(np.squeeze(np.exp(self._logpdf(x, mean, cov))))

    def _logpdf(self, x, mean, cov):
        dim, mean, cov = _mvn_parameters(mean, cov)
        x = _at_least_float64(x)
        if x.ndim == 0:
            x = np.reshape(x, (1,))
        if x.ndim == 1:
            x = np.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        low = np.linalg.cholesky(cov)
        z = np.linalg.solve(low, (x - mean)[..., None])[..., 0]
        log_det = 2 * np.sum(np.log(np.diagonal(low)))
        return -0.5 * (dim * _LOG_2PI + log_det + np.sum(z * z, axis=-1))


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
