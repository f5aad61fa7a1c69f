"""The real `hardener` command in a pseudo-terminal: it opens the review app,
takes keys, writes exactly the accepted fix and exits 1 (findings are left)."""

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest

from .conftest import copy_project


class Terminal:
    def __init__(self, argv, cwd, cols=100, rows=30):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        env.pop("NO_COLOR", None)
        env.pop("TEXTUAL", None)
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.output = b""

    def read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.output += os.read(self.master, 65536)
            except OSError:  # the child closed the terminal
                pass

    def wait_for(self, text: bytes, limit: float = 120.0) -> None:
        start = len(self.output)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in self.output[start:]:
                return
            if self.proc.poll() is not None:
                self.read(0.1)
                break
            self.read(0.2)
        assert text in self.output[start:], f"{text!r} never shown; last output: {self.output[-1500:]!r}"

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int:
        deadline = time.monotonic() + 60
        while self.proc.poll() is None and time.monotonic() < deadline:
            self.read(0.2)
        if self.proc.poll() is None:
            self.proc.kill()
        os.close(self.master)
        return self.proc.wait()


@pytest.mark.e2e
def test_hardener_in_a_terminal(tmp_path):
    root = copy_project("notes_app", tmp_path)
    before = {p: (root / p).read_bytes() for p in ("app.py", "requirements.txt", "templates/base.html")}
    term = Terminal([sys.executable, "-m", "hardener"], cwd=root)
    try:
        term.wait_for(b"accept")  # the review keys: the scan is over
        term.send("/")
        term.wait_for(b"sev:high, cat:csrf")  # the filter box has the focus
        term.send("H101")
        term.wait_for(b"filtering: H101")
        term.send("\r")
        term.wait_for(b"filter: H101")  # Enter gave the keys back to the list
        term.send("y")
        term.wait_for(b"write")  # the footer offers w once a fix is accepted
        term.send("w")
        term.wait_for(b"Write 1 accepted fix")
        term.send("y")
        term.wait_for(b"fixes written")
        term.send("q")
    finally:
        code = term.close()
    assert code == 1  # findings are left
    app_py = (root / "app.py").read_text()
    assert "debug=True" not in app_py and "FLASK_DEBUG" in app_py
    for rel in ("requirements.txt", "templates/base.html"):
        assert (root / rel).read_bytes() == before[rel]
    changed = [line for line in app_py.splitlines() if line not in before["app.py"].decode().splitlines()]
    assert len(changed) == 1 and "app.run(" in changed[0]
