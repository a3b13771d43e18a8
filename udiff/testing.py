"""Checking derivatives against finite differences, as JAX's ``check_grads`` does.

Examples
--------
>>> import numpy, udiff, udiff.numpy as np
>>> udiff.testing.check_grads(lambda x: np.sum(np.sin(x) * x), [numpy.asarray([0.3, 1.2])])
"""
import numpy as np
import uarray as ua

from ._machinery.diff_array_backend import DiffArrayBackend
from ._machinery.diff_array import DiffArray
from ._machinery.tree import tree_flatten, tree_map, tree_unflatten
from .backends import inner_of, numpy_backend
from ._transformations.functional import jvp, vjp

__all__ = ["check_grads"]

_MODES = ("fwd", "rev")
_NAMES = {"fwd": "JVP", "rev": "VJP"}


def check_grads(f, args, modes=("fwd", "rev"), order=2, inner=numpy_backend, eps=1e-6,
                rtol=1e-5, atol=1e-6, argnums=None, seed=0):
    """Check the derivatives of ``f``, to ``order``, against central finite differences.

    This is JAX's ``check_grads``.  At each order, a random tangent ``u`` (shaped
    like the arguments) and a random cotangent ``v`` (shaped like the output)
    are drawn, and the numeric directional derivative
    ``d = (f(x + eps u) - f(x - eps u)) / (2 eps)`` is compared with

    - forward mode (``"fwd"``): the tangent of ``udiff.jvp(f, x, u)``;
    - reverse mode (``"rev"``): ``<u, vjp_fn(v)>`` must equal ``<d, v>``, where
      ``out, vjp_fn = udiff.vjp(f, x)``.

    With ``order > 1`` the derivative *functions* are checked in turn, at
    ``order - 1``, in every mode of ``modes``, so every pair of modes is
    covered (forward over forward, reverse over forward, forward over reverse
    and reverse over reverse):

    - after forward mode, ``(x, u) -> udiff.jvp(f, x, u)``, a function of the
      primals *and* the tangents, at the point ``(x, u)`` (JAX takes ``(x,
      x)``; a random tangent also stays finite where ``x`` holds NaN);
    - after reverse mode, ``x -> vjp_fn(f(x))`` with ``out, vjp_fn =
      udiff.vjp(f, x)``: the cotangent depends on ``x``, so its derivative
      runs through the cotangent as well.

    A derivative that ignored its tangent or cotangent (treating a traced
    seed as a constant) fails the second-order check.

    Complex numbers follow udiff's convention (JAX's and autograd's): a VJP is
    the transpose of the Jacobian for the bilinear pairing ``<a, b> = Re sum(a
    * b)`` (no conjugate).  A complex argument gets a complex direction (random
    real *and* imaginary parts, so functions that are not holomorphic, such as
    ``abs``, are checked along both); a complex output a complex cotangent.
    Derivatives must also have the right dtype and shape: the tangent that of
    the output, each cotangent that of its argument (floating).

    Parameters
    ----------
    f : callable
        Written with udiff.numpy functions; it returns an array or a container
        of arrays.
    args : sequence of array_like
        The point: arrays of ``inner`` (NumPy, Dask...).  Arguments that are
        neither floating nor complex (indices, masks) are passed unchanged and
        not perturbed.
    modes : sequence of {"fwd", "rev"}
        Which modes to check, at every order.
    order : int
        How many times to differentiate (1: first derivatives only).
    inner : uarray backend
        The inner backend ``f`` runs on.
    eps : float
        The finite-difference step.
    rtol, atol : float
        The tolerances, as in :func:`numpy.allclose`.
    argnums : sequence of int, optional
        Which arguments to differentiate; default every floating one.
    seed : int
        Seeds the random tangents and cotangents.

    Returns
    -------
    None
        It returns when every check passes.

    Raises
    ------
    AssertionError
        Naming the check (``JVP of VJP``: the forward-mode check of the
        reverse-mode derivative function), the output, and the two numbers
        that differ (or the dtypes or shapes).

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> x = numpy.asarray([[0.5, 1.0], [2.0, 3.0]])
    >>> udiff.testing.check_grads(lambda x: np.sum(np.log(x) * x, axis=0), [x])
    >>> udiff.testing.check_grads(lambda x: np.floor(x) * x, [x + 0.25], order=1)
    >>> z = numpy.asarray([1.0 + 2.0j, -0.5j])
    >>> udiff.testing.check_grads(lambda z: np.absolute(z) * z, [z])
    """
    modes = tuple(modes)
    for mode in modes:
        if mode not in _MODES:
            raise ValueError(f"modes must be 'fwd' or 'rev', not {mode!r}")
    if int(order) < 1:
        raise ValueError(f"order must be a positive integer, not {order!r}")
    inner = inner_of(inner)
    args = tuple(a if hasattr(a, "dtype") else inner.asarray(a) for a in args)
    if argnums is None:
        argnums = [i for i, a in enumerate(args) if np.dtype(a.dtype).kind in "fc"]
    argnums = tuple(argnums)

    def at(*xs):
        full = list(args)
        for n, x in zip(argnums, xs):
            full[n] = x
        return f(*full)

    checker = _Checker(modes, inner, eps, np.random.default_rng(seed))
    checker.grads(at, tuple(args[n] for n in argnums), int(order), "", constants=True)
    checker.compare(rtol, atol)


