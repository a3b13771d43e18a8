"""Row-by-row derivatives of an elementwise function, recorded once and replayed.

For ``f(eta, y)`` elementwise in its 1-D arguments (the loss of each row of
a generalised linear model), the first and second derivatives in ``eta`` are
row by row.  :func:`row_program` records them once: it traces ``f``, runs
two recorded forward sweeps with a scalar unit tangent (forward over
forward, so that every operation stays elementwise), and keeps the inner
library's calls of the recording as a program.  Running the program on a
block of rows makes those calls and no others: no tracing, no sweeps, and
only the calls that the requested outputs need (the loss's ``log1p`` is not
run for a second derivative).  Identical calls are made once, constants are
folded, products by one are dropped, and signs are carried rather than
computed (see :func:`_build`).

An output is kept only if its recording is a chain of elementwise ufuncs of
``eta``, ``y`` and scalar constants (a ufunc's rows do not mix, so the
program holds for blocks of any length), and the program must give the
ordinary value and derivatives on a second set of probe rows.  Otherwise
:func:`row_program` leaves the output out, or returns None, and the caller
takes udiff's ordinary derivatives.  A loss that chooses what to compute
from the values of its rows in Python (``if eta.value.max() > 0``) is
outside what a recording can replay (the probe rows catch such a choice
where it goes another way on them); ``np.where`` is the way to write it.
"""
import numpy

from .._machinery.diff_array import DiffArray
from .._machinery.sweeps import _elementwise, forward_sweep_many
from ..backends._base import to_numpy
from .functional import _backend, _set_backend, _trace, jvp, vjp

__all__ = []

OUTPUTS = ("value", "d1", "d2")
_PROBE_ROWS = 64


class RowProgram:
    """The recorded calls that give ``f``'s value and derivatives row by row.

    Built by :func:`row_program`; call :meth:`run`.
    """

    def __init__(self, outputs, variables, backend, available):
        self._outputs = outputs  # value, d1, d2: DiffArray nodes of the recording
        self._variables = variables
        self._backend = backend
        self._programs = {}
        #: The names of the outputs the program can compute (of "value", "d1", "d2").
        self.outputs = available

    def has(self, wanted):
        """Whether :meth:`run` can compute every output in ``wanted``."""
        return all(w in self.outputs for w in wanted)

    def calls(self, wanted):
        """The number of inner calls that :meth:`run` makes for the outputs ``wanted``."""
        return len(self._program(tuple(wanted))[0])

    def names(self, wanted):
        """The names of the inner functions :meth:`run` calls for the outputs ``wanted``."""
        return [getattr(call[0], "__name__", repr(call[0]))
                for call in self._program(tuple(wanted))[0]]

    def run(self, eta, y, wanted=OUTPUTS):
        """The outputs ``wanted`` (names out of ``"value", "d1", "d2"``) on rows ``eta, y``.

        Parameters
        ----------
        eta, y : ndarray
            1-D arrays of one length, of the dtypes the program was recorded with.
        wanted : sequence of str, optional
            Which of the loss per row (``"value"``), its first and its second
            derivative in ``eta`` to compute.

        Returns
        -------
        list of ndarray
            One 1-D array per name in ``wanted``, of ``eta``'s length (a
            derivative that is the same for every row is a read-only
            broadcast).  Read them, do not write into them: an output may
            be ``eta`` or ``y`` itself, or share memory with another output.
        """
        calls, slots, constants = self._program(tuple(wanted))
        values = [eta, y] + constants
        for func, args, places, kwargs, done in calls:
            args = list(args)
            for argnum, k in places:
                args[argnum] = values[k]
            values.append(func(*args, **kwargs))
            for k in done:  # (results no later call reads: their memory is reused at once)
                values[k] = None
        n, out = numpy.shape(eta), []
        for name, k in zip(wanted, slots):
            v = values[k]
            if not hasattr(v, "dtype"):  # (a constant held as a Python number)
                v = self._backend.inner.asarray(v)
            if name != "value" and v.dtype != eta.dtype:  # (a derivative has its variable's
                v = v.astype(eta.dtype)  # dtype, as udiff's ordinary derivatives do)
            out.append(numpy.broadcast_to(v, n) if numpy.shape(v) != n else v)
        return out

    def _program(self, wanted):
        program = self._programs.get(wanted)
        if program is None:
            missing = [w for w in wanted if w not in self.outputs]
            if missing:
                raise ValueError(
                    f"this row program cannot compute {', '.join(missing)}: its recording "
                    "holds operations other than elementwise ufuncs there")
            program = self._programs[wanted] = _build(
                [self._outputs[OUTPUTS.index(w)] for w in wanted], self._variables,
                self._backend)
        return program


