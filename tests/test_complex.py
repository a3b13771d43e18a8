"""Complex inputs: every complex-capable rule against finite differences, and against JAX.

udiff's convention is JAX's and autograd's: a VJP is the transpose of the
Jacobian under the pairing ``Re sum(a * b)``, so the gradient of a real loss
``f(z)`` is the conjugate of its steepest-ascent direction (``grad |z|^2 =
2 conj(z)``).  :func:`udiff.testing.check_grads` perturbs complex arguments
along complex directions (real and imaginary parts both random) and checks
reverse mode with that pairing, so a rule that returns the conjugate of the
right cotangent fails here (``test_check_grads_sees_a_conjugated_rule``).

``cholesky``, ``eigh`` and ``eigvalsh`` are differentiated as functions of
the Hermitian part ``(A + A^H) / 2`` (JAX's convention): their cases go
through ``herm``.  The singular vectors of complex matrices are differentiated in
JAX's gauge (``diag(V^H dV) = 0``, ``Im diag(U^H dU) = Im diag(U^H dA V) / s``), so,
as in JAX, only functions invariant under ``U -> U Phi, V -> V Phi`` for a diagonal
unitary ``Phi`` have derivatives: the cases use ``|U|^2``, ``|V|^2``, ``U S V^H``,
``U V^H`` and projectors, and ``norm`` orders ``'nuc'``, 2 and -2, which go through
them, to second order.
"""
import zlib

import numpy
import pytest
import uarray as ua

import udiff
import udiff.numpy as np
from udiff import grad
from udiff.testing import check_grads

from conftest import chunked

la = np.linalg


def c(*shape):
    return lambda rng: rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)


def real(*shape):
    return lambda rng: rng.uniform(-1, 1, shape)


def near_eye(*shape):
    return lambda rng: 0.3 * c(*shape)(rng) + 3 * numpy.eye(shape[-1])


def hpd(*shape):
    """Hermitian positive-definite (stacks of) matrices."""
    def gen(rng):
        a = c(*shape)(rng)
        return a @ numpy.conj(numpy.swapaxes(a, -1, -2)) + shape[-1] * numpy.eye(shape[-1])

    return gen


def herm(a):
    return 0.5 * (a + np.conj(np.swapaxes(a, -1, -2)))


def _svd(a):
    return la.svd(a, full_matrices=False)


def _svd_product(a):
    """``U S V^H`` through the singular vectors: ``a`` again."""
    u, s, vh = _svd(a)
    return (u * s[..., None, :]) @ vh


def _svd_projectors(a):
    """``U diag(s^2) U^H`` and ``V V^H``, invariant under the phases of the pairs."""
    u, s, vh = _svd(a)
    return (u * s[..., None, :] ** 2) @ np.conj(np.swapaxes(u, -1, -2)), \
        np.conj(np.swapaxes(vh, -1, -2)) @ vh


def _eigh_projector(a):
    w, v = la.eigh(herm(a))
    return (v * w[..., None, :]) @ np.conj(np.swapaxes(v, -1, -2))


