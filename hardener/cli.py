"""Command line: argument parsing and exit codes. All the work is in the engine.

Exit codes: 0 nothing left to report, 1 findings remain (or --diff printed
diffs), 2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hardener import __version__
from hardener.config import CONFIDENCES, HEADERS_FIXES, PARAMSTYLES, SEVERITIES

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

DESCRIPTION = """\
Find and fix security problems in a Flask project.

On a terminal, `hardener` opens an interactive review of every fix.
Without a terminal (or with --format) it prints a report and writes nothing."""

EPILOG = """\
examples:
  hardener                      review the fixes for the project in .
  hardener --apply-all          apply every safe fix without asking
  hardener --diff               print the fixes as unified diffs
  hardener --format json -o r.json
  hardener --format sarif -o hardener.sarif     for GitHub code scanning
  hardener --format github                      annotations in a GitHub Actions log
  hardener --write-baseline .hardener-baseline.json
  hardener --baseline .hardener-baseline.json   report only findings not in the baseline
  hardener --explain H102       what a rule looks for and how it fixes it

settings come from [tool.hardener] in pyproject.toml; the flags override them.

exit codes: 0 nothing to report, 1 findings remain (at or above --fail-on),
2 usage/config/internal error"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hardener", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", nargs="?", default=".", help="project root (default: .)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--apply-all", action="store_true", help="apply every safe fix without asking")
    mode.add_argument("--diff", action="store_true", help="print every fix's unified diff; write nothing")
    mode.add_argument("--undo", action="store_true", help="restore the files changed by the last run that wrote")
    mode.add_argument("--explain", metavar="CODE", help="print the documentation of a rule")
    mode.add_argument("--list-rules", action="store_true", help="list every rule")
    mode.add_argument("--write-baseline", metavar="FILE",
                      help="record the current findings in FILE (for --baseline) and exit 0; write nothing else")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"],
                   help="print a report in this format; write nothing")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes marked 'review'")
    p.add_argument("--require-clean", action="store_true",
                   help="with --apply-all: refuse to write when a file to change has uncommitted git changes")
    p.add_argument("--select", metavar="CODES", help="comma-separated rule codes, prefixes or categories to run")
    p.add_argument("--ignore", metavar="CODES", help="comma-separated rule codes, prefixes or categories to skip")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings remain")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the scan cache")
    cfg = p.add_argument_group("settings (override [tool.hardener] in pyproject.toml)")
    cfg.add_argument("--exclude", metavar="GLOBS", help="comma-separated glob patterns of paths to skip (added to exclude)")
    cfg.add_argument("--per-file-ignores", metavar="GLOB:CODES", action="append", default=[],
                     help="skip rules for matching files, e.g. 'tests/*:H101,H102' (repeatable)")
    cfg.add_argument("--min-severity", choices=SEVERITIES, help="report only findings of this severity or higher")
    cfg.add_argument("--min-confidence", choices=CONFIDENCES, help="report only findings of this confidence or higher")
    cfg.add_argument("--fail-on", choices=SEVERITIES,
                     help="exit 1 only when a finding of this severity or higher remains (default: low)")
    cfg.add_argument("--headers-fix", choices=HEADERS_FIXES, help="how security headers are added")
    cfg.add_argument("--paramstyle", choices=PARAMSTYLES, help="placeholder style for SQL fixes")
    cfg.add_argument("--baseline", metavar="FILE", help="hide the findings recorded in FILE by --write-baseline")
    cfg.add_argument("--show-suppressed", action="store_true",
                     help="also list findings hidden by `hardener: ignore` comments or the baseline")
    cfg.add_argument("--report-unused-suppressions", action="store_true",
                     help="report `hardener: ignore` comments that hide nothing (rule H000)")
    p.add_argument("--version", action="version", version=f"hardener {__version__}")
    return p


def _codes(value: str | None) -> list[str]:
    return [c.strip() for c in (value or "").split(",") if c.strip()]


def _terminate_like_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so a write in progress removes its temp file
    (the target file is replaced whole or not at all either way)."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def console() -> int:
    """The ``hardener`` command: ``main`` in a process that ends right after it.

    A scan builds millions of long-lived objects. The cycle collector's tuned
    thresholds (``gctune``) hold for the whole run, and at the
    end everything is frozen: restoring the default thresholds, or the
    collection at interpreter exit, would walk all of them once more for
    nothing (seconds on a large project)."""
    import gc

    from hardener.gctune import GC_THRESHOLDS

    gc.set_threshold(*GC_THRESHOLDS)
    try:
        return main()
    finally:
        gc.freeze()


