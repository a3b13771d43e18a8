"""udiff.contrib.dask_glm.family against dask-glm's own hand-written families.

dask-glm's solvers run with a family built from a per-row loss written with
udiff.numpy and with dask-glm's Logistic, Normal and Poisson: the same number
of calls to each family method (the solvers report no iteration counts; the
number of ``hessian`` or ``gradient`` calls is it) and the same coefficients.
20 000 rows x 5 features in 4 chunks.
"""
import numpy
import pytest

import udiff.numpy as np

da = pytest.importorskip("dask.array")
algorithms = pytest.importorskip("dask_glm.algorithms")
families = pytest.importorskip("dask_glm.families")
import dask  # noqa: E402

from udiff.contrib.dask_glm import Family, family  # noqa: E402

N, P, CHUNK = 20_000, 5, 5_000
RNG = numpy.random.default_rng(0)
XN = RNG.standard_normal((N, P))
BETA = RNG.standard_normal(P) * 0.5


def logistic(eta, y):
    return np.logaddexp(0.0, eta) - y * eta


def normal(eta, y):
    return (y - eta) ** 2


def poisson(eta, y):
    return np.exp(eta) - y * eta


def logistic_as_dask_glm_writes_it(eta, y):
    return eta + np.log1p(np.exp(-eta)) - y * eta


Y_LOGISTIC = (XN @ BETA + RNG.logistic(size=N) > 0).astype(float)
# logaddexp's rules choose a branch per element (no row program: udiff's ordinary
# derivatives); dask-glm's formula is a chain of ufuncs (a recorded row program).
CASES = {
    "Logistic": (families.Logistic, logistic, Y_LOGISTIC),
    "Logistic-formula": (families.Logistic, logistic_as_dask_glm_writes_it, Y_LOGISTIC),
    "Normal": (families.Normal, normal, XN @ BETA + RNG.standard_normal(N)),
    "Poisson": (families.Poisson, poisson,
                RNG.poisson(numpy.exp(0.5 * XN @ BETA)).astype(float)),
}


class Calls:
    """A family that counts the calls dask-glm makes to each method."""

    def __init__(self, family):
        self.family, self.calls = family, {}

    def __getattr__(self, name):
        method = getattr(self.family, name)

        def counted(*args):
            self.calls[name] = self.calls.get(name, 0) + 1
            return method(*args)

        return counted


def _data(name, block_rows=16384):
    hand, loss, yn = CASES[name]
    return (hand, family(loss, block_rows=block_rows), da.from_array(XN, chunks=(CHUNK, P)),
            da.from_array(yn, CHUNK))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
# dask-glm 0.4's lbfgs sets Dask's old config key fuse_ave_width.
@pytest.mark.filterwarnings("ignore:Dask configuration key 'fuse_ave_width':FutureWarning")
@pytest.mark.filterwarnings("ignore:scipy.optimize. The .disp. and .iprint.:DeprecationWarning")
@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gradient_descent"])
@pytest.mark.parametrize("name", list(CASES))
def test_solvers_match_the_hand_written_families(name, solver):
    hand, ours, X, y = _data(name)
    hand, ours = Calls(hand), Calls(ours)
    # Gradient descent stops after 15 iterations (of up to 100) to keep the
    # test short; both families then follow the same 15 steps.
    options = {"max_iter": 15} if solver == "gradient_descent" else {}
    solve = getattr(algorithms, solver)
    expected = solve(X, y, family=hand, **options)
    got = solve(X, y, family=ours, **options)
    # Newton calls hessian once an iteration, lbfgs pointwise_gradient once an
    # evaluation, gradient descent gradient once an iteration.
    counted = {"newton": "hessian", "lbfgs": "pointwise_gradient",
               "gradient_descent": "gradient"}[solver]
    assert ours.calls[counted] == hand.calls[counted] > 1
    # Gradient descent on the Normal family stops on a relative decrease of
    # 1e-14 in a loss of ~2e4: the last line search, and so the coefficients,
    # then turn on rounding (the two gradients differ in the last bits: udiff
    # computes X.T @ (2 (eta - y)), dask-glm 2 X.T @ eta - 2 X.T @ y).
    # Measured: 1.4e-8 apart; everything else agrees to 1e-15.
    tol = 5e-8 if (name, solver) == ("Normal", "gradient_descent") else 1e-8
    numpy.testing.assert_allclose(got, expected, rtol=0, atol=tol)


