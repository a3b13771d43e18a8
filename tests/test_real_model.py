"""A plain NumPy model differentiated by swapping only its import."""
import pathlib
import types

import numpy as np
import pytest
import uarray as ua

import udiff
from conftest import chunked, compute

SOURCE = (pathlib.Path(__file__).parent / "plain_mlp.py").read_text()


def _load(source, name):
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


plain = _load(SOURCE, "plain_mlp")
swapped = _load(SOURCE.replace("import numpy as np", "import udiff.numpy as np"), "udiff_mlp")


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    params = plain.init(rng, [5, 4, 3])
    x = rng.standard_normal((6, 5))
    labels = np.array([0, 2, 1, 2, 0, 1])
    return params, x, labels


def test_the_source_swaps_only_the_import():
    assert SOURCE.count("import numpy as np") == 1
    assert "import udiff" not in SOURCE


# NumPy only: on Dask, np.arange(n) is a Dask array and Dask cannot index point-wise
# (logits[rows, labels]) with Dask index arrays before they are computed.
@pytest.mark.parametrize("inner", [udiff.numpy_backend], ids=["numpy"])
def test_gradients_match_finite_differences(problem, inner):
    params, x, labels = problem
    with ua.set_backend(udiff.DiffArrayBackend(inner), coerce=True):
        variables = [swapped.np.asarray(chunked(p, inner)) for p in params]
        value = swapped.loss(variables, chunked(x, inner), labels)
        grads = value.to(variables)
    assert np.isclose(compute(value), plain.loss(params, x, labels))
    eps = 1e-6
    rng = np.random.default_rng(1)
    for i, (p, g) in enumerate(zip(params, grads)):
        u = rng.standard_normal(p.shape)
        up = [q + eps * u if j == i else q for j, q in enumerate(params)]
        down = [q - eps * u if j == i else q for j, q in enumerate(params)]
        numeric = (plain.loss(up, x, labels) - plain.loss(down, x, labels)) / (2 * eps)
        assert np.isclose(np.sum(compute(g) * u), numeric, rtol=1e-6, atol=1e-8), i