# name: (function, argument generators, order, run on Dask)
CASES = {
    "exp": (np.exp, [c(3, 2)], 2, True),
    "log": (np.log, [c(3)], 2, False),
    "sin": (np.sin, [c(3)], 2, False),
    "sqrt": (np.sqrt, [c(3)], 2, False),
    "absolute": (np.absolute, [c(3, 2)], 2, True),
    "absolute_times_z": (lambda z: np.absolute(z) * z, [c(3)], 2, True),
    "conj": (lambda z: np.conj(z) * z, [c(3)], 2, False),
    "real": (lambda z: np.real(z) * z, [c(3)], 2, False),
    "imag": (lambda z: np.imag(z) * z, [c(3)], 2, False),
    # a 0-d cotangent: its Dask block is a NumPy scalar (1j * it would be a Python complex)
    "imag_of_sum": (lambda z: z * np.imag(np.sum(z, axis=(-2, -1))), [c(2, 2)], 2, True),
    "angle": (lambda z: np.angle(z) * z, [c(3)], 2, True),
    "sign": (lambda z: np.sign(z) * z, [c(3)], 2, True),
    "multiply_broadcast": (np.multiply, [c(3), c(2, 3)], 2, True),
    "divide": (np.divide, [c(3), c(3)], 2, False),
    "power": (np.power, [c(3), c(3)], 2, False),
    "power_int": (lambda z: z ** 3, [c(3)], 2, False),
    "real_times_complex": (lambda x, z: np.real(x * z) * x, [real(3), c(3)], 2, True),
    "sum": (lambda z: np.sum(z, axis=0), [c(3, 2)], 2, True),
    "prod": (lambda z: np.prod(z, axis=0), [c(3, 2)], 2, False),
    "mean": (lambda z: np.mean(z, axis=1), [c(3, 2)], 2, False),
    # var and std of complex input are real: mean |z - mean z|**2 (and its square root)
    "var": (lambda z: np.var(z, axis=0), [c(3, 2)], 2, True),
    "var_all_ddof_times_z": (lambda z: np.var(z, ddof=1) * z, [c(3, 2)], 2, True),
    "std": (lambda z: np.std(z, axis=1, keepdims=True), [c(3, 2)], 2, True),
    "std_all_times_z": (lambda z: np.std(z) * z, [c(4)], 2, True),
    "nanvar": (lambda z: np.nanvar(z, axis=0), [c(3, 2)], 2, True),
    "nanstd_all_times_z": (lambda z: np.nanstd(z) * z, [c(4)], 2, True),
    "matmul": (np.matmul, [c(3, 2), c(2, 4)], 2, True),
    "dot": (np.dot, [c(3, 2), c(2)], 2, False),
    "einsum": (lambda a, b: np.einsum("ij,jk->ik", a, b), [c(3, 2), c(2, 4)], 2, False),
    "reshape": (lambda z: np.reshape(z, (2, 3)) * z[0, 0], [c(3, 2)], 2, False),
    "transpose": (lambda z: np.transpose(z) ** 2, [c(3, 2)], 2, False),
    "indexing": (lambda z: z[::-1, 1] ** 2, [c(3, 2)], 2, True),
    # linalg
    "inv": (la.inv, [near_eye(3, 3)], 2, True),
    "solve": (la.solve, [near_eye(3, 3), c(3, 2)], 2, True),
    "det": (la.det, [near_eye(2, 3, 3)], 2, True),
    "slogdet_logabsdet": (lambda a: la.slogdet(a)[1], [near_eye(2, 3, 3)], 2, True),
    "slogdet_sign": (lambda a: la.slogdet(a)[0], [near_eye(3, 3)], 2, True),
    "slogdet_sign_stack": (lambda a: la.slogdet(a)[0], [near_eye(2, 3, 3)], 2, True),
    "pinv": (la.pinv, [c(4, 3)], 2, True),
    "matrix_power": (lambda a: la.matrix_power(a, 3), [c(3, 3)], 2, True),
    "multi_dot": (lambda a, b: la.multi_dot([a, b, a]), [c(3, 3), c(3, 3)], 2, True),
    "cholesky": (lambda a: la.cholesky(herm(a)), [hpd(3, 3)], 2, True),
    "cholesky_upper": (lambda a: la.cholesky(herm(a), upper=True), [hpd(3, 3)], 2, True),
    "eigvalsh": (lambda a: la.eigvalsh(herm(a)), [hpd(2, 3, 3)], 2, True),
    "eigh_vectors_abs2": (lambda a: np.absolute(la.eigh(herm(a))[1]) ** 2, [hpd(3, 3)], 2, True),
    "eigh_projector": (_eigh_projector, [hpd(3, 3)], 2, True),
    "svd_values": (lambda a: la.svd(a, compute_uv=False), [c(4, 3)], 2, True),
    "svd_u_abs2_tall": (lambda a: np.absolute(_svd(a)[0]) ** 2, [c(4, 3)], 2, True),
    "svd_u_abs2_stack": (lambda a: np.absolute(_svd(a)[0]) ** 2, [c(2, 3, 3)], 2, True),
    "svd_vh_abs2_wide": (lambda a: np.absolute(_svd(a)[2]) ** 2, [c(3, 4)], 2, True),
    "svd_usvh_tall": (_svd_product, [c(4, 3)], 2, True),
    "svd_usvh_wide": (_svd_product, [c(3, 4)], 2, True),
    "svd_polar_square": (lambda a: (lambda u, s, vh: u @ vh)(*la.svd(a)), [c(3, 3)], 2, True),
    "svd_projectors": (_svd_projectors, [c(3, 4)], 2, True),
    "norm_outer": (lambda z: la.norm(z[:, None] * z[None, :]), [c(3)], 2, True),
    # fft
    "fft": (np.fft.fft, [c(5)], 2, False),
    "ifft": (np.fft.ifft, [c(4)], 2, False),
    "fftn": (np.fft.fftn, [c(3, 4)], 2, False),
    "irfft": (np.fft.irfft, [c(4)], 2, False),
    "hfft": (np.fft.hfft, [c(4)], 2, False),
    "fftshift": (np.fft.fftshift, [c(5)], 2, False),
    "abs_of_rfft": (lambda x: np.absolute(np.fft.rfft(x)), [real(6)], 2, False),
}
for _o in (None, 1, 2, 3, numpy.inf, -numpy.inf):
    CASES[f"norm_vector_{_o}"] = (lambda z, o=_o: la.norm(z, o), [c(4)], 2, True)
    CASES[f"norm_vector_{_o}_axis"] = (lambda z, o=_o: la.norm(z, o, axis=-1), [c(2, 4)], 2,
                                       True)
