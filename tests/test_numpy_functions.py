"""Issue 10's NumPy functions: behaviour the value and rule tables cannot show.

``put_along_axis`` is functional, as ``jax.numpy``'s (``inplace=False``), and its
in-place form keeps NumPy's meaning on NumPy arrays but cannot modify a DiffArray
or a Dask array; ``einsum``'s sublist form runs through every path a call can take;
``roots`` needs ``linalg.eigvals``.
"""
import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as unp

from conftest import chunked, compute


def test_put_along_axis_in_place_on_numpy_arrays_is_numpys():
    a, want = numpy.zeros((2, 3)), numpy.zeros((2, 3))
    index, values = numpy.array([[2], [0]]), numpy.array([[1.0], [2.0]])
    assert unp.put_along_axis(a, index, values, 1) is None
    numpy.put_along_axis(want, index, values, 1)
    numpy.testing.assert_array_equal(a, want)
    new = unp.put_along_axis(numpy.zeros((2, 3)), index, values, 1, inplace=False)
    numpy.testing.assert_array_equal(new, want)


def test_put_along_axis_in_place_on_a_diffarray_points_to_the_functional_form(inner):
    x = chunked(numpy.zeros((2, 3)), inner)
    index, values = numpy.array([[2], [0]]), numpy.array([[1.0], [2.0]])

    def in_place(x):
        numpy.put_along_axis(x, index, values, 1)  # NumPy's own function, on a DiffArray
        return x

    for f in (in_place, lambda x: unp.put_along_axis(x, index, values, 1)):
        with pytest.raises(TypeError, match=r"put_along_axis cannot modify a DiffArray in place.*"
                                            r"inplace=False"):
            udiff.grad(lambda x: unp.sum(f(x)), inner=inner)(x)


def test_put_along_axis_in_place_on_dask_raises():
    da = pytest.importorskip("dask.array")
    with pytest.raises(TypeError, match="cannot modify a Array in place.*inplace=False"):
        unp.put_along_axis(da.zeros((2, 3), chunks=1), numpy.array([[0], [1]]), 1.0, 1)


def test_put_along_axis_last_write_wins_and_gets_the_derivative(inner):
    x, v = chunked(numpy.arange(3.0), inner), chunked(numpy.array([10.0, 20.0, 30.0]), inner)
    index = numpy.array([1, 1, 2])  # position 1 written twice: NumPy keeps the later value

    def f(x, v):
        return unp.put_along_axis(x, index, v, 0, inplace=False)

    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        y = f(unp.asarray(x), unp.asarray(v))
    numpy.testing.assert_array_equal(compute(y), [0.0, 20.0, 30.0])
    jac = udiff.jacobian(f, argnums=1, inner=inner)(x, v)
    numpy.testing.assert_array_equal(compute(jac), [[0, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_einsum_sublists_outside_any_backend_and_through_uarray():
    da = pytest.importorskip("dask.array")
    a, b = numpy.arange(6.0).reshape(2, 3), numpy.arange(12.0).reshape(3, 4)
    want = numpy.einsum(a, [0, 1], b, [1, 2], [0, 2])
    got = unp.einsum(da.from_array(a, chunks=1), [0, 1], da.from_array(b, chunks=2), [1, 2], [0, 2])
    assert isinstance(got, da.Array)
    numpy.testing.assert_array_equal(got.compute(), want)
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True):
        y = unp.einsum(a, [0, 1], b, [1, 2], [0, 2])  # NumPy arrays: uarray's extractor
    assert type(y) is udiff.DiffArray
    numpy.testing.assert_array_equal(y.value, want)


@pytest.mark.parametrize("name", ["quantile", "percentile", "nanquantile", "nanpercentile"])
def test_quantile_weights_are_refused_by_name(name):
    # NumPy 2 takes weights= with method="inverted_cdf"; udiff does not yet, and says so
    x = numpy.array([1.0, 3.0, 2.0])
    with pytest.raises(NotImplementedError, match=f"udiff's {name} does not take weights="):
        udiff.grad(lambda x: getattr(unp, name)(x, 0.5, method="inverted_cdf",
                                               weights=numpy.ones(3)))(x)
