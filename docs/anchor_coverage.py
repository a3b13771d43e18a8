"""Which functions autograd and JAX differentiate: writes ``docs/anchor_coverage.json``,
which ``docs/make_coverage.py`` reads (so building the docs imports neither).

Two steps, in two environments (autograd and JAX are not udiff's dependencies)::

    uv run python docs/anchor_coverage.py dump /tmp/cases.pkl
    ANCHORS/bin/python docs/anchor_coverage.py /tmp/cases.pkl docs/anchor_coverage.json

The first step takes, for each public name of ``udiff.numpy``, the first cases of
``tests/test_forward_values.py`` (NumPy inputs); the second, in an environment with
``jax`` and ``autograd`` (CPU), records for each name (and for SciPy's special
functions and distributions that issue 10 asks for):

* autograd, from its registrations (``autograd.extend``'s primitive VJPs):
  ``rule`` (a primitive with VJPs), ``constant`` (a primitive autograd declares
  non-differentiable), ``composite`` (a Python function of primitives that
  ``autograd.grad`` differentiates at a case), ``no``, ``absent``;
* JAX: whether ``jax.numpy.<name>`` (``jax.scipy...``) exists and ``jax.grad`` of
  the sum of its floating outputs works at a case's first floating input: ``yes``,
  ``constant`` (integer or boolean results), ``no`` (an error), ``n/a`` (no case
  with a floating input), ``absent``.
"""
import json
import pickle
import sys
import warnings

import numpy as onp


def dump(path):
    """Step 1 (udiff's environment): the first picklable cases of each public name."""
    sys.path.insert(0, "tests")
    import test_forward_values as t

    out = {}
    for c in t.CASES:
        if c.ref is not None:
            continue  # udiff's spelling differs from NumPy's: not NumPy's function
        lst = out.setdefault(c.name, [])
        try:
            pickle.dumps((c.args, c.kwargs))
        except Exception:
            continue
        if len(lst) < 4:
            lst.append((c.args, c.kwargs))
    with open(path, "wb") as f:
        pickle.dump(out, f)


if __name__ == "__main__" and sys.argv[1] == "dump":
    dump(sys.argv[2])
    sys.exit()

import jax  # noqa: E402
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import jax.scipy
import jax.scipy.special
import jax.scipy.stats
import jax.experimental.ode
import autograd
import autograd.core as agcore
import autograd.numpy as anp
import autograd.numpy.numpy_vjps as agvjps
import autograd.scipy.special
import autograd.scipy.stats
import autograd.scipy.linalg
import autograd.scipy.signal
import autograd.scipy.integrate
import autograd.tracer as agtracer

warnings.simplefilter("ignore")
with open(sys.argv[1], "rb") as _f:
    cases = pickle.load(_f)
