"""Every function declared non-differentiable, with the reason its derivative is zero.

``defnondiff`` makes udiff answer zero for a function's derivative: a wrong
declaration is a silent wrong number.  ``NONDIFF`` names each declared
function (or output) with its reason and an example call; the example's
result must be integer or boolean, or unchanged by a small perturbation of
its input at a random point (piecewise constant).  A function added to
``defnondiff`` without an entry here fails ``test_every_constant_has_a_reason``.
"""
import numpy
import pytest
import uarray as ua
import udiff.numpy as np

import udiff
import udiff.numpy as U
from udiff.backends._base import key_name
from udiff.scipy import special

from conftest import OWN_NONDIFF

INTEGER = "integer values"
BOOLEAN = "boolean values"
STEPS = "piecewise constant"
SHAPE = "depends on its inputs' shapes only, not their values"

NONDIFF = {
    # name: (reason, example: x -> result, x a float array of shape (3, 4) in (-3, 3))
    "rint": (STEPS, np.rint), "floor": (STEPS, np.floor), "ceil": (STEPS, np.ceil),
    "trunc": (STEPS, np.trunc), "round": (STEPS, lambda x: U.round(x, 1)),
    "floor_divide": (STEPS, lambda x: np.floor_divide(x, 0.7)),
    "divmod (output 0)": (STEPS + " (the quotient)", lambda x: np.divmod(x, 0.7)[0]),
    "modf (output 1)": (STEPS + " (the integer part)", lambda x: np.modf(x)[1]),
    "frexp (output 1)": (INTEGER + " (the exponent)", lambda x: np.frexp(x)[1]),
    "spacing": (STEPS + " (the unit in the last place)", np.spacing),
    "gcd": (INTEGER, lambda x: np.gcd(numpy.arange(4), 6)),
    "lcm": (INTEGER, lambda x: np.lcm(numpy.arange(4), 6)),
    **{name: (INTEGER, lambda x, f=getattr(np, name): f(numpy.arange(4), 3))
       for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift")},
    "invert": (INTEGER, lambda x: np.invert(numpy.arange(4))),
    **{name: (BOOLEAN, lambda x, f=getattr(np, name): f(x, 0.5))
       for name in ("greater", "greater_equal", "less", "less_equal", "not_equal", "equal",
                    "logical_and", "logical_or", "logical_xor")},
    "logical_not": (BOOLEAN, np.logical_not),
    "isfinite": (BOOLEAN, np.isfinite), "isinf": (BOOLEAN, np.isinf),
    "isnan": (BOOLEAN, np.isnan), "signbit": (BOOLEAN, np.signbit),
    "isnat": (BOOLEAN, lambda x: np.isnat(numpy.array(["2020-01-01"], dtype="datetime64[D]"))),
    "isclose": (BOOLEAN, lambda x: U.isclose(x, 0.5)),
    "allclose": (BOOLEAN, lambda x: numpy.asarray(np.allclose(x, 0.5))),
    "iscomplex": (BOOLEAN, np.iscomplex), "isreal": (BOOLEAN, np.isreal),
    "iscomplexobj": (BOOLEAN + " (of the dtype)", lambda x: numpy.asarray(np.iscomplexobj(x))),
    "isrealobj": (BOOLEAN + " (of the dtype)", lambda x: numpy.asarray(np.isrealobj(x))),
    "any": (BOOLEAN, lambda x: np.any(x > 0, axis=0)),
    "all": (BOOLEAN, lambda x: np.all(x > 0, axis=1)),
    "logical_and.reduce": (BOOLEAN, lambda x: np.logical_and.reduce(x > 0)),
    "logical_or.reduce": (BOOLEAN, lambda x: np.logical_or.reduce(x > 0)),
    "argmin": (INTEGER, np.argmin), "argmax": (INTEGER, lambda x: np.argmax(x, axis=0)),
    "nanargmin": (INTEGER, np.nanargmin), "nanargmax": (INTEGER, np.nanargmax),
    "count_nonzero": (INTEGER, lambda x: np.count_nonzero(x > 0)),
    "argsort": (INTEGER, np.argsort), "argpartition": (INTEGER, lambda x: np.argpartition(x, 1)),
    "lexsort": (INTEGER, lambda x: np.lexsort(x)),
    "nonzero": (INTEGER, lambda x: np.nonzero(x > 0)[1]),
    "argwhere": (INTEGER, lambda x: np.argwhere(x > 0)),
    "flatnonzero": (INTEGER, lambda x: np.flatnonzero(x > 0)),
    "searchsorted": (INTEGER, lambda x: np.searchsorted(numpy.array([-1.0, 0.0, 2.0]), x)),
    "in1d": (BOOLEAN, lambda x: np.in1d(x, x[0])),
    "isin": (BOOLEAN, lambda x: np.isin(x, x[0])),
    "unique_all (output 1)": (INTEGER + " (the indices)", lambda x: np.unique_all(x).indices),
    "unique_all (output 2)": (INTEGER + " (the inverse indices)",
                              lambda x: np.unique_all(x).inverse_indices),
    "unique_all (output 3)": (INTEGER + " (the counts)", lambda x: np.unique_all(x).counts),
    "unique_counts (output 1)": (INTEGER + " (the counts)", lambda x: np.unique_counts(x).counts),
    "unique_inverse (output 1)": (INTEGER + " (the inverse indices)",
                                  lambda x: np.unique_inverse(x).inverse_indices),
    "linalg.matrix_rank": (INTEGER, lambda x: U.linalg.matrix_rank(x)),
    "linalg.lstsq (output 2)": (INTEGER + " (the rank)",
                                lambda x: U.linalg.lstsq(x, x[:, 0], rcond=None)[2]),
    "zeros": (SHAPE, lambda x: np.zeros(np.shape(x))),
    "ones": (SHAPE, lambda x: np.ones(np.shape(x))),
    "eye": (SHAPE, lambda x: np.eye(np.shape(x)[0])),
    "identity": (SHAPE, lambda x: U.identity(np.shape(x)[0])),
    "tri": (SHAPE, lambda x: U.tri(*np.shape(x))),
    "zeros_like": (SHAPE, lambda x: U.zeros_like(x)),
    "ones_like": (SHAPE, lambda x: U.ones_like(x)),
    # uninitialised values: the example keeps the shape, which is what they depend on
    "empty": (SHAPE, lambda x: numpy.asarray(U.empty(np.shape(x)).shape)),
    "empty_like": (SHAPE, lambda x: numpy.asarray(U.empty_like(x).shape)),
    "shape": (INTEGER, lambda x: numpy.asarray(np.shape(x))),
    "ndim": (INTEGER, lambda x: numpy.asarray(np.ndim(x))),
    "size": (INTEGER, lambda x: numpy.asarray(np.size(x))),
    "nbytes": (INTEGER, lambda x: numpy.asarray(np.nbytes(x))),
    # udiff.scipy.special
    "scipy.special.gammasgn": (STEPS + " (the sign of gamma)", lambda x: special.gammasgn(x)),
    "scipy.special.logsumexp (output 1)": (STEPS + " (the sign of the sum)", lambda x:
                                           special.logsumexp(x, axis=1, b=x, return_sign=True)[1]),
}
def test_every_constant_has_a_reason():
    declared = {key_name(k) for k in OWN_NONDIFF}
    assert declared == set(NONDIFF), (
        f"declared constant without a reason here: {sorted(declared - set(NONDIFF))}; "
        f"no longer declared: {sorted(set(NONDIFF) - declared)}")


def _run(example, x):
    with ua.set_backend(udiff.numpy_backend, coerce=True):
        return numpy.asarray(example(x))


@pytest.mark.parametrize("name", sorted(NONDIFF))
def test_constant_has_zero_derivative_almost_everywhere(name):
    reason, example = NONDIFF[name]
    rng = numpy.random.default_rng(7)
    x = rng.uniform(-3.0, 3.0, (3, 4))
    value = _run(example, x)
    if value.dtype.kind in "biu":
        return  # integer or boolean: no derivative to take
    u = rng.uniform(-1.0, 1.0, x.shape)
    plus, minus = _run(example, x + 1e-7 * u), _run(example, x - 1e-7 * u)
    numpy.testing.assert_array_equal(plus, minus, err_msg=f"{name} ({reason}) changed")
