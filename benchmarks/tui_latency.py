"""Time from start to first paint, first finding and a finished scan of the
review app (the real `hardener` command in a pseudo-terminal, 100x30), on
copies of the bundled sample projects.

    python benchmarks/tui_latency.py [SAMPLE ...] [--runs N]

Measured, never asserted: the issue's targets are under 0.5 s to the first
paint and under 1 s to the first finding on a 2-core machine.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARDENER = Path(sys.executable).with_name("hardener")


def run_once(project: Path) -> tuple[float, float, float]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = dict(os.environ, TERM="xterm-256color")
    start = time.perf_counter()
    proc = subprocess.Popen([str(HARDENER), "--no-cache"], cwd=project, stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    screen = b""
    paint = first = ready = float("nan")
    while time.perf_counter() - start < 60:
        readable, _, _ = select.select([master], [], [], 0.005)
        if readable:
            try:
                screen += os.read(master, 65536)
            except OSError:
                break
        now = time.perf_counter() - start
        if paint != paint and b"hardener" in screen:
            paint = now
        if first != first and re.search(rb"H\d\d\d", screen):
            first = now
        if ready != ready and b"accept" in screen:  # the review keys: the scan is done
            ready = now
            os.write(master, b"q")
        if proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    return paint, first, ready


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", default=["notes_app", "shop_factory", "jwt_api"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.samples:
            project = Path(tmp) / name
            shutil.copytree(ROOT / "sample_projects" / name, project)
            runs = [run_once(project) for _ in range(args.runs)]
            paint, first, done = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{name:14} first paint {paint:.2f}s  first finding {first:.2f}s  scan done {done:.2f}s"
                  f"  (median of {args.runs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
