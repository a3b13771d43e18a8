"""udiff: automatic differentiation of NumPy-API code on NumPy, Dask and CuPy.

udiff is a uarray backend for the ``numpy`` domain.  Under
``ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True)`` every
``udiff.numpy`` (or unumpy) call runs on the *inner* backend (NumPy, Dask or CuPy) and returns a
:class:`DiffArray` that records how it was computed; ``y.to(x)``
differentiates.

Examples
--------
>>> import uarray as ua, udiff, udiff.numpy as np
>>> with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
...     x = np.asarray([1.0, 2.0, 3.0])
...     y = np.sum(x * x)
...     print(y.to(x).value)
[2. 4. 6.]
"""
import warnings as _warnings

# uarray 0.9 warns about its own internals on every set_backend call; the
# warning is not about the user's code (nor udiff's), so it is silenced.
_warnings.filterwarnings(
    "ignore", message="uarray.skip_backend is deprecated", category=DeprecationWarning
)

from . import numpy as _namespace  # noqa: E402  (every function, by NumPy's names)
from ._machinery.registry import register_namespace as _register_namespace  # noqa: E402

_register_namespace(_namespace._NAMES, _namespace)

from . import rules as _rules  # noqa: E402,F401
from . import scipy  # noqa: E402,F401  (udiff.scipy.special)
from ._machinery.diff_array_backend import DiffArrayBackend  # noqa: E402
from ._machinery.diff_array import DiffArray  # noqa: E402
from .numpy import _array_methods as _methods  # noqa: E402,F401  (array methods and x.at)
from ._machinery.registry import defcomposite, defjvp, defnondiff, defvjp  # noqa: E402
from .backends import cupy_backend, dask_backend, numpy_backend  # noqa: E402
from ._transformations.functional import (  # noqa: E402
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)
from ._machinery.tree import (  # noqa: E402
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_unflatten,
)
from . import testing  # noqa: E402
from ._transformations.custom import checkpoint, custom_jvp, custom_vjp, stop_gradient  # noqa: E402
from ._graph import Graph, GraphEdge, GraphNode, graph  # noqa: E402
from ._transformations.batching import BatchingFallbackWarning  # noqa: E402
from ._transformations.vmap import vmap  # noqa: E402
from ._machinery.registry import defbatch  # noqa: E402
from ._transformations.streaming import value_grad_and_hessian  # noqa: E402

__all__ = [
    "DiffArray",
    "DiffArrayBackend",
    "defvjp",
    "defjvp",
    "defnondiff",
    "defcomposite",
    "numpy_backend",
    "dask_backend",
    "cupy_backend",
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "jacobian",
    "jacrev",
    "jacfwd",
    "hessian",
    "hvp",
    "value_grad_and_hessian",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_map",
    "register_pytree_node",
    "testing",
    "custom_vjp",
    "custom_jvp",
    "stop_gradient",
    "checkpoint",
    "vmap",
    "defbatch",
    "BatchingFallbackWarning",
    "graph",
    "Graph",
    "GraphNode",
    "GraphEdge",
]
