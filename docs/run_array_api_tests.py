"""Run the Array API standard's test-suite (data-apis/array-api-tests) on udiff.

The suite runs three times, each in one pytest process with the same ``--max-examples``
and the same Hypothesis seed:

* ``numpy``: NumPy itself, the baseline;
* ``udiff.numpy``: udiff's namespace outside any backend (its functions run on NumPy);
* ``udiff_everywhere``: udiff's namespace under a global
  ``udiff.DiffArrayBackend(udiff.numpy_backend)``, so every array the suite makes and every
  result is a :class:`udiff.DiffArray` (see :func:`everywhere`).

The suite is not on PyPI; get it, with the standard's text as its submodule, and its
requirements (into an environment with udiff installed)::

    git clone --recurse-submodules https://github.com/data-apis/array-api-tests /tmp/aat-src
    python -m pip install -r /tmp/aat-src/requirements.txt
    python -m pip install -e .

then, from the repository root::

    python docs/run_array_api_tests.py --suite /tmp/aat-src --max-examples 20

It writes one JUnit XML file per run under ``--out`` and prints a Markdown table of the
per-file counts, and the tests that pass on NumPy but fail on each udiff variant.
``--report-only`` prints the table again from the XML files of an earlier run, and
``--write-docs docs/coverage.md`` writes the section "The Array API test-suite" of that page
(with ``--report-only``: from the earlier run; give its ``--max-examples`` and ``--seed``).
"""
import argparse
import collections
import os
import pathlib
import shutil
import subprocess
import sys
import time
import types
import xml.etree.ElementTree as ET

HERE = pathlib.Path(__file__).resolve().parent
# The standard's version the suite checks (the one NumPy 2 implements).
API_VERSION = "2024.12"
# The namespaces, as the suite's ARRAY_API_TESTS_MODULE names them.
VARIANTS = {
    "numpy": "numpy",
    "udiff.numpy": "udiff.numpy",
    "udiff_everywhere": ("exec('import run_array_api_tests as r; xp = r.everywhere()')"),
}


def everywhere():
    """udiff's namespace with a global DiffArray backend: every function returns DiffArrays.

    Sets ``udiff.DiffArrayBackend(udiff.numpy_backend)`` as uarray's global backend for
    the ``numpy`` domain (with ``coerce=True``, so Python scalars, lists and NumPy arrays
    become DiffArrays) and returns a module ``udiff_everywhere`` with ``udiff.numpy``'s
    names, ``linalg`` and ``fft`` included.  Even creation functions (``asarray``,
    ``arange``, ``zeros``) give DiffArrays then.  The global backend stays for the rest of
    the process: this is for running the test-suite, not for library code.

    Returns
    -------
    types.ModuleType
        The namespace, also in ``sys.modules["udiff_everywhere"]``.

    Examples
    --------
    >>> import subprocess, sys
    >>> code = ("import run_array_api_tests as r; xp = r.everywhere(); "
    ...         "print(type(xp.arange(3)).__name__, type(xp.linalg.inv(xp.eye(2))).__name__)")
    >>> out = subprocess.run([sys.executable, "-c", code], cwd=str(HERE), capture_output=True,
    ...                      text=True, check=True)
    >>> print(out.stdout.strip())
    DiffArray DiffArray
    """
    import uarray as ua

    import udiff
    import udiff.numpy as unp

    ua.set_global_backend(udiff.DiffArrayBackend(udiff.numpy_backend), coerce=True)
    module = types.ModuleType("udiff_everywhere", everywhere.__doc__.split("\n")[0])
    names = set(unp.__all__) | {"linalg", "fft", "__array_namespace_info__"}
    names |= {n for n in ("__array_api_version__",) if hasattr(unp, n)}
    module.__dict__.update({name: getattr(unp, name) for name in names})
    module.__all__ = sorted(unp.__all__)
    sys.modules["udiff_everywhere"] = module
    return module