x3 = onp.array([0.3, 0.7, 1.6])
sq = lambda v: v ** 2 + 1.0  # noqa: E731
HAND = {
    "piecewise": [((x3, [x3 < 0.5, x3 > 1.0], [sq, 2.0, 0.5]), {})],
    "put_along_axis": [((onp.ones((2, 3)), onp.array([[0], [2]]), onp.array([[2.0], [3.0]]), 1),
                        {"inplace": False})],
    "msort": [((onp.array([[0.3, 0.1], [0.2, 0.9]]),), {})],
    "in1d": [((x3, onp.array([0.3])), {})],
    "nbytes": [((x3,), {})],  # udiff's own (array API's x.nbytes as a function)
    # names the linalg branch of issue 10 adds
    "linalg.eig": [((onp.array([[2.0, 1.0], [0.5, 3.0]]),), {})],
    "linalg.eigvals": [((onp.array([[2.0, 1.0], [0.5, 3.0]]),), {})],
    "linalg.tensorsolve": [((onp.eye(6).reshape(2, 3, 6) * 2.0, onp.ones((2, 3))), {})],
    "linalg.tensorinv": [((onp.eye(6).reshape(2, 3, 6) * 2.0,), {"ind": 2})],
    "linalg.matmul": [((onp.ones((2, 3)), onp.ones((3, 2))), {})],
    "linalg.outer": [((x3, x3), {})],
    "linalg.tensordot": [((onp.ones((2, 3)), onp.ones((3, 2))), {"axes": 1})],
    "linalg.vecdot": [((x3, x3), {})],
    "linalg.matrix_transpose": [((onp.ones((2, 3)),), {})],
    "linalg.cross": [((x3, x3[::-1].copy()), {})],
    "linalg.diagonal": [((onp.ones((3, 3)),), {})],
    "linalg.trace": [((onp.ones((3, 3)),), {})],
}
# SciPy's special functions and distributions (issue 10): (path, args)
SPECIAL = {
    "beta": (x3, x3 + 1), "betainc": (x3 + 1, x3 + 2, onp.array([0.2, 0.5, 0.7])),
    "betaln": (x3, x3 + 1), "digamma": (x3,), "erf": (x3,), "erfc": (x3,),
    "erfcinv": (onp.array([0.2, 0.9, 1.5]),), "erfinv": (onp.array([0.2, -0.5, 0.7]),),
    "expit": (x3,), "gamma": (x3,), "gammainc": (x3 + 1, x3), "gammaincc": (x3 + 1, x3),
    "gammaln": (x3,), "gammasgn": (x3,), "i0": (x3,), "i1": (x3,), "iv": (x3 + 1, x3),
    "ive": (x3 + 1, x3), "j0": (x3,), "j1": (x3,), "jn": (2, x3), "logit": (x3 / 2,),
    "logsumexp": (x3,), "multigammaln": (x3 + 2, 2), "polygamma": (1, x3), "psi": (x3,),
    "rgamma": (x3,), "y0": (x3,), "y1": (x3,), "yn": (2, x3), "softmax": (x3,),
    "log_softmax": (x3,), "xlogy": (x3, x3 + 1), "xlog1py": (x3, x3), "entr": (x3,),
    "log_ndtr": (x3,), "ndtr": (x3,), "ndtri": (x3 / 2,), "erfcx": (x3,), "jv": (x3 + 1, x3),
    "zeta": (x3 + 1.5, x3 + 1),
}
_SPD = onp.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])
_TRIU = onp.triu(_SPD)
# udiff.scipy's other namespaces: path -> (autograd's module, JAX's module, args); JAX's
# odeint is jax.experimental.ode.odeint (jax.scipy.integrate has none).
OTHER = {
    "linalg.cho_solve": ("autograd.scipy.linalg", "jax.scipy.linalg",
                         ((onp.linalg.cholesky(_SPD), True), x3)),
    "linalg.expm": ("autograd.scipy.linalg", "jax.scipy.linalg", (_SPD / 4,)),
    "linalg.solve_banded": ("autograd.scipy.linalg", "jax.scipy.linalg",
                            ((1, 1), onp.array([[0.0, 1.0, 0.5], [4.0, 3.0, 2.0],
                                                [1.0, 0.5, 0.0]]), x3)),
    "linalg.solve_sylvester": ("autograd.scipy.linalg", "jax.scipy.linalg",
                               (_SPD, _SPD + 1.0, _SPD)),
    "linalg.solve_triangular": ("autograd.scipy.linalg", "jax.scipy.linalg", (_TRIU, x3)),
    "linalg.sqrtm": ("autograd.scipy.linalg", "jax.scipy.linalg", (_SPD,)),
    "signal.convolve": ("autograd.scipy.signal", "jax.scipy.signal", (x3, x3[:2].copy())),
    "integrate.odeint": ("autograd.scipy.integrate", "jax.experimental.ode",
                         (lambda y, t: -0.5 * y, x3, onp.array([0.0, 0.5, 1.0]))),
}
STATS = {
    "norm": (x3,), "t": (x3, 3.0), "gamma": (x3, 2.0), "beta": (x3 / 2, 2.0, 3.0), "chi2": (x3, 3.0),
    "poisson": (onp.array([0.0, 1.0, 3.0]), x3 + 1), "dirichlet": (onp.array([0.2, 0.3, 0.5]), x3 + 1),
    "multivariate_normal": (x3, onp.zeros(3), onp.eye(3) * 2.0),
}
METHODS = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "logpmf", "pmf", "entropy")
ENTROPY = {"norm": (x3, x3 + 1), "gamma": (x3 + 1,), "beta": (x3 + 1, x3 + 2), "chi2": (x3 + 2,),
           "t": (x3 + 2,), "poisson": (x3 + 1,), "dirichlet": (x3 + 1,),
           "multivariate_normal": (onp.zeros(3), onp.eye(3) * 2.0)}


def resolve(root, path):
    for part in path.split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


def floats(out):
    leaves = out if isinstance(out, (tuple, list)) else [out]
    return [l for l in leaves if hasattr(l, "dtype") and (jnp.issubdtype(l.dtype, jnp.floating)
                                                          or jnp.issubdtype(l.dtype, jnp.complexfloating))]


def first_float(args):
    """Where the first floating array is: ``(i, None)`` (argument i) or ``(i, j)`` (item j
    of a list argument i), or None."""
    for i, a in enumerate(args):
        if isinstance(a, onp.ndarray) and a.dtype.kind == "f":
            return i, None
        if isinstance(a, list):
            for j, v in enumerate(a):
                if isinstance(v, onp.ndarray) and v.dtype.kind == "f":
                    return i, j
    return None


def point(args, where):
    i, j = where
    return args[i] if j is None else args[i][j]


