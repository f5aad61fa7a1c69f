"""The whole review on a copy of notes_app, driven with Textual's Pilot."""

from hardener.tui.session import Status

from .conftest import idle, make_app


def by_code(app, code):
    return [e for e in app.entries if e.finding.code == code]


async def test_scan_lists_the_findings(notes_app):
    app = make_app(notes_app)
    async with app.run_test(size=(100, 32)) as pilot:
        await idle(pilot)
        codes = {e.finding.code for e in app.entries}
        assert {"H101", "H201", "H311", "H401"} <= codes
        assert all(e.status in (Status.PENDING, Status.MANUAL) for e in app.entries)
        assert app.cursor == app.entries[0].id
