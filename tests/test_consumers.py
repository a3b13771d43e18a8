"""Third-party array API consumers, differentiated through ``udiff.numpy``.

SciPy (``SCIPY_ARRAY_API=1``), scikit-learn (``array_api_dispatch=True``), array-api-extra
and einops find ``udiff.numpy`` through the arrays' ``__array_namespace__`` and run on
udiff's arrays.  Each case takes a gradient through the consumer with ``udiff.grad`` or
``udiff.value_and_grad`` and compares it with central differences (and the value with the
consumer's own on NumPy), on NumPy and on Dask with several chunks per axis.  Item
assignment (``x[i] = v``, which SciPy and scikit-learn write for every array library but
JAX) is recorded as ``x.at[i].set(v)``, so the consumers that assign into their arrays
work.  The cases that cannot work check what happens instead: udiff's error (the consumer
ends in ``float()``, ``int()`` or ``numpy.asarray()``, or assigns through a mask computed
from Dask data), Dask's own (an index Dask refuses), or a NaN gradient (the consumer
overwrites a NaN, and ``0 * NaN`` is NaN, as in JAX).  docs/guide/array_api.md has the
same table for users.

SciPy reads ``SCIPY_ARRAY_API`` once, when it is imported, and scikit-learn's array API
dispatch needs it: those cases run in one child process started with the variable set
(``python tests/test_consumers.py`` runs them and prints their outcomes as JSON).
"""
import json
import os
import pathlib
import subprocess
import sys
import traceback

import numpy
import pytest

import udiff
import udiff.numpy as np
from udiff.testing import check_grads

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from conftest import chunked, compute  # noqa: E402

RNG = numpy.random.default_rng(0)
X5 = numpy.array([0.3, -1.2, 2.5, 0.9, 1.7])
POSITIVE = numpy.array([0.3, 1.2, 2.5, 0.9, 1.7])
X = RNG.normal(size=(8, 3))
Y = RNG.normal(size=(8, 2))
LABELS = numpy.array([0, 1, 0, 1, 0, 1, 1, 0])
KERNEL = numpy.array([1.0, 2.0, 0.5])
W = numpy.arange(24.0).reshape(8, 3) % 5 - 1.5  # weights of a non-trivial gradient
FLOAT = r"float\(\) of a DiffArray that depends on the variables being differentiated"
INT = r"int\(\) of a DiffArray that depends on the variables being differentiated"
TO_NUMPY = r"numpy\.asarray\(\) of a DiffArray that depends on the variables being"
DASK_MASK = r"x\.at\[\.\.\.\] needs an index of known values, not a Dask array"


# -- SciPy and scikit-learn: cases run in a child process ---------------------------------------
def _sklearn(f):
    def run(v):
        import sklearn

        with sklearn.config_context(array_api_dispatch=True):
            return f(v)
    return run