def main(argv: list[str] | None = None) -> int:
    # libcst's visitors recurse once per nesting level: deeply nested real-world
    # code (long operator chains) needs more than the default 1000 frames.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    parser = build_parser()
    args = parser.parse_args(argv)  # --version and --help end here, before the engine is imported
    _terminate_like_interrupt()
    try:
        return run(args)
    except KeyboardInterrupt:
        print("hardener: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as exc:  # one line, never a traceback (it could show a secret)
        import os

        if os.environ.get("HARDENER_DEBUG"):
            raise
        print(f"hardener: internal error: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
              " (set HARDENER_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_ERROR


def run(args) -> int:
    from hardener.config import ConfigError, load_config

    if args.list_rules:
        from hardener.rules import all_rules

        for rule in all_rules():
            print(f"{rule.code}  {rule.name:<36} {rule.category:<9} {str(rule.severity):<8} {rule.title()}")
        return EXIT_OK
    if args.explain:
        from hardener.docs import explain
        from hardener.rules import get_rule

        rule = get_rule(args.explain)
        if rule is None:
            print(f"hardener: error: unknown rule code {args.explain!r}; see `hardener --list-rules`", file=sys.stderr)
            return EXIT_ERROR
        print(explain(rule))
        return EXIT_OK

    root = Path(args.path)
    if not root.exists():
        print(f"hardener: error: {args.path}: no such file or directory", file=sys.stderr)
        return EXIT_ERROR
    if not root.is_dir():
        print(f"hardener: error: {args.path}: is not a directory (give the project root)", file=sys.stderr)
        return EXIT_ERROR
    root = root.resolve()
    if args.undo:
        from hardener.apply import ApplyError, undo

        try:
            for line in undo(root):
                print(line)
        except ApplyError as exc:
            print(f"hardener: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        return EXIT_OK
    try:
        config = load_config(root)
        apply_flags(config, args, root)
    except ConfigError as exc:
        print(f"hardener: error: {exc}", file=sys.stderr)
        return EXIT_ERROR

    if args.write_baseline:
        return write_baseline(root, config, args)

    if args.apply_all:
        return apply_all(root, config, args)
    if args.diff:
        return diff(root, config, args)
    interactive = args.format is None and args.output is None and sys.stdin.isatty() and sys.stdout.isatty()
    if interactive:
        from hardener.interactive import review

        return review(root, config, args)
    return report(root, config, args)


def _known_selector(code: str) -> bool:
    from hardener.models import CATEGORIES
    from hardener.rules import all_rules

    code = code.strip()
    return (
        code.upper() == "ALL" or code.lower() in CATEGORIES
        or any(r.code.startswith(code.upper()) or r.name == code for r in all_rules())
    )


def apply_flags(config, args, root: Path) -> None:
    """Command-line flags override [tool.hardener]; raises ConfigError naming the flag."""
    from hardener.config import ConfigError, check_selectors

    if args.select:
        check_selectors(_codes(args.select), "--select")
        config.select = _codes(args.select)
    if args.ignore:
        check_selectors(_codes(args.ignore), "--ignore")
        config.ignore = config.ignore + _codes(args.ignore)
    if args.no_cache:
        config.cache = False
    if args.exclude:
        config.exclude = config.exclude + _codes(args.exclude)
    for item in args.per_file_ignores:
        glob, sep, codes = item.rpartition(":")
        if not sep or not glob or not _codes(codes):
            raise ConfigError(f"--per-file-ignores {item!r}: expected GLOB:CODES, e.g. 'tests/*:H101,H102'")
        check_selectors(_codes(codes), f"--per-file-ignores {item!r}")
        config.per_file_ignores = {**config.per_file_ignores, glob: config.per_file_ignores.get(glob, []) + _codes(codes)}
    for name in ("min_severity", "min_confidence", "fail_on", "headers_fix", "paramstyle"):
        if getattr(args, name):
            setattr(config, name, getattr(args, name))
    if args.report_unused_suppressions or any(c.upper() == "H000" for c in config.select):
        config.report_unused_suppressions = True
    if args.baseline:
        baseline_path = Path(args.baseline)
    elif config.baseline:
        baseline_path = root / config.baseline
    else:
        baseline_path = None
    if baseline_path is not None and not args.write_baseline:
        from hardener.baseline import BaselineError, load_baseline

        try:
            config.baseline_data = load_baseline(baseline_path)
        except BaselineError as exc:
            raise ConfigError(str(exc)) from None
        config.baseline = str(baseline_path)


def _exit_for(findings, args, config=None) -> int:
    if args.exit_zero:
        return EXIT_OK
    if config is not None:
        findings = [f for f in findings if config.fails(f.severity)]
    return EXIT_FINDINGS if findings else EXIT_OK


class Progress:
    """``scanning 12/240 app/views.py`` on one terminal line of stderr, shown
    only once a scan has taken a moment, and erased when it ends."""

    def __init__(self, stream, delay: float = 0.4):
        import time

        self.stream, self.delay, self.clock = stream, delay, time.monotonic
        self.start = self.clock()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, path: str) -> None:
        now = self.clock()
        if now - self.start < self.delay or now - self.last < 0.1 or not path:
            return
        self.last = now
        import shutil

        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.stream.write("\r\033[K" + f"hardener: scanning {done + 1}/{total} {path}"[:width])
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _cache_for(root: Path, config):
    """The scan cache for this root and configuration (None with --no-cache / cache = false)."""
    if not config.cache:
        return None
    from hardener.cache import ScanCache
    from hardener.rules import select_rules

    return ScanCache(root, config, [r.code for r in select_rules(config.select, config.ignore)])


def _scan(root: Path, config, *, progress: bool):
    from hardener.scanner import scan

    cache = _cache_for(root, config)
    if not (progress and sys.stderr.isatty()):
        return scan(root, config, cache=cache)
    bar = Progress(sys.stderr)
    try:
        return scan(root, config, cache=cache, on_progress=bar)
    finally:
        bar.finish()


def _save(result) -> None:
    from hardener.cache import save

    save(result)


def write_baseline(root: Path, config, args) -> int:
    from hardener.baseline import write_baseline as write

    config.baseline_data = None
    result = _scan(root, config, progress=True)
    count = write(Path(args.write_baseline), result.findings)
    _save(result)
    print(f"hardener: wrote {count} finding{'s' if count != 1 else ''} to {args.write_baseline}", file=sys.stderr)
    for path, message in result.errors:
        print(f"hardener: {path}: {message}", file=sys.stderr)
    return _exit_with_errors(EXIT_OK, result.errors)


def _exit_with_errors(code: int, errors) -> int:
    return EXIT_ERROR if errors and code != EXIT_ERROR else code


def report(root: Path, config, args) -> int:
    from hardener.report import FORMATS
    from hardener.report.text import use_color

    fmt = args.format or "text"
    result = _scan(root, config, progress=fmt == "text")
    # these show every fix's change set; a child process's reads would not reach the cache
    if fmt in ("json", "sarif") and result.cache is None:
        from hardener.parallel import compute_changesets

        shown = result.findings + (result.suppressed + result.baselined if args.show_suppressed else [])
        compute_changesets([f.fix for f in shown if f.fix is not None])
    options = {"show_suppressed": args.show_suppressed, "baseline": config.baseline if config.baseline_data else None}
    if fmt == "text":
        stream = sys.stdout if args.output is None else None
        text = FORMATS["text"](result, str(root), color=bool(stream) and use_color(stream), **options)
    else:
        text = FORMATS[fmt](result, str(root), **options)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    _save(result)
    for path, message in result.errors:
        if fmt != "text":
            print(f"hardener: {path}: {message}", file=sys.stderr)
    return _exit_with_errors(_exit_for(result.findings, args, config), result.errors)


def diff(root: Path, config, args) -> int:
    from hardener.models import FixError, Safety

    result = _scan(root, config, progress=False)
    if result.cache is None:  # a child process's reads would not reach the cache
        from hardener.parallel import compute_changesets

        compute_changesets([f.fix for f in result.findings if f.fix is not None
                            and (f.fix.safety is Safety.SAFE or args.unsafe_fixes)])
    printed = 0
    for finding in result.findings:
        fix = finding.fix
        if fix is None or (fix.safety is Safety.REVIEW and not args.unsafe_fixes):
            continue
        try:
            text = fix.changeset().diff()
        except FixError as exc:
            print(f"hardener: {finding.path}:{finding.line}: {finding.code}: no fix: {exc}", file=sys.stderr)
            continue
        sys.stdout.write(f"# {finding.code} {finding.path}:{finding.line}: {fix.title} [{fix.safety}]\n")
        sys.stdout.write(text)
        printed += 1
    _save(result)
    print(f"{printed} fix{'es' if printed != 1 else ''} shown for {len(result.findings)} findings; nothing written.", file=sys.stderr)
    for path, message in result.errors:
        print(f"hardener: {path}: {message}", file=sys.stderr)
    code = EXIT_FINDINGS if printed and not args.exit_zero else _exit_for(result.findings, args, config)
    return _exit_with_errors(code, result.errors)


def apply_all(root: Path, config, args) -> int:
    from hardener.apply import ApplyError, apply_fixes, commit
    from hardener.summary import render_summary

    report_, ws, _ = apply_fixes(root, config, unsafe=args.unsafe_fixes)
    from hardener.apply import dirty_files

    dirty = dirty_files(root, sorted(ws.changed))
    if dirty:
        print(f"hardener: warning: uncommitted changes in files the fixes touch: {', '.join(dirty)}", file=sys.stderr)
        if args.require_clean:
            print("hardener: error: --require-clean: nothing was written", file=sys.stderr)
            return EXIT_ERROR
    try:
        written, created, journal = commit(ws)
    except ApplyError as exc:
        print(f"hardener: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    report_.written, report_.created, report_.journal = written, created, journal
    for applied in report_.applied:
        f = applied.finding
        print(f"fixed {f.path}:{f.line} {f.code} {f.fix.title}")
    sys.stdout.write(render_summary(report_, unsafe=args.unsafe_fixes))
    for finding, reason in report_.failed:
        print(f"hardener: {finding.path}:{finding.line}: {finding.code}: not fixed: {reason}", file=sys.stderr)
    for path, message in report_.errors:
        print(f"hardener: {path}: {message}", file=sys.stderr)
    return _exit_with_errors(_exit_for(report_.remaining, args, config), report_.errors)