def row_program(f, eta_dtype, y_dtype, inner):
    """The recorded program of ``f``'s value and row-by-row derivatives, or None.

    Parameters
    ----------
    f : callable
        ``f(eta, y)``, elementwise in its two 1-D arguments, written with
        ``udiff.numpy``.
    eta_dtype, y_dtype : numpy.dtype
        The dtypes of the rows the program will run on (floating).
    inner : uarray backend
        The inner backend of the blocks (``udiff.numpy_backend`` or
        ``udiff.cupy_backend``).

    Returns
    -------
    RowProgram or None
        None where the first derivative of ``f`` does not record as a chain
        of elementwise ufuncs and scalar constants, or the program disagrees
        with udiff's ordinary derivatives on probe rows: the caller then
        computes those.  A program whose value or second derivative does
        not record so leaves it out of its ``outputs``.

    Examples
    --------
    >>> import numpy, udiff, udiff.numpy as np
    >>> from udiff._transformations.row_derivatives import row_program
    >>> program = row_program(lambda eta, y: (eta - y) ** 2, numpy.dtype(float),
    ...                       numpy.dtype(float), udiff.numpy_backend)
    >>> program.run(numpy.array([1.0, 2.0]), numpy.array([0.0, 0.0]))
    [array([1., 4.]), array([2., 4.]), array([2., 2.])]
    """
    eta_dtype, y_dtype = numpy.dtype(eta_dtype), numpy.dtype(y_dtype)
    if eta_dtype.kind != "f" or y_dtype.kind != "f":
        return None
    rng = numpy.random.default_rng(0)
    eta = inner.asarray((rng.standard_normal(_PROBE_ROWS) * 2).astype(eta_dtype))
    y = inner.asarray(rng.random(_PROBE_ROWS).astype(y_dtype))
    try:
        with numpy.errstate(all="ignore"):
            recorded = _record(f, eta, y, inner)
    except Exception:  # noqa: BLE001 - anything the recording cannot take: ordinary path
        return None
    if recorded is None:
        return None
    program = RowProgram(*recorded)
    try:
        agrees = _agrees(program, f, eta * -1.5 + 0.25, 1 - y, inner)
    except Exception:  # noqa: BLE001 - as above
        return None
    return program if agrees else None


def _record(f, eta, y, inner):
    backend = _backend(inner, "jvp")
    trace = _trace(f, (eta, y), {}, (0, 1), backend)
    if trace.nested or len(trace.out_leaves) != 1:
        return None
    out = trace.out_leaves[0]
    if numpy.shape(out.value) != numpy.shape(eta):
        return None
    e_var = trace.variables[0]
    one = DiffArray(inner.asarray(numpy.array(1.0, dtype=eta.dtype)), backend)
    d1, = forward_sweep_many([out], [e_var], [one], True)
    d1 = d1 if d1 is not None else DiffArray(inner.asarray(numpy.zeros((), eta.dtype)), backend)
    d2, = forward_sweep_many([d1], [e_var], [one], True)
    d2 = d2 if d2 is not None else DiffArray(inner.asarray(numpy.zeros((), eta.dtype)), backend)
    available = tuple(name for name, node in zip(OUTPUTS, (out, d1, d2))
                      if all(_replayable(a, trace.variables, backend) for a in _ancestors([node])))
    if "d1" not in available:
        return None
    return (out, d1, d2), trace.variables, backend, available


def _ancestors(nodes):
    seen, stack, out = set(), list(nodes), []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(p for _, _, p in node._parents)
    return out


def _replayable(node, variables, backend):
    """Whether ``node`` can be replayed on other rows: a variable, a scalar constant, or an
    elementwise ufunc of one output (no keywords) whose other arguments are scalars."""
    if any(node is v for v in variables):
        return True
    if not node._parents:
        return numpy.ndim(node.value) == 0 and node._fn is None
    if node._fn == "numpy.broadcast_to":  # a scalar or a row of values, to the rows' shape
        (argnum, path, parent), = node._parents
        return argnum == 0 and not path and not node._kwargs and len(node._args) == 2 \
            and numpy.ndim(node.value) == 1 and numpy.ndim(parent.value) <= 1 \
            and numpy.shape(parent.value) in ((), (1,), numpy.shape(node.value))
    if type(node._fn) is not str or not _elementwise(node._fn) or node._kwargs:
        return False
    if (backend._impls.get(node._fn) or backend._impl(node._fn)) is None:
        return False
    if any(path for _, path, _ in node._parents):
        return False
    held = {argnum for argnum, _, _ in node._parents}
    return all(numpy.ndim(a) == 0 and not isinstance(a, (list, tuple))
               for i, a in enumerate(node._args) if i not in held)


