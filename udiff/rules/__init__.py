"""Rule tables, one module per NumPy namespace.

Importing this package registers every rule.  Each module defines, for each
function, its VJP (``defvjp``) and JVP (``defjvp``) rules, or declares it
non-differentiable (``defnondiff``).  ``batching/`` holds vmap's rules
(``defbatch``), one module per namespace too.
"""
from . import ufuncs, reductions, shape, selection, products, statistics, elementwise, linalg, fft  # noqa: F401
from . import special  # noqa: F401  (udiff.scipy.special)
from . import scipy_linalg, scipy_signal  # noqa: F401  (udiff.scipy.linalg, udiff.scipy.signal)
from . import batching  # noqa: F401  (the batching rules of vmap)
from .batching import scipy_linalg_signal  # noqa: F401  (vmap of udiff.scipy.linalg, .signal)
