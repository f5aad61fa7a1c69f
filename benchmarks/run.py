"""Benchmark hardener against bandit on a large, realistic Flask code base.

Usage (from the repository root, with the virtualenv that has hardener and bandit)::

    python benchmarks/run.py                       # ~1,500 files / 250,000 lines + the stdlib, 3 runs
    python benchmarks/run.py --files 20 --no-stdlib --runs 1   # a quick smoke run
    python benchmarks/run.py --json results.json   # also write the numbers as JSON ('-': stdout)

What it does, in one run on one machine:

1. builds the tree in a temporary folder (``--tree DIR`` keeps it, and reuses
   it next time): generated Flask services (``benchmarks/generate.py``:
   application factories, config classes, models, blueprints, business logic,
   tests and templates, some of them vulnerable) plus a copy of the Python
   standard library's sources (without its test suites) as background code;
2. times ``hardener PATH --format json --exit-zero`` (cold: its cache folder
   is removed first) and ``bandit -q -r PATH -f json``, alternating, ``--runs``
   times each, and reports the median wall time, the peak memory and the ratio
   hardener / bandit;
3. a rescan after changing one file (the cache of the previous scan is in
   place), as a ratio to the full scan, and checks its findings are the same
   as an uncached scan's;
4. ``hardener --apply-all`` on a fresh copy of the tree, as a ratio to the scan;
5. the start-up time of ``hardener --version``.

Peak memory is the largest total memory of the command and every process it
started, sampled from /proc every 50 ms: the sum of their proportional set
sizes (PSS: pages a forked worker shares with its parent are counted once, in
shares), or the kernel's own maximum resident set of the largest single
process, from wait4, when that is higher.

The binaries are the ones next to ``sys.executable`` (the virtualenv's
``hardener`` and ``bandit``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import Stats, copy_stdlib, generate  # noqa: E402

TARGETS = {
    "scan_ratio": 0.5,  # hardener / bandit wall time
    "memory_mb": 400,
    "rescan_ratio": 0.1,  # rescan with one changed file / full scan
    "apply_ratio": 2.0,  # --apply-all / full scan
    "version_s": 0.3,
}


# --------------------------------------------------------------------------- measuring


@dataclass
class Measure:
    wall: float  # seconds
    peak_mb: float
    returncode: int


def _tree_pids(root_pid: int) -> list[int]:
    """root_pid and every process below it, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        fields = stat[stat.rfind(b")") + 2:].split()
        parents.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


def _rss_kb(pid: int) -> int:
    """The process's proportional set size (its private pages plus its share
    of the pages it shares, e.g. with a forked worker), else its RSS."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", b"Pss:"), (f"/proc/{pid}/status", b"VmRSS:")):
        try:
            with open(path, "rb") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self.done.is_set():
            total = sum(_rss_kb(p) for p in _tree_pids(self.pid))
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(self.interval)


def measure(cmd: list[str], *, cwd: Path | None = None, stdout=None) -> Measure:
    """Run ``cmd``; wall time, peak memory of its process tree, exit code."""
    out = stdout if stdout is not None else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL, env=_env())
    sampler = _Sampler(proc.pid)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait again
    sampler.done.set()
    sampler.join()
    # ru_maxrss is in kilobytes on Linux: the largest single process of the tree
    peak_kb = max(sampler.peak_kb, usage.ru_maxrss)
    return Measure(wall, peak_kb / 1024, proc.returncode)


def _env() -> dict[str, str]:
    env = dict(os.environ, NO_COLOR="1", PYTHONDONTWRITEBYTECODE="1")
    env.pop("HARDENER_DEBUG", None)
    return env


def tool(name: str) -> list[str]:
    """The virtualenv's console script next to sys.executable."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return [str(candidate)]
    found = shutil.which(name)
    if found:
        return [found]
    if name == "hardener":
        return [sys.executable, "-m", "hardener"]
    raise SystemExit(f"benchmark: cannot find {name!r} next to {sys.executable} or on PATH")


