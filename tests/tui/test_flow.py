"""The whole review on a copy of notes_app, driven with Textual's Pilot:
scan, accept, skip, undo, write; the dialogs; cancelling the scan; the
states for an empty project, a clean one and files that do not parse."""

import json
import subprocess
import threading
from pathlib import Path

from hardener.apply import apply_fixes, commit
from hardener.config import load_config
from hardener.report.json_report import SCHEMA_VERSION
from hardener.tui.screens import ConfirmScreen, HelpScreen, SummaryScreen
from hardener.tui.session import Status

from .conftest import copy_project, idle, make_app


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".hardener" not in p.parts and "__pycache__" not in p.parts}


async def goto(pilot, code: str, nth: int = 0):
    """Select the nth finding of a rule: with j / k when it is near (as a user
    would), else by highlighting its line in the list (as a click does)."""
    app = pilot.app
    wanted = [e.id for e in app.visible() if e.finding.code == code][nth]
    order = app._order
    if abs(order.index(wanted) - order.index(app.cursor)) > 3:
        widget = app.query_one("#list")
        widget.highlighted = widget.get_option_index(f"e{wanted}")
        await pilot.pause()
    for _ in range(8):
        if app.cursor == wanted:
            return app.current()
        await pilot.press("j" if order.index(app.cursor) < order.index(wanted) else "k")
    raise AssertionError(f"could not reach {code}")


def entry(app, code: str, nth: int = 0):
    return [e for e in app.entries if e.finding.code == code][nth]


def expected_tree(tmp_path: Path, codes: set[str]) -> dict[str, bytes]:
    """The sample with exactly these rules' fixes applied by the engine itself."""
    other = copy_project("notes_app", tmp_path / "expected")
    config = load_config(other)
    config.cache = False
    report, ws, _ = apply_fixes(other, config, unsafe=True, accept=lambda f: f.code in codes)
    commit(ws)
    assert {a.finding.code for a in report.applied} == codes
    return tree(other)


