"""The functional API (grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp)."""
import numpy
import pytest
import udiff.numpy as np

import udiff
from conftest import chunked, compute

pytestmark = pytest.mark.filterwarnings("ignore:uarray.skip_backend:DeprecationWarning")

A = numpy.array([[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]])
B = numpy.array([[0.7, 0.2, -0.9], [0.05, 1.1, 0.6]])


def f_scalar(x, y):
    return np.sum(np.sin(x) * y + x * x)


def df_dx(a, b):
    return numpy.cos(a) * b + 2 * a


def df_dy(a, b):
    return numpy.sin(a)


def f_vector(x):
    """(2, 3) -> (3,)"""
    return np.sum(np.exp(x) * x, axis=0)


def jac_vector(a):
    jac = numpy.zeros((3, 2, 3))
    for i in range(2):
        for j in range(3):
            jac[j, i, j] = numpy.exp(a[i, j]) * (1 + a[i, j])
    return jac


def assert_inner_array(value, inner):
    """A plain inner array: numpy.ndarray on NumPy, a lazy Dask array on Dask."""
    assert type(value) is not udiff.DiffArray
    if inner is udiff.dask_backend:
        assert type(value).__module__.startswith("dask")
    else:
        assert isinstance(value, (numpy.ndarray, numpy.generic))


def test_grad(inner):
    g = udiff.grad(f_scalar, inner=inner)(chunked(A, inner), chunked(B, inner))
    assert_inner_array(g, inner)
    numpy.testing.assert_allclose(compute(g), df_dx(A, B))


def test_grad_accepts_numbers_and_numpy_on_dask(inner):
    g = udiff.grad(lambda x: np.sum(x * x), inner=inner)(numpy.array([1.0, 2.0, 3.0]))
    assert_inner_array(g, inner)
    numpy.testing.assert_allclose(compute(g), [2.0, 4.0, 6.0])
    g = udiff.grad(lambda x: x * x, inner=inner)(3.0)
    assert_inner_array(g, inner)
    assert compute(g) == 6.0


def test_a_list_is_a_container_not_an_array(inner):
    # A list of numbers is a list of variables (JAX's semantics), never stacked.
    g = udiff.grad(lambda x: x[0] * x[1] * x[2], inner=inner)([1.0, 2.0, 3.0])
    assert type(g) is list and len(g) == 3
    assert [float(compute(v)) for v in g] == [6.0, 3.0, 2.0]


def test_argnums(inner):
    args = chunked(A, inner), chunked(B, inner)
    gy = udiff.grad(f_scalar, argnums=1, inner=inner)(*args)
    numpy.testing.assert_allclose(compute(gy), df_dy(A, B))
    g_neg = udiff.grad(f_scalar, argnums=-1, inner=inner)(*args)
    numpy.testing.assert_allclose(compute(g_neg), df_dy(A, B))
    both = udiff.grad(f_scalar, argnums=(0, 1), inner=inner)(*args)
    assert isinstance(both, tuple) and len(both) == 2
    for g in both:
        assert_inner_array(g, inner)
    numpy.testing.assert_allclose(compute(both[0]), df_dx(A, B))
    numpy.testing.assert_allclose(compute(both[1]), df_dy(A, B))
    single_tuple = udiff.grad(f_scalar, argnums=(1,), inner=inner)(*args)
    assert isinstance(single_tuple, tuple) and len(single_tuple) == 1


@pytest.mark.parametrize("argnums", [2, -3, (0, 2), 1.0, "0"])
def test_argnums_out_of_range(argnums):
    for op in (udiff.grad, udiff.value_and_grad, udiff.jacobian, udiff.hessian):
        with pytest.raises(ValueError, match="argnums") as info:
            op(f_scalar, argnums=argnums)(A, B)
        assert repr(argnums) in str(info.value)


