"""Snapshots of the app's screens (pytest-textual-snapshot), at a pinned size
and theme. Regenerate after a deliberate change with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and look at the SVGs."""

import asyncio
import threading

from .conftest import idle, make_app

SIZE = (100, 32)


def settle(*keys, goto=None):
    async def run(pilot):
        await idle(pilot)
        if goto is not None:
            app = pilot.app
            wanted = next(e.id for e in app.entries if e.finding.code == goto)
            widget = app.query_one("#list")
            widget.highlighted = widget.get_option_index(f"e{wanted}")
            await pilot.pause()
            await idle(pilot)
        for key in keys:
            await pilot.press(key)
            await idle(pilot)
        await pilot.pause(0.2)
    return run


def test_scan_screen(notes_app, snap_compare):
    """Mid-scan: progress bar, current file, the findings of the files done so far."""
    app = make_app(notes_app)
    app.update_interval = 0  # every file updates the screen: what is shown does not depend on timing
    gate = threading.Event()
    make_scanner = app.session.scanner

    def gated_scanner():
        scanner = make_scanner()
        run = scanner.run

        def gated_run(on_progress=None, on_finding=None):
            def progress(done, total, path):
                on_progress(done, total, path)
                if done == 1 and path:
                    held.set()
                    while not (gate.wait(0.05) or app._stop.is_set()):  # until the screenshot is taken and the app ends
                        pass
            return run(on_progress=progress, on_finding=on_finding)

        scanner.run = gated_run
        return scanner

    held = threading.Event()
    app.session.scanner = gated_scanner

    async def run_before(pilot):
        for _ in range(1000):
            if held.is_set() and app.scan_done == 1:
                break
            await asyncio.sleep(0.01)
        await pilot.pause(0.3)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        gate.set()


def test_review_unified(notes_app, snap_compare):
    assert snap_compare(make_app(notes_app), terminal_size=SIZE, run_before=settle(goto="H101"))


def test_review_side_by_side(notes_app, snap_compare):
    assert snap_compare(make_app(notes_app), terminal_size=SIZE, run_before=settle("s", goto="H402"))


def test_review_after_decisions(notes_app, snap_compare):
    """Marks and counts after an accept and a skip; the recomputed diff of the next fix."""
    assert snap_compare(make_app(notes_app), terminal_size=SIZE, run_before=settle("y", "n", goto="H402"))


def test_review_light_theme_small_terminal(notes_app, snap_compare):
    app = make_app(notes_app, theme="textual-light")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle(goto="H311"))


def test_confirm_accept_all_safe(notes_app, snap_compare):
    assert snap_compare(make_app(notes_app), terminal_size=SIZE, run_before=settle("A"))


def test_help(notes_app, snap_compare):
    assert snap_compare(make_app(notes_app), terminal_size=SIZE, run_before=settle("question_mark"))


def test_summary(notes_app, snap_compare):
    assert snap_compare(make_app(notes_app), terminal_size=SIZE,
                        run_before=settle("y", "w", "y", goto="H101"))


def test_not_a_flask_project(tmp_path, snap_compare):
    root = tmp_path / "scripts"
    root.mkdir()
    (root / "tool.py").write_text("print('hi')\n")
    assert snap_compare(make_app(root), terminal_size=(80, 24), run_before=settle())
