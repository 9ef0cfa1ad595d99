"""Credential masking cost (monitor/masking.py) for hostile command lines: one long argument of
each shape, 10,000 arguments, a 2 MiB line in one string.

usage: .venv/bin/python bench/bench_masking.py [--runs 5] [--against REV] [--against-max 8192]

For each shape (a unit repeated: "A", "pass", "password=", "--token=", "x:@", "bearer ", ...)
it prints the CPU time (process_time, the least of --runs runs: the least disturbed by other
processes on the machine) of mask_argv(["prog", arg]) for an 8 KiB, 16 KiB and 128 KiB argument,
and the ratio 128 KiB / 16 KiB (8x the input: linear is about 8, quadratic 64); then
mask_text of a 2 MiB line and mask_argv of 10,000 arguments. ``--against REV`` also measures
monitor/masking.py as it was at git revision REV (e.g. the commit before the linear rewrite), only
up to ``--against-max`` characters, since a quadratic one takes minutes beyond that.
Figures go in the issue's note; nothing here is a test (tests/test_masking.py checks the ratios).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import masking  # noqa: E402

SHAPES = ["A", "a", "pass", "password=", "--token=", "x:", "@", "x:@", "bearer ", "--password ",
          "key ", "pass ", "mysql -p", "https://u:p@h/?token=a& ", '"password": "x", ', " "]
KIB = 1024


def scaled(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def cpu(f, arg, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.process_time()
        f(arg)
        best = min(best, time.process_time() - t)
    return best


def ms(v: float) -> str:
    return f"{v * 1000:9.2f} ms"


def load(rev: str) -> types.ModuleType:
    """monitor/masking.py as it was at a git revision, as a module of its own."""
    source = subprocess.run(["git", "show", f"{rev}:monitor/masking.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(f"masking_at_{rev}")
    exec(compile(source, f"{rev}:monitor/masking.py", "exec"), module.__dict__)  # noqa: S102
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per figure; the least is printed")
    ap.add_argument("--against", metavar="REV", help="also measure masking.py at this git revision")
    ap.add_argument("--against-max", type=int, default=8 * KIB,
                    help="largest argument given to the --against version (default 8192)")
    args = ap.parse_args()
    old = load(args.against) if args.against else None

    print(f"one argument, mask_argv(['prog', arg]); CPU time, least of {args.runs}")
    print(f"  {'shape':28} {'8 KiB':>12} {'16 KiB':>12} {'128 KiB':>12}  128/16")
    for unit in SHAPES:
        costs = [cpu(lambda a: masking.mask_argv(["prog", a]), scaled(unit, n * KIB), args.runs)
                 for n in (8, 16, 128)]
        print(f"  {unit!r:28} {ms(costs[0])} {ms(costs[1])} {ms(costs[2])}  {costs[2] / costs[1]:6.1f}")
        if old is not None:
            sizes = [n for n in (1 * KIB, 2 * KIB, 4 * KIB, 8 * KIB) if n <= args.against_max]
            olds = [cpu(lambda a: old.mask_argv(["prog", a]), scaled(unit, n), 1) for n in sizes]
            print(f"  {'  at ' + args.against:28} " + "  ".join(
                f"{n // KIB} KiB {ms(c).strip()}" for n, c in zip(sizes, olds)))

    print("\nwhole lines and many arguments")
    for unit in ["A", "--password ", "x:@", "pass ", "bearer ", " "]:
        small, large = scaled(unit, 256 * KIB), scaled(unit, 2048 * KIB)
        c_small, c_large = cpu(masking.mask_text, small, args.runs), cpu(masking.mask_text, large, args.runs)
        print(f"  mask_text, 2 MiB of {unit!r:14} {ms(c_large)}   (256 KiB {ms(c_small).strip()}, "
              f"ratio {c_large / c_small:.1f})")
    sixteen = ["prog"] + [scaled("A", 128 * KIB)] * 16
    print(f"  mask_argv, 16 arguments of 128 KiB     {ms(cpu(masking.mask_argv, sixteen, args.runs))}")
    for unit in ["--opt=value", "--password", "x"]:
        many = ["prog"] + [unit] * 10_000
        print(f"  mask_argv, 10,000 arguments {unit!r:12} {ms(cpu(masking.mask_argv, many, args.runs))}")


if __name__ == "__main__":
    main()
