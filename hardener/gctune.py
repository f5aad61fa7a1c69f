"""Cycle collector settings for scans (a module of its own: the command line
sets them before anything heavy is imported)."""

from __future__ import annotations

import contextlib
import gc

# A scan builds millions of long-lived, acyclic tree nodes: with the default
# thresholds the cycle collector walks them over and over (a quarter of a big
# scan's time). Collect the young generation less often, the older ones rarely.
GC_THRESHOLDS = (50_000, 1_000, 1_000)


@contextlib.contextmanager
def gc_tuned():
    old = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)
