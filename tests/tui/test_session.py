"""The review state behind the app, without the interface."""

from hardener.config import load_config
from hardener.tui.session import ReviewSession, Status


def session_for(root):
    config = load_config(root)
    config.cache = False
    s = ReviewSession(root, config)
    s.load(s.scanner().run())
    return s


def first(s, code):
    return next(e for e in s.entries if e.finding.code == code)


def test_accept_stages_in_memory_and_undo_restores(notes_app):
    s = session_for(notes_app)
    on_disk = (notes_app / "app.py").read_bytes()
    debug = first(s, "H101")
    count, failures = s.accept([debug.id])
    assert (count, failures) == (1, [])
    assert b"debug=True" not in s.ws.read("app.py")
    assert (notes_app / "app.py").read_bytes() == on_disk
    assert s.undo() is not None
    assert first(s, "H101").status is Status.PENDING
    assert s.ws.read("app.py") == on_disk and not s.ws.changed
    assert s.undo() is None


def test_write_plan_is_what_was_previewed(notes_app):
    s = session_for(notes_app)
    s.accept([first(s, "H201").id])
    s.accept([first(s, "H101").id])
    s.skip([first(s, "H311").id])
    plan = s.plan_write()
    assert plan.differs == [] and plan.not_applied == []
    assert {a.finding.code for a in plan.report.applied} == {"H201", "H101"}
    assert plan.ws.changed == s.ws.changed
    report = s.commit(plan)
    assert "app.py" in report.written
    assert b"CSRFProtect" in (notes_app / "app.py").read_bytes()


def test_reload_after_an_edit_keeps_the_accepted_fixes(notes_app):
    s = session_for(notes_app)
    s.accept([first(s, "H101").id])
    path = notes_app / "app.py"
    path.write_bytes(b"# edited by hand\n" + path.read_bytes())
    assert s.reload() == []
    assert first(s, "H101").status is Status.ACCEPTED
    staged = s.ws.read("app.py")
    assert staged.startswith(b"# edited by hand\n") and b"debug=True" not in staged
    plan = s.plan_write()
    assert plan.differs == []
    s.commit(plan)
    assert path.read_bytes() == staged


def test_other_findings_follow_the_accepted_fixes(notes_app):
    s = session_for(notes_app)
    sql = [e for e in s.entries if e.finding.code == "H301"]
    manual_before = {e.id for e in s.entries if e.status is Status.MANUAL}
    s.accept([e.id for e in sql])
    assert all(e.status is Status.ACCEPTED for e in sql)
    # parameterized queries make some plaintext-password findings fixable: they become pending
    became_fixable = [e for e in s.entries if e.id in manual_before and e.status is Status.PENDING]
    assert all(e.finding.fix is not None for e in became_fixable)


def test_the_other_fix_is_the_one_written_when_chosen(notes_app):
    s = session_for(notes_app)
    headers = first(s, "H211")
    alternative = headers.finding.fix.alternative
    assert alternative is not None
    wanted = {c.path: c.new for c in alternative.changeset().changes}
    s.accept([headers.id], {headers.id})
    assert first(s, "H211").alternative
    assert all(s.ws.read(path) == new for path, new in wanted.items())
    plan = s.plan_write()
    assert plan.differs == []
    assert {p: plan.ws.read(p) for p in wanted} == wanted
