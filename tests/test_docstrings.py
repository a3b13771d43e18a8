"""The API reference is complete: every public name has a numpydoc docstring
with its Parameters (each parameter of its signature, and nothing else, so
that no prose paragraph renders as a fake parameter), its Returns (unless it
only registers something) and Examples, and those examples are collected by
``--doctest-modules`` (pyproject.toml), which runs them.

Public names: ``udiff.__all__`` (``udiff.testing``'s names for the module),
the members the API pages list (``:members:``), the functions of
``udiff.scipy.special``, and ``udiff.scipy.stats``'s distributions with
their public methods.
"""
import doctest
import importlib
import inspect
import pathlib
import pkgutil
import re

import pytest

import udiff
import udiff.scipy.integrate
import udiff.scipy.linalg
import udiff.scipy.signal
import udiff.scipy.special
import udiff.scipy.stats
import udiff.testing

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs" / "api"

# Callables that only register something and return None: no Returns section
# (their docstrings say that they only register).
REGISTERS = {
    "udiff.defvjp": "records VJP rules in the table the reverse sweeps read",
    "udiff.defjvp": "records JVP rules in the table the forward sweeps read",
    "udiff.defnondiff": "records functions whose results are constants",
    "udiff.defcomposite": "records functions differentiated through their defaults",
    "udiff.defbatch": "records a batching rule for vmap",
    "udiff.register_pytree_node": "records a container class",
    "udiff.custom_vjp.defvjp": "stores the rule on the custom function",
}

# Classes whose instances udiff makes (users never call the constructor): no
# Parameters section; what they hold is documented as Attributes or members.
MADE_BY_UDIFF = {
    "udiff.DiffArray": "made by udiff.numpy's functions under DiffArrayBackend",
    "udiff.GraphNode": "records made by udiff.graph",
    "udiff.GraphEdge": "records made by udiff.graph",
    "udiff.BatchingFallbackWarning": "a warning udiff issues",
}

_HEADER = re.compile(r"^(\w[\w ]*)\n-{3,}$", re.M)


def _documented_members():
    """``{class name: [member, ...]}`` from the API pages' ``:members:`` options."""
    members = {}
    for page in DOCS.glob("*.md"):
        for name, listed in re.findall(r"^\.\. autoclass:: (\S+)\n   :members: (.*)$",
                                       page.read_text(), re.M):
            members[name] = [m.strip() for m in listed.split(",")]
    return members


def _public():
    """``(qualified name, object)`` of every public name, classes' documented members after
    their class."""
    members = _documented_members()
    for name in udiff.__all__:
        if name == "testing":
            for sub in udiff.testing.__all__:
                yield f"udiff.testing.{sub}", getattr(udiff.testing, sub)
            continue
        obj = getattr(udiff, name)
        yield f"udiff.{name}", obj
        for member in members.get(name, ()):
            yield f"udiff.{name}.{member}", inspect.getattr_static(obj, member)
    for name in udiff.scipy.special.__all__:
        yield f"udiff.scipy.special.{name}", getattr(udiff.scipy.special, name)
    for module in (udiff.scipy.linalg, udiff.scipy.signal, udiff.scipy.integrate):
        for name in module.__all__:
            yield f"{module.__name__}.{name}", getattr(module, name)
    for name in udiff.scipy.stats.__all__:
        dist = getattr(udiff.scipy.stats, name)
        yield f"udiff.scipy.stats.{name}", dist
        for method in dir(dist):
            if not method.startswith("_") and callable(getattr(dist, method)):
                yield f"udiff.scipy.stats.{name}.{method}", getattr(dist, method)


PUBLIC = list(_public())


def _doc(obj):
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return inspect.getdoc(obj) or ""


def _sections(doc):
    """``{section title: its text}`` of a numpydoc docstring."""
    found = list(_HEADER.finditer(doc))
    return {m.group(1): doc[m.end():found[i + 1].start() if i + 1 < len(found) else None]
            for i, m in enumerate(found)}


def _entries(section):
    """The names of a Parameters/Attributes section's entries (lines at its indentation)."""
    names = []
    for line in section.strip("\n").splitlines():
        if line and not line[0].isspace():
            names.extend(n.strip() for n in line.split(" : ")[0].split(","))
    return names


def _signature_names(obj):
    """The parameters a caller passes, as numpydoc names them (``*args``, ``**kwargs``)."""
    prefix = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    names = [prefix.get(p.kind, "") + p.name for p in inspect.signature(obj).parameters.values()]
    return names[1:] if names[:1] == ["self"] else names  # a method, taken from its class