def run(variant, suite, out, max_examples, seed, python=sys.executable, extra=()):
    """Run the suite once on ``variant`` (a key of ``VARIANTS``); the JUnit XML file's path.

    Examples
    --------
    >>> sorted(VARIANTS)
    ['numpy', 'udiff.numpy', 'udiff_everywhere']
    """
    out.mkdir(parents=True, exist_ok=True)
    xml = out / f"{variant}.xml"
    # A fresh Hypothesis database each run: no run replays another's failing examples.
    db = out / f"hypothesis-{variant}"
    shutil.rmtree(db, ignore_errors=True)
    env = dict(os.environ, ARRAY_API_TESTS_MODULE=VARIANTS[variant],
               ARRAY_API_TESTS_VERSION=API_VERSION, HYPOTHESIS_STORAGE_DIRECTORY=str(db),
               PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])))
    cmd = ["nice", "-n", "10", python, "-m", "pytest", "array_api_tests", "-q",
           "-p", "no:cacheprovider", f"--max-examples={max_examples}",
           f"--hypothesis-seed={seed}", "--disable-deadline", f"--junitxml={xml}", *extra]
    print(f"$ ARRAY_API_TESTS_MODULE={VARIANTS[variant]!r} " + " ".join(cmd), file=sys.stderr)
    start = time.monotonic()
    with open(out / f"{variant}.log", "w") as log:
        subprocess.run(cmd, cwd=suite, env=env, stdout=log, stderr=subprocess.STDOUT)
    print(f"  {variant}: {time.monotonic() - start:.0f} s", file=sys.stderr)
    return xml


def outcomes(xml):
    """``{test id: "passed" | "failed" | "skipped" | "error"}`` from a JUnit XML file.

    Examples
    --------
    >>> import tempfile
    >>> text = ('<testsuites><testsuite><testcase classname="array_api_tests.test_a" '
    ...         'name="test_x"/><testcase classname="array_api_tests.test_a" name="test_y">'
    ...         '<skipped/></testcase></testsuite></testsuites>')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "a.xml"
    ...     _ = p.write_text(text)
    ...     print(outcomes(p))
    {'test_a.py::test_x': 'passed', 'test_a.py::test_y': 'skipped'}
    """
    result = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        parts = case.get("classname").split(".")
        i = next(i for i, p in enumerate(parts) if p.startswith("test_"))
        test_id = "::".join([parts[i] + ".py", *parts[i + 1:], case.get("name")])
        status = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                status = "error" if child.tag == "error" and status != "failed" else "failed"
            elif child.tag == "skipped":
                status = "skipped" if child.get("type") != "pytest.xfail" else "xfailed"
        result[test_id] = status
    return result


