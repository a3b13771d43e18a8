"""Sphinx configuration of udiff's documentation site.

Build it from a checkout with
``uv run --group docs sphinx-build -W -b html docs docs/_build/html``:
warnings are errors, and every notebook in ``notebooks/`` is executed (a cell
that raises fails the build).  The notebooks live in the repository's top-level
``notebooks/`` folder; each build copies that folder to ``docs/notebooks`` (ignored
by git, read-only: edit ``notebooks/``), since Sphinx wants its documents inside its
source directory.  (A link would not do: Sphinx resolves links to the files they
point to, outside the source directory, and then finds no document for the pages'
links to the notebooks.)

Nothing here needs the network: there is no intersphinx (it would fetch the other
projects' inventories); the links to NumPy's reference are plain URLs.
"""
import os
import pathlib
import re
import shutil
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _copy_notebooks(source=ROOT / "notebooks", copy=ROOT / "docs" / "notebooks"):
    """Make ``copy`` a fresh copy of ``source``, its files read-only.

    Files keep their modification times, so that an incremental build rereads only
    the notebooks that changed; a notebook deleted from ``source`` leaves the site.
    A writable file in ``copy`` was not made by a build (the notebooks lived there
    before): the build stops rather than delete it.
    """
    if copy.is_symlink() or copy.is_file():
        copy.unlink()
    elif copy.exists():
        edited = [p.name for p in copy.rglob("*") if p.is_file() and p.stat().st_mode & 0o222]
        if edited:
            raise RuntimeError(
                f"docs/notebooks holds files a build did not copy there: {edited}; the "
                "notebooks live in notebooks/ now: move your changes there, then delete "
                "docs/notebooks")
        shutil.rmtree(copy)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in copy.iterdir():
        path.chmod(0o444)


_copy_notebooks()
# The checkout's udiff, for autodoc and for the kernels that run the notebooks.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

# The package's metadata, so that the site shows the version it documents.
_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_URLS = {k.lower(): v for k, v in _PROJECT.get("urls", {}).items()}
REPOSITORY = next((_URLS[k] for k in ("repository", "source", "homepage") if k in _URLS), None)

project = "udiff"
author = "the udiff developers"
copyright = "2020-2026, the udiff developers"
release = version = _PROJECT["version"]

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    # [source] links to the highlighted code of udiff's modules, in the site itself.
    "sphinx.ext.viewcode",
    "numpydoc",
    # MathJax 3 copied into the site: formulas render without a CDN (offline, on clusters).
    "sphinx-mathjax-offline",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "anchor_coverage.json"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}

# MyST: $math$, ::: fences, and #anchors for headings (the pages link to them).
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# MyST-NB: run every notebook on every build, and fail the build on an error.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_merge_streams = True

# numpydoc renders the docstrings; the API pages list the members themselves.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
autodoc_default_options = {"member-order": "bysource"}
autosummary_generate = False

html_theme = "pydata_sphinx_theme"
html_title = f"udiff {release}"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright", "project-links"],
    "footer_end": ["sphinx-version"],
    "icon_links": [{"name": "Repository", "url": REPOSITORY, "icon": "fa-brands fa-git-alt"}]
    if REPOSITORY else [],
}
# The footer's links: the version, the changelog, the licence and (when pyproject.toml
# names it under [project.urls]) the repository.
templates_path = ["_templates"]
_LICENSE = _PROJECT.get("license", "")  # {text = "..."}, or PEP 639's plain string
html_context = {"udiff_license": _LICENSE.get("text", "") if isinstance(_LICENSE, dict) else _LICENSE,
                "udiff_repository": REPOSITORY}
html_static_path = []
# Pages without sub-pages need no section navigation: their wide tables get the room.
html_sidebars = {page: [] for page in ("conventions", "coverage", "dask", "design", "benchmarks",
                                        "changelog", "license")}


def _module_sections_as_rubrics(app, what, name, obj, options, lines):
    """Show a module docstring's numpydoc sections ("Examples" underlined) as rubrics.

    numpydoc leaves a module's sections as document sections, so two modules on
    one page (or a module beside a function) would give two targets named
    ``examples``; functions' sections are rubrics already.
    """
    if what != "module":
        return
    for i in range(len(lines) - 1):
        title, rule = lines[i].strip(), lines[i + 1].strip()
        if title and rule and set(rule) == {"-"} and len(rule) == len(title):
            lines[i], lines[i + 1] = f".. rubric:: {title}", ""


