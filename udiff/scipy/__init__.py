"""SciPy's namespaces as multimethods: import ``udiff.scipy.special`` in place of ``scipy.special``.

Examples
--------
>>> import numpy, udiff
>>> from udiff.scipy import special
>>> udiff.grad(lambda x: udiff.numpy.sum(special.gammaln(x)))(numpy.asarray([1.0, 2.0]))
array([-0.57721566,  0.42278434])
"""
from . import special  # noqa: F401
from . import stats  # noqa: F401
from . import linalg  # noqa: F401
from . import signal  # noqa: F401
from . import integrate  # noqa: F401
