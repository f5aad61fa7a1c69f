"""Compute many fixes' change sets on two cores.

A JSON or SARIF report and ``--diff`` show the change set of every fix, and
computing them (libcst transformers, code generation, diffs) is about a third
of such a run. Fixes are closures over the scan's live trees, which cannot be
sent to another process; a forked child has them already. So the command line
forks one child after the scan: the child computes every other change set and
sends them back (plain data: paths, bytes, notes) through a pipe while the
parent computes the rest. The results are those of computing them one by one:
each fix reads the scanned content only, and a fix whose computation fails in
the child for any reason but ``FixError`` is computed again by the parent, so
errors surface exactly as they would have.

Only where ``os.fork`` exists, with more than one CPU, from a process that
runs no other threads (the command line; never the review app), for enough
fixes to be worth a fork, and only when asked: ``HARDENER_WORKERS=2``, in a
run without the scan cache (what a fix reads in the child would not reach the
cache's record of its part). It is
off by default because it costs more than it gives now that fixes are cheap:
on the benchmark tree it saved about 0.3 s of a 16 s JSON report, and the
child copied about 110 MB of the parent's pages (computing a fix reads its
module's tree, and every page whose reference counts change, or where the
child allocates, becomes the child's own), a third more memory at the peak.
"""

from __future__ import annotations

import os
import pickle
import signal

from hardener.models import FixError

MIN_FIXES = 8  # below this a fork costs more than it saves


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def enabled() -> bool:
    try:
        workers = int(os.environ.get("HARDENER_WORKERS", "1"))
    except ValueError:
        workers = 1
    return workers >= 2 and hasattr(os, "fork") and cpu_count() > 1


def compute_changesets(fixes) -> None:
    """Compute (and keep on each Fix) the change sets of ``fixes``."""
    todo = [fix for fix in {id(f): f for f in fixes}.values() if fix._result is None and fix._error is None]
    if len(todo) < MIN_FIXES or not enabled():
        return
    theirs, mine = todo[1::2], todo[0::2]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: compute, send, leave without running the parent's exit handlers
        status = 1
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            out = []
            for index, fix in enumerate(theirs):
                try:
                    out.append((index, fix.changeset(), None))
                except FixError as exc:
                    out.append((index, None, str(exc)))
                except Exception:
                    continue  # the parent computes this one and meets the problem itself
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(out, pipe, protocol=pickle.HIGHEST_PROTOCOL)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    pipe = os.fdopen(read_end, "rb")
    received = None
    try:
        for fix in mine:
            try:
                fix.changeset()
            except FixError:
                pass  # kept on the Fix; the report shows it
        try:
            received = pickle.load(pipe)
        except (EOFError, pickle.UnpicklingError):
            received = None  # the child died: its share is computed when the report asks
    finally:
        pipe.close()
        if received is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
    for index, changeset, error in received or ():
        fix = theirs[index]
        if changeset is not None:
            fix._result = changeset
        else:
            fix._error = error