class _Checker:
    """Collects ``(order - 1, what, automatic, numeric)`` comparisons, then computes
    them all at once (one pass on Dask) and compares them."""

    def __init__(self, modes, inner, eps, rng):
        self.modes, self.inner, self.eps, self.rng = modes, inner, eps, rng
        self.checks = []

    def grads(self, f, args, order, of, constants=False):
        """Check ``f`` at ``args`` in every mode; recurse into the derivative functions.

        With ``constants``, ``f`` (the user's function) is evaluated on DiffArray
        constants, as it is when differentiated (it may call DiffArray methods).
        """
        inner = self.inner
        u = tree_map(self.random_like, args)
        u_seed = tree_map(_cast_like, u, args)
        out = self.value(f, args, constants)
        plus = self.value(f, _axpy(self.eps, u, args), constants)
        minus = self.value(f, _axpy(-self.eps, u, args), constants)
        numeric = tree_map(lambda p, m: (p - m) / (2 * self.eps), plus, minus)
        for mode in self.modes:
            what = _NAMES[mode] + (f" of {of}" if of else "")
            if mode == "fwd":
                out_f, t_out = jvp(f, args, u_seed, inner=inner)
                self.shapes_and_dtypes(what, t_out, out, "the tangent of output")
                for (t, d), path in zip(_pairs(t_out, numeric), _paths(out)):
                    self.checks.append((what.count(" of "), f"{what}, output{path}", t, d))
                if order > 1:
                    def f_jvp(primals, tangents, f=f):
                        return jvp(f, primals, tangents, inner=inner)

                    self.grads(f_jvp, (args, u_seed), order - 1, what)
            else:
                out_r, vjp_fn = vjp(f, *args, inner=inner)
                v = tree_map(self.random_like, out)
                cts = vjp_fn(tree_map(_cast_like, v, out))
                self.shapes_and_dtypes(what, cts, args, "the cotangent of argument")
                self.checks.append((what.count(" of "), f"{what}: <u, vjp(v)> against <jvp(u), v>",
                                    _inner_product(u, cts), _inner_product(numeric, v)))
                if order > 1:
                    def f_vjp(*xs, f=f):
                        y, pullback = vjp(f, *xs, inner=inner)
                        return pullback(y)

                    self.grads(f_vjp, args, order - 1, what)

    def value(self, f, args, constants):
        """``f(*args)`` as inner arrays, run under a DiffArrayBackend (as in a derivative)."""
        backend = DiffArrayBackend(self.inner)
        if constants:
            args = tree_map(lambda a: DiffArray(a, backend), args)
        with ua.set_backend(backend, coerce=True):
            out = f(*args)
        return tree_map(lambda a: a.value if type(a) is DiffArray else a, out)

    def random_like(self, a):
        """Standard normal numbers shaped like ``a`` (complex if ``a`` is, zero if it is not
        floating), on the inner library with ``a``'s chunks."""
        shape, dtype = np.shape(a), np.dtype(a.dtype if hasattr(a, "dtype") else type(a))
        r = self.rng.standard_normal(shape)
        if dtype.kind == "c":
            r = r + 1j * self.rng.standard_normal(shape)
        elif dtype.kind != "f":
            r = np.zeros(shape)
        r = self.inner.asarray(np.asarray(r))
        chunks = getattr(a, "chunks", None)
        return r.rechunk(chunks) if chunks is not None and hasattr(r, "rechunk") else r

    def shapes_and_dtypes(self, what, results, like, name):
        leaves, like_leaves = tree_flatten(results)[0], tree_flatten(like)[0]
        for k, (r, a) in enumerate(zip(leaves, like_leaves)):
            where = f"{what}: {name} {k}"
            if tuple(np.shape(r)) != tuple(np.shape(a)):
                raise AssertionError(
                    f"{where} has shape {tuple(np.shape(r))}, expected {tuple(np.shape(a))}")
            expected = _floating(a.dtype if hasattr(a, "dtype") else np.result_type(a))
            if np.dtype(r.dtype) != expected:
                raise AssertionError(f"{where} has dtype {r.dtype}, expected {expected}")

    def compare(self, rtol, atol):
        """Compute every check in one pass; report a failure of the lowest order first."""
        checks = sorted(self.checks, key=lambda check: check[0])
        values = _numpy(*(a for _, _, got, expected in checks for a in (got, expected)))
        for k, (_, what, _, _) in enumerate(checks):
            _check_close(values[2 * k], values[2 * k + 1], what, rtol, atol)


