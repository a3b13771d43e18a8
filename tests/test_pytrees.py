"""Containers of arrays (pytrees), has_aux, keyword arguments and argnum in the functional API.

Every derivative of a container is checked against central finite differences
of the same function, leaf by leaf, on NumPy and on multi-chunk Dask, in both
modes and to order 2 (Hessian blocks).
"""
from collections import Counter, OrderedDict, defaultdict, namedtuple

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from conftest import chunked, compute

Pair = namedtuple("Pair", "w b")


class Affine:
    """A user's container class, registered below."""

    def __init__(self, w, b):
        self.w, self.b = w, b


udiff.register_pytree_node(Affine, lambda a: ((a.w, a.b), "affine"),
                           lambda aux, children: Affine(*children))

RNG = numpy.random.default_rng(0)
W = RNG.uniform(-1, 1, (3, 2))
V = RNG.uniform(-1, 1, (2,))
S = numpy.array(0.7)


def loss(p, x):
    """A scalar of a dict of parameters: {'w': (3, 2), 'layers': [(2,), {'s': ()}]}."""
    h = np.tanh(np.dot(x, p["w"]) + p["layers"][0])
    return np.sum(h * h) * p["layers"][1]["s"] + np.sum(p["w"] ** 3)


def params(inner=udiff.numpy_backend):
    return {"w": chunked(W, inner), "layers": [chunked(V, inner), {"s": S}]}


X = RNG.uniform(-1, 1, (4, 3))


def numeric_grad(f, tree, eps=1e-6):
    """Central differences of scalar ``f`` with respect to every leaf of ``tree``."""
    leaves, treedef = udiff.tree_flatten(tree)
    leaves = [numpy.asarray(compute(a), dtype=float) for a in leaves]
    grads = []
    for i, leaf in enumerate(leaves):
        g = numpy.zeros_like(leaf)
        for j in numpy.ndindex(leaf.shape):
            plus = [a.copy() for a in leaves]
            minus = [a.copy() for a in leaves]
            plus[i][j] += eps
            minus[i][j] -= eps
            g[j] = (float(compute(f(udiff.tree_unflatten(treedef, plus))))
                    - float(compute(f(udiff.tree_unflatten(treedef, minus))))) / (2 * eps)
        grads.append(g)
    return udiff.tree_unflatten(treedef, grads)


def assert_tree_close(got, want, **kw):
    got_leaves, got_def = udiff.tree_flatten(got)
    want_leaves, want_def = udiff.tree_flatten(want)
    assert got_def == want_def, (got_def, want_def)
    for g, w in zip(got_leaves, want_leaves):
        assert numpy.shape(compute(g)) == numpy.shape(w)
        numpy.testing.assert_allclose(compute(g), w, rtol=1e-5, atol=1e-7, **kw)


def plain_loss(p):
    return loss(p, X)


# -- containers ---------------------------------------------------------------------------
def test_grad_of_a_dict_is_a_dict(inner):
    g = udiff.grad(loss, inner=inner)(params(inner), X)
    assert type(g) is dict and type(g["layers"]) is list and type(g["layers"][1]) is dict
    assert_tree_close(g, numeric_grad(plain_loss, params()))


def test_value_and_grad_with_aux_and_keyword_arguments(inner):
    def f(p, x, *, scale):
        value = loss(p, x) * scale
        return value, {"value": value, "note": "kept", "h": np.tanh(p["w"])}

    (value, aux), g = udiff.value_and_grad(f, has_aux=True, inner=inner)(
        params(inner), X, scale=2.0)
    want = 2.0 * float(compute(plain_loss(params())))
    assert float(compute(value)) == pytest.approx(want)
    assert float(compute(aux["value"])) == pytest.approx(want)
    assert aux["note"] == "kept" and type(aux["h"]) is not udiff.DiffArray
    numpy.testing.assert_allclose(compute(aux["h"]), numpy.tanh(W))
    assert_tree_close(g, udiff.tree_map(lambda a: 2.0 * a, numeric_grad(plain_loss, params())))


def test_grad_has_aux():
    g, aux = udiff.grad(lambda x: (np.sum(x * x), x * 3.0), has_aux=True)(V)
    numpy.testing.assert_allclose(g, 2 * V)
    numpy.testing.assert_allclose(aux, 3 * V)