def _agrees(program, f, eta, y, inner):
    """Whether the program gives udiff's ordinary value and derivatives on rows ``eta, y``."""
    ones = eta * 0 + 1

    def first(e):  # (the loss being elementwise, its Jacobian is diagonal: J^T 1 is d1)
        return vjp(lambda e: f(e, y), e, inner=inner)[1](ones)[0]

    with numpy.errstate(all="ignore"):
        got = program.run(eta, y, program.outputs)
        d1, d2 = jvp(first, (eta,), (ones,), inner=inner)
        with _set_backend(inner):
            value = f(eta, y)
    expected = dict(zip(OUTPUTS, (value, d1, d2)))
    for g, w in zip(got, [expected[name] for name in program.outputs]):
        g, w = to_numpy(g), to_numpy(w)
        if g.shape != w.shape or g.dtype != w.dtype:
            return False
        # (the two orders of evaluation round differently; a different computation, such
        # as another branch of the loss, differs by far more than this)
        tol = numpy.sqrt(numpy.finfo(g.dtype).eps)
        scale = numpy.max(numpy.abs(w[numpy.isfinite(w)]), initial=1.0)
        if not numpy.allclose(g, w, rtol=tol, atol=tol * scale, equal_nan=True):
            return False
    return True


def _alias(node):
    """The node that ``node`` stands for: for a scalar spread over the rows, the scalar (the
    ufuncs that use it broadcast it, and :meth:`RowProgram.run` spreads an output)."""
    return node._parents[0][2] if node._fn == "numpy.broadcast_to" else None


def _live(calls, refs):
    """The calls that the outputs ``refs`` read, directly or not (a rewritten call can leave
    another unread), renumbered."""
    live = {r[1] for r in refs if r[0] == "call"}
    for i in range(len(calls) - 1, -1, -1):
        if i in live:
            live.update(r[1] for _, r in calls[i][2] if r[0] == "call")
    new = {old: k for k, old in enumerate(sorted(live))}

    def moved(r):
        return ("call", new[r[1]]) if r[0] == "call" else r

    calls = [(func, args, tuple((argnum, moved(r)) for argnum, r in places), kwargs)
             for i, (func, args, places, kwargs) in enumerate(calls) if i in live]
    return calls, [moved(r) for r in refs]


def _constant_key(a):
    dtype = getattr(a, "dtype", None)
    return (type(a).__name__, None if dtype is None else numpy.dtype(dtype).str,
            a.item() if hasattr(a, "item") else a)


def _signed_call(node, signed, signed_constant, call, plain, constants):
    """``(reference, negated)`` of ``node``'s value (see :func:`_build`)."""
    fn, args = node._fn, node._args
    parent = {argnum: p for argnum, _, p in node._parents}
    operands = [signed[id(parent[i])] if i in parent else signed_constant(a)
                for i, a in enumerate(args)]
    if all(r[0] == "const" for r, _ in operands) and numpy.ndim(node.value) == 0:
        return signed_constant(node.value)  # (from constants alone: its recorded value)
    dtype, shape = numpy.dtype(node.value.dtype), numpy.shape(node.value)

    def like_node(i):  # operand i has the node's dtype and shape (a factor of one drops)
        held = parent.get(i)
        return held is not None and numpy.dtype(held.value.dtype) == dtype \
            and numpy.shape(held.value) == shape

    if fn == "numpy.negative" and like_node(0):
        r, negated = operands[0]
        return r, not negated
    if fn in ("numpy.multiply", "numpy.true_divide") and len(args) == 2:
        (r0, n0), (r1, n1) = operands
        for i, (r, _) in enumerate(operands):
            if fn == "numpy.true_divide" and i == 0:
                continue
            other = 1 - i
            one = constants[r[1]] if r[0] == "const" else None
            if one is not None and numpy.ndim(one) == 0 and one == 1 and like_node(other):
                return operands[other][0], n0 != n1
        return call(fn, (None, None), ((0, r0), (1, r1))), n0 != n1
    if fn in ("numpy.add", "numpy.subtract") and len(args) == 2:
        (a, na), (b, nb) = operands
        if fn == "numpy.subtract":
            nb = not nb  # a - b is a + (-b)
        if na == nb:  # a + b, or -(a + b)
            return call("numpy.add", (None, None), ((0, a), (1, b))), na
        if nb:  # a - b
            return call("numpy.subtract", (None, None), ((0, a), (1, b))), False
        return call("numpy.subtract", (None, None), ((0, b), (1, a))), False  # b - a
    places = tuple((i, plain(signed[id(parent[i])])) for i in sorted(parent))
    return call(node._fn, args, places, node._kwargs), False


