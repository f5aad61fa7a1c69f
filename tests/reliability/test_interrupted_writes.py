"""Killing hardener in the middle of --apply-all leaves every file either
wholly old or wholly new (atomic rename per file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

OLD = "from flask import Flask\napp = Flask(__name__)\n# module {i}\napp.run(debug=True)\n"
NEW = ('from flask import Flask\nimport os\n\napp = Flask(__name__)\n# module {i}\n'
       'app.run(debug=os.environ.get("FLASK_DEBUG", "").lower() in ("1", "true"))\n')
N = 40


def _make(root):
    root.mkdir()
    for i in range(N):
        (root / f"mod{i}.py").write_text(OLD.format(i=i))


def _start(root):
    env = dict(os.environ, NO_COLOR="1")
    return subprocess.Popen([sys.executable, "-m", "hardener", str(root), "--apply-all"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_kill_at_many_points(tmp_path, sig):
    # how long a whole run takes here, to spread the kill points over it
    probe = tmp_path / "probe"
    _make(probe)
    start = time.monotonic()
    _start(probe).wait(timeout=300)
    duration = time.monotonic() - start
    assert all((probe / f"mod{i}.py").read_text() == NEW.format(i=i) for i in range(N))
    for k in range(5):
        root = tmp_path / f"run{k}"
        _make(root)
        proc = _start(root)
        time.sleep(duration * (0.3 + 0.7 * k / 5))
        proc.send_signal(sig)
        proc.wait(timeout=300)
        states = []
        for i in range(N):
            text = (root / f"mod{i}.py").read_text()
            assert text in (OLD.format(i=i), NEW.format(i=i)), f"mod{i}.py is half written"
            states.append(text == NEW.format(i=i))
        leftovers = [p.name for p in root.iterdir() if p.name.endswith(".hardener-tmp")]
        if sig != signal.SIGKILL:
            assert leftovers == [], leftovers
