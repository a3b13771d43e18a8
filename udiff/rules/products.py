"""Rules for products: einsum, and dot, inner, outer, tensordot, vdot, trace and
diagonal, each of which is an einsum contraction.

One pair of rules serves them all.  The VJP of operand ``i`` of a contraction
is another contraction: the cotangent (with its batch axes as extra letters)
against the other operands, written to operand ``i``'s subscripts.  Letters
that operand ``i`` repeats (``"ii->i"``) are linked by an identity matrix;
letters only operand ``i`` has are summed out in the forward pass, so they are
broadcast back with a vector of ones.
"""
import string
from collections import Counter

import numpy as np

from ..numpy import _from_signatures as unp
from ..numpy import _handwritten as _mm
from .._machinery.diff_array import DiffArray
from .._machinery.dispatch import call
from .._machinery.registry import defjvp, defvjp
from ..backends import backend_for_value
from ..backends._base import einsum_operands
from ._helpers import ndim, real_dtype, shape

_MAX_OPERANDS = 16


def _like(ref, value):
    """``value`` (a NumPy array) on the same backend as ``ref``."""
    inner = ref._backend.inner if type(ref) is DiffArray else backend_for_value(ref)
    return inner.asarray(value)


def _parse(subscripts, shapes):
    """``(terms, out)`` with ellipses replaced by letters; implicit output made explicit."""
    subs = subscripts.replace(" ", "")
    ins, out = subs.split("->") if "->" in subs else (subs, None)
    terms = ins.split(",")
    used = {c for c in subs if c.isalpha()}
    free = [c for c in string.ascii_letters if c not in used]
    ell_nd = max([len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t], default=0)
    ell = "".join(free[:ell_nd])
    explicit = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            k = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_nd - k:] if k else "")
        explicit.append(t)
    if out is None:
        counts = Counter("".join(terms).replace(".", ""))
        out = ell + "".join(sorted(c for c in counts if counts[c] == 1))
    else:
        out = out.replace("...", ell)
    return explicit, out


def _sizes(terms, shapes):
    sizes = {}
    for t, s in zip(terms, shapes):
        for c, n in zip(t, s):
            if n != 1 or c not in sizes:
                sizes[c] = n
    return sizes


def _fresh(taken, count):
    return [c for c in string.ascii_letters if c not in taken][:count]


def _contract_vjp(i, terms, out, operands, g):
    """Cotangent of operand ``i`` of ``einsum(terms -> out)`` given cotangent ``g``."""
    shapes = [shape(o) for o in operands]
    sizes = _sizes(terms, shapes)
    taken = set("".join(terms) + out)
    nb = ndim(g) - len(out)
    batch = "".join(_fresh(taken, nb))
    taken |= set(batch)
    ins = [batch + out] + [t for j, t in enumerate(terms) if j != i]
    args = [g] + [o for j, o in enumerate(operands) if j != i]
    target, seen = [], set()
    for c in terms[i]:
        if c in seen:  # a repeated letter: link a fresh copy with an identity matrix
            (d,) = _fresh(taken, 1)
            taken.add(d)
            ins.append(c + d)
            args.append(_like(g, np.eye(sizes[c], dtype=real_dtype(g))))
            target.append(d)
        else:
            seen.add(c)
            target.append(c)
    available = set("".join(ins))
    for c in set(terms[i]) - available:  # summed out by operand i alone
        ins.append(c)
        args.append(_like(g, np.ones(sizes[c], dtype=real_dtype(g))))
    result = call(_mm.einsum, ",".join(ins) + "->" + batch + "".join(target), *args)
    # undo broadcasting of size-1 axes of operand i
    axes = tuple(k - len(shapes[i]) for k, n in enumerate(shapes[i]) if n == 1 and sizes[terms[i][k]] != 1)
    return np.sum(result, axis=axes, keepdims=True) if axes else result