def _build(outputs, variables, backend):
    """``(calls, output slots, constants)``: the calls the ``outputs`` need, in order.

    A run's values are ``[eta, y, *constants, *call results]``; slots index
    them.  Equal calls are made once and constants are folded.  Signs are
    carried instead of computed: a value is a reference and whether it is
    negated, products and quotients multiply the signs, sums and differences
    of signed values become sums or differences of their magnitudes (IEEE
    rounding is symmetric, so every one of these is exact), and a negation
    is made only where another function needs the value itself.  A product
    by one is its other factor.
    """
    variable_at = {id(v): ("var", k) for k, v in enumerate(variables)}
    constants, calls, made, signed = [], [], {}, {}
    constant_at = {}  # a constant's key -> its reference: equal constants are one

    def constant(value):
        key = _constant_key(value)
        if key not in constant_at:
            constants.append(value)
            constant_at[key] = ("const", len(constants) - 1)
        return constant_at[key]

    def signed_constant(value):
        """``(reference, negated)`` of a scalar: a negative float is its magnitude, negated."""
        if numpy.result_type(value).kind == "f" and numpy.signbit(value) \
                and not numpy.isnan(value):
            return constant(-value), True
        return constant(value), False

    def operand_key(r):
        return ("const", _constant_key(constants[r[1]])) if r[0] == "const" else ("slot", r)

    def call(fn, args, places, kwargs=None):
        parent_at = dict(places)
        key = (fn, tuple(operand_key(parent_at[i]) if i in parent_at
                         else ("raw", _constant_key(a)) for i, a in enumerate(args)),
               tuple(sorted((kwargs or {}).items())))
        if key not in made:
            func = backend._impls.get(fn) or backend._impl(fn)
            calls.append((func, tuple(args), tuple(places), kwargs or {}))
            made[key] = ("call", len(calls) - 1)
        return made[key]

    def plain(value):
        """The reference of a signed value itself: its negation made where it is negated."""
        r, negated = value
        if not negated:
            return r
        if r[0] == "const":
            return constant(-constants[r[1]])
        return call("numpy.negative", (None,), ((0, r),))

    def visit(node):
        stack = [(node, False)]
        while stack:
            current, ready = stack.pop()
            if id(current) in signed:
                continue
            if id(current) in variable_at:
                signed[id(current)] = (variable_at[id(current)], False)
                continue
            if not current._parents:  # a constant leaf (a scalar: checked when recorded)
                signed[id(current)] = signed_constant(current.value)
                continue
            alias = _alias(current)
            if not ready:
                stack.append((current, True))
                stack.extend([(alias, False)] if alias is not None
                             else [(p, False) for _, _, p in current._parents])
                continue
            if alias is not None:
                signed[id(current)] = signed[id(alias)]
                continue
            signed[id(current)] = _signed_call(current, signed, signed_constant, call, plain,
                                               constants)

    refs = []
    for out in outputs:
        if type(out) is DiffArray:
            visit(out)
            refs.append(plain(signed[id(out)]))
        else:
            refs.append(constant(out))
    calls, refs = _live(calls, refs)
    base = {"var": 0, "const": len(variables), "call": len(variables) + len(constants)}

    def flat(r):
        return base[r[0]] + r[1]

    calls = [(func, args, tuple((argnum, flat(r)) for argnum, r in places), kwargs)
             for func, args, places, kwargs in calls]
    slots = [flat(r) for r in refs]
    # The results each call is the last to read (never an output's): freed after it.
    last = {}
    for i, (_, _, places, _) in enumerate(calls):
        for _, k in places:
            last[k] = i
    done = [[] for _ in calls]
    for k, i in last.items():
        if k >= base["call"] and k not in slots:
            done[i].append(k)
    calls = [call + (tuple(d),) for call, d in zip(calls, done)]
    return calls, slots, constants