def table(results):
    """The Markdown table: per file, passed/failed/skipped of each run (errors count as
    failed), and a total row.

    Examples
    --------
    >>> print(table({"numpy": {"test_a.py::t": "passed"}, "x": {"test_a.py::t": "failed"}}))
    | file | numpy passed | numpy failed | numpy skipped | x passed | x failed | x skipped |
    |---|---|---|---|---|---|---|
    | `test_a.py` | 1 | 0 | 0 | 0 | 1 | 0 |
    | **total** | 1 | 0 | 0 | 0 | 1 | 0 |
    """
    names = list(results)
    counts = {n: collections.defaultdict(collections.Counter) for n in names}
    for n, res in results.items():
        for test_id, status in res.items():
            status = {"error": "failed", "xfailed": "skipped"}.get(status, status)
            counts[n][test_id.split("::")[0]][status] += 1
    files = sorted({f for n in names for f in counts[n]})
    head = ["file"] + [f"{n} {s}" for n in names for s in ("passed", "failed", "skipped")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    total = {n: collections.Counter() for n in names}
    for f in files:
        row = [f"`{f}`"]
        for n in names:
            c = counts[n][f]
            total[n].update(c)
            row += [str(c[s]) for s in ("passed", "failed", "skipped")]
        lines.append("| " + " | ".join(row) + " |")
    row = ["**total**"] + [str(total[n][s]) for n in names for s in ("passed", "failed", "skipped")]
    lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def regressions(baseline, other):
    """The tests that pass on ``baseline`` and do not pass on ``other``, sorted.

    Examples
    --------
    >>> regressions({"a": "passed", "b": "passed", "c": "failed"}, {"a": "failed", "b": "passed"})
    ['a']
    """
    return sorted(t for t, s in baseline.items()
                  if s == "passed" and other.get(t, "missing") not in ("passed",))


# Why a test that passes on NumPy fails on a udiff variant, by a substring of its id: the
# triage of the last run (see docs/coverage.md).  A failure none of these match is listed
# as "not triaged".
_EXAMPLE = ("; this test draws its one input with Hypothesis's `.example()`, which "
            "`--hypothesis-seed` does not fix, and NumPy's run drew another input")
REASONS = {
    "test_special_cases.py::test_unary[expm1((real(x_i) is +0 or real(x_i) == -0) and "
    "imag(x_i) is +0)": "NumPy's own `expm1` gives `-0+0j` for `-0+0j` too (udiff runs "
                        "it)" + _EXAMPLE,
    "test_special_cases.py::test_unary[tanh(real(x_i) is +infinity and isfinite(imag(x_i)) "
    "and imag(x_i) > 0)": "NumPy's own `tanh` gives `1-0j` for `inf+yj` where `sin(2y) < "
                          "0` (udiff runs it)" + _EXAMPLE,
}

SECTION = "## The Array API test-suite"


def _versions(suite, python):
    """The suite's commit and the versions of NumPy and Hypothesis the runs used."""
    commit = subprocess.run(["git", "-C", str(suite), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    code = "import numpy, hypothesis; print(numpy.__version__, hypothesis.__version__)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.split()
    return commit, *(out or ["unknown", "unknown"])


def section(results, max_examples, seed, versions):
    """The Markdown section of docs/coverage.md on the test-suite: how to run it, the
    per-file table and the failures on DiffArrays that NumPy does not have.

    Examples
    --------
    >>> text = section({"numpy": {"test_a.py::t": "passed"},
    ...                 "udiff_everywhere": {"test_a.py::t": "passed"}}, 20, 0, ("abc", "2", "6"))
    >>> text.splitlines()[0], "- none" in text
    ('## The Array API test-suite', True)
    """
    commit, numpy_version, hypothesis_version = versions
    lines = [
        SECTION,
        "",
        "This section is written by `python docs/run_array_api_tests.py --write-docs "
        "docs/coverage.md` (after `docs/make_coverage.py`, which writes the rest of the page).",
        "",
        "The Array API standard's own test-suite, "
        "[array-api-tests](https://github.com/data-apis/array-api-tests), checks a "
        "namespace's names, signatures, dtypes, shapes, values and special cases against "
        f"the standard ({API_VERSION}).  It runs on three namespaces, each in one pytest "
        "process with the same options:",
        "",
        "- `numpy`: NumPy itself, the baseline;",
        "- `udiff.numpy`: udiff's namespace outside any backend (it runs NumPy's functions "
        "on NumPy arrays);",
        "- `udiff_everywhere`: udiff's namespace under a global "
        "`udiff.DiffArrayBackend(udiff.numpy_backend)` (set with `ua.set_global_backend(..., "
        "coerce=True)`), so every array the suite makes, creation functions' included, and "
        "every result is a `DiffArray`.",
        "",
        "The suite is not on PyPI; fetch it with the standard's text (its submodule), install "
        "its requirements and udiff into one environment, and run the script from udiff's "
        "repository root:",
        "",
        "```bash",
        "git clone --recurse-submodules https://github.com/data-apis/array-api-tests /tmp/aat-src",
        "python -m venv /tmp/aat-venv",
        "/tmp/aat-venv/bin/pip install -r /tmp/aat-src/requirements.txt -e .",
        f"/tmp/aat-venv/bin/python docs/run_array_api_tests.py --suite /tmp/aat-src "
        f"--max-examples {max_examples}",
        "```",
        "",
        "For each namespace the script runs, in the suite's folder, with "
        f"`ARRAY_API_TESTS_MODULE` naming the namespace and `ARRAY_API_TESTS_VERSION={API_VERSION}`:",
        "",
        "```bash",
        f"nice -n 10 python -m pytest array_api_tests -q -p no:cacheprovider "
        f"--max-examples={max_examples} --hypothesis-seed={seed} --disable-deadline "
        "--junitxml=OUT/NAMESPACE.xml",
        "```",
        "",
        f"The table below is of array-api-tests {commit}, NumPy {numpy_version}, Hypothesis "
        f"{hypothesis_version}, `--max-examples={max_examples}` and `--hypothesis-seed={seed}`; "
        "each run has a fresh Hypothesis database, so none replays another's failing "
        "examples.  `--disable-deadline`: the suite's default deadline (800 ms an example) "
        "measures the machine, not conformance.  Errors count as failed, expected failures "
        "as skipped; a parametrized test counts once per parameter.",
        "",
        table(results),
        "",
    ]
    if "numpy" in results:
        for v in results:
            if v == "numpy":
                continue
            bad = regressions(results["numpy"], results[v])
            fixed = sorted(t for t, s in results["numpy"].items()
                           if s in ("failed", "error") and results[v].get(t) == "passed")
            lines += [f"Tests that pass on NumPy and fail on `{v}`:", ""]
            for t in bad:
                why = next((r for k, r in REASONS.items() if k in t), "not triaged")
                lines.append(f"- `{t}`: {why}.")
            if not bad:
                lines.append("- none")
            lines += ["", f"`{v}` passes {len(fixed)} tests that fail on NumPy (udiff's "
                      "keywords and functions where NumPy's differ from the standard's).", ""]
        shared = collections.Counter(
            t.split("[")[0] for t, s in results["numpy"].items() if s in ("failed", "error")
            and all(r.get(t) in ("failed", "error") for r in results.values()))
        if shared:
            lines += ["Failing on all three (the standard's expectations that NumPy does not "
                      "meet, which udiff inherits where it runs NumPy's functions): "
                      + ", ".join(f"`{t}`" + (f" ({n} cases)" if n > 1 else "")
                                  for t, n in sorted(shared.items())) + ".", ""]
    return "\n".join(lines)


def write_docs(path, text):
    """Put ``text`` (a section) into the Markdown file ``path``: in place of its section of
    the same heading (to the next ``## `` heading or the end), or at its end."""
    path = pathlib.Path(path)
    page = path.read_text()
    start = page.find("\n" + SECTION + "\n")
    if start < 0:
        page = page.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n"
    else:
        end = page.find("\n## ", start + 1)
        rest = page[end:] if end >= 0 else ""
        page = page[:start] + "\n" + text.rstrip("\n") + "\n" + rest
    path.write_text(page)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", type=pathlib.Path, default=pathlib.Path("/tmp/aat-src"),
                        help="a checkout of data-apis/array-api-tests with its submodule")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("/tmp/aat-out"))
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--python", default=sys.executable,
                        help="the interpreter with the suite's requirements and udiff")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--report-only", action="store_true",
                        help="print the table from the XML files of an earlier run")
    parser.add_argument("--write-docs", type=pathlib.Path, metavar="MARKDOWN",
                        help="also write the section on the suite into this page "
                             "(docs/coverage.md)")
    args, extra = parser.parse_known_args(argv)
    results = {}
    for v in args.variants:
        xml = args.out / f"{v}.xml"
        if not args.report_only:
            xml = run(v, args.suite, args.out, args.max_examples, args.seed, args.python, extra)
        results[v] = outcomes(xml)
    print(table(results))
    if "numpy" in results:
        for v in results:
            if v != "numpy":
                bad = regressions(results["numpy"], results[v])
                print(f"\nPass on NumPy, not on {v} ({len(bad)}):")
                print("\n".join(f"- `{t}` ({results[v].get(t, 'missing')})" for t in bad)
                      or "- none")
    if args.write_docs:
        versions = _versions(args.suite, args.python)
        write_docs(args.write_docs, section(results, args.max_examples, args.seed, versions))


if __name__ == "__main__":
    main()
