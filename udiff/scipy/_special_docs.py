"""The docstrings of :mod:`udiff.scipy.special`'s functions.

Each entry: a one-line summary, the parameters SciPy names (with whether
each is differentiable), a note, and examples (whose outputs doctest checks).
"""

DIFF = "Differentiable."


def constant(what="the order"):
    """The description of an argument udiff does not differentiate."""
    return (f"Not differentiable ({what}): pass it as a constant; differentiating with "
            "respect to it raises ``NotImplementedError``.")


# name -> (summary, {parameter: description}, note, examples)
DOCS = {
    'beta': (
        'The beta function, ``gamma(a) gamma(b) / gamma(a + b)``.',
        {
            'a': 'Real argument. ' + DIFF,
            'b': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> a, b = numpy.array([1.0, 2.0]), numpy.array([2.0, 3.0])
>>> special.beta(a, b)
array([0.5       , 0.08333333])
>>> udiff.grad(lambda a, b: special.beta(a, b).sum(), argnums=(0, 1))(a, b)
(array([-0.75      , -0.09027778]), array([-0.25      , -0.04861111]))
"""),
    'betaln': (
        'The natural logarithm of the absolute value of the beta function.',
        {
            'a': 'Real argument. ' + DIFF,
            'b': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> a, b = numpy.array([1.0, 2.0]), numpy.array([2.0, 3.0])
>>> special.betaln(a, b)
array([-0.69314718, -2.48490665])
>>> udiff.grad(lambda a, b: special.betaln(a, b).sum(), argnums=(0, 1))(a, b)
(array([-1.5       , -1.08333333]), array([-0.5       , -0.58333333]))
"""),
    'betainc': (
        'The regularized incomplete beta function, ``I_x(a, b)``.',
        {
            'a': 'Positive shape parameter. ' + constant('a shape parameter'),
            'b': 'Positive shape parameter. ' + constant('a shape parameter'),
            'x': 'Real, in ``[0, 1]``. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.25, 0.5])
>>> special.betainc(2.0, 3.0, x)
array([0.26171875, 0.6875    ])
>>> udiff.grad(lambda x: special.betainc(2.0, 3.0, x).sum())(x)  # x (1 - x)**2 / B(2, 3)
array([1.6875, 1.5   ])
"""),
    'digamma': (
        'The digamma function, the derivative of ``gammaln``.',
        {
            'z': 'Real or complex argument. ' + DIFF,
        },
        '``psi`` is the same function.',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.5])
>>> special.digamma(x)
array([-0.57721566,  0.70315664])
>>> udiff.grad(lambda x: special.digamma(x).sum())(x)  # polygamma(1, x)
array([1.64493407, 0.49035776])
"""),
    'psi': (
        "The digamma function, the derivative of ``gammaln`` (``digamma``'s other name).",
        {
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.5])
>>> special.psi(x)
array([-0.57721566,  0.70315664])
>>> udiff.grad(lambda x: special.psi(x).sum())(x)  # polygamma(1, x)
array([1.64493407, 0.49035776])
"""),
    'entr': (
        'Elementwise entropy: ``-x log(x)`` for ``x > 0``, 0 at 0, ``-inf`` for ``x < 0``.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.1, 0.5])
>>> special.entr(x)
array([0.23025851, 0.34657359])
>>> udiff.grad(lambda x: special.entr(x).sum())(x)  # -(log(x) + 1)
array([ 1.30258509, -0.30685282])
"""),
    'erf': (
        ('The error function, ``2 / sqrt(pi)`` times the integral of ``exp(-t**2)`` from 0 to '
         '``z``.'),
        {
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 0.5, 1.0])
>>> special.erf(x)
array([0.        , 0.52049988, 0.84270079])
>>> udiff.grad(lambda x: special.erf(x).sum())(x)  # 2 / sqrt(pi) exp(-x**2)
array([1.12837917, 0.87878258, 0.4151075 ])
"""),
    'erfc': (
        'The complementary error function, ``1 - erf(x)``.',
        {
            'x': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 0.5, 1.0])
>>> special.erfc(x)
array([1.        , 0.47950012, 0.15729921])
>>> udiff.grad(lambda x: special.erfc(x).sum())(x)  # -2 / sqrt(pi) exp(-x**2)
array([-1.12837917, -0.87878258, -0.4151075 ])
"""),
    'erfcinv': (
        'The inverse of the complementary error function.',
        {
            'y': 'Real, in ``[0, 2]``. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> y = numpy.array([0.5, 1.5])
>>> special.erfcinv(y)
array([ 0.47693628, -0.47693628])
>>> udiff.grad(lambda y: special.erfcinv(y).sum())(y)
array([-1.11258482, -1.11258482])
"""),
    'erfcx': (
        'The scaled complementary error function, ``exp(x**2) erfc(x)``.',
        {
            'x': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0, 30.0])
>>> special.erfcx(x)
array([1.        , 0.42758358, 0.01879589])
>>> udiff.grad(lambda x: special.erfcx(x).sum())(x)  # 2 x erfcx(x) - 2 / sqrt(pi)
array([-1.12837917e+00, -2.73212015e-01, -6.25835411e-04])
"""),
    'erfinv': (
        'The inverse of the error function.',
        {
            'y': 'Real, in ``[-1, 1]``. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> y = numpy.array([0.0, 0.5])
>>> special.erfinv(y)
array([0.        , 0.47693628])
>>> udiff.grad(lambda y: special.erfinv(y).sum())(y)  # sqrt(pi) / 2 exp(erfinv(y)**2)
array([0.88622693, 1.11258482])
"""),
    'expit': (
        'The logistic sigmoid, ``1 / (1 + exp(-x))``.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([-1.0, 0.0, 40.0])
>>> special.expit(x)
array([0.26894142, 0.5       , 1.        ])
>>> udiff.grad(lambda x: special.expit(x).sum())(x)  # expit(x) expit(-x)
array([1.96611933e-01, 2.50000000e-01, 4.24835426e-18])
"""),
    'logit': (
        'The logit, ``log(p / (1 - p))``, the inverse of ``expit``.',
        {
            'x': 'Real, in ``[0, 1]``. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> p = numpy.array([0.25, 0.5])
>>> special.logit(p)
array([-1.09861229,  0.        ])
>>> udiff.grad(lambda p: special.logit(p).sum())(p)  # 1 / (p (1 - p))
array([5.33333333, 4.        ])
"""),
    'gamma': (
        'The gamma function.',
        {
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.5])
>>> special.gamma(x)
array([1.        , 1.32934039])
>>> udiff.grad(lambda x: special.gamma(x).sum())(x)  # gamma(x) digamma(x)
array([-0.57721566,  0.93473452])
"""),
    'gammaln': (
        'The natural logarithm of the absolute value of the gamma function.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.0])
>>> special.gammaln(x)
array([0., 0.])
>>> udiff.grad(lambda x: special.gammaln(x).sum())(x)  # digamma(x)
array([-0.57721566,  0.42278434])
"""),
    'gammasgn': (
        'The sign of the gamma function.',
        {
            'x': 'Real argument.  Its derivative is zero: the sign is piecewise constant.',
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([-0.5, 2.0])
>>> special.gammasgn(x)
array([-1.,  1.])
>>> udiff.grad(lambda x: special.gammasgn(x).sum())(x)
array([0., 0.])
"""),
    'rgamma': (
        'The reciprocal of the gamma function, ``1 / gamma(z)``.',
        {
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.5])
>>> special.rgamma(x)
array([1.        , 0.75225278])
>>> udiff.grad(lambda x: special.rgamma(x).sum())(x)  # -rgamma(x) digamma(x)
array([ 0.57721566, -0.52895154])
"""),
    'gammainc': (
        'The regularized lower incomplete gamma function, ``P(a, x)``.',
        {
            'a': 'Positive shape parameter. ' + constant('the shape parameter'),
            'x': 'Nonnegative real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 2.0])
>>> special.gammainc(2.0, x)
array([0.09020401, 0.59399415])
>>> udiff.grad(lambda x: special.gammainc(2.0, x).sum())(x)  # x exp(-x) / gamma(2)
array([0.30326533, 0.27067057])
"""),
    'gammaincc': (
        'The regularized upper incomplete gamma function, ``Q(a, x) = 1 - P(a, x)``.',
        {
            'a': 'Positive shape parameter. ' + constant('the shape parameter'),
            'x': 'Nonnegative real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 2.0])
>>> special.gammaincc(2.0, x)
array([0.90979599, 0.40600585])
>>> udiff.grad(lambda x: special.gammaincc(2.0, x).sum())(x)
array([-0.30326533, -0.27067057])
"""),
    'i0': (
        'The modified Bessel function of the first kind, of order 0.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0])
>>> special.i0(x)
array([1.        , 1.26606588])
>>> udiff.grad(lambda x: special.i0(x).sum())(x)  # i1(x)
array([0.       , 0.5651591])
"""),
    'i1': (
        'The modified Bessel function of the first kind, of order 1.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0])
>>> special.i1(x)
array([0.       , 0.5651591])
>>> udiff.grad(lambda x: special.i1(x).sum())(x)  # (i0(x) + iv(2, x)) / 2
array([0.5       , 0.70090677])
"""),
    'iv': (
        'The modified Bessel function of the first kind, of real order ``v``.',
        {
            'v': 'Real order. ' + constant(),
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> z = numpy.array([0.5, 1.0])
>>> special.iv(1.5, z)
array([0.09640347, 0.29352533])
>>> udiff.grad(lambda z: special.iv(1.5, z).sum())(z)  # (iv(v - 1, z) + iv(v + 1, z)) / 2
array([0.29878267, 0.4973869 ])
"""),
    'ive': (
        'The exponentially scaled modified Bessel function of the first kind.',
        {
            'v': 'Real order. ' + constant(),
            'z': ('Real argument. ' + DIFF + ' (Complex ``z`` is not: the scaling is not '
                  'holomorphic.)'),
        },
        '``ive(v, z)`` is ``iv(v, z) exp(-abs(z.real))``.',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> z = numpy.array([0.5, 1.0])
>>> special.ive(1.5, z)
array([0.05847166, 0.10798193])
>>> udiff.grad(lambda z: special.ive(1.5, z).sum())(z)
array([0.12274918, 0.07499648])
"""),
    'j0': (
        'The Bessel function of the first kind, of order 0.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 1.0])
>>> special.j0(x)
array([0.93846981, 0.76519769])
>>> udiff.grad(lambda x: special.j0(x).sum())(x)  # -j1(x)
array([-0.24226846, -0.44005059])
"""),
    'j1': (
        'The Bessel function of the first kind, of order 1.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0])
>>> special.j1(x)
array([0.        , 0.44005059])
>>> udiff.grad(lambda x: special.j1(x).sum())(x)  # (j0(x) - jv(2, x)) / 2
array([0.5      , 0.3251471])
"""),
    'jv': (
        'The Bessel function of the first kind, of real order ``v``.',
        {
            'v': 'Real order. ' + constant(),
            'z': 'Real or complex argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> z = numpy.array([0.5, 1.0])
>>> special.jv(2.5, z)
array([0.00923641, 0.04949681])
>>> udiff.grad(lambda z: special.jv(2.5, z).sum())(z)  # (jv(v - 1, z) - jv(v + 1, z)) / 2
array([0.04551966, 0.11655581])
"""),
    'jn': (
        'The Bessel function of the first kind, of integer order ``n``.',
        {
            'n': 'Integer order. ' + constant(),
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 1.0])
>>> special.jn(2, x)
array([0.03060402, 0.11490348])
>>> udiff.grad(lambda x: special.jn(2, x).sum())(x)
array([0.11985236, 0.21024362])
"""),
    'y0': (
        'The Bessel function of the second kind, of order 0.',
        {
            'x': 'Positive real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 1.0])
>>> special.y0(x)
array([-0.44451873,  0.08825696])
>>> udiff.grad(lambda x: special.y0(x).sum())(x)  # -y1(x)
array([1.47147239, 0.78121282])
"""),
    'y1': (
        'The Bessel function of the second kind, of order 1.',
        {
            'x': 'Positive real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 1.0])
>>> special.y1(x)
array([-1.47147239, -0.78121282])
>>> udiff.grad(lambda x: special.y1(x).sum())(x)  # (y0(x) - yn(2, x)) / 2
array([2.49842605, 0.86946979])
"""),
    'yn': (
        'The Bessel function of the second kind, of integer order ``n``.',
        {
            'n': 'Integer order. ' + constant('the order is an integer'),
            'x': 'Positive real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.5, 1.0])
>>> special.yn(2, x)
array([-5.44137084, -1.65068261])
>>> udiff.grad(lambda x: special.yn(2, x).sum())(x)  # (yn(n - 1, x) - yn(n + 1, x)) / 2
array([20.29401096,  2.52015239])
"""),
    'ndtr': (
        'The standard normal cumulative distribution function.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0])
>>> special.ndtr(x)
array([0.5       , 0.84134475])
>>> udiff.grad(lambda x: special.ndtr(x).sum())(x)  # the standard normal density
array([0.39894228, 0.24197072])
"""),
    'ndtri': (
        'The inverse of ``ndtr``: the standard normal quantile function.',
        {
            'y': 'Probability, in ``[0, 1]``. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> p = numpy.array([0.5, 0.975])
>>> special.ndtri(p)
array([0.        , 1.95996398])
>>> udiff.grad(lambda p: special.ndtri(p).sum())(p)  # sqrt(2 pi) exp(ndtri(p)**2 / 2)
array([ 2.50662827, 17.11008308])
"""),
    'log_ndtr': (
        'The logarithm of the standard normal cumulative distribution function.',
        {
            'x': 'Real argument. ' + DIFF,
        },
        'The derivative is accurate far in both tails.',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([-40.0, 0.0, 5.0])
>>> special.log_ndtr(x)
array([-8.04608442e+02, -6.93147181e-01, -2.86651613e-07])
>>> udiff.grad(lambda x: special.log_ndtr(x).sum())(x)  # pdf(x) / cdf(x)
array([4.00249688e+01, 7.97884561e-01, 1.48671994e-06])
"""),
    'xlogy': (
        '``x * log(y)``, 0 where ``x == 0`` (whatever ``y``).',
        {
            'x': 'Real or complex multiplier. ' + DIFF,
            'y': 'Real or complex argument. ' + DIFF,
        },
        'Where ``x == 0`` the derivative with respect to ``y`` is 0 (even at ``y == 0``).',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x, y = numpy.array([0.0, 2.0]), numpy.array([0.0, 3.0])
>>> special.xlogy(x, y)
array([0.        , 2.19722458])
>>> udiff.grad(lambda y: special.xlogy(x, y).sum())(y)  # x / y, and 0 where x == 0
array([0.        , 0.66666667])
>>> udiff.grad(lambda x: special.xlogy(x, 3.0).sum())(x)  # log(y)
array([1.09861229, 1.09861229])
"""),
    'xlog1py': (
        '``x * log1p(y)``, 0 where ``x == 0`` (whatever ``y``).',
        {
            'x': 'Real or complex multiplier. ' + DIFF,
            'y': 'Real or complex argument. ' + DIFF,
        },
        'Where ``x == 0`` the derivative with respect to ``y`` is 0 (even at ``y == -1``).',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x, y = numpy.array([0.0, 2.0]), numpy.array([-1.0, 3.0])
>>> special.xlog1py(x, y)
array([0.        , 2.77258872])
>>> udiff.grad(lambda y: special.xlog1py(x, y).sum())(y)  # x / (1 + y), and 0 where x == 0
array([0. , 0.5])
>>> udiff.grad(lambda x: special.xlog1py(x, 3.0).sum())(x)  # log1p(y)
array([1.38629436, 1.38629436])
"""),
    'polygamma': (
        'The polygamma function, the ``n``-th derivative of ``digamma``.',
        {
            'n': 'Nonnegative integer order. ' + constant('the order is an integer'),
            'x': 'Real argument. ' + DIFF,
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([1.0, 2.5])
>>> special.polygamma(1, x)
array([1.64493407, 0.49035776])
>>> udiff.grad(lambda x: special.polygamma(1, x).sum())(x)  # polygamma(2, x)
array([-2.40411381, -0.23620405])
"""),
    'multigammaln': (
        'The logarithm of the multivariate gamma function of dimension ``d``.',
        {
            'a': 'Real argument, greater than ``(d - 1) / 2``. ' + DIFF,
            'd': 'The dimension, a positive integer (a constant).',
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> a = numpy.array([2.0, 3.5])
>>> special.multigammaln(a, 2)
array([0.45158271, 2.46648573])
>>> udiff.grad(lambda a: special.multigammaln(a, 2).sum())(a)
array([0.45927431, 2.02594098])
"""),
    'logsumexp': (
        'The log of the sum of exponentials, ``log(sum(b * exp(a)))``, computed stably.',
        {
            'a': 'Input array. ' + DIFF,
            'axis': 'The axis or axes to sum over (default: all).',
            'b': 'Scaling factors of ``exp(a)``, broadcastable with ``a``. ' + DIFF,
            'keepdims': 'Keep the summed axes, with length 1.',
            'return_sign': ('Also return the sign of the sum (the sign is a constant: its '
                            'derivative is zero).'),
        },
        ('Its derivative is 0 where every term is ``-inf`` (an empty term changes nothing), '
         'where JAX and autograd give NaN.'),
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> a = numpy.array([0.0, 1.0, 2.0])
>>> round(float(special.logsumexp(a)), 8)
2.40760596
>>> udiff.grad(lambda a: special.logsumexp(a))(a)  # softmax(a)
array([0.09003057, 0.24472847, 0.66524096])
"""),
    'softmax': (
        'The softmax, ``exp(x) / sum(exp(x))`` along ``axis``.',
        {
            'x': 'Input array. ' + DIFF,
            'axis': 'The axis or axes to normalize over (default: all).',
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0, 2.0])
>>> special.softmax(x)
array([0.09003057, 0.24472847, 0.66524096])
>>> udiff.jacobian(special.softmax)(x).round(6)
array([[ 0.081925, -0.022033, -0.059892],
       [-0.022033,  0.184836, -0.162803],
       [-0.059892, -0.162803,  0.222695]])
"""),
    'log_softmax': (
        'The logarithm of the softmax along ``axis``, ``x - logsumexp(x)``, computed stably.',
        {
            'x': 'Input array. ' + DIFF,
            'axis': 'The axis or axes to normalize over (default: all).',
        },
        '',
        """\
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> x = numpy.array([0.0, 1.0, 2.0])
>>> special.log_softmax(x)
array([-2.40760596, -1.40760596, -0.40760596])
>>> udiff.grad(lambda x: special.log_softmax(x)[0])(x)  # one-hot - softmax(x)
array([ 0.90996943, -0.24472847, -0.66524096])
"""),
}