def replaced(args, where, v):
    i, j = where
    new = list(args)
    if j is None:
        new[i] = v
    else:
        new[i] = list(new[i])
        new[i][j] = v
    return new


def jax_status(fn, arglists):
    if fn is None:
        return "absent"
    status = "n/a"  # no case with a floating input
    for args, kwargs in arglists:
        where = first_float(args)
        if where is None:
            continue
        def conv(a):  # JAX takes arrays, not lists of numbers
            if isinstance(a, onp.ndarray):
                return jnp.asarray(a)
            if isinstance(a, list) and any(isinstance(v, onp.ndarray) for v in a):
                return [jnp.asarray(v) if isinstance(v, onp.ndarray) else v for v in a]
            if isinstance(a, list) and all(isinstance(v, (int, float, bool)) for v in a):
                return jnp.asarray(a)
            return a

        jargs = [conv(a) for a in args]
        try:
            out = fn(*jargs, **kwargs)
        except Exception:
            status = "no"
            continue
        if not floats(out):
            return "constant"

        def loss(v):
            return sum(jnp.sum(jnp.real(l)) for l in floats(fn(*replaced(jargs, where, v), **kwargs)))

        try:
            jax.grad(loss)(jnp.asarray(point(args, where)))
            return "yes"
        except Exception:
            status = "no"
    return status


def autograd_grad_works(fn, arglists):
    for args, kwargs in arglists:
        where = first_float(args)
        if where is None:
            continue
        try:
            fn(*args, **kwargs)
        except Exception:
            continue

        def loss(v):
            res = fn(*replaced(args, where, v), **kwargs)
            leaves = res if isinstance(res, (tuple, list)) else [res]
            return sum(anp.sum(anp.real(l)) for l in leaves
                       if onp.dtype(getattr(l, "dtype", onp.result_type(l))).kind in "fc")

        try:
            autograd.grad(loss)(point(args, where))
            return True
        except Exception:
            return False
    return False


NOTRACE = set().union(*[set(v) for v in agtracer.notrace_primitives.values()]) if isinstance(
    agtracer.notrace_primitives, dict) else set()


def autograd_status(fn, arglists):
    if fn is None or not callable(fn):
        return "absent"
    if getattr(fn, "_is_autograd_primitive", False):
        if fn in agcore.primitive_vjps:
            return "rule"
        if fn in agvjps.nograd_functions or fn in NOTRACE:
            return "constant"
        return "no"
    if getattr(fn, "__module__", "").startswith("autograd"):
        return "composite" if autograd_grad_works(fn, arglists) else "no"
    return "no"  # NumPy's own object re-exported: autograd cannot trace it


result = {"numpy": {}, "scipy": {}}
for name in sorted(set(cases) | set(HAND)):
    arglists = HAND.get(name) or cases.get(name, [])
    result["numpy"][name] = {"autograd": autograd_status(resolve(anp, name), arglists),
                             "jax": jax_status(resolve(jnp, name), arglists)}
for name, args in SPECIAL.items():
    arglists = [(args, {})]
    result["scipy"]["special." + name] = {
        "autograd": autograd_status(resolve(autograd.scipy.special, name), arglists),
        "jax": jax_status(resolve(jax.scipy.special, name), arglists)}
for dist, args in STATS.items():
    for method in METHODS:
        arglists = [(ENTROPY[dist] if method == "entropy" else args, {})]
        ag = resolve(autograd.scipy.stats, f"{dist}.{method}")
        jx = resolve(jax.scipy.stats, f"{dist}.{method}")
        result["scipy"][f"stats.{dist}.{method}"] = {"autograd": autograd_status(ag, arglists),
                                                     "jax": jax_status(jx, arglists)}
import importlib  # noqa: E402
for name, (ag_module, jax_module, args) in OTHER.items():
    leaf = name.split(".")[-1]
    arglists = [(args, {})]
    result["scipy"][name] = {
        "autograd": autograd_status(resolve(importlib.import_module(ag_module), leaf), arglists),
        "jax": jax_status(resolve(importlib.import_module(jax_module), leaf), arglists)}
import importlib.metadata as md
result["_about"] = {
    "autograd": md.version("autograd"), "jax": jax.__version__, "numpy": onp.__version__,
    "command": "uv run python docs/anchor_coverage.py dump /tmp/cases.pkl; "
               "ANCHORS/bin/python docs/anchor_coverage.py /tmp/cases.pkl docs/anchor_coverage.json",
}
with open(sys.argv[2], "w") as _f:  # one line per name, for readable diffs
    _f.write("{\n" + ",\n".join(
        f" {json.dumps(section)}: {{\n" + ",\n".join(
            f"  {json.dumps(k)}: {json.dumps(v, sort_keys=True)}" for k, v in sorted(entries.items()))
        + "\n }" for section, entries in sorted(result.items())) + "\n}\n")
print({k: len(v) for k, v in result.items()})