def _cases():
    """``{name: (f, x)}``, ``f(x)`` a scalar: the cases of ``_CHILD_CASES``."""
    from scipy import integrate, optimize, signal, special, stats
    from sklearn import decomposition, discriminant_analysis, linear_model, metrics
    from sklearn import preprocessing
    from sklearn.metrics import pairwise

    w5 = numpy.arange(5.0)
    return {
        # SciPy
        "scipy.special.logsumexp": (lambda v: special.logsumexp(v), X5),
        "scipy.special.softmax": (lambda v: np.sum(special.softmax(v) * w5), X5),
        "scipy.special.log_softmax": (lambda v: np.sum(special.log_softmax(v) * w5), X5),
        "scipy.stats.moment": (lambda v: stats.moment(v, order=3), X5),
        "scipy.stats.skew": (lambda v: stats.skew(v), X5),
        "scipy.stats.zscore": (lambda v: np.sum(stats.zscore(v) * w5), X5),
        "scipy.stats.variation": (lambda v: stats.variation(v), X5),
        "scipy.stats.sem": (lambda v: stats.sem(v), X5),  # std(correction=)
        "scipy.stats.kurtosis": (lambda v: stats.kurtosis(v), X5),
        "scipy.stats.gmean": (lambda v: stats.gmean(v), POSITIVE),
        "scipy.stats.tmean": (lambda v: stats.tmean(v), X5),
        "scipy.stats.entropy": (lambda v: stats.entropy(v), POSITIVE),
        "scipy.signal.oaconvolve": (
            lambda v: np.sum(signal.oaconvolve(v, np.asarray(KERNEL)) ** 2), X5),
        "scipy.signal.convolve": (
            lambda v: np.sum(signal.convolve(v, np.asarray(KERNEL)) ** 2), X5),
        "scipy.integrate.cumulative_trapezoid": (
            lambda v: np.sum(integrate.cumulative_trapezoid(v ** 2) * w5[:4]), X5),
        "scipy.integrate.simpson": (lambda v: integrate.simpson(v ** 2), X5),
        "scipy.signal.fftconvolve": (
            lambda v: np.sum(signal.fftconvolve(v, np.asarray(KERNEL)) ** 2), X5),
        "scipy.integrate.trapezoid": (lambda v: integrate.trapezoid(v ** 2, dx=0.5), X5),
        "scipy.optimize.rosen": (lambda v: optimize.rosen(v), X5),
        # scikit-learn
        "sklearn.metrics.mean_squared_error": (_sklearn(
            lambda v: metrics.mean_squared_error(np.asarray(Y), v)), Y + 0.3),
        "sklearn.metrics.r2_score": (_sklearn(lambda v: np.sum(metrics.r2_score(
            np.asarray(Y), v, multioutput="raw_values"))), Y + 0.3 * X[:, :2]),
        "sklearn.preprocessing.StandardScaler": (_sklearn(lambda v: np.sum(
            preprocessing.StandardScaler().fit_transform(v) * W)), X + 1.0),
        "sklearn.decomposition.PCA": (_sklearn(lambda v: np.sum(decomposition.PCA(
            n_components=2, svd_solver="full").fit(v).explained_variance_)), X),
        "sklearn.linear_model.Ridge": (_sklearn(lambda v: np.sum(linear_model.Ridge(
            alpha=0.5, solver="svd").fit(v, np.asarray(Y)).coef_ ** 2)), X),
        "sklearn.discriminant_analysis.LinearDiscriminantAnalysis": (_sklearn(
            lambda v: np.sum(discriminant_analysis.LinearDiscriminantAnalysis().fit(
                v, np.asarray(LABELS)).coef_ ** 2)), X),
        "sklearn.metrics.pairwise.euclidean_distances": (_sklearn(lambda v: np.sum(
            pairwise.euclidean_distances(v, np.asarray(X[:3] + 0.5)))), X),
        "sklearn.metrics.pairwise.rbf_kernel": (_sklearn(lambda v: np.sum(
            pairwise.rbf_kernel(v, np.asarray(X[:3] + 0.5), gamma=0.3))), X),
        "sklearn.metrics.pairwise.polynomial_kernel": (_sklearn(lambda v: np.sum(
            pairwise.polynomial_kernel(v, np.asarray(X[:3] + 0.5), degree=3))), X),
        "sklearn.preprocessing.MinMaxScaler": (_sklearn(lambda v: np.sum(
            preprocessing.MinMaxScaler().fit_transform(v) * X)), X),
        "sklearn.metrics.mean_absolute_error": (_sklearn(
            lambda v: metrics.mean_absolute_error(np.asarray(Y), v)), Y + 0.3),
        # with X alone they set the diagonal: an item assignment
        "sklearn.metrics.pairwise.rbf_kernel(X)": (_sklearn(lambda v: np.sum(
            pairwise.rbf_kernel(v, gamma=0.3))), X),
        "sklearn.metrics.pairwise.euclidean_distances(X)": (_sklearn(lambda v: np.sum(
            pairwise.euclidean_distances(v))), X),
    }


def _central_differences(f, x, eps=1e-6):
    out = numpy.zeros_like(x)
    for i in numpy.ndindex(x.shape):
        e = numpy.zeros_like(x)
        e[i] = eps
        out[i] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return out


def _outcome(f, x, inner):
    """What ``value_and_grad(f)`` gave on ``inner``, as JSON: the value's and gradient's
    largest errors, or the error it raised (type, message, the line that raised it)."""
    try:
        value, grad = udiff.value_and_grad(f, inner=inner)(chunked(x, inner))
    except Exception as e:  # reported, and judged by the test that reads it
        frame = traceback.extract_tb(e.__traceback__)[-1]
        return {"error": type(e).__name__, "message": str(e),
                "where": f"{frame.filename}:{frame.lineno}"}
    want_grad = _central_differences(f, x)
    return {"value": float(compute(value)), "want_value": float(f(x)),
            "grad_error": float(numpy.max(numpy.abs(compute(grad) - want_grad))),
            "grad_nan": int(numpy.isnan(compute(grad)).sum()),
            "grad_scale": float(numpy.max(numpy.abs(want_grad))),
            "grad_shape": list(compute(grad).shape), "x_shape": list(x.shape)}