@pytest.mark.parametrize("container", ["tuple", "list", "namedtuple", "registered", "none"])
def test_every_kind_of_container(container, inner):
    w, b = chunked(W, inner), chunked(V, inner)
    make = {"tuple": lambda w, b: (w, b), "list": lambda w, b: [w, b],
            "namedtuple": Pair, "registered": Affine,
            "none": lambda w, b: {"w": w, "b": b, "unused": None}}[container]
    get = {"tuple": lambda p: p, "list": lambda p: p, "namedtuple": lambda p: (p.w, p.b),
           "registered": lambda p: (p.w, p.b), "none": lambda p: (p["w"], p["b"])}[container]

    def f(p):
        w_, b_ = get(p)
        return np.sum(np.sin(w_) * b_)

    g = udiff.grad(f, inner=inner)(make(w, b))
    assert type(g) is type(make(W, V))
    gw, gb = get(g)
    numpy.testing.assert_allclose(compute(gw), numpy.cos(W) * V)
    numpy.testing.assert_allclose(compute(gb), numpy.sin(W).sum(axis=0))
    if container == "none":
        assert g["unused"] is None


def test_same_shaped_tuple_is_not_stacked():
    g = udiff.grad(lambda p: np.sum(p[0] * 2.0 + p[1] * 5.0))((V, V))
    assert type(g) is tuple and len(g) == 2
    numpy.testing.assert_allclose(g[0], 2.0)
    numpy.testing.assert_allclose(g[1], 5.0)


def test_scalars_in_containers_are_variables():
    g = udiff.grad(lambda p: p["a"] * p["b"] ** 2)({"a": 3.0, "b": 2.0})
    assert g == {"a": 4.0, "b": 12.0}
    assert all(type(v) is numpy.ndarray and v.shape == () for v in g.values())


def _vector_out(p):
    return (np.tanh(p["w"]) * p["b"], {"s": np.sum(p["w"] ** 2)})


def _vector_numeric(p):
    """The Jacobian of ``_vector_out`` leaf by leaf, by finite differences."""
    out = []
    for k in range(2):
        pick = (lambda q: _vector_out(q)[0]) if k == 0 else (lambda q: _vector_out(q)[1]["s"])
        shape = numpy.shape(compute(pick(p)))
        rows = numpy.zeros(shape, dtype=object)
        for idx in numpy.ndindex(shape):
            rows[idx] = numeric_grad(lambda q: pick(q)[idx], p)
        out.append(udiff.tree_map(
            lambda *leaves: numpy.array(leaves).reshape(shape + numpy.shape(leaves[0])),
            *rows.ravel().tolist()) if shape else rows[()])
    return (out[0], {"s": out[1]})


@pytest.mark.parametrize("how", ["rev", "fwd"])
def test_jacobian_of_container_outputs(how, inner):
    p = {"w": chunked(W[:2], inner), "b": chunked(V, inner)}
    jac = udiff.jacobian(_vector_out, mode=how, inner=inner)(p)
    want = _vector_numeric({"w": W[:2], "b": V})
    assert_tree_close(jac, want)
    assert numpy.shape(compute(jac[0]["w"])) == (2, 2, 2, 2)


def test_vjp_and_jvp_of_containers(inner):
    p = {"w": chunked(W[:2], inner), "b": chunked(V, inner)}
    out, vjp_fn = udiff.vjp(_vector_out, p, inner=inner)
    assert type(out) is tuple and type(out[1]) is dict
    cot = (numpy.ones((2, 2)), {"s": numpy.array(2.0)})
    (g,) = vjp_fn(cot)
    want = numeric_grad(lambda q: np.sum(_vector_out(q)[0]) + 2.0 * _vector_out(q)[1]["s"],
                        {"w": W[:2], "b": V})
    assert_tree_close(g, want)
    tangent = {"w": numpy.ones((2, 2)), "b": numpy.zeros(2)}
    out, t_out = udiff.jvp(_vector_out, (p,), (tangent,), inner=inner)
    assert type(t_out) is tuple and type(t_out[1]) is dict
    numpy.testing.assert_allclose(compute(t_out[0]), (1 - numpy.tanh(W[:2]) ** 2) * V)
    numpy.testing.assert_allclose(compute(t_out[1]["s"]), 2 * W[:2].sum())


