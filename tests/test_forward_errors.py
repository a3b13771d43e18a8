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
