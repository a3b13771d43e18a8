"""Peak memory and time of a deep network's gradient, with and without udiff.checkpoint.

The network: 50 layers ``h = tanh(h @ W_k)`` of 1024x1024 weights on a batch
of 256 (float64), loss ``sum(h)``.  Each variant runs in a fresh subprocess
(so one variant's freed memory cannot hide another's peak); the peak RSS
growth is ``ru_maxrss`` after the gradient minus ``ru_maxrss`` before it (the
weights and the input already allocated).  The median of ``--repeats`` runs
is reported.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_checkpoint.py
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

LAYERS, WIDTH, BATCH = 50, 1024, 256


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(variant, wrt):
    import numpy

    import udiff
    import udiff.numpy as np

    rng = numpy.random.default_rng(0)
    ws = [rng.standard_normal((WIDTH, WIDTH)) / numpy.sqrt(WIDTH) for _ in range(LAYERS)]
    x = rng.standard_normal((BATCH, WIDTH))

    def layer(h, w):
        return np.tanh(h @ w)

    step = udiff.checkpoint(layer) if variant == "checkpoint" else layer

    def loss(x, ws):
        h = x
        for w in ws:
            h = step(h, w)
        return np.sum(h)

    argnums = 1 if wrt == "weights" else 0
    before = _peak_mib()
    start = time.perf_counter()
    g = udiff.grad(loss, argnums)(x, ws)
    seconds = time.perf_counter() - start
    checksum = float(sum(numpy.sum(a) for a in (g if isinstance(g, list) else [g])))
    print(json.dumps({"seconds": seconds, "peak_growth_mib": _peak_mib() - before,
                      "checksum": checksum}))


def _run(variant, wrt):
    out = subprocess.run([sys.executable, __file__, "--child", variant, wrt],
                         capture_output=True, text=True, check=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    print(f"{LAYERS} layers tanh(h @ W), W {WIDTH}x{WIDTH}, batch {BATCH}, float64, "
          f"median of {args.repeats}")
    print("| gradient with respect to | variant | time (s) | peak RSS growth (MiB) |")
    print("|---|---|---|---|")
    for wrt in ("weights", "input"):
        checksums = set()
        for variant in ("plain", "checkpoint"):
            runs = [_run(variant, wrt) for _ in range(args.repeats)]
            checksums.add(round(runs[0]["checksum"], 6))
            print(f"| {wrt} | {variant} | {statistics.median(r['seconds'] for r in runs):.2f} | "
                  f"{statistics.median(r['peak_growth_mib'] for r in runs):.0f} |", flush=True)
        assert len(checksums) == 1, f"the two variants' gradients differ: {checksums}"


if __name__ == "__main__":
    main()