async def test_scan_lists_the_findings(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        codes = {e.finding.code for e in app.entries}
        assert {"H101", "H201", "H311", "H401"} <= codes
        assert all(e.status in (Status.PENDING, Status.MANUAL) for e in app.entries)
        assert app.cursor == app.entries[0].id
        assert len(app._order) == len(app.entries)


async def test_accept_skip_undo_write(notes_app, tmp_path):
    before = tree(notes_app)
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await goto(pilot, "H101")
        await pilot.press("y")
        await idle(pilot)
        assert entry(app, "H101").status is Status.ACCEPTED
        await goto(pilot, "H402")
        await pilot.press("y")
        await idle(pilot)
        await goto(pilot, "H311")
        await pilot.press("n")
        await idle(pilot)
        assert entry(app, "H311").status is Status.SKIPPED
        await goto(pilot, "H401")
        await pilot.press("y")
        await idle(pilot)
        assert entry(app, "H401").status is Status.ACCEPTED
        await pilot.press("u")  # undo the H401 accept
        await idle(pilot)
        assert entry(app, "H401").status is Status.PENDING
        assert app.cursor == entry(app, "H401").id
        assert b"secure_filename" not in app.session.ws.read("app.py")
        assert tree(notes_app) == before  # nothing written before w

        await pilot.press("w")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await idle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        assert {a.finding.code for a in app.report.applied} == {"H101", "H402"}
        await pilot.press("t", "enter")  # save the text report under the default name
        await pilot.press("j", "enter")  # and the JSON one
        await pilot.pause()
        await pilot.press("q")
    assert app.return_value == 1  # findings are left

    text_report = (notes_app / "hardener-report.txt").read_text()
    assert "Applied 2 fixes (H101 x1, H402 x1)" in text_report and "H311" in text_report
    data = json.loads((notes_app / "hardener-report.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION and data["summary"]["findings"] == len(data["findings"])
    assert {f["code"] for f in data["findings"]} >= {"H311", "H401"}
    assert not {"H101", "H402"} & {f["code"] for f in data["findings"]}
    for name in ("hardener-report.txt", "hardener-report.json"):
        (notes_app / name).unlink()

    after = tree(notes_app)
    assert after == expected_tree(tmp_path, {"H101", "H402"})
    changed = {p for p in after if before.get(p) != after[p]}
    assert changed == {"app.py"}
    text = after["app.py"].decode()
    assert "debug=True" not in text and "MAX_CONTENT_LENGTH" in text
    assert "secure_filename" not in text  # undone
    assert 'render_template_string(f"' in text  # skipped
    assert list((notes_app / ".hardener" / "journal").iterdir())  # hardener --undo can restore it


async def test_accepting_recomputes_the_other_fixes_of_the_file(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        old = entry(app, "H101").finding
        await goto(pilot, "H201")
        await pilot.press("y")  # adds lines at the top of app.py
        await idle(pilot)
        fresh = entry(app, "H101")
        assert fresh.finding is not old and fresh.finding.line > old.line
        cs = fresh.finding.fix.changeset()
        staged = app.session.ws.read("app.py")
        assert all(c.old == app.session.ws.read(c.path) for c in cs.changes)
        assert b"CSRFProtect" in staged
        # the diff shown is computed on the staged code, not the file on disk
        await goto(pilot, "H101")
        await idle(pilot)
        state = app.fix_state(app.current())
        assert state is not None and state[0] is cs


async def test_accept_rest_of_file_and_skip_rest_of_file(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await goto(pilot, "H311")
        await pilot.press("d")  # skip the rest of app.py from here... every pending one of the file
        await idle(pilot)
        app_py = [e for e in app.entries if e.finding.path == "app.py"]
        assert all(e.status is Status.SKIPPED for e in app_py if e.has_fix)
        await pilot.press("u")
        await idle(pilot)
        assert all(e.status in (Status.PENDING, Status.MANUAL) for e in app.entries)
        await goto(pilot, "H101")
        waiting = {e.id for e in app.entries if e.finding.path == "app.py" and e.status is Status.PENDING}
        await pilot.press("a")
        await idle(pilot)
        accepted = [e for e in app.entries if e.status is Status.ACCEPTED]
        assert accepted and all(e.finding.path == "app.py" for e in accepted)
        # every fix of the file that was waiting is accepted (or went away with another one)
        assert all(e.status in (Status.ACCEPTED, Status.RESOLVED) for e in app.entries if e.id in waiting)


async def test_accept_all_safe_asks_first(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        safe = {e.id for e in app._safe_pending()}
        await pilot.press("A")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await idle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert not [e for e in app.entries if e.status is Status.ACCEPTED]
        await pilot.press("A")
        await pilot.press("y")
        await idle(pilot)
        accepted = {e.id for e in app.entries if e.status is Status.ACCEPTED}
        assert accepted and accepted <= safe | {e.id for e in app.entries if e.new}
        assert all(e.fix().safety.value == "safe" for e in app.entries if e.status is Status.ACCEPTED)
        assert any(e.status is Status.PENDING and e.fix().safety.value == "review" for e in app.entries if e.has_fix)


async def accept_one_and_quit(pilot) -> None:
    """Accept the H101 fix, then press q: the question about unwritten fixes."""
    await idle(pilot)
    await goto(pilot, "H101")
    await pilot.press("y")
    await idle(pilot)
    await pilot.press("q")
    assert isinstance(pilot.app.screen, ConfirmScreen)


async def test_quit_with_unwritten_fixes_asks(notes_app):
    before = tree(notes_app)
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await accept_one_and_quit(pilot)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("w")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # do not write
        await pilot.press("q")
        await pilot.press("y")
    assert app.return_value == 1
    assert tree(notes_app) == before


async def test_the_quit_question_can_write_the_accepted_fixes(notes_app):
    before = tree(notes_app)
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await accept_one_and_quit(pilot)
        assert "Write (w)" in [
            str(b.label) for b in app.screen.query("Button")]
        await pilot.press("w")  # write first: what is written is shown and asked about
        await idle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "app.py" in app.screen.detail
        await pilot.press("y")
        await idle(pilot)
        await pilot.press("q")  # written: quits without asking
    assert app.return_value is not None
    after = tree(notes_app)
    assert after != before and b"debug=True" not in after["app.py"]


async def test_quit_without_decisions_does_not_ask(notes_app):
    app = make_app(notes_app, "--exit-zero")
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await pilot.press("n")  # a skip is not worth asking about
        await pilot.press("q")
    assert app.return_value == 0


async def test_help_opens_and_closes(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_filter_and_grouping(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await pilot.press("slash", *"sev:critical")
        await pilot.press("enter")
        assert app.filter == "sev:critical"
        assert {str(e.finding.severity) for e in app.visible()} == {"critical"}
        await pilot.press("escape")
        assert len(app.visible()) == len(app.entries)
        await pilot.press("slash", *"csrf", "enter")
        assert {e.finding.code for e in app.visible()} == {"H201"}
        await pilot.press("escape")
        await pilot.press("g")
        assert app.group == "severity"
        severities = [int(e.finding.severity) for e in app.visible()]
        assert severities == sorted(severities, reverse=True)
        await pilot.press("g")
        assert app.group == "category"


async def test_escape_cancels_the_scan_and_keeps_the_findings(notes_app):
    app = make_app(notes_app)
    gate = threading.Event()
    make_scanner = app.session.scanner

    def gated_scanner():
        scanner = make_scanner()
        run = scanner.run

        def gated_run(on_progress=None, on_finding=None):
            def progress(done, total, path):
                on_progress(done, total, path)
                if done >= 1:
                    gate.wait(30)  # hold the scan after its first file until the test pressed Escape
            return run(on_progress=progress, on_finding=on_finding)

        scanner.run = gated_run
        return scanner

    app.session.scanner = gated_scanner
    app.update_interval = 0
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(500):
            await pilot.pause(0.02)
            if app.scan_done >= 1:
                break
        assert app.phase == "scanning"
        assert app.provisional  # findings appear while the scan runs
        await pilot.press("j")  # the keyboard works during the scan
        await pilot.press("escape")
        gate.set()
        await idle(pilot)
        assert not app.complete
        assert app.entries and app.session.files_scanned < 3
        assert not [e for e in app.entries if e.finding.path.startswith("templates/")]
        # no decision is lost to a rescan that sees more: nothing new appears
        count = len(app.entries)
        first = next(e for e in app.entries if e.has_fix)
        await goto(pilot, first.finding.code)
        await pilot.press("y")
        await idle(pilot)
        assert len(app.entries) == count


async def test_empty_project_says_no_flask_app(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    (root / "README.md").write_text("nothing here\n")
    (root / "tool.py").write_text("print('hi')\n")
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await idle(pilot)
        assert not app.entries
        text = str(app.query_one("#d-head").render())
        assert "Not a Flask project" in text
        assert "no Flask app found under empty" in text and str(tmp_path) not in text
        await pilot.press("q")
    assert app.return_value == 2


async def test_clean_project_says_nothing_found(tmp_path):
    root = tmp_path / "clean"
    root.mkdir()
    (root / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        await idle(pilot)
        text = str(app.query_one("#d-head").render())
        assert "Nothing found" in text and "1 file scanned" in text
        await pilot.press("q")
    assert app.return_value == 0


async def test_parse_errors_are_listed(notes_app):
    (notes_app / "broken.py").write_text("from flask import Flask\napp = Flask(__name__\n")
    app = make_app(notes_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await idle(pilot)
        panel = app.query_one("#errors")
        assert panel.display
        assert "broken.py" in str(panel.render())
        assert app.entries  # the rest of the project is still reviewed


def test_editor_line_maps_staged_lines_to_the_file_on_disk():
    from hardener.tui.app import disk_line

    disk = b"a\nb\nc\nd\n"
    staged = b"a\nimport x\nb\nc\nd\n"  # an accepted fix added line 2
    assert disk_line(staged, disk, 4) == 3  # "c"
    assert disk_line(staged, disk, 2) == 2  # the added line: where it would go
    assert disk_line(disk, disk, 3) == 3


async def test_o_shows_and_accepts_the_other_fix(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        headers = await goto(pilot, "H211")
        other = headers.finding.fix.alternative
        await pilot.press("o")
        await idle(pilot)
        assert other.title in str(app.query_one("#d-fix").render())
        assert app.fix_state(app.current())[0] is other.changeset()
        await pilot.press("y")
        await idle(pilot)
        assert entry(app, "H211").alternative and entry(app, "H211").status is Status.ACCEPTED


async def test_write_warns_about_uncommitted_changes_and_refuses_a_stale_file(notes_app):
    def git(*args):
        subprocess.run(["git", *args], cwd=notes_app, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    app_py = notes_app / "app.py"
    app_py.write_text(app_py.read_text() + "# work in progress\n")  # not committed
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        await goto(pilot, "H101")
        await pilot.press("y", "w")
        await idle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "uncommitted git changes in app.py" in app.screen.detail
        app_py.write_text(app_py.read_text() + "# edited meanwhile\n")
        edited = app_py.read_bytes()
        await pilot.press("y")
        await idle(pilot)
        assert not isinstance(app.screen, SummaryScreen)
        assert any("nothing was written" in n.message for n in app._notifications)
        assert entry(app, "H101").status is Status.ACCEPTED  # the decision is kept
    assert app_py.read_bytes() == edited
