"""Batching: :func:`udiff.vmap` and the batching rules (one file per namespace).

The machinery is ``_dispatch`` (which rule runs, the loop for functions
without one), ``_inner`` (the uarray faces: the backend vmap sets, and the
inner backend of a DiffArrayBackend inside vmap) and ``_vmap``; the rules
(``elementwise``, ``reductions``, ``shape``, ``indexing``, ``products``,
``linalg``, ``fft``) are registered with :func:`udiff.defbatch` when this
package is imported.
"""
from . import elementwise, fft, indexing, linalg, products, reductions, shape, special  # noqa: F401,E501
from ._dispatch import BatchingFallbackWarning
from ._vmap import vmap

__all__ = ["vmap", "BatchingFallbackWarning"]
