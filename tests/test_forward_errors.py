"""Where NumPy raises or gives NaN, udiff does too, on every inner backend.

``test_forward_values.py`` compares values; these are the cases where NumPy's
answer is an error (udiff must not make up a number instead) or a NaN whose
derivative must be NaN too (never a finite number).
"""
import warnings

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as unp

from conftest import chunked, compute


def _run(inner, f, *args):
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        out = f(*(unp.asarray(chunked(a, inner)) for a in args))
    return compute(out)  # outside the backend: no Dask task may need uarray's state


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_take_from_an_empty_axis_raises(mode, inner):
    # clip once gave position -1; NumPy has no entry to clip or wrap to
    with pytest.raises(IndexError, match="non-empty take from an empty ax"):
        numpy.take(numpy.zeros((0, 3)), [0, 1], axis=0, mode=mode)
    with pytest.raises(IndexError, match="non-empty take from an empty ax"):
        _run(inner, lambda z: unp.take(z, [0, 1], axis=0, mode=mode), numpy.zeros((0, 3)))


@pytest.mark.parametrize("name, q", [("quantile", [0.2, 0.7]), ("percentile", 30.0)])
def test_quantile_of_an_empty_axis_raises(name, q, inner):
    # NumPy raises here (while its median gives NaN: test_forward_values)
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 0"):
        getattr(numpy, name)(numpy.zeros((0, 3)), q, axis=0)
    with pytest.raises(IndexError, match="out of bounds for axis 0 with size 0"):
        _run(inner, lambda z: getattr(unp, name)(z, q, axis=0), numpy.zeros((0, 3)))


def test_median_of_an_empty_axis_is_nan(inner):
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        z = unp.asarray(chunked(numpy.zeros((2, 0)), inner))
        m = unp.median(z, axis=1)
        assert compute(m).shape == (2,) and numpy.isnan(compute(m)).all()
        assert compute(unp.sum(m).to(z)).shape == (2, 0)


def test_take_nothing_from_an_empty_axis(inner):
    got = _run(inner, lambda z: unp.take(z, numpy.zeros(0, int), axis=0, mode="clip"),
               numpy.zeros((0, 3)))
    assert got.shape == (0, 3)


@pytest.mark.parametrize("ends", [(0.0, 2.0), (numpy.array([1.0, 2.0]), numpy.array([3.0, 0.0]))])
def test_geomspace_with_a_zero_end_raises(ends, inner):
    with pytest.raises(ValueError, match="cannot include zero"):
        numpy.geomspace(*ends, 4)
    with pytest.raises(ValueError, match="cannot include zero"):  # on Dask, when computed
        _run(inner, lambda a, b: unp.geomspace(a, b, 4), *map(numpy.asarray, ends))


@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
@pytest.mark.parametrize("ddof", [3, 5])
def test_no_degrees_of_freedom(name, ddof, inner):
    """ddof >= n: NumPy's value (inf, or NaN for the nan-variants), a NaN derivative.

    Dask's own var gives NaN for ddof > n, udiff's nanvar gave inf or negative numbers."""
    x = numpy.random.default_rng(0).uniform(-2.0, 2.0, (2, 3))
    a = chunked(x, inner)
    with warnings.catch_warnings(), numpy.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want = getattr(numpy, name)(x, axis=1, ddof=ddof)
        backend = udiff.DiffArrayBackend(inner)
        v = udiff.DiffArray(a, backend)
        with ua.set_backend(backend, coerce=True):
            y = getattr(unp, name)(v, axis=1, ddof=ddof)
        d = y.to(v, grad_variables=numpy.ones(2))
        numpy.testing.assert_array_equal(compute(y), want)
        assert numpy.isnan(compute(d)).all()
