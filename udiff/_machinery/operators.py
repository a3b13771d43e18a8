"""Python's operators on udiff's array classes, as calls of the ufuncs they stand for."""

# Python's operators and the ufuncs they stand for, one table for every array class.
_BINARY_OPERATORS = [
    ("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "true_divide"),
    ("floordiv", "floor_divide"), ("matmul", "matmul"), ("mod", "remainder"),
    ("pow", "power"), ("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
    ("lshift", "left_shift"), ("rshift", "right_shift"), ("divmod", "divmod"),
]
_COMPARISONS = [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]
_UNARY_OPERATORS = [("neg", "negative"), ("pos", "positive"), ("abs", "absolute"),
                    ("invert", "invert")]


def define_operators(cls, run):
    """Give ``cls`` Python's operators: ``a + b`` calls ``run("numpy.add", (a, b), {})``
    (``run`` is the dispatch point, :func:`udiff._machinery.dispatch.bind`, called
    directly: operators are the hottest path there is)."""

    def binary(key, reflected):
        if reflected:
            return lambda self, other: run(key, (other, self), {})
        return lambda self, other: run(key, (self, other), {})

    for name, ufunc in _BINARY_OPERATORS:
        setattr(cls, f"__{name}__", binary("numpy." + ufunc, False))
        if name != "divmod":
            setattr(cls, f"__r{name}__", binary("numpy." + ufunc, True))
    for name, ufunc in _COMPARISONS:
        setattr(cls, f"__{name}__", binary("numpy." + ufunc, False))
    for name, ufunc in _UNARY_OPERATORS:
        setattr(cls, f"__{name}__", (lambda key: lambda self: run(key, (self,), {}))(
            "numpy." + ufunc))