def test_vjp_and_jvp_has_aux():
    out, vjp_fn, aux = udiff.vjp(lambda x: (x * 2.0, "aux"), V, has_aux=True)
    assert aux == "aux"
    numpy.testing.assert_allclose(vjp_fn(numpy.ones(2))[0], 2.0)
    out, t, aux = udiff.jvp(lambda x: (x * 2.0, x), (V,), (numpy.ones(2),), has_aux=True)
    numpy.testing.assert_allclose(t, 2.0)
    numpy.testing.assert_allclose(aux, V)
    jac, aux = udiff.jacobian(lambda x: (x * 2.0, 1), has_aux=True)(V)
    numpy.testing.assert_allclose(jac, 2 * numpy.eye(2))
    assert aux == 1


# -- order 2 -----------------------------------------------------------------------------
def test_hessian_of_a_dict_matches_finite_differences_of_the_gradient(inner):
    p = {"w": chunked(W[:2], inner), "s": S}

    def f(q):
        return np.sum(np.sin(q["w"]) * q["w"]) * q["s"] ** 2

    h = udiff.hessian(f, inner=inner)(p)
    assert set(h) == {"s", "w"} and set(h["w"]) == {"s", "w"}
    assert numpy.shape(compute(h["w"]["w"])) == (2, 2, 2, 2)
    assert numpy.shape(compute(h["w"]["s"])) == (2, 2)
    base = {"w": W[:2], "s": S}
    for i in ("w", "s"):
        g_i = lambda q, i=i: udiff.grad(f)(q)[i]  # noqa: E731
        shape = numpy.shape(base[i])
        for idx in numpy.ndindex(shape):
            num = numeric_grad(lambda q: g_i(q)[idx], base)
            for j in ("w", "s"):
                numpy.testing.assert_allclose(compute(h[i][j])[idx], num[j], rtol=1e-5,
                                              atol=1e-7)
    # Forward over reverse agrees: hvp of the same dict.
    t = {"w": numpy.ones((2, 2)), "s": numpy.array(1.0)}
    hv = udiff.hvp(f, (p,), (t,), inner=inner)
    for i in ("w", "s"):
        want = sum(numpy.tensordot(compute(h[i][j]), t[j], axes=numpy.ndim(t[j]))
                   for j in ("w", "s"))
        numpy.testing.assert_allclose(compute(hv[i]), want, rtol=1e-10)


def test_hessian_with_tuple_argnums_gives_blocks(inner):
    x, y = chunked(V, inner), chunked(W[0, :2] + 1.0, inner)

    def f(a, b):
        return np.sum(a * a * b) + np.sum(b ** 3)

    h = udiff.hessian(f, argnums=(0, 1), inner=inner)(x, y)
    assert type(h) is tuple and all(type(row) is tuple and len(row) == 2 for row in h)
    a, b = V, W[0, :2] + 1.0
    numpy.testing.assert_allclose(compute(h[0][0]), numpy.diag(2 * b))
    numpy.testing.assert_allclose(compute(h[0][1]), numpy.diag(2 * a))
    numpy.testing.assert_allclose(compute(h[1][0]), numpy.diag(2 * a))
    numpy.testing.assert_allclose(compute(h[1][1]), numpy.diag(6 * b))
    single = udiff.hessian(f, argnums=1, inner=inner)(x, y)
    numpy.testing.assert_allclose(compute(single), numpy.diag(6 * b))


def test_grad_of_grad_through_containers():
    def inner_grad(p):
        return udiff.grad(lambda q: np.sum(q["a"] ** 3) * q["c"])(p)

    gg = udiff.grad(lambda p: np.sum(inner_grad(p)["a"]))({"a": V, "c": numpy.array(2.0)})
    numpy.testing.assert_allclose(gg["a"], 12 * V)
    numpy.testing.assert_allclose(gg["c"], numpy.sum(3 * V ** 2))


def test_argnum_is_autograds_spelling():
    f = lambda x, y: np.sum(x * y * y)  # noqa: E731
    numpy.testing.assert_allclose(udiff.grad(f, argnum=1)(V, V), 2 * V * V)
    numpy.testing.assert_allclose(udiff.jacobian(f, argnum=0)(V, V), V * V)


# -- dict subclasses (issue 18): containers, as in JAX --------------------------------------
class Config(dict):
    """A dict subclass whose constructor takes other arguments, with an attribute."""

    def __init__(self, scale, **items):
        super().__init__(**items)
        self.scale = scale


class Ordered(OrderedDict):
    pass