# --------------------------------------------------------------------------- the tree


def build_tree(root: Path, args) -> Stats:
    marker = root / ".benchmark-tree.json"
    wanted = {"files": args.files, "lines": args.lines, "stdlib": not args.no_stdlib, "seed": args.seed}
    if marker.is_file():
        saved = json.loads(marker.read_text())
        if saved.get("params") == wanted:
            return Stats(**saved["stats"])
        shutil.rmtree(root)
    elif root.is_dir() and any(root.iterdir()):
        # generating into it would measure its other files too, and report the wrong size
        raise SystemExit(f"{root} is not a tree this script built: give --tree a new or empty folder")
    root.mkdir(parents=True, exist_ok=True)
    stats = generate(root, files=args.files, lines=args.lines, seed=args.seed)
    if not args.no_stdlib:
        copy_stdlib(root / "third_party" / "cpython_lib", stats)
    marker.write_text(json.dumps({"params": wanted, "stats": asdict(stats)}))
    return stats


def pick_file_to_change(root: Path) -> Path:
    routes = sorted(root.glob("services/*/*/routes/*.py"))
    routes = [p for p in routes if p.name != "__init__.py"] or sorted(root.rglob("*.py"))
    return routes[len(routes) // 2]


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".hardener", "__pycache__"), symlinks=True)


# --------------------------------------------------------------------------- runs


def hardener_findings(path: Path) -> list:
    data = json.loads(path.read_text())
    findings = data["findings"] if isinstance(data, dict) else data
    return findings


_MASKED = re.compile(r"[A-Za-z0-9_\-+/=]{0,2}\*{4,}")


def _comparable(findings: list) -> list:
    """Findings as text, without what legitimately differs between two scans: a
    fix that generates a secret (a new SECRET_KEY for .env) draws a fresh random
    value each time; diffs show only its first two characters, dropped here."""
    out = []
    for finding in findings:
        fix = finding.get("fix")
        if fix and "diff" in fix:
            finding = dict(finding, fix=dict(fix, diff=_MASKED.sub("<secret>", fix["diff"])))
        out.append(json.dumps(finding, sort_keys=True))
    return sorted(out)


