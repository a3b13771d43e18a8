"""Adapters that plug udiff's derivatives into other libraries.

Each submodule imports its library only when imported itself:
``udiff.contrib.dask_glm`` needs ``dask-glm``.
"""
