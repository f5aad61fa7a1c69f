"""Helpers for the review app tests: a copy of a sample project and a way to
wait until the app's engine has done everything it was asked."""

import asyncio
import inspect
import shutil
from pathlib import Path

import pytest

from hardener.cli import apply_flags, build_parser
from hardener.config import load_config

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run ``async def`` tests here on a fresh event loop (no asyncio plugin needed)."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True
    return None


SAMPLES = Path(__file__).resolve().parents[2] / "sample_projects"


@pytest.fixture
def notes_app(tmp_path):
    return copy_project("notes_app", tmp_path)


def copy_project(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(SAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc", ".hardener"))
    return target


def make_app(root: Path, *argv: str, theme: str = "textual-dark"):
    from hardener.tui.app import HardenerApp

    args = build_parser().parse_args([str(root), *argv])
    config = load_config(root)
    apply_flags(config, args, root)
    config.cache = False
    return HardenerApp(root, config, args, theme=theme)


async def idle(pilot, limit: float = 120.0) -> None:
    """Wait until the scan is over and every command sent to the engine is done."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        await pilot.pause(0.02)
        if app.phase != "scanning" and app.done_seq >= app.seq and app.commands.empty() and fix_shown(app):
            await pilot.pause()
            return
    raise AssertionError(f"the app did not settle: phase={app.phase} seq={app.seq} done={app.done_seq}")


def fix_shown(app) -> bool:
    """The fix of the finding under the cursor is computed (not "computing the fix…")."""
    from hardener.tui.session import Status

    entry = app.current()
    if entry is None or not entry.has_fix or app.status_of(entry) not in (Status.PENDING, Status.SKIPPED):
        return True
    return app.fix_state(entry) is not None