def _contract_jvp(i, terms, out, operands, t):
    """Tangent of ``einsum(terms -> out)`` caused by tangent ``t`` of operand ``i``."""
    taken = set("".join(terms) + out)
    nb = ndim(t) - len(shape(operands[i]))
    batch = "".join(_fresh(taken, nb))
    ins = [batch + terms[i] if j == i else term for j, term in enumerate(terms)]
    args = [t if j == i else o for j, o in enumerate(operands)]
    return call(_mm.einsum, ",".join(ins) + "->" + batch + out, *args)


# einsum itself, with subscripts or in the sublist form ------------------------------------
def _einsum_plan(argnum, args):
    """``(terms, out, operands, i)``: argument ``argnum`` of ``einsum(*args)`` is operand ``i``."""
    subscripts, operands, positions = einsum_operands(args)
    terms, out = _parse(subscripts, [shape(o) for o in operands])
    return terms, out, operands, positions.index(argnum)


def _einsum_vjp(argnum):
    def maker(ans, *args, **kwargs):
        terms, out, operands, i = _einsum_plan(argnum, args)
        return lambda g: _contract_vjp(i, terms, out, operands, g)

    return maker


def _einsum_jvp(argnum):
    def rule(t, ans, *args, **kwargs):
        terms, out, operands, i = _einsum_plan(argnum, args)
        return _contract_jvp(i, terms, out, operands, t)

    return rule


# Operands are arguments 1, 2, ... after subscripts, or 0, 2, 4, ... in the sublist form.
defvjp(_mm.einsum, *(_einsum_vjp(k) for k in range(2 * _MAX_OPERANDS)))
defjvp(_mm.einsum, *(_einsum_jvp(k) for k in range(2 * _MAX_OPERANDS)))


# the named products, as contractions ----------------------------------------------------
def _letters(n, start=0):
    return string.ascii_lowercase[start:start + n]


def _dot_terms(sa, sb):
    if not sa or not sb:
        a, b = _letters(len(sa)), _letters(len(sb))
        return [a, b], a or b
    a = _letters(len(sa) - 1) + "z"
    if len(sb) == 1:
        return [a, "z"], a[:-1]
    b = _letters(len(sb) - 2, len(sa) - 1)
    last = _letters(1, len(sa) + len(sb))
    return [a, b + "z" + last], a[:-1] + b + last


def _tensordot_terms(sa, sb, axes=2):
    if isinstance(axes, (int, np.integer)):
        ax_a = list(range(len(sa) - axes, len(sa)))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
        ax_a = [x % len(sa) for x in ax_a]
        ax_b = [x % len(sb) for x in ax_b]
    a = list(_letters(len(sa)))
    b = list(_letters(len(sb), len(sa)))
    for x, y in zip(ax_a, ax_b):
        b[y] = a[x]
    out = [c for k, c in enumerate(a) if k not in ax_a] + [c for k, c in enumerate(b) if k not in ax_b]
    return ["".join(a), "".join(b)], "".join(out)


def _diagonal_terms(sa, offset=0, axis1=0, axis2=1, trace=False):
    """Terms for the square window of ``a`` whose main diagonal is ``a``'s
    ``offset`` diagonal, and that window as an index (None if it is all of ``a``)."""
    nd = len(sa)
    axis1, axis2 = axis1 % nd, axis2 % nd
    r0, c0 = max(0, -offset), max(0, offset)
    m = max(0, min(sa[axis1] - r0, sa[axis2] - c0))
    window = [slice(None)] * nd
    window[axis1], window[axis2] = slice(r0, r0 + m), slice(c0, c0 + m)
    whole = (r0, c0) == (0, 0) and sa[axis1] == sa[axis2] == m
    a = list(_letters(nd))
    a[axis2] = a[axis1]
    rest = [c for k, c in enumerate(a) if k not in (axis1, axis2)]
    return ["".join(a)], "".join(rest) + ("" if trace else a[axis1]), None if whole else tuple(window)