for _o in (None, "fro", 1, -1, numpy.inf, -numpy.inf):
    CASES[f"norm_matrix_{_o}"] = (lambda z, o=_o: la.norm(z, o), [c(3, 3)], 2, True)
for _o in ("nuc", 2, -2):  # through the singular vectors of a complex matrix
    CASES[f"norm_matrix_{_o}"] = (lambda z, o=_o: la.norm(z, o), [c(3, 3)], 2, True)
    CASES[f"norm_matrix_{_o}_axes"] = (lambda z, o=_o: la.norm(z, o, axis=(2, 0)),
                                       [c(4, 2, 3)], 2, True)

RUNS = [pytest.param(name, udiff.numpy_backend, id=f"numpy-{name}") for name in CASES] + [
    pytest.param(name, udiff.dask_backend, id=f"dask-{name}")
    for name, (_, _, _, dask) in CASES.items() if dask
]


@pytest.mark.parametrize("name, inner", RUNS)
def test_complex_rule(name, inner):
    fun, gens, order, _ = CASES[name]
    rng = numpy.random.default_rng(zlib.crc32(name.encode()))
    args = [chunked(gen(rng), inner) for gen in gens]
    check_grads(fun, args, modes=("fwd", "rev"), order=order, inner=inner)


@pytest.mark.parametrize("fun", [lambda a: la.qr(a)[0], lambda a: la.lstsq(a, a[:, 0])[0]],
                         ids=["qr", "lstsq"])
def test_unsupported_complex_rules_raise(fun):
    a = near_eye(3, 3)(numpy.random.default_rng(0))
    with pytest.raises(NotImplementedError, match="complex"):
        grad(lambda a: np.real(np.sum(fun(a))))(a)