def _axpy(a, u, x):
    """``x + a u`` leaf by leaf (in double precision: ``u`` is float64 or complex128)."""
    return tree_map(lambda ui, xi: xi + a * ui if np.dtype(xi.dtype).kind in "fc" else xi, u, x)


def _cast_like(r, a):
    """``r`` in ``a``'s dtype made floating: the seeds a derivative receives."""
    return r.astype(_floating(a.dtype if hasattr(a, "dtype") else np.result_type(a)))


def _floating(dtype):
    """``dtype`` if it is floating or complex, else float64 (derivatives of integers)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _pairs(a, b):
    return list(zip(tree_flatten(a)[0], tree_flatten(b)[0]))


def _paths(tree):
    leaves, treedef = tree_flatten(tree)
    if len(leaves) == 1 and treedef.kind is None:
        return [""]
    return [f" {k}" for k in range(len(leaves))]


def _inner_product(a, b):
    """``Re sum(a * b)`` over all leaves: the pairing under which a VJP is the
    transpose of a JVP."""
    total = 0.0
    for x, y in _pairs(a, b):
        total = total + np.real(np.sum(x * y))
    return total


def _numpy(*arrays):
    """The arrays as NumPy arrays (computing Dask arrays together, copying CuPy's)."""
    if any(hasattr(a, "__dask_graph__") for a in arrays):
        import dask

        arrays = dask.compute(*arrays, optimize_graph=False)
    return [np.asarray(a.get() if hasattr(a, "__cuda_array_interface__") else a)
            for a in arrays]


def _check_close(autodiff, numeric, what, rtol, atol):
    autodiff, numeric = np.broadcast_arrays(np.asarray(autodiff), np.asarray(numeric))
    close = np.isclose(autodiff, numeric, rtol=rtol, atol=atol)
    if not close.all():
        worst = np.unravel_index(np.argmax(np.abs(autodiff - numeric) * ~close), close.shape)
        at = f" at index {tuple(int(k) for k in worst)}" if autodiff.ndim else ""
        raise AssertionError(
            f"{what}: automatic derivative {autodiff[worst].item()!r} != "
            f"finite difference {numeric[worst].item()!r}{at}"
        )