def _kind(name, obj):
    if isinstance(obj, property) or type(obj).__name__ == "member_descriptor":
        return "attribute"  # a property, or a slot (documented by a dict of __slots__)
    if inspect.isclass(obj):
        return "class"
    if inspect.ismodule(obj) or name in ("udiff.numpy_backend", "udiff.dask_backend",
                                         "udiff.cupy_backend") or \
            (name.startswith("udiff.scipy.stats.") and name.count(".") == 3):
        return "object"  # a module, an inner backend, a distribution: its methods are checked
    return "callable"


def _problems(name, obj):
    doc, kind = _doc(obj), _kind(name, obj)
    if not doc.strip():
        return ["no docstring"]
    if kind == "attribute":
        return []
    sections, problems = _sections(doc), []
    examples = sections.get("Examples", "")
    if ">>>" not in examples:
        problems.append("no Examples section with a >>> example")
    if kind == "object" or name in MADE_BY_UDIFF:
        return problems
    params = _signature_names(obj)
    if params:
        if "Parameters" not in sections:
            problems.append("no Parameters section")
        else:
            entries = _entries(sections["Parameters"])
            missing = [p for p in params if p not in entries]
            extra = [e for e in entries if e not in params]
            if missing:
                problems.append(f"Parameters does not describe {missing}")
            if extra:
                problems.append(f"Parameters has entries that are not parameters (prose "
                                f"belongs in the summary or Notes): {extra}")
    if kind == "callable" and name not in REGISTERS and "Returns" not in sections \
            and "Yields" not in sections:
        problems.append("no Returns section")
    return problems


def test_the_walk_covers_every_public_name():
    names = {name for name, _ in PUBLIC}
    assert len(udiff.scipy.special.__all__) >= 40
    assert {f"udiff.{n}" for n in udiff.__all__ if n != "testing"} <= names
    assert "udiff.scipy.stats.poisson.logpmf" in names and "udiff.DiffArray.to" in names
    assert set(REGISTERS) <= names and set(MADE_BY_UDIFF) <= names


def test_every_public_name_has_parameters_returns_and_examples():
    incomplete = {name: problems for name, obj in PUBLIC if (problems := _problems(name, obj))}
    assert not incomplete, "docstrings without what the API reference needs:\n" + "\n".join(
        f"  {name}: {'; '.join(problems)}" for name, problems in sorted(incomplete.items()))


def _collected_docstrings():
    """The docstrings whose examples ``pytest --doctest-modules`` runs over udiff/ (doctest's
    finder: module, classes, functions, methods, and each module's ``__test__``)."""
    finder, found = doctest.DocTestFinder(), set()
    modules = [udiff] + [importlib.import_module(m.name)
                         for m in pkgutil.walk_packages(udiff.__path__, "udiff.")]
    for module in modules:
        for test in finder.find(module):
            if test.examples:
                found.add(inspect.cleandoc(test.docstring))
    return found


def test_every_example_is_run_by_the_doctests():
    # pyproject.toml: testpaths include udiff/ and addopts --doctest-modules, so the
    # examples of every docstring doctest's finder reaches run with the suite.
    collected = _collected_docstrings()
    unrun = sorted(name for name, obj in PUBLIC
                   if ">>>" in _doc(obj) and _doc(obj) not in collected)
    assert not unrun, f"examples that --doctest-modules does not collect: {unrun}"


def test_the_suite_runs_doctests_over_udiff():
    text = (DOCS.parent.parent / "pyproject.toml").read_text()
    assert re.search(r'^testpaths = \[.*"udiff".*\]', text, re.M)
    assert re.search(r'^addopts = ".*--doctest-modules', text, re.M)


@pytest.mark.parametrize("name", udiff.scipy.special.__all__)
def test_special_functions_have_signatures_naming_their_differentiable_arguments(name):
    func = getattr(udiff.scipy.special, name)
    params = _signature_names(func)
    assert params[0] in ("a", "b", "n", "v", "x", "y", "z")
    parameters = _sections(_doc(func))["Parameters"]
    assert "Differentiable." in parameters or name == "gammasgn"


def test_diffarray_documents_value_and_hides_its_constructor():
    assert str(inspect.signature(udiff.DiffArray)) == "()"
    assert "inner array" in inspect.getdoc(udiff.DiffArray.value)
