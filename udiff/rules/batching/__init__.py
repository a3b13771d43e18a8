"""Batching rules, one module per namespace, as the VJP and JVP tables beside them.

Each module registers, with :func:`udiff.defbatch`, how a function runs on a
batch of examples stacked on axis 0 (``elementwise``, ``reductions``,
``shape``, ``indexing``, ``products``, ``linalg``, ``fft``, ``special``).  The
machinery that picks a rule, and the loop for functions without one, is
``udiff._transformations.batching``.
"""
from . import elementwise, fft, indexing, linalg, products, reductions, shape, special  # noqa: F401,E501