def _report():
    """Every case's outcome on NumPy and (where it runs there) Dask."""
    out = {}
    cases = _cases()
    for name, inner, _ in _CHILD:
        f, x = cases[name]
        out[name, inner] = _outcome(f, x, udiff.numpy_backend if inner == "numpy"
                                    else udiff.dask_backend)
    return {f"{name}|{inner}": v for (name, inner), v in out.items()}


# The cases and what each gives on NumPy and on Dask: WORKS (the value is the consumer's
# own, the gradient central differences'), NAN_GRADIENT (the value is right, the gradient
# NaN) or the error raised, as (type, regular expression of its message, where it is
# raised: "udiff" for udiff's own error, "dask" for Dask's).  (Named here, without
# importing SciPy: its SCIPY_ARRAY_API is read once, at import.)
WORKS = None
NAN_GRADIENT = "NaN gradient"
# the consumer ends in float(), int() or numpy.asarray() of a value being differentiated
AS_FLOAT = ("TypeError", FLOAT, "udiff")
AS_INT = ("TypeError", INT, "udiff")
AS_NUMPY = ("TypeError", TO_NUMPY, "udiff")
# x[mask] = v with a mask computed from Dask data: the entries it selects are not known
# until computed, and Dask cannot scatter into them (its own x[mask] = y[mask] fails too)
MASK_ON_DASK = ("NotImplementedError", DASK_MASK, "udiff")
# array-api-extra's apply_where indexes a 0-d array with a 0-d mask (it sees udiff's
# namespace, not Dask's, so it takes the path for libraries other than Dask and JAX): Dask
# refuses such an index, as it does with no udiff involved
ZERO_D_MASK_ON_DASK = ("IndexError", r"Too many indices for array", "dask")
# LinearDiscriminantAnalysis sizes its class means by unique(y): on Dask a size that is
# unknown until computed, which Dask's zeros refuses
UNIQUE_ON_DASK = ("ValueError", r"unknown \(nan\) chunk sizes", "dask")
_CHILD_CASES = [  # (name, on NumPy, on Dask)
    ("scipy.special.logsumexp", WORKS, WORKS),
    ("scipy.special.softmax", WORKS, WORKS),
    ("scipy.special.log_softmax", WORKS, WORKS),
    ("scipy.stats.moment", WORKS, WORKS),
    ("scipy.stats.skew", WORKS, WORKS),
    ("scipy.stats.zscore", WORKS, WORKS),
    ("scipy.stats.variation", WORKS, ZERO_D_MASK_ON_DASK),
    ("scipy.stats.sem", WORKS, WORKS),
    ("scipy.stats.kurtosis", WORKS, WORKS),
    ("scipy.stats.gmean", WORKS, WORKS),
    ("scipy.stats.tmean", WORKS, ZERO_D_MASK_ON_DASK),
    ("scipy.stats.entropy", AS_NUMPY, AS_NUMPY),
    ("scipy.signal.oaconvolve", WORKS, WORKS),
    ("scipy.signal.convolve", AS_INT, AS_INT),
    ("scipy.integrate.cumulative_trapezoid", WORKS, WORKS),
    ("scipy.integrate.simpson", AS_NUMPY, AS_NUMPY),
    ("scipy.signal.fftconvolve", WORKS, WORKS),
    ("scipy.integrate.trapezoid", WORKS, WORKS),
    ("scipy.optimize.rosen", WORKS, WORKS),
    ("sklearn.metrics.mean_squared_error", AS_FLOAT, AS_FLOAT),
    ("sklearn.metrics.r2_score", WORKS, MASK_ON_DASK),
    # its running variance is 0/0 on the first batch, then overwritten (x[zeros] = ...):
    # the derivative of the overwritten entries, 0 * NaN, is NaN (as in JAX's where)
    ("sklearn.preprocessing.StandardScaler", NAN_GRADIENT, MASK_ON_DASK),
    ("sklearn.decomposition.PCA", WORKS, WORKS),
    ("sklearn.linear_model.Ridge", WORKS, MASK_ON_DASK),
    ("sklearn.discriminant_analysis.LinearDiscriminantAnalysis", WORKS, UNIQUE_ON_DASK),
    ("sklearn.metrics.pairwise.euclidean_distances", WORKS, WORKS),
    ("sklearn.metrics.pairwise.rbf_kernel", WORKS, WORKS),
    ("sklearn.metrics.pairwise.polynomial_kernel", WORKS, WORKS),
    ("sklearn.preprocessing.MinMaxScaler", WORKS, WORKS),
    ("sklearn.metrics.mean_absolute_error", AS_FLOAT, AS_FLOAT),
    # with X alone they set the diagonal: an item assignment
    ("sklearn.metrics.pairwise.rbf_kernel(X)", WORKS, WORKS),
    ("sklearn.metrics.pairwise.euclidean_distances(X)", WORKS, WORKS),
]
_CHILD = [(name, inner, want) for name, on_numpy, on_dask in _CHILD_CASES
          for inner, want in (("numpy", on_numpy), ("dask", on_dask))]


