"""dask-glm families from a per-row loss written with ``udiff.numpy``.

dask-glm's solvers (``dask_glm.algorithms.newton``, ``lbfgs``,
``gradient_descent``, ``admm``, ``proximal_grad``) take a *family*: an object
with ``loglike``, ``gradient``, ``hessian``, ``pointwise_loss`` and
``pointwise_gradient``.  :func:`family` builds one from the loss of one
observation, ``loss(eta, y)`` with ``eta = X @ beta``; udiff supplies the
derivatives.  On Dask every method is one task per row chunk (first and
second derivatives of the loss by udiff on the chunk's NumPy blocks, then
``X.T @ ...`` on the chunk) and a tree sum, so a Newton step's
``dask.compute(hess, grad)`` holds a few chunks of ``X`` at a time; the
pointwise loss and gradient share one task per chunk, so ``lbfgs``'s
``dask.compute(loss, gradient)`` reads each chunk once.
"""
import numpy

from .._transformations.functional import _set_backend, grad, jvp, value_and_grad
from .._transformations.row_derivatives import row_program
from .._transformations.streaming import (
    _chunk_backend,
    _is_dask,
    align_rows,
    in_blocks,
    map_rows,
)

__all__ = ["family", "Family"]


def _dot(a, b):
    """``a @ b`` by ``numpy.dot``, which releases the GIL in BLAS for a transposed operand
    (``X.T @ d``, ``S.T @ S``) where ``@`` holds it: Dask's threads then run these
    products side by side."""
    return numpy.dot(a, b)


def _sum_of(loss, y):
    from .. import numpy as unp

    return lambda eta: unp.sum(loss(eta, y))


