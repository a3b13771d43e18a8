"""udiff.numpy is udiff's own NumPy namespace: NumPy outside udiff, differentiated inside."""
import inspect
import pickle

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff._machinery import registry as _registry


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_rosen_minimised_by_scipy_with_udiffs_gradient():
    scipy_optimize = pytest.importorskip("scipy.optimize")
    result = scipy_optimize.minimize(rosen, numpy.zeros(5), jac=udiff.grad(rosen), method="BFGS")
    numpy.testing.assert_allclose(result.x, numpy.ones(5), atol=1e-5)


def test_outside_any_backend_functions_run_on_numpy():
    x = numpy.array([[1.0, -2.0], [3.0, 4.0]])
    out = rosen(x[0])
    assert type(out) is numpy.float64 and out == 100.0 * (-2.0 - 1.0) ** 2 + (1 - 1.0) ** 2
    assert type(np.sin(x)) is numpy.ndarray
    numpy.testing.assert_array_equal(np.pad(x, 1), numpy.pad(x, 1))  # mode defaults as NumPy's
    numpy.testing.assert_array_equal(np.add.reduce(x), x.sum(0))
    numpy.testing.assert_array_equal(np.linalg.inv(x), numpy.linalg.inv(x))
    numpy.testing.assert_array_equal(np.fliplr(x), numpy.fliplr(x))
    numpy.testing.assert_array_equal(np.concatenate([x, x]), numpy.concatenate([x, x]))
    numpy.testing.assert_array_equal(np.zeros(3), numpy.zeros(3))


def test_outside_any_backend_functions_run_on_dask():
    da = pytest.importorskip("dask.array")
    x = da.from_array(numpy.arange(6.0).reshape(2, 3), chunks=1)
    for out, want in [(np.sin(x), numpy.sin(x.compute())),
                      (np.sum(x, axis=0), x.compute().sum(0)),
                      (np.concatenate([numpy.ones((1, 3)), x]),
                       numpy.concatenate([numpy.ones((1, 3)), x.compute()]))]:
        assert isinstance(out, da.Array)
        numpy.testing.assert_array_equal(out.compute(), want)


def test_outside_any_backend_a_missing_function_names_itself_and_the_array_type():
    da = pytest.importorskip("dask.array")
    x = da.from_array(numpy.array([3.0, 1.0, 2.0]), chunks=2)
    with pytest.raises(NotImplementedError, match=r"lexsort.*dask\.array\.core\.Array"):
        np.lexsort(x)


def test_functions_follow_numpys_signatures_and_defaults():
    x = numpy.array([[3.0, 1.0], [2.0, 0.5]])
    numpy.testing.assert_array_equal(np.sort(x, axis=None), numpy.sort(x, axis=None))
    numpy.testing.assert_array_equal(np.heaviside(x - 2.0, 0.5), numpy.heaviside(x - 2.0, 0.5))
    numpy.testing.assert_array_equal(np.isinf(x), numpy.isinf(x))
    assert np.std(x, ddof=1) == numpy.std(x, ddof=1)
    assert np.atleast_1d(x[0]).shape == (2,)
    assert [a.shape for a in np.atleast_2d(x[0], x)] == [(1, 2), (2, 2)]
    assert np.nanmax(x, axis=0, keepdims=True).shape == (1, 2)
    assert inspect.signature(np.pad) == inspect.signature(numpy.pad)


def test_diffarray_namespace_is_udiffs():
    backend = udiff.DiffArrayBackend(udiff.numpy_backend)
    x = udiff.DiffArray(numpy.array([0.5, 1.0]), backend)
    xp = x.__array_namespace__()
    assert xp is np
    with ua.set_backend(backend, coerce=True):
        y = xp.sum(xp.sin(x))
    numpy.testing.assert_allclose(y.to(x).value, numpy.cos([0.5, 1.0]))


def test_rules_are_keyed_by_name():
    assert "numpy.sin" in _registry._VJP and "numpy.add.reduce" in _registry._VJP
    assert "numpy.linalg.inv" in _registry._VJP and ("numpy.linalg.eigh", 0) in _registry._VJP
    for func, key in [(np.sin, "numpy.sin"), (numpy.sin, "numpy.sin"),
                      (np.add.reduce, "numpy.add.reduce"), (numpy.add.reduce, "numpy.add.reduce"),
                      (np.linalg.inv, "numpy.linalg.inv"), ("numpy.linalg.inv", "numpy.linalg.inv"),
                      ((np.linalg.eigh, 0), ("numpy.linalg.eigh", 0))]:
        assert _registry.key_of(func) == key


def test_functions_pickle_as_themselves():
    for func in (np.sin, np.add.reduce, np.linalg.inv, np.fliplr):
        assert pickle.loads(pickle.dumps(func)) is func


def test_udiff_changes_no_other_package():
    unumpy = pytest.importorskip("unumpy")
    import unumpy._multimethods as mm

    assert unumpy.heaviside.nin == 1 and unumpy.isinf.name == "greater_equal"  # unumpy's own
    assert unumpy.sort is mm.sort