def _inner_terms(sa, sb):
    if not sa or not sb:
        return _dot_terms(sa, sb)
    a, b = _letters(len(sa) - 1), _letters(len(sb) - 1, 12)
    return [a + "z", b + "z"], a + b


def _plans():
    """For each named product: ``plan(shapes, *args, **kwargs) -> (terms, out, ravel?, window)``.

    ``window`` (trace and diagonal with an offset or a non-square matrix) is the
    index of the sub-array the contraction reads, or None.
    """
    return {
        _mm.dot: lambda shapes: (*_dot_terms(*shapes), False, None),
        _mm.inner: lambda shapes: (*_inner_terms(*shapes), False, None),
        _mm.outer: lambda shapes: (["i", "j"], "ij", True, None),
        _mm.vdot: lambda shapes: (["i", "i"], "", True, None),
        _mm.tensordot: lambda shapes, axes=2: (*_tensordot_terms(*shapes, axes), False, None),
        _mm.trace: lambda shapes, offset=0, axis1=0, axis2=1, dtype=None, out=None: _with_flat(
            _diagonal_terms(shapes[0], offset, axis1, axis2, trace=True)),
        _mm.diagonal: lambda shapes, offset=0, axis1=0, axis2=1: _with_flat(
            _diagonal_terms(shapes[0], offset, axis1, axis2)),
    }


def _with_flat(plan):
    terms, out, window = plan
    return terms, out, False, window


def _reshape(a, new_shape):
    """``reshape`` through the inner backend (Dask's own fails on some size-0 arrays),
    recorded when ``a`` is a DiffArray; ``a`` itself where it has that shape already."""
    if shape(a) == tuple(new_shape):
        return a
    return call(unp.reshape, a, new_shape)


def _def_product(func, plan):
    def prepare(arrays, args, kwargs):
        shapes = [shape(o) for o in arrays]
        terms, out, flat, window = plan(shapes, *args, **kwargs)
        if flat:
            arrays = [_reshape(o, (-1,)) for o in arrays]
        if window is not None:
            arrays = [call(_mm.getitem, arrays[0], window)]
        if func is _mm.vdot:
            arrays = [np.conj(arrays[0])] + list(arrays[1:])
        return terms, out, arrays, window

    nargs = 1 if func in (_mm.trace, _mm.diagonal) else 2

    def vjp_of(i):
        def maker(ans, *args, **kwargs):
            arrays, rest = args[:nargs], args[nargs:]
            terms, out, ops, window = prepare(arrays, rest, kwargs)

            def vjp(g):
                c = _contract_vjp(i, terms, out, ops, g)
                if func is _mm.vdot and i == 0:
                    c = np.conj(c)
                batch = shape(g)[: ndim(g) - ndim(ans)]
                if window is not None:  # the window's cotangent, placed in zeros
                    index = (slice(None),) * len(batch) + window
                    return call(_mm.index_add, c, index, batch + shape(arrays[i]))
                return _reshape(c, batch + shape(arrays[i]))

            return vjp

        return maker

    def jvp_of(i):
        def rule(t, ans, *args, **kwargs):
            arrays, rest = args[:nargs], args[nargs:]
            terms, out, ops, window = prepare(arrays, rest, kwargs)
            batch = shape(t)[: ndim(t) - ndim(arrays[i])]
            if window is not None:
                t = call(_mm.getitem, t, (slice(None),) * len(batch) + window)
            t = _reshape(t, batch + shape(ops[i]))
            if func is _mm.vdot and i == 0:
                t = np.conj(t)
            return _contract_jvp(i, terms, out, ops, t)

        return rule

    defvjp(func, *(vjp_of(i) for i in range(nargs)))
    defjvp(func, *(jvp_of(i) for i in range(nargs)))


for _func, _plan in _plans().items():
    _def_product(_func, _plan)
