"""The documentation stays true: the API reference names every public name,
the notebooks are committed without outputs and are all in the site, no
notebook asserts on a wall-clock time, the README's example prints what its
comments say, and CI builds the site with README's command.  (The site
itself is built, notebooks executed, by ``.ci/run``; these checks are the
cheap ones that run with the tests.)"""
import ast
import contextlib
import io
import json
import pathlib
import re

import pytest

import udiff
import udiff.scipy.integrate
import udiff.scipy.linalg
import udiff.scipy.signal
import udiff.scipy.special
import udiff.scipy.stats
import udiff.testing

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# What the API pages document: autodoc directives, ``.. data::`` and autosummary entries.
_DIRECTIVE = re.compile(r"^\.\. (?:auto)?(?:function|class|data|exception|module)::\s+(\S+)", re.M)


def _documented():
    names = set()
    for page in (DOCS / "api").glob("*.md"):
        text = page.read_text()
        modules = re.findall(r"^\.\. currentmodule::\s+(\S+)", text, re.M)
        for block in re.findall(r"^\.\. autosummary::\n((?:\n|   .*\n)+)", text, re.M):
            for entry in re.findall(r"^   (\w+)$", block, re.M):
                names.add(f"{modules[-1]}.{entry}")
        for target in _DIRECTIVE.findall(text):
            names.add(target if "." in target else f"{modules[0]}.{target}")
    return names


def _public():
    yield from (f"udiff.{n}" for n in udiff.__all__ if n != "testing")
    yield from (f"udiff.testing.{n}" for n in udiff.testing.__all__)
    yield from (f"udiff.scipy.special.{n}" for n in udiff.scipy.special.__all__)
    yield from (f"udiff.scipy.stats.{n}" for n in udiff.scipy.stats.__all__)
    yield from (f"udiff.scipy.linalg.{n}" for n in udiff.scipy.linalg.__all__)
    yield from (f"udiff.scipy.signal.{n}" for n in udiff.scipy.signal.__all__)
    yield from (f"udiff.scipy.integrate.{n}" for n in udiff.scipy.integrate.__all__)
    yield from ("udiff.testing", "udiff.numpy", "udiff.numpy.linalg", "udiff.numpy.fft",
                "udiff.scipy.special", "udiff.scipy.stats", "udiff.scipy.linalg",
                "udiff.scipy.signal", "udiff.scipy.integrate")


def test_api_reference_names_every_public_name():
    missing = sorted(set(_public()) - _documented())
    assert not missing, f"docs/api/*.md do not document: {missing}"


def test_every_public_name_has_a_docstring():
    bare = [name for name in udiff.__all__ if not (getattr(udiff, name).__doc__ or "").strip()
            and name not in ("numpy_backend", "dask_backend", "cupy_backend")]
    assert not bare, f"public names without a docstring: {bare}"


def test_there_are_the_eight_tutorials():
    assert len(NOTEBOOKS) == 8, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs_and_is_in_the_site(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    dirty = [i for i, cell in enumerate(nb["cells"])
             if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"])]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs (the docs build executes them)"
    assert f"\n{path.stem}\n" in (ROOT / "notebooks" / "index.md").read_text()


# What reads a clock: time.perf_counter(), time.time(), timeit.default_timer()...
_CLOCKS = {"perf_counter", "perf_counter_ns", "time", "time_ns", "monotonic", "monotonic_ns",
           "process_time", "timeit", "default_timer"}
# Methods that put their arguments into the object they are called on.
_FILLS = {"append", "extend", "insert", "update", "add", "setdefault"}


def _roots(target):
    """The names an assignment target binds or fills (``a``, ``a[k]``, ``a.b``, tuples)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*map(_roots, target.elts))
    if isinstance(target, (ast.Attribute, ast.Subscript, ast.Starred)):
        return _roots(target.value)
    return set()


def _reads_clock(node, timed):
    return any(isinstance(n, ast.Name) and (n.id in timed or n.id in _CLOCKS)
               or isinstance(n, ast.Attribute) and n.attr in _CLOCKS for n in ast.walk(node))


def _timed_names(trees):
    """The names that hold times: assigned or filled from a clock, from a function
    that reads one, or from another such name, followed to a fixed point.  (By
    name, not by flow: loop variables are left out, as a notebook reuses them.)"""
    timed, size = set(), -1
    while size != len(timed):
        size = len(timed)
        for node in (n for tree in trees for n in ast.walk(tree)):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None \
                    and _reads_clock(node.value, timed):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                timed |= set().union(*map(_roots, targets))
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in _FILLS \
                    and any(_reads_clock(a, timed) for a in node.args):
                timed |= _roots(node.func.value)       # times.append(...)
            elif isinstance(node, ast.FunctionDef) and _reads_clock(node, set()):
                timed.add(node.name)                    # best_time(...) returns a time
    return timed


def _asserted(tree):
    """What a cell asserts: assert statements' conditions, and calls of assert* functions."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            yield node.test
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) \
                .startswith("assert"):
            yield node


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_asserts_no_wall_clock_time(path):
    # The docs build runs every notebook on CI's busy machine, where times vary
    # too much to assert: a notebook shows its timings and asserts counts.
    cells = [(i, ast.parse("".join(cell["source"])))
             for i, cell in enumerate(json.loads(path.read_text())["cells"]) if cell["cell_type"] == "code"]
    timed = _timed_names([tree for _, tree in cells])
    bad = [f"cell {i}, line {test.lineno}: {ast.unparse(test)[:80]}"
           for i, tree in cells for test in _asserted(tree) if _reads_clock(test, timed)]
    assert not bad, f"{path.name} asserts on wall-clock times ({sorted(timed)} hold times): {bad}"


def test_readme_example_prints_what_its_comments_say():
    readme = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    expected = [line.split("# ", 1)[1].split(":")[0].strip()
                for line in code.splitlines() if line.startswith(("print", "    print"))]
    printed = out.getvalue().splitlines()
    assert [p.strip() for p in printed] == expected


def test_ci_builds_the_docs_with_the_readme_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = next(line for line in readme.splitlines() if "sphinx-build" in line)
    assert "-W" in command.split() and command in ci.splitlines()
