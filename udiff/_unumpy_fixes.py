"""Repairs to unumpy 0.6.1 objects that udiff relies on.

unumpy 0.6.1 declares a few ufuncs wrongly, so its ``ufunc.__call__``
argument replacer silently drops the second operand or calls the wrong
NumPy function.  udiff corrects the declarations once, at import:

- ``heaviside``, ``gcd`` and ``lcm`` take two inputs, not one;
- ``isinf`` is declared with the name ``"greater_equal"`` and one input.

Nothing else in unumpy is modified.
"""
import unumpy

_NIN = {"heaviside": 2, "gcd": 2, "lcm": 2}


def _repair():
    for name, nin in _NIN.items():
        getattr(unumpy, name).nin = nin
    unumpy.isinf.name = "isinf"


_repair()