# -- JAX's numbers ----------------------------------------------------------------------------
# Made with jax 0.10.2, jax_enable_x64, by
#   z = jnp.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])
#   M = jnp.array([[1.0 + 0.5j, -0.3 + 0.2j], [0.4 - 1.0j, 2.0 + 0.1j]])
#   H = jnp.array([[3.0 + 0j, 0.5 - 0.4j], [0.5 + 0.4j, 2.0 + 0j]])
# and jax.grad of the expression named in each entry (holomorphic=True for det).
Z = numpy.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])
M = numpy.array([[1.0 + 0.5j, -0.3 + 0.2j], [0.4 - 1.0j, 2.0 + 0.1j]])
H = numpy.array([[3.0 + 0j, 0.5 - 0.4j], [0.5 + 0.4j, 2.0 + 0j]])
JAX = [
    ("jnp.linalg.norm(z)", lambda z: la.norm(z), Z,
     [0.37688918072220456 - 0.7537783614444091j, -0.18844459036110228 - 0.11306675421666136j,
      0.26382242650554316 + 0.41457809879442503j]),
    ("jnp.linalg.norm(z, 1)", lambda z: la.norm(z, 1), Z,
     [0.4472135954999579 - 0.8944271909999159j, -0.8574929257125443 - 0.5144957554275266j,
      0.5368754921931593 + 0.8436614877321077j]),
    ("jnp.linalg.norm(z, 3)", lambda z: la.norm(z, 3), Z,
     [0.39255117577543974 - 0.7851023515508795j, -0.05118241138560747 - 0.03070944683136448j,
      0.1602262915548085 + 0.2517841724432705j]),
    ("jnp.linalg.norm(z, jnp.inf)", lambda z: la.norm(z, numpy.inf), Z,
     [0.4472135954999579 - 0.8944271909999159j, 0, 0]),
    ("jnp.linalg.norm(jnp.outer(z, z))", lambda z: la.norm(z[:, None] * z[None, :]), Z,
     [2.0 - 4.0j, -1.0 - 0.6j, 1.4 + 2.2j]),
    ("jnp.linalg.norm(M, 'fro')", lambda m: la.norm(m, "fro"), M,
     [[0.39073233258228174 - 0.19536616629114087j, -0.11721969977468452 - 0.07814646651645635j],
      [0.1562929330329127 + 0.39073233258228174j, 0.7814646651645635 - 0.03907323325822817j]]),
    ("jnp.linalg.norm(M, 'nuc')", lambda m: la.norm(m, "nuc"), M,
     [[0.8932408536116725 - 0.34632740843855314j, -0.0966293904012033 + 0.26989046762347463j],
      [0.18715146281178066 + 0.21714611111124393j, 0.9580275861312704 + 0.00224512987707803j]]),
    ("jnp.linalg.norm(M, 2)", lambda m: la.norm(m, 2), M,
     [[0.16365456137874013 - 0.1338701818577665j, -0.13800764030253945 - 0.2654814307630144j],
      [0.15375145076030092 + 0.5144858798217434j, 0.7572010200045406 - 0.06388150158442527j]]),
    ("jnp.linalg.norm(M, 1)", lambda m: la.norm(m, 1), M,
     [[0, -0.8320502943378437 - 0.5547001962252291j],
      [0, 0.9987523388778446 - 0.04993761694389223j]]),
    ("jnp.linalg.norm(M, jnp.inf)", lambda m: la.norm(m, numpy.inf), M,
     [[0, 0],
      [0.3713906763541038 + 0.9284766908852594j, 0.9987523388778446 - 0.04993761694389223j]]),
    ("jnp.linalg.slogdet(M)[1]", lambda m: la.slogdet(m)[1], M,
     [[0.9493686648569223 - 0.3120563843299381j, -0.00697332702413264 + 0.5374442756456554j],
      [0.1038527631808333 - 0.14693796229422462j, 0.5553756879934252 + 0.05354518964959026j]]),
    ("jnp.real(jnp.linalg.slogdet(M)[0] * (0.3 - 0.7j))",
     lambda m: np.real(la.slogdet(m)[0] * (0.3 - 0.7j)), M,
     [[-0.17021359124054117 - 0.5178405505258922j, 0.2931531762945633 + 0.00380365567017968j],
      [-0.08014845876450062 - 0.05664730051660467j, 0.02920664175316547 - 0.30293400516073965j]]),
    ("jnp.linalg.det(M) (holomorphic)", la.det, M,
     [[2.0 + 0.1j, -0.4 + 1.0j], [0.3 - 0.2j, 1.0 + 0.5j]]),
    ("jnp.real(jnp.sum(jnp.linalg.inv(M) * (0.5 + 1j)))",
     lambda m: np.real(np.sum(la.inv(m) * (0.5 + 1j))), M,
     [[-0.7431721412961747 - 0.9984173436016995j, 0.48874398910333416 - 0.7238844431282384j],
      [-0.7266687896406884 - 0.45097407529144024j, 0.13002196094620913 - 0.5859067102353372j]]),
    ("jnp.sum(jnp.linalg.eigvalsh(H) * jnp.array([1.0, 2.0]))",
     lambda m: np.sum(la.eigvalsh(m) * numpy.array([1.0, 2.0])), H,
     [[1.8077287274483316, 0.3077287274483317 + 0.24618298195866545j],
      [0.3077287274483317 - 0.24618298195866545j, 1.192271272551668]]),
    ("jnp.real(jnp.sum(jnp.linalg.cholesky(H) * (0.5 + 1j)))",
     lambda m: np.real(np.sum(la.cholesky(m) * (0.5 + 1j))), H,
     [[0.1671145898232828, 0.11381342414081241 - 0.3130944491200881j],
      [0.11381342414081241 + 0.3130944491200881j, 0.1831448589395641]]),
]


