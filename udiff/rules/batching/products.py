"""Batching rules of products: ``matmul`` broadcasts over leading axes; the others
are written as one ``einsum`` with a letter for the batch axis."""
import string

import numpy as np

from ..._machinery.registry import defbatch
from ._helpers import aligned, call, pad, rank, shape


def _letters(n, taken=""):
    free = [c for c in string.ascii_letters if c not in taken]
    return "".join(free[:n])


def _einsum_of(batched, subscripts, out, operands):
    """``einsum`` of one example's ``subscripts -> out``, batched operands with a batch letter."""
    z = _letters(1, "".join(subscripts) + out)
    subs = [z + s if b else s for s, b in zip(subscripts, batched)]
    return call("numpy.einsum", ",".join(subs) + "->" + z + out, *operands)


def _flat(size, a, b):
    if b:
        return call("numpy.reshape", a, (size, int(np.prod(shape(a)[1:], dtype=np.int64))))
    return call("numpy.ravel", a)


def _matmul(size, batched, a, b, **kwargs):
    (ba, bb), ra, rb = batched, rank(a, batched[0]), rank(b, batched[1])
    if ra == 0 or rb == 0:
        raise ValueError("matmul: an operand of one example is 0-d (use * to multiply by a scalar)")
    squeeze = []
    if ba and ra == 1:  # a row, removed from the result (-2, or -1 if b is a vector)
        a, ra = call("numpy.expand_dims", a, -2), 2
        squeeze.append(-2 if rb > 1 or bb else -1)
    if bb and rb == 1:
        b, rb = call("numpy.expand_dims", b, -1), 2
        squeeze.append(-1)
    top = max(ra, rb)
    a = pad(a, ra, top) if ba else a
    b = pad(b, rb, top) if bb else b
    out = call("numpy.matmul", a, b, **kwargs)
    return call("numpy.squeeze", out, tuple(squeeze)) if squeeze else out


def _dot(size, batched, a, b):
    ra, rb = rank(a, batched[0]), rank(b, batched[1])
    if ra == 0 or rb == 0:
        return call("numpy.multiply", *aligned(batched, (a, b)))
    sa = _letters(ra)
    rest = _letters(rb - 1, sa)
    sb = rest[:-1] + sa[-1] + rest[-1:] if rb > 1 else sa[-1]
    return _einsum_of(batched, (sa, sb), sa[:-1] + (rest[:-1] + rest[-1:] if rb > 1 else ""),
                      (a, b))


def _inner(size, batched, a, b):
    ra, rb = rank(a, batched[0]), rank(b, batched[1])
    if ra == 0 or rb == 0:
        return call("numpy.multiply", *aligned(batched, (a, b)))
    sa = _letters(ra)
    sb = _letters(rb - 1, sa) + sa[-1]
    return _einsum_of(batched, (sa, sb), sa[:-1] + sb[:-1], (a, b))


def _outer(size, batched, a, b):
    a, b = (_flat(size, v, f) for v, f in zip((a, b), batched))
    return _einsum_of(batched, ("i", "j"), "ij", (a, b))


def _vdot(size, batched, a, b):
    a, b = (_flat(size, v, f) for v, f in zip((a, b), batched))
    return _einsum_of(batched, ("i", "i"), "", (call("numpy.conj", a), b))


def _tensordot(size, batched, a, b, axes=2):
    ra, rb = rank(a, batched[0]), rank(b, batched[1])
    if np.ndim(axes) == 0:
        axes_a, axes_b = list(range(ra - axes, ra)), list(range(axes))
    else:
        axes_a, axes_b = ([x] if np.ndim(x) == 0 else list(x) for x in axes)
    axes_a = [x % ra for x in axes_a]
    axes_b = [x % rb for x in axes_b]
    sa = _letters(ra)
    free = iter(_letters(rb, sa))
    sb = "".join(sa[axes_a[axes_b.index(k)]] if k in axes_b else next(free) for k in range(rb))
    out = "".join(c for k, c in enumerate(sa) if k not in axes_a) + \
        "".join(c for k, c in enumerate(sb) if k not in axes_b)
    return _einsum_of(batched, (sa, sb), out, (a, b))


def _einsum(size, batched, subscripts, *operands, **kwargs):
    if not isinstance(subscripts, str) or batched[0]:
        return NotImplemented  # the (operand, sublist) form
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, out = subscripts.partition("->")
    inputs = inputs.split(",")
    if not arrow:
        letters = "".join(inputs).replace(".", "")
        out = ("..." if "..." in subscripts else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    z = _letters(1, subscripts)
    subs = [z + s if b else s for s, b in zip(inputs, batched[1:])]
    return call("numpy.einsum", ",".join(subs) + "->" + z + out, *operands, **kwargs)


for _key, _rule in {"matmul": _matmul, "dot": _dot, "inner": _inner, "outer": _outer,
                    "vdot": _vdot, "tensordot": _tensordot, "einsum": _einsum}.items():
    defbatch("numpy." + _key, _rule)
