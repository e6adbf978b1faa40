"""The speed and memory benchmark: figures, not assertions.

    python benchmarks/bench.py                       # generated ~500k-line corpus
    python benchmarks/bench.py --corpus /path/to/app # a real tree as well
    python benchmarks/bench.py --fixit /venv/bin/fixit --fixit-lines 50000

Times, on one corpus and in one run:
  (a) the floor: libcst.parse_module on every Python file, one process
  (b) `scaleaudit scan` cold (no cache), one worker, and with every core
  (c) warm: cache present, nothing changed (interpreter start-up included)
  (d) after changing one file
and prints wall and CPU seconds, lines/s per core, peak RSS, and the ratios
b/a, c/a, d/a. CPU time of a child process tree is read from
RUSAGE_CHILDREN, so the ratios hold when the machine is busy.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

TARGETS = {
    "cold/floor (CPU)": 1.5,
    "parallel speed-up": 1.8,
    "warm wall (s)": 0.5,
    "one changed file wall (s)": 2.0,
    "peak RSS (MB)": 500.0,
}

_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
                  "code": proc.returncode, "stderr": proc.stderr[-2000:]}))
"""

_FLOOR = """
import pathlib, sys, libcst
for name in pathlib.Path(sys.argv[1]).read_text().split("\\0"):
    if name:
        try:
            libcst.parse_module(pathlib.Path(name).read_bytes())
        except Exception:
            pass
"""


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float


def measure(cmd: list[str], cwd: Path) -> tuple[Run, str]:
    """Run `cmd` in a fresh process whose children's rusage is ours alone."""
    wrapper = [sys.executable, "-c", _MEASURE, *cmd]
    out = subprocess.run(wrapper, cwd=cwd, capture_output=True, text=True, check=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    if data["code"] not in (0, 1):
        raise SystemExit(f"command failed ({data['code']}): {' '.join(cmd)}\n{data['stderr']}")
    return Run(data["wall"], data["cpu"], data["rss_kb"] / 1024), data["stderr"]


def python_files(root: Path) -> list[Path]:
    # The same file set the scan reads (discovery honours .gitignore and excludes).
    from scaleaudit.config import DEFAULT_EXCLUDE
    from scaleaudit.discovery import discover

    found = discover([root], root.resolve(), exclude=DEFAULT_EXCLUDE)
    return [f.path for f in found.files if f.language == "python"]


def floor(root: Path) -> tuple[Run, int]:
    files = python_files(root)
    with tempfile.NamedTemporaryFile("w", suffix=".lst", delete=False) as listing:
        listing.write("\0".join(str(f) for f in files))
    try:
        run, _ = measure([sys.executable, "-c", _FLOOR, listing.name], root)
    finally:
        os.unlink(listing.name)
    return run, sum(f.read_bytes().count(b"\n") for f in files)


def scan_cmd(root: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "scaleaudit", "scan", str(root), "-q", "-f", "json", "-o", os.devnull, *extra]


def touch_one(root: Path) -> Path:
    target = sorted(root.rglob("*.py"))[len(list(root.rglob("*.py"))) // 2]
    with target.open("a", encoding="utf-8") as handle:
        handle.write(f"\n# touched by the benchmark at {time.time()}\n")
    return target


def fmt(run: Run) -> str:
    return f"wall {run.wall:7.2f} s   cpu {run.cpu:7.2f} s   peak RSS {run.rss_mb:6.0f} MB"


def bench(root: Path, label: str, fixit: str | None, fixit_lines: int) -> dict[str, float]:
    print(f"\n=== {label}: {root}")
    shutil.rmtree(root / ".scaleaudit_cache", ignore_errors=True)
    base, lines = floor(root)
    print(f"(a) libcst parse floor   {fmt(base)}   {lines:,} Python lines, {lines / base.cpu:,.0f} lines/s")
    cold1, _ = measure(scan_cmd(root, "--no-cache", "-j", "1"), root)
    print(f"(b) cold scan, 1 worker  {fmt(cold1)}   {lines / cold1.cpu:,.0f} lines/s per core")
    cores = os.cpu_count() or 1
    cold_n, _ = measure(scan_cmd(root, "-j", str(cores)), root)  # also writes the cache
    print(f"    cold scan, {cores} workers {fmt(cold_n)}")
    warm, _ = measure(scan_cmd(root), root)
    print(f"(c) warm, nothing changed {fmt(warm)}")
    touched = touch_one(root)
    one, _ = measure(scan_cmd(root), root)
    print(f"(d) one file changed     {fmt(one)}   ({touched.relative_to(root)})")
    ratios = {
        "cold/floor (CPU)": cold1.cpu / base.cpu,
        "parallel speed-up": cold1.wall / cold_n.wall,
        "warm/floor (CPU)": warm.cpu / base.cpu,
        "changed/floor (CPU)": one.cpu / base.cpu,
        "warm wall (s)": warm.wall,
        "one changed file wall (s)": one.wall,
        "peak RSS (MB)": max(cold1.rss_mb, cold_n.rss_mb, warm.rss_mb, one.rss_mb),
    }
    if fixit:
        ratios |= fixit_ratio(root, fixit, fixit_lines, lines / cold1.cpu)
    print("    " + "   ".join(f"{k} = {v:.2f}" for k, v in ratios.items()))
    for key, target in TARGETS.items():
        value = ratios[key]
        ok = value >= target if key == "parallel speed-up" else value <= target
        print(f"    target {key}: {'met' if ok else 'MISSED'} ({value:.2f} vs {target})")
    return ratios


def fixit_ratio(root: Path, fixit: str, max_lines: int, scaleaudit_rate: float) -> dict[str, float]:
    """Fixit with its default rules on a sample of the same Python files."""
    sample, lines = [], 0
    for path in python_files(root):
        sample.append(path)
        lines += path.read_bytes().count(b"\n")
        if lines >= max_lines:
            break
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(sample):
            shutil.copy(path, Path(tmp) / f"m{i:05d}.py")
        run, _ = measure([fixit, "lint", tmp], Path(tmp))
    rate = lines / run.cpu
    print(f"    Fixit (default rules)  {fmt(run)}   {lines:,} lines, {rate:,.0f} lines/s")
    return {"scaleaudit/Fixit speed": scaleaudit_rate / rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, action="append", default=[], help="a real tree to measure as well")
    parser.add_argument("--lines", type=int, default=500_000, help="size of the generated corpus")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scaleaudit-bench")
    parser.add_argument("--no-generated", action="store_true", help="only the --corpus trees")
    parser.add_argument("--fixit", help="path of a `fixit` executable to compare with")
    parser.add_argument("--fixit-lines", type=int, default=30_000)
    args = parser.parse_args()
    if not args.no_generated:
        from gen_corpus import generate

        corpus = args.work / "generated"
        files, lines = generate(corpus, args.lines)
        print(f"generated {files:,} files, {lines:,} lines in {corpus}")
        bench(corpus, "generated corpus", args.fixit, args.fixit_lines)
    for tree in args.corpus:
        copy = args.work / tree.name
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(tree, copy, symlinks=True, ignore=shutil.ignore_patterns(".git", ".scaleaudit_cache"))
        bench(copy, tree.name, args.fixit, args.fixit_lines)


if __name__ == "__main__":
    main()
