"""Sphinx configuration of udiff's documentation site.

Build it from a checkout with
``uv run --group docs sphinx-build -W -b html docs docs/_build/html``:
warnings are errors, and every notebook in ``notebooks/`` is executed (a cell
that raises fails the build).
"""
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The checkout's udiff, for autodoc and for the kernels that run the notebooks.
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

project = "udiff"
author = "the udiff developers"
copyright = "2020-2026, the udiff developers"
release = version = "0.1.0"

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
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
html_title = "udiff"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path = []
# Pages without sub-pages need no section navigation: their wide tables get the room.
html_sidebars = {page: [] for page in ("conventions", "coverage", "dask", "design", "benchmarks")}


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