def test_value_and_grad(inner):
    value, g = udiff.value_and_grad(f_scalar, inner=inner)(chunked(A, inner), chunked(B, inner))
    assert_inner_array(value, inner)
    assert_inner_array(g, inner)
    numpy.testing.assert_allclose(compute(value), numpy.sum(numpy.sin(A) * B + A * A))
    numpy.testing.assert_allclose(compute(g), df_dx(A, B))
    value, (gx, gy) = udiff.value_and_grad(f_scalar, argnums=(0, 1), inner=inner)(
        chunked(A, inner), chunked(B, inner)
    )
    numpy.testing.assert_allclose(compute(gy), df_dy(A, B))


@pytest.mark.parametrize("op", ["grad", "value_and_grad"])
def test_grad_of_non_scalar_raises(op):
    with pytest.raises(ValueError, match=r"scalar.*\(3,\).*jacobian.*vjp"):
        getattr(udiff, op)(f_vector)(A)


def test_vjp(inner):
    cotangent = numpy.array([1.0, -2.0, 0.5])
    out, vjp_fn = udiff.vjp(f_vector, chunked(A, inner), inner=inner)
    assert_inner_array(out, inner)
    numpy.testing.assert_allclose(compute(out), numpy.sum(numpy.exp(A) * A, axis=0))
    (g,) = vjp_fn(chunked(cotangent, inner))
    assert_inner_array(g, inner)
    numpy.testing.assert_allclose(compute(g), numpy.einsum("j,jab->ab", cotangent, jac_vector(A)))
    # Several primals; the vjp function can be called again with another cotangent.
    out, vjp_fn = udiff.vjp(lambda x, y: x * y, chunked(A, inner), chunked(B, inner), inner=inner)
    gx, gy = vjp_fn(numpy.ones_like(A))
    numpy.testing.assert_allclose(compute(gx), B)
    numpy.testing.assert_allclose(compute(gy), A)
    gx2, _ = vjp_fn(2 * numpy.ones_like(A))
    numpy.testing.assert_allclose(compute(gx2), 2 * B)
    with pytest.raises(ValueError, match="shape"):
        vjp_fn(numpy.ones(3))


def test_jvp(inner):
    tangent = numpy.linspace(-1.0, 1.0, 6).reshape(2, 3)
    out, t_out = udiff.jvp(f_vector, (chunked(A, inner),), (chunked(tangent, inner),), inner=inner)
    assert_inner_array(out, inner)
    assert_inner_array(t_out, inner)
    numpy.testing.assert_allclose(compute(t_out), numpy.einsum("jab,ab->j", jac_vector(A), tangent))
    # two primals: the tangents add up
    out, t_out = udiff.jvp(f_scalar, (A, B), (tangent, numpy.ones_like(B)), inner=inner)
    numpy.testing.assert_allclose(
        compute(t_out), numpy.sum(df_dx(A, B) * tangent) + numpy.sum(df_dy(A, B))
    )


@pytest.mark.parametrize(
    "tangent, message",
    [
        (numpy.ones((3, 2)), r"shape \(3, 2\).*float64.*shape \(2, 3\)"),
        (numpy.ones((2, 3), dtype=numpy.int64), r"shape \(2, 3\) and dtype int64.*shape \(2, 3\) and dtype float64"),
        (numpy.ones((2, 3), dtype=complex), r"complex128.*float64"),
    ],
)
def test_jvp_tangent_mismatch(tangent, message):
    with pytest.raises(ValueError, match=message):
        udiff.jvp(f_vector, (A,), (tangent,))


def test_jvp_count_mismatch():
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        udiff.jvp(f_scalar, (A, B), (A,))


@pytest.mark.parametrize("how", ["rev", "fwd", "jacrev", "jacfwd"])
def test_jacobian(inner, how):
    if how in ("rev", "fwd"):
        op = udiff.jacobian(f_vector, mode=how, inner=inner)
    else:
        op = getattr(udiff, how)(f_vector, inner=inner)
    jac = op(chunked(A, inner))
    assert_inner_array(jac, inner)
    assert jac.shape == (3, 2, 3)
    numpy.testing.assert_allclose(compute(jac), jac_vector(A), rtol=1e-13)
    chunked_jac = udiff.jacobian(
        f_vector, mode="rev" if how in ("rev", "jacrev") else "fwd", chunk_size=4, inner=inner
    )(chunked(A, inner))
    numpy.testing.assert_allclose(compute(chunked_jac), compute(jac), rtol=1e-14)