def run_benchmark(args) -> dict:
    hardener, bandit = tool("hardener"), tool("bandit")
    work = Path(tempfile.mkdtemp(prefix="hardener-bench-"))
    root = Path(args.tree).resolve() if args.tree else work / "tree"
    try:
        t0 = time.perf_counter()
        stats = build_tree(root, args)
        build_s = time.perf_counter() - t0
        log = (lambda *a: print(*a, file=sys.stderr, flush=True)) if not args.quiet else (lambda *a: None)
        log(f"tree: {root} ({stats.python_files + stats.stdlib_files} .py files, "
            f"{stats.python_lines + stats.stdlib_lines:,} lines, {stats.templates} templates; built in {build_s:.1f}s)")
        cache_dir = root / ".hardener" / "cache"
        h_out, b_out = work / "hardener.json", work / "bandit.json"

        # start-up
        version = [measure([*hardener, "--version"]).wall for _ in range(max(5, args.runs))]

        # full scans, alternating
        scans, bandits = [], []
        for i in range(args.runs):
            shutil.rmtree(cache_dir, ignore_errors=True)
            with open(h_out, "wb") as fh:
                m = measure([*hardener, str(root), "--format", "json", "--exit-zero"], stdout=fh)
            scans.append(m)
            log(f"run {i + 1}/{args.runs}: hardener {m.wall:.2f}s {m.peak_mb:.0f} MB (exit {m.returncode})")
            with open(b_out, "wb") as fh:
                m = measure([*bandit, "-q", "-r", str(root), "-f", "json"], stdout=fh)
            bandits.append(m)
            log(f"run {i + 1}/{args.runs}: bandit   {m.wall:.2f}s {m.peak_mb:.0f} MB (exit {m.returncode})")
        full_findings = hardener_findings(h_out)
        bandit_results = len(json.loads(b_out.read_text()).get("results", []))

        # rescans with nothing changed: the last full scan's cache entry is in place
        unchanged = []
        for i in range(args.runs):
            with open(h_out, "wb") as fh:
                m = measure([*hardener, str(root), "--format", "json", "--exit-zero"], stdout=fh)
            unchanged.append(m)
            log(f"rescan, nothing changed {i + 1}/{args.runs}: {m.wall:.2f}s {m.peak_mb:.0f} MB")
        unchanged_identical = _comparable(hardener_findings(h_out)) == _comparable(full_findings)

        # rescans: one file changed each time, the previous scan's cache in place
        target = pick_file_to_change(root)
        original = target.read_bytes()
        rescans = []
        try:
            for i in range(args.runs):
                edit = (f"\n\ndef _benchmark_edit_{i}(values):\n"
                        f"    return [v * {i + 2} for v in values if v]\n").encode()
                target.write_bytes(original + edit)
                with open(h_out, "wb") as fh:
                    m = measure([*hardener, str(root), "--format", "json", "--exit-zero"], stdout=fh)
                rescans.append(m)
                log(f"rescan {i + 1}/{args.runs}: {m.wall:.2f}s {m.peak_mb:.0f} MB")
            cached = hardener_findings(h_out)
            with open(h_out, "wb") as fh:
                measure([*hardener, str(root), "--format", "json", "--exit-zero", "--no-cache"], stdout=fh)
            uncached = hardener_findings(h_out)
            rescan_identical = _comparable(cached) == _comparable(uncached)
        finally:
            target.write_bytes(original)

        # --apply-all on fresh copies
        applies = []
        for i in range(args.runs):
            copy = work / f"apply-{i}"
            copy_tree(root, copy)
            m = measure([*hardener, "--apply-all", str(copy)])
            applies.append(m)
            log(f"apply-all {i + 1}/{args.runs}: {m.wall:.2f}s {m.peak_mb:.0f} MB (exit {m.returncode})")
            shutil.rmtree(copy, ignore_errors=True)

        med = lambda ms: statistics.median(m.wall for m in ms)  # noqa: E731
        scan_s, bandit_s = med(scans), med(bandits)
        results = {
            "machine": {
                "cpus": os.cpu_count(), "python": platform.python_version(),
                "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            },
            "tree": {
                "generated_files": stats.python_files, "generated_lines": stats.python_lines,
                "templates": stats.templates, "stdlib_files": stats.stdlib_files, "stdlib_lines": stats.stdlib_lines,
                "vulnerable": stats.vulnerable,
            },
            "runs": args.runs,
            "hardener_scan_s": scan_s,
            "bandit_scan_s": bandit_s,
            "scan_ratio": scan_s / bandit_s,
            "hardener_peak_mb": max(m.peak_mb for m in scans),
            "bandit_peak_mb": max(m.peak_mb for m in bandits),
            "rescan_s": med(rescans),
            "rescan_ratio": med(rescans) / scan_s,
            "rescan_peak_mb": max(m.peak_mb for m in rescans),
            "rescan_identical": rescan_identical,
            "unchanged_rescan_s": med(unchanged),
            "unchanged_rescan_ratio": med(unchanged) / scan_s,
            "unchanged_rescan_identical": unchanged_identical,
            "apply_all_s": med(applies),
            "apply_ratio": med(applies) / scan_s,
            "apply_peak_mb": max(m.peak_mb for m in applies),
            "version_s": statistics.median(version),
            "hardener_findings": len(full_findings),
            "bandit_results": bandit_results,
            "all_runs": {
                "hardener": [asdict(m) for m in scans], "bandit": [asdict(m) for m in bandits],
                "rescan": [asdict(m) for m in rescans], "unchanged_rescan": [asdict(m) for m in unchanged],
                "apply_all": [asdict(m) for m in applies],
                "version": version,
            },
        }
        return results
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"benchmark: kept {work}", file=sys.stderr)