class Family:
    """A dask-glm family whose derivatives udiff computes from ``loss(eta, y)``.

    Build it with :func:`family`.  Its methods take and return what dask-glm's
    own families (``dask_glm.families.Logistic`` ...) take and return: NumPy
    in, NumPy out; Dask in, lazy Dask out.

    Parameters
    ----------
    loss : callable
        ``loss(eta, y)``: the loss of each row, elementwise in ``eta`` and
        ``y`` (1-D arrays of one length), written with ``udiff.numpy``.
    name : str, optional
        A name for ``repr``.
    block_rows : int or None, optional
        Rows per udiff call inside a task (default 65536; None: the whole
        chunk at once): smaller blocks keep the per-row arrays in cache.

    Attributes
    ----------
    hessian_uses_y : bool
        Whether the second derivative of ``loss`` in ``eta`` changed with ``y``
        at the probe points.  dask-glm calls ``hessian(Xbeta, X)`` without
        ``y``, so such a family's ``hessian`` raises; its other methods work.

    Examples
    --------
    >>> import numpy, udiff.numpy as np
    >>> from udiff.contrib.dask_glm import Family
    >>> fam = Family(lambda eta, y: (eta - y) ** 2, name="squares")
    >>> fam
    <udiff dask-glm family squares>
    >>> X = numpy.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    >>> fam.hessian(X @ numpy.zeros(2), X)
    array([[ 6.,  6.],
           [ 6., 10.]])
    """

    def __init__(self, loss, name=None, block_rows=65536):
        self.loss = loss
        self.name = name or getattr(loss, "__name__", "loss")
        self.block_rows = block_rows
        self._programs = {}
        self.hessian_uses_y = self._probe()

    def __repr__(self):
        return f"<udiff dask-glm family {self.name}>"

    def __getstate__(self):  # (the recorded programs stay behind: a worker records its own)
        state = dict(self.__dict__)
        state["_programs"] = {}
        return state

    def _program(self, eta, y, meta):
        """The loss's recorded row program for these dtypes, or None (see row_program)."""
        inner = _chunk_backend(meta)
        key = (numpy.dtype(eta.dtype), numpy.dtype(y.dtype), inner.name)
        if key not in self._programs:
            self._programs[key] = row_program(self.loss, key[0], key[1], inner)
        return self._programs[key]

    # -- checks ---------------------------------------------------------------------

    def _probe(self):
        """Check that ``loss`` is elementwise; say whether its ``d2/deta2`` uses ``y``."""
        eta = numpy.linspace(-2.0, 2.0, 9)
        ys = [numpy.full(9, v) for v in (0.0, 1.0, 2.0, 0.5)]
        with numpy.errstate(all="ignore"):
            whole = self._values(eta, ys[1], numpy)
            if numpy.shape(whole) != eta.shape:
                raise ValueError(
                    f"dask_glm family: {self.name}(eta, y) must return one loss per row "
                    f"(shape {eta.shape} for 9 rows), got shape {numpy.shape(whole)}")
            parts = numpy.concatenate([
                numpy.ravel(self._values(eta[i:i + 3], ys[1][i:i + 3], numpy))
                for i in range(0, 9, 3)])
            if not numpy.allclose(whole, parts, equal_nan=True):
                raise ValueError(
                    f"dask_glm family: {self.name}(eta, y) is not elementwise: the loss of "
                    "a row depends on other rows, so it is not a sum over rows")
            seconds = [self._derivatives(eta, y, numpy)[1] for y in ys]
        finite = numpy.all(numpy.isfinite(seconds), axis=0)
        return not all(numpy.allclose(s[finite], seconds[0][finite]) for s in seconds[1:])

    # -- per-chunk work (NumPy or CuPy blocks, no uarray state from outside) ----------

    def _values(self, eta, y, meta):
        with _set_backend(_chunk_backend(meta)):
            return self.loss(eta, y)

    def _first(self, eta, y, meta):
        """The first derivative of the loss in ``eta``, row by row (the loss is elementwise)."""
        program = self._program(eta, y, meta)
        if program is not None and program.has(("d1",)):
            return program.run(eta, y, ("d1",))[0]
        return grad(_sum_of(self.loss, y), inner=_chunk_backend(meta))(eta)

    def _derivatives(self, eta, y, meta):
        """First and second derivatives of the loss in ``eta``, row by row.

        From the loss's row program where it has both; otherwise the second is
        the Hessian of ``sum(loss)`` (diagonal, the loss being elementwise) times
        a vector of ones: forward over reverse, one tangent.
        """
        program = self._program(eta, y, meta)
        if program is not None and program.has(("d1", "d2")):
            return tuple(program.run(eta, y, ("d1", "d2")))
        inner = _chunk_backend(meta)
        first = grad(_sum_of(self.loss, y), inner=inner)
        d1, d2 = jvp(first, (eta,), (eta * 0 + 1,), inner=inner)
        return d1, d2

    def _second(self, eta, y, meta):
        """The second derivative of the loss in ``eta``, row by row."""
        program = self._program(eta, y, meta)
        if program is not None and program.has(("d2",)):
            return program.run(eta, y, ("d2",))[0]
        return self._derivatives(eta, y, meta)[1]

    def _loss_task(self, eta, y, _=None):
        program = self._program(eta, y, eta)
        if program is not None and program.has(("value",)):
            values = program.run(eta, y, ("value",))[0]
        else:
            values = self._values(eta, y, eta)
        return numpy.reshape(values.sum(), (1,))

    def _grad_task(self, eta, X, y, _=None):
        return _dot(self._first(eta, y, eta), X)  # X.T @ d1

    def _hess_task(self, eta, X, _=None):
        if self.hessian_uses_y:
            raise ValueError(
                f"dask_glm family: the second derivative of {self.name} depends on y, and "
                "dask-glm calls family.hessian(Xbeta, X) without y; use a solver that "
                "needs no Hessian (lbfgs, gradient_descent, admm, proximal_grad)")
        d2 = self._second(eta, eta * 0, eta)
        if d2.min(initial=0.0) >= 0:  # (a convex loss: X.T @ diag(d2) @ X as S.T @ S, one
            root = X * numpy.sqrt(d2)[:, None]  # symmetric product that BLAS halves)
            return _dot(root.T, root).ravel()
        return _dot((X * d2[:, None]).T, X).ravel()  # X.T @ diag(d2) @ X

    def _eta_loss_task(self, X, y, beta):
        return self._loss_task(_dot(X, beta), y)

    def _eta_grad_task(self, X, y, beta):
        return self._grad_task(_dot(X, beta), X, y)

    def _eta_loss_grad_task(self, X, y, beta):
        """The summed loss and the gradient in ``beta`` from one ``X @ beta`` and one
        sweep (``[loss, gradient...]``)."""
        eta = _dot(X, beta)
        program = self._program(eta, y, eta)
        if program is not None and program.has(("value", "d1")):
            values, d1 = program.run(eta, y, ("value", "d1"))
            loss = values.sum()
        else:
            loss, d1 = value_and_grad(_sum_of(self.loss, y), inner=_chunk_backend(eta))(eta)
        return numpy.concatenate([numpy.reshape(loss, (1,)), _dot(d1, X)])

    # -- the family: NumPy in, NumPy out; Dask in, one task per row chunk + a tree sum --

    def _run(self, task, rows, names, extra, size, shape, dtype):
        block_rows = self.block_rows

        def blocked(*blocks):
            return in_blocks(task, blocks[:-1], blocks[-1], block_rows)

        if not any(_is_dask(a) for a in rows):
            return numpy.reshape(blocked(*rows, extra), shape)
        aligned = align_rows(f"{self.name} family", rows, names, rechunk=True)
        return map_rows(blocked, aligned, extra, size, dtype).reshape(shape)

    @staticmethod
    def _dtype(*arrays):
        return numpy.result_type(*[a.dtype for a in arrays], numpy.float64)

    def loglike(self, Xbeta, y):
        """The summed loss of the rows, ``sum(loss(Xbeta, y))``: a scalar."""
        y = y.ravel()
        return self._run(self._loss_task, [Xbeta, y], ["Xbeta", "y"], None, 1, (),
                         self._dtype(Xbeta, y))

    def gradient(self, Xbeta, X, y):
        """The gradient in ``beta``: ``X.T @ loss'(Xbeta, y)``, shape ``(p,)``."""
        p = X.shape[1]
        y = y.ravel()
        return self._run(self._grad_task, [Xbeta, X, y], ["Xbeta", "X", "y"], None, p, (p,),
                         self._dtype(Xbeta, X, y))

    def hessian(self, Xbeta, X):
        """The Hessian in ``beta``: ``X.T @ diag(loss''(Xbeta)) @ X``, shape ``(p, p)``."""
        p = X.shape[1]
        return self._run(self._hess_task, [Xbeta, X], ["Xbeta", "X"], None, p * p, (p, p),
                         self._dtype(Xbeta, X))

    def _loss_and_gradient(self, beta, X, y):
        """``[loss, gradient...]`` at ``beta`` on Dask rows: one task per chunk, the same
        graph (the same keys) for both pointwise methods, so that computing them together
        (as ``lbfgs`` does) runs each chunk once."""
        p = X.shape[1]
        return self._run(self._eta_loss_grad_task, [X, y], ["X", "y"], beta, 1 + p, (1 + p,),
                         self._dtype(X, y))

    def pointwise_loss(self, beta, X, y):
        """The summed loss at coefficients ``beta``."""
        beta = numpy.asarray(beta).ravel() if not _is_dask(beta) else beta.ravel()
        y = y.ravel()
        if _is_dask(X) or _is_dask(y):
            return self._loss_and_gradient(beta, X, y)[0]
        return self._run(self._eta_loss_task, [X, y], ["X", "y"], beta, 1, (),
                         self._dtype(X, y))

    def pointwise_gradient(self, beta, X, y):
        """The gradient of the summed loss at coefficients ``beta``, shape ``(p,)``."""
        beta = numpy.asarray(beta).ravel() if not _is_dask(beta) else beta.ravel()
        p = X.shape[1]
        y = y.ravel()
        if _is_dask(X) or _is_dask(y):
            return self._loss_and_gradient(beta, X, y)[1:]
        return self._run(self._eta_grad_task, [X, y], ["X", "y"], beta, p, (p,),
                         self._dtype(X, y))