def test_jacobian_argnums_tuple(inner):
    jx, jy = udiff.jacobian(lambda x, y: np.sum(x * y, axis=1), argnums=(0, 1), inner=inner)(
        chunked(A, inner), chunked(B, inner)
    )
    assert jx.shape == jy.shape == (2, 2, 3)
    expected_x = numpy.zeros((2, 2, 3))
    expected_y = numpy.zeros((2, 2, 3))
    for i in range(2):
        expected_x[i, i] = B[i]
        expected_y[i, i] = A[i]
    numpy.testing.assert_allclose(compute(jx), expected_x)
    numpy.testing.assert_allclose(compute(jy), expected_y)


def test_jacobian_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        udiff.jacobian(f_vector, mode="reverse")


def _hessian_f(x):
    return np.sum(np.sin(x) * x * x) + np.sum(x) ** 2


def _hessian_analytic(a):
    a = a.ravel()
    d2 = (2 - a * a) * numpy.sin(a) + 4 * a * numpy.cos(a)
    return numpy.diag(d2) + 2.0


def test_hessian_and_hvp(inner):
    a = numpy.array([0.4, -1.3, 2.2, 0.9])
    v = numpy.array([1.0, 0.5, -2.0, 0.25])
    h = udiff.hessian(_hessian_f, inner=inner)(chunked(a, inner))
    assert_inner_array(h, inner)
    numpy.testing.assert_allclose(compute(h), _hessian_analytic(a), rtol=1e-12)
    hv = udiff.hvp(_hessian_f, (chunked(a, inner),), (chunked(v, inner),), inner=inner)
    assert_inner_array(hv, inner)
    numpy.testing.assert_allclose(compute(hv), compute(h) @ v, rtol=1e-12)


def test_hvp_several_primals(inner):
    tx = numpy.linspace(0.1, 0.6, 6).reshape(2, 3)
    ty = numpy.linspace(-1.0, 1.0, 6).reshape(2, 3)
    hx, hy = udiff.hvp(f_scalar, (A, B), (tx, ty), inner=inner)
    # f = sum(sin(x) y + x^2): H_xx = diag(-sin(x) y + 2), H_xy = diag(cos x), H_yy = 0
    numpy.testing.assert_allclose(compute(hx), (-numpy.sin(A) * B + 2) * tx + numpy.cos(A) * ty)
    numpy.testing.assert_allclose(compute(hy), numpy.cos(A) * tx, atol=1e-15)


def test_hessian_2d_argument_shape():
    h = udiff.hessian(lambda x: np.sum(x * x * x))(A)
    assert h.shape == (2, 3, 2, 3)
    numpy.testing.assert_allclose(h.reshape(6, 6), numpy.diag(6 * A.ravel()))


def test_hessian_of_non_scalar_raises():
    with pytest.raises(ValueError, match="scalar"):
        udiff.hessian(f_vector)(A)
    with pytest.raises(ValueError, match="scalar"):
        udiff.hvp(f_vector, (A,), (A,))


def test_grad_of_grad(inner):
    def f(x):
        return np.sin(x) * x * x

    a = chunked(numpy.array(0.7), inner)
    d2 = udiff.grad(udiff.grad(f, inner=inner), inner=inner)(a)
    assert_inner_array(d2, inner)
    t = 0.7
    numpy.testing.assert_allclose(compute(d2), (2 - t * t) * numpy.sin(t) + 4 * t * numpy.cos(t))
    d3 = udiff.grad(udiff.grad(udiff.grad(f, inner=inner), inner=inner), inner=inner)(a)
    expected = (6 - t * t) * numpy.cos(t) - 6 * t * numpy.sin(t)
    numpy.testing.assert_allclose(compute(d3), expected)
    # of a vector argument, through a sum
    v = numpy.array([0.2, 1.4])
    g2 = udiff.grad(lambda x: np.sum(udiff.grad(lambda z: np.sum(z**4), inner=inner)(x)), inner=inner)(
        chunked(v, inner)
    )
    numpy.testing.assert_allclose(compute(g2), 12 * v**2)


