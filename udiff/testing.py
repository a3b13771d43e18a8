"""Checking derivatives against finite differences.

Examples
--------
>>> import unumpy as np, udiff
>>> udiff.testing.check_grads(lambda x: np.sum(np.sin(x) * x), [np.asarray([0.3, 1.2])])
"""
