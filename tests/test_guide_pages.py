"""The guide's pages run as written.

Each page's ```` ```python ```` blocks run top to bottom in one fresh
interpreter (a subprocess per page, BLAS on one thread, Dask's synchronous
scheduler), as a reader copying them into a new session would run them.
Conventions of the pages:

* only ```` ```python ```` fences run; shell commands are ```` ```bash ````
  or ```` ```console ````, outputs and other text ```` ```text ````;
* a ```` ```text ```` block that directly follows a ```` ```python ```` block
  (nothing but blank lines between) is that block's expected standard
  output, compared as doctest compares (``...`` matches anything, runs of
  whitespace are equal);
* a block that uses CuPy runs only where CuPy and a GPU are present: elsewhere
  it is its own test, skipped with the reason, and the page's other blocks
  run without it.

A failing block is reported with its page and line: its code is compiled
under the name ``page.md:LINE``, so the traceback points into the page.
"""
import doctest
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# Every page a user reads as a guide.  dask.md is left out: its examples are
# sized for a cluster (10**7 rows, a scheduler's address), and the tests of
# tests/test_dask_scale.py check what it says.
PAGES = sorted(
    [p.relative_to(DOCS).as_posix() for p in (DOCS / "guide").glob("*.md")]
    + ["index.md", "conventions.md", "glossary.md"]
)
PAGES = [p for p in PAGES if (DOCS / p).exists()]
MAX_LINE = 88
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+|~~~+)\s*(?P<info>[^\s`]*)[^\n]*$")
CUPY = re.compile(r"^[^#\n]*\bcupy", re.MULTILINE)


def blocks(page):
    """The page's fenced blocks, as dicts: language, code, first code line."""
    found, lines, i = [], (DOCS / page).read_text().splitlines(), 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start, body = m["fence"], i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        found.append({"lang": m["info"], "code": textwrap.dedent("\n".join(body)) + "\n",
                      "line": start + 1, "end": i + 1})
        i += 1
    return found


def python_blocks(page):
    """The page's python blocks, each with the text block that shows its output."""
    all_blocks, text = blocks(page), (DOCS / page).read_text().splitlines()
    result = []
    for k, b in enumerate(all_blocks):
        if b["lang"] != "python":
            continue
        b = dict(b, expected=None, gpu=bool(CUPY.search(b["code"])))
        nxt = all_blocks[k + 1] if k + 1 < len(all_blocks) else None
        if (nxt is not None and nxt["lang"] == "text"
                and all(not ln.strip() for ln in text[b["end"]:nxt["line"] - 2])):
            b["expected"] = nxt["code"]
        result.append(b)
    return result


DRIVER = r"""
import contextlib, io, json, sys, traceback
blocks, page = json.load(sys.stdin), sys.argv[1]
namespace, results = {"__name__": "__main__"}, []
for b in blocks:
    out = io.StringIO()
    try:
        code = compile(b["code"], f"{page}:{b['line']}", "exec")
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
    except BaseException:
        results.append({"line": b["line"], "stdout": out.getvalue(),
                        "error": traceback.format_exc()})
        break
    results.append({"line": b["line"], "stdout": out.getvalue(), "error": None})
sys.stdout.write("\n@@RESULTS@@" + json.dumps(results))
"""


def gpu_missing():
    """Why CuPy blocks cannot run here, or None where they can."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed"
    try:
        if cupy.cuda.runtime.getDeviceCount() > 0:
            return None
    except Exception as error:  # CUDA's runtime raises when there is no driver
        return f"CuPy finds no GPU ({error})"
    return "CuPy finds no GPU"


def run_page(page, chosen):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1", DASK_SCHEDULER="synchronous", MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", DRIVER, page], input=json.dumps(chosen),
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if "@@RESULTS@@" not in proc.stdout:
        pytest.fail(f"{page}: the interpreter died\n{proc.stdout}\n{proc.stderr}")
    results = json.loads(proc.stdout.rsplit("@@RESULTS@@", 1)[1])
    checker, flags = doctest.OutputChecker(), doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for b, r in zip(chosen, results):
        where = f"{page}, the block at line {b['line']}"
        if r["error"]:
            pytest.fail(f"{where} raised:\n{r['error']}\nits output:\n{r['stdout']}")
        if b["expected"] is not None and not checker.check_output(b["expected"], r["stdout"], flags):
            pytest.fail(f"{where} printed\n{r['stdout']}\nbut the page shows\n{b['expected']}")
    assert len(results) == len(chosen)


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(p)])
def test_page_runs_as_written(page):
    """The page's blocks, in order, in one interpreter; CuPy blocks only on a GPU."""
    gpu = gpu_missing() is None
    run_page(page, [b for b in python_blocks(page) if not b["gpu"] or gpu])


GPU_BLOCKS = [(page, b["line"]) for page in PAGES for b in python_blocks(page) if b["gpu"]]


@pytest.mark.parametrize("page, line", GPU_BLOCKS)
def test_gpu_block_runs_as_written(page, line):
    why = gpu_missing()
    if why is not None:
        pytest.skip(f"{page}:{line} runs on CuPy and a GPU: {why}")
    all_blocks = python_blocks(page)
    run_page(page, [b for b in all_blocks if b["line"] <= line])


@pytest.mark.parametrize("page", PAGES)
def test_code_lines_fit_the_column(page):
    long = [f"{page}:{b['line'] + k}: {len(ln)} characters"
            for b in blocks(page) if b["lang"] in ("python", "bash", "console", "text")
            for k, ln in enumerate(b["code"].splitlines()) if len(ln) > MAX_LINE]
    assert not long, "\n".join(long)


@pytest.mark.parametrize("page", PAGES)
def test_pages_mark_their_blocks(page):
    """Every fence says what it holds: python runs, the others are named."""
    unnamed = [f"{page}:{b['line'] - 1}" for b in blocks(page) if not b["lang"]]
    assert not unnamed, "fences without a language: " + ", ".join(unnamed)
