"""Row programs: the recorded value and row-by-row derivatives of an elementwise loss.

A program must give what udiff's ordinary derivatives give (and the closed
forms), on rows of any length and either floating dtype; a loss it cannot
replay must get no program (the dask-glm family then takes the ordinary
derivatives); a second derivative must not run the value's calls.
"""
import threading

import cloudpickle
import numpy
import pytest

import udiff
import udiff.numpy as np
from udiff._transformations.row_derivatives import OUTPUTS, row_program

F64 = numpy.dtype(numpy.float64)


def _sigmoid(e):
    return 1 / (1 + numpy.exp(-e))


# name -> (loss, closed forms of value, d1, d2 in (eta, y))
LOSSES = {
    "logistic": (lambda e, y: e + np.log1p(np.exp(-e)) - y * e,
                 lambda e, y: (e + numpy.log1p(numpy.exp(-e)) - y * e,
                               _sigmoid(e) - y, _sigmoid(e) * (1 - _sigmoid(e)))),
    "poisson": (lambda e, y: np.exp(e) - y * e,
                lambda e, y: (numpy.exp(e) - y * e, numpy.exp(e) - y, numpy.exp(e))),
    "normal": (lambda e, y: (y - e) ** 2,
               lambda e, y: ((y - e) ** 2, 2 * (e - y), 2 + 0 * e)),
    "linear": (lambda e, y: 3.0 * e - y,
               lambda e, y: (3 * e - y, 3 + 0 * e, 0 * e)),
    "y-weighted": (lambda e, y: np.exp(e * y) - e,
                   lambda e, y: (numpy.exp(e * y) - e, y * numpy.exp(e * y) - 1,
                                 y * y * numpy.exp(e * y))),
    "quotient": (lambda e, y: (e - y) ** 2 / (1 + e * e),
                 None),
    "trig": (lambda e, y: np.sin(e) * np.cos(y) + np.tanh(e) ** 3,
             None),
    # negations, subtractions and factors of one, which the program carries as signs
    "signs": (lambda e, y: -(-e * y) - (1.0 - e) / (-(y + 2.0)) + np.exp(-(-e)) * 1.0
              - (-1.0) * e * e,
              lambda e, y: (e * y + (1 - e) / (y + 2) + numpy.exp(e) + e * e,
                            y - 1 / (y + 2) + numpy.exp(e) + 2 * e, numpy.exp(e) + 2)),
}


def _ordinary(loss, eta, y):
    first = udiff.grad(lambda e: np.sum(loss(e, y)))
    d1, d2 = udiff.jvp(first, (eta,), (numpy.ones_like(eta),))
    value = udiff.vjp(lambda e: loss(e, y), eta)[0]
    return value, d1, d2


@pytest.mark.parametrize("rows", [0, 1, 7, 1000])
@pytest.mark.parametrize("name", list(LOSSES))
def test_a_program_gives_the_ordinary_derivatives(name, rows):
    loss, closed = LOSSES[name]
    program = row_program(loss, F64, F64, udiff.numpy_backend)
    assert program is not None
    rng = numpy.random.default_rng(rows)
    eta, y = rng.standard_normal(rows), rng.random(rows)
    got = program.run(eta, y)
    expected = _ordinary(loss, eta, y)
    for g, w in zip(got, expected):
        assert g.shape == (rows,) and g.dtype == w.dtype
        numpy.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    if closed is not None:
        for g, w in zip(got, closed(eta, y)):
            numpy.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
    # any subset, in any order
    d2, value = program.run(eta, y, ("d2", "value"))
    numpy.testing.assert_array_equal(d2, got[2])
    numpy.testing.assert_array_equal(value, got[0])


@pytest.mark.parametrize("name", ["logistic", "signs"])
def test_float32_rows_keep_their_dtype(name):
    loss, _ = LOSSES[name]
    f32 = numpy.dtype(numpy.float32)
    program = row_program(loss, f32, f32, udiff.numpy_backend)
    rng = numpy.random.default_rng(3)
    eta, y = rng.standard_normal(50).astype(f32), rng.random(50).astype(f32)
    for g, w in zip(program.run(eta, y), _ordinary(loss, eta, y)):
        assert g.dtype == w.dtype == f32
        numpy.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_a_float64_constant_promotes_float32_rows_as_numpy_does():
    loss = lambda e, y: numpy.float64(-2.0) * e * y  # noqa: E731
    f32 = numpy.dtype(numpy.float32)
    program = row_program(loss, f32, f32, udiff.numpy_backend)
    eta, y = numpy.ones(4, f32), numpy.ones(4, f32)
    for g, w in zip(program.run(eta, y), _ordinary(loss, eta, y)):
        assert g.dtype == w.dtype
        numpy.testing.assert_array_equal(g, w)