# -- a small MLP with a softmax cross-entropy loss --------------------------------------------

RNG = numpy.random.default_rng(7)
X = RNG.normal(size=(5, 3))
W1 = RNG.normal(size=(3, 4)) * 0.7
W2 = RNG.normal(size=(4, 3)) * 0.7
LABELS = numpy.eye(3)[[0, 2, 1, 2, 0]]


def mlp_loss(w1, x, w2, labels):
    h = np.tanh(np.matmul(x, w1))
    logits = np.matmul(h, w2)
    z = logits - np.max(logits, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(logp * labels) / 5.0


def mlp_loss_numpy(w1):
    logits = numpy.tanh(X @ w1) @ W2
    z = logits - logits.max(1, keepdims=True)
    return -numpy.sum((z - numpy.log(numpy.exp(z).sum(1, keepdims=True))) * LABELS) / 5.0


def test_mlp_hessian_vs_finite_differences(inner):
    args = [chunked(a, inner) for a in (W1, X, W2, LABELS)]
    value, g = udiff.value_and_grad(mlp_loss, inner=inner)(*args)
    numpy.testing.assert_allclose(compute(value), mlp_loss_numpy(W1), rtol=1e-13)
    h = compute(udiff.hessian(mlp_loss, inner=inner)(*args))
    assert h.shape == (3, 4, 3, 4)
    grad = udiff.grad(mlp_loss)  # finite differences of NumPy gradients
    eps = 1e-5
    fd = numpy.zeros((3, 4, 3, 4))
    for i in range(3):
        for j in range(4):
            step = numpy.zeros_like(W1)
            step[i, j] = eps
            fd[..., i, j] = (grad(W1 + step, X, W2, LABELS) - grad(W1 - step, X, W2, LABELS)) / (2 * eps)
    numpy.testing.assert_allclose(h, fd, atol=1e-7)
    numpy.testing.assert_allclose(h.reshape(12, 12), h.reshape(12, 12).T, atol=1e-14)
    # and the gradient itself against finite differences of the loss
    fd_g = numpy.zeros_like(W1)
    for i in range(3):
        for j in range(4):
            step = numpy.zeros_like(W1)
            step[i, j] = eps
            fd_g[i, j] = (mlp_loss_numpy(W1 + step) - mlp_loss_numpy(W1 - step)) / (2 * eps)
    numpy.testing.assert_allclose(compute(g), fd_g, atol=1e-8)
    v = RNG.normal(size=W1.shape)
    hv = udiff.hvp(lambda w: mlp_loss(w, X, W2, LABELS), (chunked(W1, inner),), (chunked(v, inner),), inner=inner)
    numpy.testing.assert_allclose(compute(hv), numpy.einsum("abij,ij->ab", h, v), atol=1e-12)


def test_inner_operator_keeps_the_derivatives_of_what_it_does_not_differentiate(inner):
    # An operator inside another, differentiating with respect to a plain array, while
    # the outer variable reaches it as another argument, a keyword or a closure: its
    # result depends on the outer variable (a hypergradient through an inner
    # gradient).  These were silently zero: the inner result was made a constant.
    w0 = chunked(numpy.array([1.0, 2.0]), inner)
    a0 = chunked(numpy.array(3.0), inner)
    ones = chunked(numpy.ones(2), inner)
    grad = lambda f, **kw: udiff.grad(f, inner=inner, **kw)  # noqa: E731
    cases = {  # d/da of each, at a = 3 and w = [1, 2]
        "argument": (lambda a: np.sum(grad(lambda w, s: np.sum(s * w ** 2))(w0, a)), 6.0),
        "keyword": (lambda a: np.sum(grad(lambda w, *, s: np.sum(s * w ** 2))(w0, s=a)), 6.0),
        "closure": (lambda a: np.sum(grad(lambda w: np.sum(np.exp(a - 3.0) * w ** 2))(w0)), 6.0),
        "value": (lambda a: udiff.value_and_grad(lambda w, s: np.sum(s * w ** 2), inner=inner)(w0, a)[0], 5.0),
        "aux": (lambda a: grad(lambda w: (np.sum(w), a * 2.0), has_aux=True)(w0)[1], 2.0),
        "jacobian": (lambda a: np.sum(udiff.jacobian(lambda w, s: s * w ** 2, inner=inner)(w0, a)), 6.0),
        "hessian": (lambda a: np.sum(udiff.hessian(lambda w, s: np.sum(s * w ** 3), inner=inner)(w0, a)), 18.0),
        "jvp": (lambda a: np.sum(udiff.jvp(lambda w: a * w ** 2, (w0,), (ones,), inner=inner)[1]), 6.0),
        "vjp": (lambda a: np.sum(udiff.vjp(lambda w: a * w ** 2, w0, inner=inner)[1](ones)[0]), 6.0),
        "hvp": (lambda a: np.sum(udiff.hvp(lambda w: np.sum(a * w ** 3), (w0,), (ones,), inner=inner)), 18.0),
    }
    for name, (f, expected) in cases.items():
        assert float(compute(udiff.grad(f, inner=inner)(a0))) == pytest.approx(expected), name
    g = udiff.jacobian(lambda a: grad(lambda w, s: np.sum(s * w ** 2))(w0, a), mode="fwd", inner=inner)(a0)
    numpy.testing.assert_allclose(compute(g), [2.0, 4.0])
    # ... and a gradient through an unrolled inner gradient descent against finite differences
    def validation(log_lam):
        w = w0
        for _ in range(5):
            w = w - 0.1 * grad(lambda w, lam: np.sum((w - 3.0) ** 2) + lam * np.sum(w ** 2))(w, np.exp(log_lam))
        return np.sum((w - 2.0) ** 2)
    at, eps = numpy.array(-1.0), 1e-6
    fd = (validation(at + eps) - validation(at - eps)) / (2 * eps)
    numpy.testing.assert_allclose(compute(udiff.grad(validation, inner=inner)(chunked(at, inner))),
                                  compute(fd), rtol=1e-6)
    # Without an outer variable the results stay inner arrays.
    assert type(grad(lambda w, s: np.sum(s * w ** 2))(w0, a0)) is not udiff.DiffArray


@pytest.mark.parametrize("mode", ["vjp", "jvp"])
def test_operator_closing_over_a_with_blocks_arrays_keeps_their_derivatives(inner, mode):
    # In a `with` block, an operator whose function closes over the block's arrays
    # (no enclosing operator): its result depends on them, and was silently made a
    # constant (y.to(x) gave zeros).
    import uarray as ua

    w0 = chunked(numpy.ones(2), inner)
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode=mode), coerce=True):
        x = np.asarray(chunked(numpy.array([1.0, 2.0]), inner))
        g = udiff.grad(lambda w: np.sum(w * x ** 2), inner=inner)(w0)          # x ** 2
        value, h = udiff.value_and_grad(lambda w: np.sum(w * x), inner=inner)(w0)
        jac = udiff.jacobian(lambda w: w * x, inner=inner)(w0)                  # diag(x)
        _, aux = udiff.grad(lambda w: (np.sum(w), x), has_aux=True, inner=inner)(w0)  # x itself
        y = np.sum(g * g) + value + np.sum(h) + np.sum(jac) + np.sum(aux) - np.sum(x)
        dy = y.to(x)
    assert isinstance(g, udiff.DiffArray)
    expected = 4 * numpy.array([1.0, 2.0]) ** 3 + 3.0
    numpy.testing.assert_allclose(compute(dy), expected if mode == "vjp" else expected.sum())
    # Without the block's arrays the results stay inner arrays.
    with ua.set_backend(udiff.DiffArrayBackend(inner, mode=mode), coerce=True):
        plain = udiff.grad(lambda w: np.sum(w * 2.0), inner=inner)(w0)
    assert type(plain) is not udiff.DiffArray