# var(z) = mean |z - mean z|**2: its gradient is 2 conj(z - mean z) / n (the conjugate
# direction, as grad |z|**2 = 2 conj(z)), and std's is conj(z - mean z) / (n std).
_C = Z - Z.mean()
JAX += [
    ("jnp.var(z)", np.var, Z, 2 / 3 * numpy.conj(_C)),
    ("jnp.std(z)", np.std, Z, numpy.conj(_C) / (3 * numpy.std(Z))),
]


@pytest.mark.parametrize("expr, fun, x, expected", JAX, ids=[e[0] for e in JAX])
def test_matches_jax(expr, fun, x, expected):
    g = grad(fun, holomorphic="(holomorphic)" in expr)(x)  # JAX needs the flag there too
    numpy.testing.assert_allclose(g, numpy.asarray(expected), rtol=1e-10, atol=1e-12)


# -- autograd's numbers for the singular vectors --------------------------------------------
# Made with autograd 1.9.1 (its svd VJP takes complex input) by autograd.grad of the
# expression named in each entry, with M above, T = [[1 + .5j, -.3 + .2j], [.4 - 1j, 2 + .1j],
# [.2 + .3j, -.6 - .4j]], W2 = [[1, 2], [4, 3]], W3 = [[1, 2], [4, 3], [5, -1]].
T = numpy.array([[1.0 + 0.5j, -0.3 + 0.2j], [0.4 - 1.0j, 2.0 + 0.1j], [0.2 + 0.3j, -0.6 - 0.4j]])
W2 = numpy.array([[1.0, 2.0], [4.0, 3.0]])
W3 = numpy.array([[1.0, 2.0], [4.0, 3.0], [5.0, -1.0]])


def _svd_abs2(which, w):
    return lambda a: np.sum(np.absolute(_svd(a)[which]) ** 2 * w)


AUTOGRAD = [
    ("sum(abs(u) ** 2 * W2) at M", _svd_abs2(0, W2), M,
     [[-0.32749428692848986 + 0.23493518798879642j, 0.2198675547946106 + 0.38387185161157594j],
      [0.05706244402629475 - 0.03531400124563719j, 0.30111967259098943 + 0.020538038632727726j]]),
    ("sum(abs(u) ** 2 * W3) at T", _svd_abs2(0, W3), T,
     [[0.43642308214603176 + 0.16836737735018562j, -0.08583624255346942 + 1.2313722330416916j],
      [-0.5238138269841086 - 0.6526887485390115j, 0.6340537277611122 - 0.1630718501723089j],
      [-1.7764470668625363 - 0.5819156296647295j, -0.0688577395755256 - 1.0362902502691604j]]),
    ("sum(abs(vh) ** 2 * W3.T) at T.T", _svd_abs2(2, W3.T), T.T,
     [[0.4364230821460305 + 0.16836737735018603j, -0.5238138269841095 - 0.6526887485390122j,
       -1.776447066862536 - 0.5819156296647293j],
      [-0.08583624255346939 + 1.2313722330416916j, 0.6340537277611109 - 0.16307185017230916j,
       -0.06885773957552574 - 1.0362902502691602j]]),
    ("real(sum(u @ vh * (0.5 + 1j))) at T",
     lambda a: np.real(np.sum((lambda u, s, vh: u @ vh)(*_svd(a)) * (0.5 + 1j))), T,
     [[-0.016375086241332937 + 0.9862473005924024j, -0.3360243704307179 + 0.31528735369934735j],
      [0.11883048257586107 + 0.9143340370137938j, -0.2819961515778494 + 0.38705396977061424j],
      [0.40863184342044206 + 0.5501537611902902j, 0.00944755715081061 + 0.503921650500739j]]),
]