# 16384 rows at a time: Dask chunks (5000) whole, the NumPy arrays in two
# blocks; 1500: each chunk in 4 blocks, the last of 500 rows.
@pytest.mark.parametrize("block_rows", [16384, 1500])
@pytest.mark.parametrize("name", list(CASES))
def test_methods_match_on_dask_and_numpy(name, block_rows):
    hand, ours, X, y = _data(name, block_rows)
    beta = BETA * 0.3
    Xbeta = X @ beta
    pairs = [
        (ours.loglike(Xbeta, y), hand.loglike(Xbeta, y)),
        (ours.gradient(Xbeta, X, y), hand.gradient(Xbeta, X, y)),
        (ours.hessian(Xbeta, X), hand.hessian(Xbeta, X)),
        (ours.pointwise_loss(beta, X, y), hand.pointwise_loss(beta, X, y)),
        (ours.pointwise_gradient(beta, X, y), hand.pointwise_gradient(beta, X, y)),
    ]
    for got, expected in pairs:
        assert isinstance(got, da.Array)
        got, expected = dask.compute(got, expected)
        assert got.shape == expected.shape
        numpy.testing.assert_allclose(got, expected, rtol=1e-11)
    yn = CASES[name][2]
    numpy.testing.assert_allclose(ours.hessian(XN @ beta, XN), hand.hessian(XN @ beta, XN),
                                  rtol=1e-11)
    numpy.testing.assert_allclose(ours.gradient(XN @ beta, XN, yn),
                                  hand.gradient(XN @ beta, XN, yn), rtol=1e-11)


@pytest.mark.parametrize("block_rows", [None, 1500])
def test_a_hessian_of_either_sign_is_x_t_diag_x(block_rows):
    """A loss whose second derivative changes sign (sin: -sin(eta)) takes the general
    product; a convex one (cosh: cosh(eta)) the symmetric one.  Both are X.T diag(d2) X."""
    eta = XN @ BETA
    for loss, d2 in ((np.sin, -numpy.sin(eta)), (np.cosh, numpy.cosh(eta))):
        ours = Family(lambda eta, y, loss=loss: loss(eta), block_rows=block_rows)
        expected = XN.T @ (d2[:, None] * XN)
        numpy.testing.assert_allclose(ours.hessian(eta, XN), expected, rtol=1e-10, atol=1e-9)
        numpy.testing.assert_allclose(ours.hessian(da.from_array(eta, chunks=CHUNK),
                                                   da.from_array(XN, chunks=(CHUNK, P)))
                                      .compute(), expected, rtol=1e-10, atol=1e-9)


def test_each_method_is_one_task_per_chunk_and_a_tree_sum():
    _, ours, X, y = _data("Logistic")
    Xbeta = X @ numpy.ones(P)
    h = ours.hessian(Xbeta, X)
    keys = [k[0] for k in dict(h.__dask_graph__()) if isinstance(k, tuple)]
    assert sum(k.startswith("udiff-rows-") for k in keys) == N // CHUNK


@pytest.mark.parametrize("beta_on", ["numpy", "dask"])
def test_the_pointwise_loss_and_gradient_share_their_tasks(beta_on):
    """lbfgs computes pointwise_loss and pointwise_gradient together: one task per chunk
    gives both (one X @ beta and one sweep per chunk), with the hand-written values.  On a
    distributed client dask-glm passes beta as a Dask array (scattered): still shared."""
    hand, ours, X, y = _data("Logistic")
    beta = BETA * 0.3
    if beta_on == "dask":
        beta = da.from_array(beta, chunks=2)
    loss, g = ours.pointwise_loss(beta, X, y), ours.pointwise_gradient(beta, X, y)
    merged = {**dict(loss.__dask_graph__()), **dict(g.__dask_graph__())}
    keys = [k[0] for k in merged if isinstance(k, tuple)]
    assert sum(k.startswith("udiff-rows-") for k in keys) == N // CHUNK
    got = dask.compute(loss, g)
    expected = dask.compute(hand.pointwise_loss(beta, X, y), hand.pointwise_gradient(beta, X, y))
    for a, b in zip(got, expected):
        assert numpy.shape(a) == numpy.shape(b)
        numpy.testing.assert_allclose(a, b, rtol=1e-11)


def test_y_chunked_unlike_X_is_rechunked():
    hand, ours, X, _ = _data("Normal")
    y = da.from_array(CASES["Normal"][2], chunks=3_000)
    Xbeta = X @ BETA
    numpy.testing.assert_allclose(ours.gradient(Xbeta, X, y).compute(),
                                  hand.gradient(Xbeta, X, y).compute(), rtol=1e-11)


def test_a_loss_that_couples_rows_is_refused():
    with pytest.raises(ValueError, match="not elementwise"):
        family(lambda eta, y: (eta - np.mean(eta)) ** 2 - y)
    with pytest.raises(ValueError, match="one loss per row"):
        family(lambda eta, y: np.sum((eta - y) ** 2))


def test_a_hessian_that_needs_y_is_refused_with_the_solvers_that_work():
    # A probit-like weighting: the second derivative in eta changes with y.
    fam = Family(lambda eta, y: np.exp(eta * y) - eta, name="y-weighted")
    assert fam.hessian_uses_y
    X = XN[:10]
    with pytest.raises(ValueError, match="depends on y.*lbfgs"):
        fam.hessian(X @ BETA, X)
    assert not family(logistic).hessian_uses_y