def test_nested_operators_do_not_confuse_their_variables(inner):
    # An inner operator differentiates with respect to a fresh variable: the outer
    # variable's other uses are constants to it (JAX gives these numbers).
    a0 = chunked(numpy.array([2.0, -1.0]), inner)

    def inner_grad(a):
        z = a * 1.0
        return udiff.grad(lambda b: np.sum(b * z), inner=inner)(a)

    g = udiff.grad(lambda a: np.sum(inner_grad(a)), inner=inner)(a0)
    numpy.testing.assert_allclose(compute(g), [1.0, 1.0])
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1 (Siskind and Pearlmutter's example).
    g = udiff.grad(lambda x: x * udiff.grad(lambda y: x + y, inner=inner)(x), inner=inner)(
        chunked(numpy.array(1.0), inner))
    assert float(compute(g)) == 1.0


# -- full Jacobians keep their identity seeds diagonal while they can -----------------------
_W = numpy.random.default_rng(3).normal(size=(4, 3))
_V = numpy.random.default_rng(4).normal(size=(3,))
DIAGONAL_PROGRAMS = {
    "tanh(W @ x)": lambda x: np.tanh(_W @ x),
    "elementwise chain": lambda x: np.exp(np.sin(x) * 0.5 + x) / (1.0 + x * x),
    "x used twice": lambda x: x * np.cos(x) + np.tanh(x),
    "broadcast to a matrix": lambda x: np.sin(x) * _W[:, :1] + x,
    "W @ sin(x), x also outside": lambda x: np.concatenate([_W @ np.sin(x), x * x]),
    "matrix then reduction": lambda x: np.sum(np.tanh(_W @ x) * 2.0),
    "x @ matrix": lambda x: np.tanh(x @ _W.T),
    "variable matrix": lambda x: np.tanh(np.reshape(np.tile(x, 4), (4, 3)) @ _V),
    "0-d": lambda x: np.sin(x[0]) * x,
    "float32 mixed": lambda x: np.tanh(x.astype(numpy.float32)) * numpy.float32(2.0),
}


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("name", list(DIAGONAL_PROGRAMS))
def test_full_jacobian_equals_the_seeds_pushed_in_blocks(inner, mode, name):
    """A full Jacobian (all seeds at once) sweeps its identity seeds kept diagonal through
    elementwise operations and matrix-vector products; pushed in blocks (chunk_size) they
    are dense.  Both give the same Jacobian, and it matches central differences."""
    f = DIAGONAL_PROGRAMS[name]
    x = numpy.array([0.3, -1.2, 0.7])
    full = udiff.jacobian(f, mode=mode, inner=inner)(chunked(x, inner))
    blocks = udiff.jacobian(f, mode=mode, chunk_size=2, inner=inner)(chunked(x, inner))
    assert full.shape == blocks.shape and full.dtype == blocks.dtype
    numpy.testing.assert_allclose(compute(full), compute(blocks), rtol=1e-12, atol=1e-15)
    eps = 1e-2 if name == "float32 mixed" else 1e-6
    columns = [(numpy.asarray(f(x + eps * e), dtype=float) - numpy.asarray(f(x - eps * e), dtype=float))
               / (2 * eps) for e in numpy.eye(3)]
    rtol = 2e-3 if name == "float32 mixed" else 1e-6
    numpy.testing.assert_allclose(compute(full), numpy.stack(columns, axis=-1), rtol=rtol,
                                  atol=rtol)


def test_full_jacobian_of_a_complex_holomorphic_function_keeps_its_seeds_right():
    z = numpy.array([1 + 2j, -0.5 + 0.3j])
    f = lambda z: np.exp(z) * z  # noqa: E731
    for mode in ("rev", "fwd"):
        full = udiff.jacobian(f, mode=mode, holomorphic=True)(z)
        numpy.testing.assert_allclose(full, numpy.diag(numpy.exp(z) * (1 + z)), rtol=1e-13)
