"""Interactive review on a terminal: the Textual app when available, else a
plain prompt per fix (accept / skip / quit)."""

from __future__ import annotations

import sys


def review(root, config, args) -> int:
    try:
        from hardener.tui.app import run_tui
    except ImportError:
        return prompt_review(root, config, args)
    return run_tui(root, config, args)


class _Quit(Exception):
    pass


def prompt_review(root, config, args) -> int:
    from hardener.apply import ApplyError, apply_fixes, commit
    from hardener.summary import render_summary

    state = {"all": False, "quit": False}

    def accept(finding) -> bool:
        if state["quit"]:
            return False
        if state["all"]:
            return True
        fix = finding.fix
        print(f"\n{finding.path}:{finding.line} {finding.code} {finding.message}")
        print(f"fix: {fix.title} [{fix.safety}]" + (f" - {fix.reason}" if fix.reason else ""))
        sys.stdout.write(fix.changeset().diff())
        other = fix.alternative
        keys = "[y]es [n]o " + (f"[o]ther fix ({other.title}) " if other is not None else "") + "[a]ll remaining [q]uit"
        while True:
            answer = input(f"Apply this fix? {keys}: ").strip().lower()
            if answer in ("o", "other") and other is not None:
                print(f"fix: {other.title} [{other.safety}]" + (f" - {other.reason}" if other.reason else ""))
                sys.stdout.write(other.changeset().diff())
                again = input("Apply this fix instead? [y]es [n]o: ").strip().lower()
                return other if again in ("y", "yes") else False
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no", ""):
                return False
            if answer in ("a", "all"):
                state["all"] = True
                return True
            if answer in ("q", "quit"):
                state["quit"] = True
                return False

    try:
        report, ws, _ = apply_fixes(root, config, unsafe=True, accept=accept)
    except EOFError:
        print("\nhardener: no input; nothing written", file=sys.stderr)
        return 2
    try:
        written, created, journal = commit(ws)
    except ApplyError as exc:
        print(f"hardener: error: {exc}", file=sys.stderr)
        return 2
    report.written, report.created, report.journal = written, created, journal
    sys.stdout.write(render_summary(report, unsafe=True))
    failing = [f for f in report.remaining if config is None or config.fails(f.severity)]
    return 1 if failing and not getattr(args, "exit_zero", False) else 0