@pytest.fixture(scope="module")
def child_report():
    """The outcomes of the SciPy and scikit-learn cases, from a child process with
    ``SCIPY_ARRAY_API=1``."""
    pytest.importorskip("sklearn")
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    done = subprocess.run([sys.executable, str(pathlib.Path(__file__))], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_child_runs_every_case(child_report):
    assert sorted(child_report) == sorted(f"{n}|{i}" for n, i, _ in _CHILD)


@pytest.mark.parametrize("name, inner, want", _CHILD, ids=[f"{n}-{i}" for n, i, _ in _CHILD])
def test_scipy_and_sklearn(child_report, name, inner, want):
    import re

    got = child_report[f"{name}|{inner}"]
    if want in (WORKS, NAN_GRADIENT):
        assert "error" not in got, f"{got.get('error')}: {got.get('message')} at {got.get('where')}"
        assert got["value"] == pytest.approx(got["want_value"], rel=1e-12, abs=1e-12)
        assert got["grad_shape"] == got["x_shape"]
        assert numpy.isfinite(got["grad_scale"]), got  # central differences are finite
        if want is WORKS:
            assert got["grad_nan"] == 0, got
            assert got["grad_error"] <= 1e-5 * max(1.0, got["grad_scale"]), got
        else:
            assert got["grad_nan"] == numpy.prod(got["x_shape"]), got
    else:  # the error says what happened; udiff's own are raised in udiff
        error, message, where = want
        assert got.get("error") == error, got
        assert re.search(message, got["message"]), got["message"]
        assert f"/{where}/" in got["where"], got["where"]


def test_guide_table_says_what_the_tests_find():
    """docs/guide/array_api.md's table has a row for each case, saying "yes, NumPy and
    Dask" or "yes, NumPy" for the cases that work and "no" for the others."""
    import re

    page = (HERE.parent / "docs" / "guide" / "array_api.md").read_text()
    rows = [[cell.strip() for cell in line.strip("|").split("|")]
            for line in page.splitlines() if line.startswith("| `")]
    names = [(set(re.findall(r"`([^`]+)`", row[0])), row[1]) for row in rows]
    for name, on_numpy, on_dask in _CHILD_CASES:
        short = name.rsplit(".", 1)[-1] if not name.endswith("(X)") else name.split(".")[-1]
        found = [works for listed, works in names
                 if name in listed or short in listed
                 or any(n.startswith((short + "(", name + "(")) for n in listed)]
        assert found, f"{name} has no row in the guide's table"
        want = ("no" if on_numpy is not WORKS
                else "yes, NumPy and Dask" if on_dask is WORKS else "yes, NumPy")
        assert found[0] == want, (name, found[0])


# -- array-api-extra and einops: in this process -------------------------------------------------
def _order(inner):
    """Second order on NumPy; first on Dask (the second order is the same rules, and slow
    there)."""
    return 2 if inner is udiff.numpy_backend else 1


@pytest.fixture
def xpx():
    return pytest.importorskip("array_api_extra")


def test_array_api_extra_cov(xpx, inner):
    a = X.T
    with udiff_backend(inner):
        got = xpx.cov(np.asarray(chunked(a, inner)))
    numpy.testing.assert_allclose(compute(got), numpy.cov(a), rtol=1e-12)
    check_grads(lambda a: xpx.cov(a), (chunked(a, inner),), inner=inner, order=_order(inner))
    value, g = udiff.value_and_grad(lambda a: np.sum(xpx.cov(a) ** 2), inner=inner)(
        chunked(a, inner))
    numpy.testing.assert_allclose(compute(g), _central_differences(
        lambda a: numpy.sum(numpy.cov(a) ** 2), a), rtol=1e-6, atol=1e-8)


def test_array_api_extra_sinc(xpx, inner):
    with udiff_backend(inner):
        got = xpx.sinc(np.asarray(chunked(X5, inner)))
    numpy.testing.assert_allclose(compute(got), numpy.sinc(X5), rtol=1e-14)
    check_grads(lambda v: xpx.sinc(v), (chunked(X5, inner),), inner=inner, order=_order(inner))


@pytest.mark.parametrize("case", ["at-set", "at-set-copy", "at-set-slice", "at-add", "pad"])
def test_array_api_extra_at_and_pad(xpx, inner, case):
    # xpx.at and xpx.pad assign into the array (x[i] = v) for array types other than
    # JAX's: udiff records it as x.at[i].set(v)
    f = {"at-set": lambda v: xpx.at(v)[1].set(3.0),
         "at-set-copy": lambda v: xpx.at(v, 1).set(3.0, copy=True),
         "at-set-slice": lambda v: xpx.at(v)[1:3].set(v[:2] * 2.0),
         "at-add": lambda v: xpx.at(v)[::2].add(v[1:4] ** 2),
         "pad": lambda v: xpx.pad(v, 2)}[case]
    with udiff_backend(inner):
        got = f(np.asarray(chunked(X5, inner)))
    numpy.testing.assert_array_equal(compute(got), f(X5.copy()))  # xpx on NumPy's arrays
    check_grads(lambda v: f(v) ** 2, (chunked(X5, inner),), inner=inner, order=_order(inner))


@pytest.fixture
def einops():
    return pytest.importorskip("einops.array_api")


def test_einops_rearrange(einops, inner):
    w = numpy.arange(24.0).reshape(2, 12)
    with udiff_backend(inner):
        got = einops.rearrange(np.asarray(chunked(X, inner)), "(a b) c -> a (b c)", a=2)
    numpy.testing.assert_array_equal(compute(got), X.reshape(2, 12))
    check_grads(lambda v: einops.rearrange(v, "(a b) c -> a (b c)", a=2) ** 2 * w,
                (chunked(X, inner),), inner=inner, order=_order(inner))


@pytest.mark.parametrize("reduction", ["max", "mean", "prod"])
def test_einops_reduce(einops, inner, reduction):
    want = getattr(numpy, reduction)(X.reshape(4, 2, 3), axis=1)
    with udiff_backend(inner):
        got = einops.reduce(np.asarray(chunked(X, inner)), "(a b) c -> a c", reduction, a=4)
    numpy.testing.assert_allclose(compute(got), want, rtol=1e-14)
    check_grads(lambda v: einops.reduce(np.sin(v), "(a b) c -> a c", reduction, a=4),
                (chunked(X, inner),), inner=inner, order=_order(inner))


def test_einops_repeat(einops, inner):
    with udiff_backend(inner):
        got = einops.repeat(np.asarray(chunked(X, inner)), "a c -> a c r", r=2)
    numpy.testing.assert_array_equal(compute(got), numpy.repeat(X[..., None], 2, axis=-1))
    value, g = udiff.value_and_grad(
        lambda v: np.sum(einops.repeat(v, "a c -> a c r", r=2) ** 3), inner=inner)(
        chunked(X, inner))
    numpy.testing.assert_allclose(compute(value), 2 * numpy.sum(X ** 3), rtol=1e-12)
    numpy.testing.assert_allclose(compute(g), _central_differences(
        lambda v: numpy.sum(numpy.repeat(v[..., None], 2, axis=-1) ** 3), X), rtol=1e-6)


def test_einops_needs_its_array_api_module(einops):
    import einops as plain

    # einops' own functions know a fixed list of tensor types; einops.array_api is the one
    # that goes through __array_namespace__
    with pytest.raises(RuntimeError, match="Tensor type unknown to einops"):
        udiff.grad(lambda v: np.sum(plain.rearrange(v, "a c -> c a")))(X)


def udiff_backend(inner):
    import uarray as ua

    return ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True)


if __name__ == "__main__":  # the child process of child_report
    print(json.dumps(_report()))