def test_a_second_derivative_runs_only_the_calls_it_needs():
    program = row_program(LOSSES["logistic"][0], F64, F64, udiff.numpy_backend)
    counts = {w: program.calls((w,)) for w in OUTPUTS}
    # the loss: negative, exp, log1p, add, multiply, subtract
    assert counts["value"] == 6
    assert program.calls(OUTPUTS) < sum(counts.values())  # shared calls made once
    # d2 needs neither log1p nor the products with y: fewer calls than the loss and
    # its first derivative together
    assert counts["d2"] < program.calls(("value", "d1"))
    assert "log1p" not in program.names(("d2",))
    assert "log1p" in program.names(("value",))


@pytest.mark.parametrize("loss", [
    lambda e, y: np.where(e > 0, e * e, -e) * y,  # a mask computed from the rows
    lambda e, y: np.abs(e) * y,  # its rule divides by |e| where |e| is not 0: a mask
    lambda e, y: (e - np.mean(e)) ** 2,  # couples rows
    lambda e, y: np.sum(e * y),  # not one value per row
], ids=["where", "abs", "mean", "sum"])
def test_what_a_program_cannot_replay_gets_none(loss):
    assert row_program(loss, F64, F64, udiff.numpy_backend) is None


def test_a_program_leaves_out_the_outputs_it_cannot_replay():
    # logaddexp's first derivative is a chain of ufuncs (1 / (1 + exp(min(b - a, cap))));
    # its second goes through minimum's, which chooses a branch per element.
    loss = lambda e, y: np.logaddexp(0.0, e) - y * e  # noqa: E731
    program = row_program(loss, F64, F64, udiff.numpy_backend)
    assert program.outputs == ("value", "d1")
    assert program.has(("d1",)) and not program.has(("d1", "d2"))
    eta, y = numpy.linspace(-40, 40, 101), numpy.linspace(0, 1, 101)
    value, d1 = program.run(eta, y, ("value", "d1"))
    numpy.testing.assert_allclose(d1, _sigmoid(eta) - y, rtol=1e-12, atol=1e-15)
    numpy.testing.assert_allclose(value, numpy.logaddexp(0, eta) - y * eta, rtol=1e-14)
    with pytest.raises(ValueError, match="cannot compute d2"):
        program.run(eta, y, ("d2",))


def test_a_loss_that_branches_on_values_gets_none():
    def branches(eta, y):
        return eta ** 3 if numpy.max(eta.value) > 3 else eta ** 2

    assert row_program(branches, F64, F64, udiff.numpy_backend) is None


def test_integer_rows_get_none():
    assert row_program(LOSSES["poisson"][0], F64, numpy.dtype(numpy.int64),
                       udiff.numpy_backend) is None


def test_the_inputs_are_not_written():
    program = row_program(LOSSES["quotient"][0], F64, F64, udiff.numpy_backend)
    eta, y = numpy.linspace(-2, 2, 5000), numpy.linspace(0, 1, 5000)
    eta0, y0 = eta.copy(), y.copy()
    program.run(eta, y)
    numpy.testing.assert_array_equal(eta, eta0)
    numpy.testing.assert_array_equal(y, y0)


def test_threads_share_a_program():
    loss, closed = LOSSES["logistic"]
    program = row_program(loss, F64, F64, udiff.numpy_backend)
    rng = numpy.random.default_rng(0)
    rows = [(rng.standard_normal(3000), rng.random(3000)) for _ in range(8)]
    results = [None] * len(rows)

    def work(i):
        for _ in range(20):
            results[i] = program.run(*rows[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (eta, y), got in zip(rows, results):
        for g, w in zip(got, closed(eta, y)):
            numpy.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_a_dask_glm_family_records_a_program_and_pickles_without_it():
    pytest.importorskip("dask_glm")
    from udiff.contrib.dask_glm import family

    fam = family(LOSSES["logistic"][0])
    X = numpy.random.default_rng(1).standard_normal((200, 3))
    eta, y = X @ numpy.array([0.5, -1.0, 0.25]), numpy.zeros(200)
    h = fam.hessian(eta, X)
    assert any(p is not None for p in fam._programs.values())
    p = _sigmoid(eta)
    numpy.testing.assert_allclose(h, X.T @ ((p * (1 - p))[:, None] * X), rtol=1e-12)
    # The recorded program stays behind: a process that unpickles the family (a Dask
    # worker) records its own (the program holds functions of this process's backends).
    copy = cloudpickle.loads(cloudpickle.dumps(fam))
    assert copy._programs == {}
    numpy.testing.assert_allclose(copy.hessian(eta, X), h, rtol=1e-15)