@pytest.mark.parametrize("expr, fun, x, expected", AUTOGRAD, ids=[e[0] for e in AUTOGRAD])
def test_svd_of_complex_matrices_matches_autograd(expr, fun, x, expected):
    numpy.testing.assert_allclose(grad(fun)(x), numpy.asarray(expected), rtol=1e-10,
                                  atol=1e-12)


def test_check_grads_sees_a_conjugated_rule():
    """A VJP that conjugates the right cotangent passes the old real-direction check, not this."""
    right = lambda z: np.sum(np.absolute(z) ** 2)  # noqa: E731
    z = c(3)(numpy.random.default_rng(1))
    check_grads(right, [z], order=1)
    wrong_grad = numpy.conj(grad(right)(z))  # 2 z instead of 2 conj(z)
    u = numpy.random.default_rng(2).standard_normal(3) * 1j
    with ua.set_backend(udiff.DiffArrayBackend(mode="jvp"), coerce=True):
        x = np.asarray(z)
        jvp = right(x).to(x, grad_variables=u).value
    # the JVP is right; the conjugated gradient disagrees with it along imaginary directions
    assert not numpy.isclose(numpy.real(numpy.sum(wrong_grad * u)), jvp)
    assert numpy.isclose(numpy.real(numpy.sum(grad(right)(z) * u)), jvp)


@pytest.mark.parametrize("inner", [udiff.numpy_backend, udiff.dask_backend], ids=["numpy", "dask"])
def test_var_and_std_of_complex_input(inner):
    """Issue 18: the JVP of var was -0.2133 (JAX and central differences: -0.90667) and its
    VJP the conjugate of JAX's and autograd's."""
    z0 = numpy.array([1.0 + 2.0j, -0.5 + 0.3j, 0.7 - 1.1j])  # the point
    t = numpy.array([0.3 - 0.2j, 1 + 0.5j, -0.4 + 0.1j])
    z, tz = chunked(z0, inner), chunked(t, inner)
    h = 1e-6
    var_central = (numpy.var(z0 + h * t) - numpy.var(z0 - h * t)) / (2 * h)
    numpy.testing.assert_allclose(var_central, -0.9066666666, rtol=1e-7)  # as the issue says
    for fun, ref in ((np.var, numpy.var), (np.std, numpy.std)):
        central = (ref(z0 + h * t) - ref(z0 - h * t)) / (2 * h)
        value, tangent = udiff.jvp(fun, (z,), (tz,), inner=inner)
        numpy.testing.assert_allclose(numpy.asarray(udiff.testing._numpy(tangent)[0]), central,
                                      rtol=1e-7)
        g = udiff.testing._numpy(grad(fun, inner=inner)(z))[0]
        # the pairing Re sum(g * t) is the directional derivative (JAX's convention)
        numpy.testing.assert_allclose(numpy.real(numpy.sum(g * t)), central, rtol=1e-7)
    numpy.testing.assert_allclose(central, -0.3184391759170069, rtol=1e-7)  # std's


# -- holomorphic=True, JAX's flag ----------------------------------------------------------
Z = numpy.array([1 + 2j, 0.5 - 1j, -0.3 + 0.2j])
X = numpy.array([1.0, 2.0, -0.5])


