"""Code written with unumpy is differentiated by the same rules (when unumpy is installed).

unumpy's multimethods reach :class:`udiff.DiffArrayBackend` through uarray and
are matched to udiff's rules by domain and name (``unumpy.sin`` is
``"numpy.sin"``; ``unumpy.ufunc.reduce`` on ``unumpy.add`` is
``"numpy.add.reduce"``).  Here a representative part of ``test_rules``'s
table runs through unumpy's multimethods instead of udiff's.
"""
import types

import numpy
import pytest
import uarray as ua

unumpy = pytest.importorskip("unumpy")

import udiff  # noqa: E402
import udiff.numpy as unp  # noqa: E402
from udiff._machinery import registry as _registry  # noqa: E402
from udiff.testing import check_grads  # noqa: E402

from conftest import compute  # noqa: E402
from test_rules import CASES  # noqa: E402

# unumpy 0.6.1 declares these wrongly (the README lists how): they are udiff's to
# get right in udiff.numpy, not here.
WRONG_IN_UNUMPY = {
    "heaviside", "gcd", "lcm", "isinf", "sort", "std", "var", "atleast_1d", "atleast_2d",
    "atleast_3d", "nanmin", "nanmax", "argmax", "argmin", "nanargmax", "nanargmin",
    "count_nonzero",
}


def _unumpy_name(name):
    return name in vars(unumpy) and name not in WRONG_IN_UNUMPY


def _through_unumpy(fun):
    """``fun`` with udiff.numpy's functions replaced by unumpy's, or None if it cannot be."""
    if isinstance(fun, (unp.ufunc, type(unp.sum))):
        ok = fun.domain == "numpy" and _unumpy_name(fun.__name__)
        return getattr(unumpy, fun.__name__) if ok else None
    code = getattr(fun, "__code__", None)
    if code is None or "np" not in code.co_names or fun.__globals__.get("np") is not unp:
        return None
    used = [n for n in code.co_names if hasattr(unp, n) and n != "np"]
    if not used or not all(_unumpy_name(n) for n in used):
        return None
    return types.FunctionType(code, {**fun.__globals__, "np": unumpy}, fun.__name__,
                              fun.__defaults__, fun.__closure__)


UNUMPY_CASES = [c._replace(fun=_through_unumpy(c.fun)) for c in CASES
                if _through_unumpy(c.fun) is not None and not c.xfail]


def test_a_representative_part_of_the_table_runs_through_unumpy():
    names = {c.name.split("_")[0] for c in UNUMPY_CASES}
    assert len(UNUMPY_CASES) >= 100 and {"sin", "add", "sum", "concatenate", "where"} <= names


@pytest.mark.parametrize("case", UNUMPY_CASES, ids=[c.name for c in UNUMPY_CASES])
def test_rule_through_unumpy(case):
    check_grads(case.fun, case.make_args(udiff.numpy_backend), modes=("fwd", "rev"),
                order=case.order, inner=udiff.numpy_backend)


def test_unumpy_keys_are_udiffs_names():
    assert _registry.key_of(unumpy.sin) == _registry.key_of(unp.sin) == "numpy.sin"
    assert _registry.key_of((unumpy.ufunc.reduce, unumpy.add)) == "numpy.add.reduce"
    assert _registry.key_of(unumpy.concatenate) == "numpy.concatenate"


def test_unumpy_ufunc_reduce_is_recorded_by_name():
    backend = udiff.DiffArrayBackend(udiff.numpy_backend)
    with ua.set_backend(backend, coerce=True):
        x = unumpy.asarray(numpy.array([[1.0, 2.0], [3.0, 4.0]]))
        y = unumpy.add.reduce(x * x)
    assert y._fn == "numpy.add.reduce"
    numpy.testing.assert_allclose(compute(y.to(x)), [[2.0, 4.0], [6.0, 8.0]])


@pytest.mark.parametrize("name", ["numpy_backend", "dask_backend"])
def test_unumpy_backend_modules_accepted_as_inner(name):
    import importlib

    module = importlib.import_module(f"unumpy.{name}")
    base = numpy.array([0.5, 1.0, 2.0])
    with ua.set_backend(udiff.DiffArrayBackend(module), coerce=True):
        x = unumpy.asarray(base)
        y = unumpy.sin(x) * x
        g = y.to(x)
    if name == "numpy_backend":
        assert type(g.value) is numpy.ndarray
    else:
        assert type(g.value).__module__.startswith("dask")
    numpy.testing.assert_allclose(compute(g), numpy.cos(base) * base + numpy.sin(base))