DICT_KINDS = {
    "OrderedDict": lambda **kw: OrderedDict([("w", kw["w"]), ("b", kw["b"])]),
    "OrderedDict_reversed": lambda **kw: OrderedDict([("b", kw["b"]), ("w", kw["w"])]),
    "defaultdict": lambda **kw: defaultdict(list, kw),
    "Counter": lambda **kw: Counter(kw),
    "subclass_with_its_own_constructor": lambda **kw: Config(2.0, **kw),
    "OrderedDict_subclass": lambda **kw: Ordered([("w", kw["w"]), ("b", kw["b"])]),
}


@pytest.mark.parametrize("kind", list(DICT_KINDS))
def test_dict_subclasses_are_containers(kind, inner):
    make = DICT_KINDS[kind]

    def f(p):
        return np.sum(np.sin(p["w"]) * p["b"])

    p = make(w=chunked(W, inner), b=chunked(V, inner))
    g = udiff.grad(f, inner=inner)(p)
    assert type(g) is type(p) and set(g) == set(p)
    if isinstance(p, OrderedDict):
        assert list(g) == list(p)  # its order (other dicts: sorted keys, as JAX's)
    numpy.testing.assert_allclose(compute(g["w"]), numpy.cos(W) * V)
    numpy.testing.assert_allclose(compute(g["b"]), numpy.sin(W).sum(axis=0))
    assert_tree_close(g, numeric_grad(f, make(w=W, b=V)))
    if isinstance(p, defaultdict):
        assert g.default_factory is list
    if isinstance(p, Config):
        assert g.scale == 2.0
    # forward mode and second order keep the container too
    t = udiff.tree_map(numpy.ones_like, make(w=W, b=V))
    _, jt = udiff.jvp(f, (p,), (t,), inner=inner)
    numpy.testing.assert_allclose(compute(jt), sum(numpy.sum(compute(a) * 1.0)
                                                   for a in udiff.tree_leaves(g)))
    h = udiff.hessian(f, inner=inner)(p)
    assert type(h) is type(p) and type(h["w"]) is type(p)


def test_ordered_dict_structure_includes_its_order():
    a = OrderedDict([("w", 1.0), ("b", 2.0)])
    b = OrderedDict([("b", 2.0), ("w", 1.0)])
    (la, da), (lb, db) = udiff.tree_flatten(a), udiff.tree_flatten(b)
    assert la == [1.0, 2.0] and lb == [2.0, 1.0] and da != db
    assert da != udiff.tree_flatten(dict(a))[1]  # a dict is another structure (as JAX)
    assert "OrderedDict({'w': *, 'b': *})" in repr(da)
    d = udiff.tree_map(lambda v: v * 10, defaultdict(int, {"x": 1, "y": [2]}))
    assert type(d) is defaultdict and d.default_factory is int and d == {"x": 10, "y": [20]}


def test_grad_of_an_ordered_dict_matches_the_dict_one():
    p = OrderedDict([("w", W), ("layers", [V, OrderedDict(s=S)])])
    g = udiff.grad(plain_loss)(p)
    assert type(g) is OrderedDict and type(g["layers"][1]) is OrderedDict
    assert list(g) == ["w", "layers"]
    assert_tree_close(dict(g, layers=[g["layers"][0], dict(g["layers"][1])]),
                      udiff.grad(plain_loss)(params()))


# -- y.to(container) ---------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_to_a_container(mode, inner):
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode), coerce=True):
        w, b = np.asarray(chunked(V, inner)), np.asarray(S)
        y = np.sum(w * w) * b
        if mode == "vjp":
            g = y.to({"w": w, "b": b})
            numpy.testing.assert_allclose(compute(g["w"].value), 2 * V * S)
            numpy.testing.assert_allclose(compute(g["b"].value), numpy.sum(V * V))
            nested = y.to([w, {"b": b}])
            assert type(nested) is tuple and type(nested[1]) is dict
            second = g["w"].to({"w": w})["w"]  # re-derived: the second derivative
            numpy.testing.assert_allclose(compute(second.value), 2 * S)
        else:
            t = y.to(Pair(w, b), Pair(numpy.ones(2), numpy.array(1.0)))
            assert type(t) is Pair
            numpy.testing.assert_allclose(compute(t.w.value), 2 * V.sum() * S)
            numpy.testing.assert_allclose(compute(t.b.value), numpy.sum(V * V))