@pytest.mark.parametrize("inner", ["numpy", "dask"])
def test_holomorphic_derivatives_are_complex_derivatives(inner):
    """With holomorphic=True the operators return f'(z), as JAX's: here f(z) = z**3."""
    backend = udiff.numpy_backend if inner == "numpy" else udiff.dask_backend
    z = chunked(Z, backend)
    as_numpy = numpy.asarray
    cube = lambda z: z * z * z  # noqa: E731
    numpy.testing.assert_allclose(
        as_numpy(udiff.grad(lambda z: np.sum(cube(z)), holomorphic=True, inner=backend)(z)),
        3 * Z ** 2)
    value, g = udiff.value_and_grad(lambda z: np.sum(cube(z)), holomorphic=True,
                                    inner=backend)(z)
    numpy.testing.assert_allclose(as_numpy(value), numpy.sum(Z ** 3))
    numpy.testing.assert_allclose(as_numpy(g), 3 * Z ** 2)
    for jac in (udiff.jacrev, udiff.jacfwd):
        numpy.testing.assert_allclose(
            as_numpy(jac(cube, holomorphic=True, inner=backend)(z)), numpy.diag(3 * Z ** 2))
    numpy.testing.assert_allclose(
        as_numpy(udiff.hessian(lambda z: np.sum(cube(z)), holomorphic=True, inner=backend)(z)),
        numpy.diag(6 * Z))


def test_holomorphic_derivative_matches_a_complex_difference_quotient():
    """f'(z) = lim (f(z + h) - f(z)) / h along any complex h, for holomorphic f."""
    f = lambda z: np.sum(np.exp(z) * np.sin(z))  # noqa: E731
    g = udiff.grad(f, holomorphic=True)(Z)
    for h in (1e-7, 1e-7j, (1 + 1j) * 1e-7):
        for k in range(3):
            e = numpy.zeros(3, complex)
            e[k] = h
            quotient = (f(Z + e) - f(Z - e)) / (2 * h)
            numpy.testing.assert_allclose(g[k], quotient, rtol=1e-6)


@pytest.mark.parametrize("name, call", [
    ("grad", lambda: udiff.grad(lambda x: np.sum(x * 1j))(X)),
    ("grad", lambda: udiff.value_and_grad(lambda z: np.sum(z * z))(Z)),
    ("jacrev", lambda: udiff.jacrev(lambda x: x * 1j)(X)),
    ("jacrev", lambda: udiff.jacobian(lambda z: z * z)(Z)),
    ("jacfwd", lambda: udiff.jacfwd(lambda z: z * z)(Z)),
    ("jacfwd", lambda: udiff.jacobian(lambda z: np.conj(z), mode="fwd")(Z)),
    ("hessian", lambda: udiff.hessian(lambda z: np.sum(np.abs(z) ** 2))(Z)),
])
def test_complex_without_holomorphic_is_a_type_error_naming_the_flag(name, call):
    with pytest.raises(TypeError, match=f"^{name} of .*complex.*holomorphic=True"):
        call()


@pytest.mark.parametrize("call", [
    lambda: udiff.grad(lambda x: np.sum(x * 1j), holomorphic=True)(X),
    lambda: udiff.grad(lambda z: np.sum(np.abs(z) ** 2), holomorphic=True)(Z),
    lambda: udiff.jacfwd(lambda x: x * 1j, holomorphic=True)(X),
])
def test_holomorphic_needs_complex_inputs_and_outputs(call):
    with pytest.raises(TypeError, match=r"holomorphic=True\) of .* needs complex"):
        call()


def test_real_functions_of_complex_inputs_need_no_flag():
    """grad of a real loss of complex z stays the conjugate convention; jvp/vjp take
    complex outputs as they are."""
    numpy.testing.assert_allclose(udiff.grad(lambda z: np.sum(np.abs(z) ** 2))(Z),
                                  2 * numpy.conj(Z))
    out, tangent = udiff.jvp(lambda x: x * 1j, (X,), (numpy.ones(3),))
    numpy.testing.assert_allclose(tangent, 1j * numpy.ones(3))
    numpy.testing.assert_allclose(udiff.jacfwd(lambda x: x * 1j)(X), 1j * numpy.eye(3))