def family(loss, name=None, block_rows=65536):
    """A dask-glm family from the loss of one observation, with udiff's derivatives.

    Parameters
    ----------
    loss : callable
        ``loss(eta, y)``: the loss of each row given its linear predictor
        ``eta = X @ beta`` and its response ``y`` (1-D arrays of one length),
        elementwise, written with ``udiff.numpy``: the negative
        log-likelihood, up to terms free of ``eta``, for a GLM.  dask-glm
        minimises the sum over the rows.
    name : str, optional
        A name for messages and ``repr`` (default: ``loss.__name__``).
    block_rows : int or None, optional
        Rows per udiff call inside a task (default 65536).

    Returns
    -------
    Family
        An object to pass as ``family=`` to dask-glm's solvers.  Its
        ``hessian`` needs a loss whose second derivative in ``eta`` does not
        depend on ``y`` (true of every canonical-link GLM: logistic, normal,
        Poisson), because dask-glm does not pass ``y`` to it.

    Raises
    ------
    ValueError
        When ``loss`` does not return one value per row, or couples rows.

    Examples
    --------
    >>> import dask.array as da, numpy, udiff.numpy as np
    >>> from dask_glm.algorithms import newton
    >>> from udiff.contrib.dask_glm import family
    >>> def logistic(eta, y):
    ...     return np.logaddexp(0.0, eta) - y * eta
    >>> rng = numpy.random.default_rng(0)
    >>> X = da.from_array(rng.standard_normal((400, 3)), chunks=(100, 3))
    >>> y = (X @ numpy.array([1.0, -1.0, 0.5]) + rng.logistic(size=400) > 0).astype(float)
    >>> beta = newton(X, y, family=family(logistic))
    >>> beta.shape
    (3,)
    """
    return Family(loss, name, block_rows)