# -- bad input -----------------------------------------------------------------------------
def test_a_leaf_that_is_not_an_array_is_named_by_its_path():
    with pytest.raises(TypeError, match=r"params\['w'\]\[1\], a str"):
        udiff.grad(lambda params: np.sum(params["w"][0]))({"w": [V, "oops"]})
    with pytest.raises(TypeError, match=r"p\.b, a .*object"):
        udiff.grad(lambda p: np.sum(p.w))(Pair(V, object()))
    with pytest.raises(TypeError, match=r"p\['n'\], of dtype int64"):
        udiff.grad(lambda p: np.sum(p["w"]))({"w": V, "n": 3})
    dask_array = chunked(V, udiff.dask_backend)
    with pytest.raises(TypeError, match=r"p\['w'\] is a dask.array.core.Array, but this "
                                        r"operator computes on the numpy inner backend"):
        udiff.grad(lambda p: np.sum(p["w"]))({"w": dask_array})


def test_has_aux_needs_a_pair():
    for returned in (lambda x: np.sum(x), lambda x: (np.sum(x),), lambda x: [1, 2, 3]):
        with pytest.raises(TypeError, match="has_aux=True, so it must return a pair"):
            udiff.grad(returned, has_aux=True)(V)


def test_structure_mismatches_are_named():
    out, vjp_fn = udiff.vjp(lambda x: (x, x * 2.0), V)
    with pytest.raises(ValueError, match=r"the cotangent \(like the output\) must have the structure \(\*, \*\), got \*"):
        vjp_fn(numpy.ones(2))
    with pytest.raises(ValueError, match=r"shape \(3,\) but must have shape \(2,\)"):
        vjp_fn((numpy.ones(2), numpy.ones(3)))
    with pytest.raises(ValueError, match=r"tangent 0 \(like its primal\) must have the structure \{'a': \*\}, got \{'b': \*\}"):
        udiff.jvp(lambda p: p["a"], ({"a": V},), ({"b": V},))
    with ua.set_backend(udiff.DiffArrayBackend(udiff.numpy_backend, "jvp"), coerce=True):
        w = np.asarray(V)
        with pytest.raises(ValueError, match=r"grad_variables \(like the variables\) must have the structure"):
            np.sum(w).to({"w": w}, [numpy.ones(2)])
        with pytest.raises(TypeError, match=r"x\['s'\] is a builtins.str"):
            np.sum(w).to({"w": w, "s": "s"})


# -- the tree helpers ----------------------------------------------------------------------
def test_tree_helpers_round_trip():
    tree = {"b": [1, (2, None)], "a": Pair(3, Affine(4, 5)), "c": ()}
    leaves, treedef = udiff.tree_flatten(tree)
    assert leaves == [3, 4, 5, 1, 2]
    rebuilt = udiff.tree_unflatten(treedef, leaves)
    assert rebuilt["b"] == [1, (2, None)] and rebuilt["a"].b.w == 4 and rebuilt["c"] == ()
    assert udiff.tree_leaves(udiff.tree_map(lambda v: v * 10, tree)) == [30, 40, 50, 10, 20]
    assert treedef == udiff.tree_flatten(udiff.tree_map(str, tree))[1]
    with pytest.raises(ValueError, match="holds 5 leaves, but 2 were given"):
        udiff.tree_unflatten(treedef, [1, 2])
    with pytest.raises(ValueError, match=r"every container given to tree_map must have the structure"):
        udiff.tree_map(lambda a, b: a, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="already a registered container"):
        udiff.register_pytree_node(dict, None, None)


def test_training_loop_over_a_dict_reaches_least_squares():
    # The README's loop: value_and_grad(has_aux=True) over a dict, updated with tree_map.
    rng = numpy.random.default_rng(0)
    x, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    p = {"w": numpy.zeros(3), "b": numpy.array(0.0)}

    def loss_fn(p, x, y, *, l2):
        error = x @ p["w"] + p["b"] - y
        return np.mean(error ** 2) + l2 * np.sum(p["w"] ** 2), {"mse": np.mean(error ** 2)}

    step = udiff.value_and_grad(loss_fn, has_aux=True)
    for _ in range(300):
        (value, aux), g = step(p, x, y, l2=0.0)
        p = udiff.tree_map(lambda a, d: a - 0.2 * d, p, g)
    want = numpy.linalg.lstsq(numpy.c_[x, numpy.ones(64)], y, rcond=None)[0]
    numpy.testing.assert_allclose(p["w"], want[:3], atol=1e-6)
    numpy.testing.assert_allclose(p["b"], want[3], atol=1e-6)
    assert float(aux["mse"]) == pytest.approx(float(value))