NUMPY_DOCS = "https://numpy.org/doc/stable/reference/"
# udiff.numpy's names that are not NumPy functions: where NumPy documents them.
_NUMPY_PAGES = {
    "dtype": "generated/numpy.dtype.html", "errstate": "generated/numpy.errstate.html",
    "pi": "constants.html#numpy.pi", "e": "constants.html#numpy.e",
    "inf": "constants.html#numpy.inf", "nan": "constants.html#numpy.nan",
    "newaxis": "constants.html#numpy.newaxis",
}
# NumPy's constants are floats (and None): their docstrings are Python's.
_CONSTANTS = {
    "pi": "The constant π.", "e": "Euler's number, the base of natural logarithms.",
    "inf": "Positive infinity (IEEE 754).", "nan": "Not a number (IEEE 754).",
    "newaxis": "None: an index that adds an axis of length one.",
}


def _plain(text):
    """``text`` without reStructuredText markup (roles, literals, emphasis)."""
    text = re.sub(r":[\w:.-]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`", r"\1", text)
    text = re.sub(r"`+([^`]*)`+_?", r"\1", text)
    return re.sub(r"\*+([^*]+)\*+", r"\1", " ".join(text.split()))


def _summary(doc):
    """The first paragraph of a docstring that is not a signature (NumPy's ufuncs
    and C functions start with one), as plain text."""
    for paragraph in re.split(r"\n\s*\n", doc or ""):
        paragraph = paragraph.strip()
        if paragraph and not re.match(r"^[\w.]+\(.*\)(\s*->.*|\s*--)?$", paragraph, re.S):
            return re.split(r"(?<=[a-z)])\.\s+(?=[A-Z])", _plain(paragraph))[0].rstrip(".") + "."
    return ""


def numpy_functions(module_name):
    """``(name, url, summary)`` for every public name of ``module_name`` (``udiff.numpy``,
    ``udiff.numpy.linalg``...): NumPy's page and NumPy's one-line description of the
    object NumPy has under the same name in the same module."""
    import importlib

    import numpy

    module = importlib.import_module(module_name)
    numpy_module = numpy
    for part in module_name.split(".")[2:]:
        numpy_module = getattr(numpy_module, part)
    prefix = numpy_module.__name__
    for name in module.__all__:
        ours, theirs = getattr(module, name), getattr(numpy_module, name, None)
        if name in _NUMPY_PAGES and numpy_module is numpy:
            summary = _CONSTANTS.get(name) or _summary(theirs.__doc__)
            yield name, NUMPY_DOCS + _NUMPY_PAGES[name], summary
            continue
        if isinstance(ours, type) and ours is not theirs:  # udiff's own types
            yield name, None, _summary(ours.__doc__)
            continue
        if theirs is None:  # NumPy 2 removed it; udiff keeps it
            yield name, None, f"{_summary(ours.__doc__)} Not in NumPy {numpy.__version__}."
            continue
        canonical = getattr(theirs, "__name__", name)
        if getattr(numpy_module, canonical, None) is not theirs:
            canonical = name
        summary = _summary(theirs.__doc__) or _summary(ours.__doc__)
        if canonical != name:
            summary = f"{summary} Another name for {canonical}."
        yield name, f"{NUMPY_DOCS}generated/{prefix}.{canonical}.html", summary


def _numpy_functions_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class NumpyFunctions(SphinxDirective):
        """``numpy-functions MODULE``: a table of MODULE's public names, each linked to
        NumPy's reference, with NumPy's one-line description; made from the module
        itself at build time, so that it lists what the module has."""

        required_arguments = 1

        def run(self):
            rows = list(numpy_functions(self.arguments[0]))
            table, group = nodes.table(classes=["numpy-functions"]), nodes.tgroup(cols=2)
            table += group
            group += [nodes.colspec(colwidth=1), nodes.colspec(colwidth=4)]
            head, body = nodes.thead(), nodes.tbody()
            group += [head, body]
            head += nodes.row("", *(nodes.entry("", nodes.paragraph(text=t))
                                    for t in ("name", "NumPy's description")))
            for name, url, summary in rows:
                cell = nodes.paragraph()
                literal = nodes.literal(text=name)
                cell += nodes.reference("", "", literal, refuri=url) if url else literal
                body += nodes.row("", nodes.entry("", cell),
                                  nodes.entry("", nodes.paragraph(text=summary)))
            return [table]

    return NumpyFunctions


def setup(app):
    app.connect("autodoc-process-docstring", _module_sections_as_rubrics, priority=400)
    app.add_directive("numpy-functions", _numpy_functions_directive())
