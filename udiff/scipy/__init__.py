"""SciPy's namespaces as multimethods: import ``udiff.scipy.special`` in place of ``scipy.special``.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> udiff.grad(lambda x: special.gammaln(x))(numpy.asarray(1.0))
array(-0.57721566)
"""
from . import special  # noqa: F401