def table(r: dict) -> str:
    def ok(value: float, limit: float, below: bool = True) -> str:
        return "yes" if (value <= limit if below else value >= limit) else "NO"

    t = r["tree"]
    peak = max(r["hardener_peak_mb"], r["rescan_peak_mb"], r["apply_peak_mb"])
    rows = [
        ("measure", "hardener", "bandit", "ratio", "target", "met"),
        ("full scan, median wall", f"{r['hardener_scan_s']:.2f} s", f"{r['bandit_scan_s']:.2f} s",
         f"{r['scan_ratio']:.2f}x", f"<= {TARGETS['scan_ratio']}x", ok(r["scan_ratio"], TARGETS["scan_ratio"])),
        ("peak memory (scan)", f"{r['hardener_peak_mb']:.0f} MB", f"{r['bandit_peak_mb']:.0f} MB",
         f"{r['hardener_peak_mb'] / r['bandit_peak_mb']:.2f}x", f"< {TARGETS['memory_mb']} MB",
         ok(peak, TARGETS["memory_mb"] - 1e-9)),
        ("rescan, 1 file changed", f"{r['rescan_s']:.2f} s", "", f"{r['rescan_ratio']:.3f}x of scan",
         f"<= {TARGETS['rescan_ratio']}x", ok(r["rescan_ratio"], TARGETS["rescan_ratio"])),
        ("rescan, nothing changed", f"{r['unchanged_rescan_s']:.2f} s", "", f"{r['unchanged_rescan_ratio']:.3f}x of scan",
         "", ""),
        ("--apply-all on a copy", f"{r['apply_all_s']:.2f} s", "", f"{r['apply_ratio']:.2f}x of scan",
         f"<= {TARGETS['apply_ratio']}x", ok(r["apply_ratio"], TARGETS["apply_ratio"])),
        ("hardener --version", f"{r['version_s']:.3f} s", "", "", f"< {TARGETS['version_s']} s",
         ok(r["version_s"], TARGETS["version_s"] - 1e-9)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    m = r["machine"]
    head = [
        f"tree: {t['generated_files']:,} generated Flask files ({t['generated_lines']:,} lines, {t['templates']} templates)"
        + (f" + stdlib {t['stdlib_files']:,} files ({t['stdlib_lines']:,} lines)" if t["stdlib_files"] else ""),
        f"machine: {m['cpus']} CPUs, Python {m['python']}, {m['platform']}; {r['runs']} run(s) each, medians",
        "",
    ]
    tail = [
        "",
        f"findings: hardener {r['hardener_findings']}, bandit {r['bandit_results']}; "
        f"peak memory rescan {r['rescan_peak_mb']:.0f} MB, apply-all {r['apply_peak_mb']:.0f} MB; "
        "findings identical to an uncached scan: after the one-file change "
        f"{'yes' if r['rescan_identical'] else 'NO'}, unchanged rescan {'yes' if r['unchanged_rescan_identical'] else 'NO'}",
    ]
    return "\n".join(head + lines + tail) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=1500, help="generated Python files (default 1500)")
    p.add_argument("--lines", type=int, default=None, help="generated lines in all (default ~167 per file)")
    p.add_argument("--no-stdlib", action="store_true", help="leave the standard library out of the tree")
    p.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--tree", metavar="DIR", help="build (or reuse) the tree here instead of a temporary folder")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE ('-': stdout, no table)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    args = p.parse_args(argv)
    if args.lines is None:
        args.lines = args.files * 250_000 // 1500
    if args.runs < 1 or args.files < 1:
        p.error("--runs and --files must be at least 1")
    results = run_benchmark(args)
    if args.json == "-":
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
