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
projects' inventories).
"""
import os
import pathlib
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


def setup(app):
    app.connect("autodoc-process-docstring", _module_sections_as_rubrics, priority=400)
