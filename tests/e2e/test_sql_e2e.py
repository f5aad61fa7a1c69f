"""End to end: SQL injection (H301) on sample_projects/notes_app (sqlite3) and
shop_factory (SQLAlchemy text()) before and after `hardener --apply-all`.

A probe drives each app with Flask's test client on a seeded database: the
classic payloads (`' OR '1'='1`, a UNION-based login bypass, a numeric
`1 OR 1=1`, a UNION that reads the users table through a search) must work on
the untouched copy and fail on the patched one, while every legitimate query
returns the same rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import PROBE_PREAMBLE, run_probe

COMMON = PROBE_PREAMBLE + r'''


def items(html):
    return re.findall(r"<li>(.*?)</li>", html, re.S)
'''

NOTES = COMMON + r'''
import app as notes
app = notes.app
tmp = tempfile.mkdtemp()
app.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False, DATABASE=os.path.join(tmp, "notes.db"))
with app.app_context():
    notes.init_db()


def login(c, user, password):
    return post_form(c, "/login", {"username": user, "password": password}).status_code


out["login_ok"] = login(app.test_client(), "alice", "alice-password")
out["login_wrong"] = login(app.test_client(), "alice", "nope")
out["login_or"] = login(app.test_client(), "' OR '1'='1' --", "x")
out["login_or_password"] = login(app.test_client(), "alice", "' OR '1'='1")
out["login_union"] = login(app.test_client(), "nobody' UNION SELECT 1, 'alice' --", "x")
c = app.test_client()
login(c, "alice", "alice-password")
# legitimate queries
out["search_gro"] = items(c.get("/search", query_string={"q": "Gro"}).get_data(as_text=True))
out["search_all"] = items(c.get("/search").get_data(as_text=True))
out["search_none"] = items(c.get("/search", query_string={"q": "zzz"}).get_data(as_text=True))
r = c.get("/notes/1")
out["note_1"] = (r.status_code, r.get_data(as_text=True).count("Groceries"))
out["note_404"] = c.get("/notes/999").status_code
# attacks
r = c.get("/search", query_string={"q": "%' UNION SELECT id, password, username FROM users --"})
out["search_union"] = items(r.get_data(as_text=True))
r = c.get("/notes/999 OR 1=1")
out["note_or"] = r.status_code
# a legitimate value with a quote in it: broke the formatted INSERT before
r = post_form(c, "/notes", {"title": "Bob's \"plan\"", "body": "50% off"})
out["quoted_note_status"] = r.status_code
out["notes_after_insert"] = sorted(t for (t,) in sqlite3.connect(os.path.join(tmp, "notes.db")).execute(
    "SELECT title FROM notes WHERE user_id = 1").fetchall())
print(json.dumps(out))
'''

SHOP = COMMON + r'''
from shop import create_app
from shop.extensions import db
from shop.models import Product, User
tmp = tempfile.mkdtemp()
app = create_app("shop.config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shop.db"})
with app.app_context():
    db.create_all()
    user = User(email="ann@example.com")
    user.set_password("ann-password")
    db.session.add(user)
    for name, price in (("Apple", 100), ("Banana", 50), ("Pineapple", 300), ("100% juice", 250)):
        db.session.add(Product(name=name, price=price))
    db.session.commit()
c = app.test_client()


def page(q):
    return c.get("/search", query_string={"q": q}).get_data(as_text=True)


out["apple"] = re.findall(r"Apple|Pineapple|Banana|100% juice", page("apple"))
out["all"] = re.findall(r"Apple|Pineapple|Banana|100% juice", page(""))
out["percent"] = re.findall(r"Apple|Pineapple|Banana|100% juice", page("100%"))
out["union_leaks_email"] = "ann@example.com" in page("zzz%' UNION SELECT id, email, 0 FROM user --")
out["or_everything"] = re.findall(r"Apple|Pineapple|Banana|100% juice", page("zzz%' OR '1'='1' --"))
print(json.dumps(out))
'''

PROBES = {"notes_app": NOTES, "shop_factory": SHOP}


def probe(root: Path, sample: str) -> dict:
    return run_probe(root, PROBES[sample])


@pytest.fixture(scope="module")
def notes(hardened):
    h = hardened("notes_app")
    return h, probe(h.original, "notes_app"), probe(h.root, "notes_app")


@pytest.fixture(scope="module")
def shop(hardened):
    h = hardened("shop_factory")
    return h, probe(h.original, "shop_factory"), probe(h.root, "shop_factory")


def test_notes_login_bypasses_work_before_and_fail_after(notes):
    _, before, after = notes
    for key in ("login_or", "login_or_password", "login_union"):
        assert before[key] == 302, key  # logged in without the password
        assert after[key] == 200, key  # "Wrong username or password."


def test_notes_numeric_and_union_injections_fail_after(notes):
    _, before, after = notes
    assert before["note_or"] == 200 and after["note_or"] == 404
    assert "alice-password" in before["search_union"]
    assert after["search_union"] == []


def test_notes_legitimate_queries_return_the_same_rows(notes):
    _, before, after = notes
    for key in ("login_ok", "login_wrong", "search_gro", "search_all", "search_none", "note_1", "note_404"):
        assert before[key] == after[key], key
    assert after["search_gro"] == ["Groceries"]
    assert after["search_all"] == ["Groceries", "Ideas", "Books to read"]
    assert after["note_1"] == [200, 1]


def test_notes_values_with_quotes_now_work(notes):
    _, before, after = notes
    assert before["quoted_note_status"] == 500  # the formatted INSERT was broken by the quote
    assert after["quoted_note_status"] == 302
    assert "Bob's \"plan\"" in after["notes_after_insert"]


def test_notes_sql_is_parameterized_and_variables_kept(notes):
    h, _, _ = notes
    app = (h.root / "app.py").read_text()
    assert "WHERE username = ? AND password = ?\", (username, password)" in app
    assert "VALUES (?, ?, ?)\", (user_id, title, body)" in app
    assert "WHERE id = ?\", (note_id,)" in app
    assert 'query = "SELECT id, title, body FROM notes WHERE user_id = ? AND title LIKE ?"' in app
    assert 'query += " ORDER BY id"' in app
    assert 'db.execute(query, (user_id, f"%{term}%"))' in app
    assert "H301" not in h.second.stdout


def test_shop_union_and_or_injections_fail_after(shop):
    _, before, after = shop
    assert before["union_leaks_email"] and not after["union_leaks_email"]
    assert sorted(before["or_everything"]) == ["100% juice", "Apple", "Banana", "Pineapple"]
    assert after["or_everything"] == []


def test_shop_legitimate_searches_return_the_same_rows(shop):
    h, before, after = shop
    for key in ("apple", "all", "percent"):
        assert before[key] == after[key], key
    assert after["apple"] == ["Apple", "Pineapple"]
    routes = (h.root / "shop" / "main" / "routes.py").read_text()
    assert 'text("SELECT id, name, price FROM product WHERE name LIKE :q ORDER BY name"), {"q": f"%{q}%"}' in routes
