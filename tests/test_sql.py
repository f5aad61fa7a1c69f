"""H301 sql-built-from-strings beyond its examples.

Semantic checks: each query shape is run on a seeded sqlite3 database before
and after the fix; legitimate values return the same rows, injection payloads
stop working. Then the cases that must be reported without a fix (identifiers,
IN lists, branches), the paramstyle of each driver, and what is not a finding.
"""

from __future__ import annotations

import sqlite3

import pytest

from hardener.config import Config
from hardener.models import Safety
from hardener.scanner import scan

from conftest import write_tree
from rewrite_helpers import APP, dedent, findings, fix, fix_twice, project

DB = APP + "import sqlite3\n"


def seeded() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, pw TEXT, role TEXT);
        INSERT INTO users (name, pw, role) VALUES ('alice', 'a-pw', 'admin'), ('bob', 'b-pw', 'user'),
            ('o''brien', 'o-pw', 'user');
        CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT);
        INSERT INTO notes (user_id, title) VALUES (1, 'Groceries'), (1, '100% sure'), (2, 'Bike'), (2, 'Big plans');
        """
    )
    return db


def run(source: str, func: str, *args):
    ns: dict = {"__name__": "sql_probe"}
    exec(compile(source, "<app>", "exec"), ns)
    db = seeded()
    try:
        result = ns[func](db, *args)
        return sorted(result) if isinstance(result, list) else result
    except sqlite3.Error as exc:
        return f"error: {exc.__class__.__name__}"


# (function source, [legitimate args...], [payload args...])
SHAPES = {
    "fstring_quoted": (
        '''
        def q(db, name, pw):
            return db.execute(f"SELECT id FROM users WHERE name = '{name}' AND pw = '{pw}'").fetchall()
        ''',
        [("alice", "a-pw"), ("alice", "wrong"), ("o'brien", "o-pw")],
        [("' OR '1'='1' --", "x"), ("alice", "' OR '1'='1"), ("x' UNION SELECT id FROM users --", "")],
    ),
    "percent_numeric": (
        '''
        def q(db, note_id):
            return db.execute("SELECT title FROM notes WHERE id = %s" % note_id).fetchall()
        ''',
        [("1",), ("3",), ("99",)],
        [("99 OR 1=1",), ("0 UNION SELECT pw FROM users",)],
    ),
    "percent_quoted_and_d": (
        '''
        def q(db, uid, title):
            db.execute("UPDATE notes SET title = '%s'"
                       " WHERE id = %d" % (title, uid))
            return db.execute("SELECT id, title FROM notes").fetchall()
        ''',
        [(1, "New"), (3, "Old")],
        [(1, "x' --")],
    ),
    "format_lowercase": (
        '''
        def q(db, uid, title):
            return db.execute("select id from notes where user_id = {} and title = '{}'".format(uid, title)).fetchall()
        ''',
        [(1, "Groceries"), (2, "Bike"), (1, "Bike")],
        [(1, "x' OR 'a'='a"), ("1 OR 1=1 --", "")],
    ),
    "concat_like_several_statements": (
        '''
        def q(db, uid, term):
            query = "SELECT title FROM notes WHERE user_id = " + str(uid) + " AND title LIKE '%" + term + "%'"
            query += " ORDER BY id"
            return db.execute(query).fetchall()
        ''',
        [(1, "Gro"), (2, "B"), (1, ""), (1, "%")],
        [(1, "%' OR '1'='1"), (1, "' UNION SELECT pw FROM users --")],
    ),
    "like_prefix_and_literal_percent": (
        '''
        def q(db, prefix):
            return db.execute(f"SELECT title FROM notes WHERE title LIKE '{prefix}%' AND title != '100%'").fetchall()
        ''',
        [("B",), ("1",), ("",)],
        [("' OR 1=1 --",)],
    ),
    "in_list_items": (
        '''
        def q(db, a, b):
            return db.execute(f"SELECT name FROM users WHERE id IN ({a}, {b})").fetchall()
        ''',
        [(1, 2), (3, 3)],
        [("0) OR (1=1", 0)],
    ),
    "with_cte_and_between": (
        '''
        def q(db, low, high):
            sql = f"WITH n AS (SELECT id, title FROM notes) SELECT title FROM n WHERE id BETWEEN {low} AND {high}"
            return db.execute(sql).fetchall()
        ''',
        [(1, 2), (2, 4)],
        [("5 OR 1=1", 4)],
    ),
    "update_then_select": (
        '''
        def q(db, uid, title):
            db.execute(f"UPDATE notes SET title = '{title}' WHERE id = {uid}")
            return db.execute("SELECT id, title FROM notes").fetchall()
        ''',
        [(1, "New"), (3, "it's fine")],
        [(1, "x' WHERE 1=1 --")],
    ),
    "delete_limit_concat_fstring": (
        '''
        def q(db, uid):
            db.execute("DELETE FROM notes " + f"WHERE user_id = {uid}")
            return db.execute("SELECT id FROM notes").fetchall()
        ''',
        [(1,), (2,)],
        [("1 OR 1=1",)],
    ),
    "module_template": (
        '''
        FIND = "SELECT id FROM users WHERE name = '{}'"


        def q(db, name):
            return db.execute(FIND.format(name)).fetchall()
        ''',
        [("bob",), ("nobody",)],
        [("' OR ''='",)],
    ),
    "fragment_in_quoted_value": (
        '''
        def q(db, first, last):
            return db.execute(f"SELECT id FROM users WHERE name = '{first}{last}'").fetchall()
        ''',
        [("al", "ice"), ("b", "ob")],
        [("' OR 1=1 --", "")],
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_same_rows_for_legitimate_values_and_payloads_stop_working(shape, tmp_path):
    body, legit, payloads = SHAPES[shape]
    before = DB + dedent(body)
    root = project(tmp_path, before)
    found = findings(root, "H301")
    assert found and all(f.fix is not None and f.fix.safety is Safety.SAFE for f in found), [f.message for f in found]
    texts, left = fix(root, "H301")
    after = texts["app.py"]
    assert left == []
    for args in legit:
        original, fixed = run(before, "q", *args), run(after, "q", *args)
        if str(original).startswith("error"):
            assert not str(fixed).startswith("error"), args  # a quote in a real value broke the old query
        else:
            assert original == fixed, args
    for args in payloads:
        original = run(before, "q", *args)
        fixed = run(after, "q", *args)
        assert original != fixed, (args, original)  # the payload changed the query before, not now
        assert not str(fixed).startswith("error"), (args, fixed)  # and it is plain data: no SQL error


def test_payloads_are_only_data_after_the_fix(tmp_path):
    body, _, _ = SHAPES["fstring_quoted"]
    root = project(tmp_path, DB + dedent(body))
    texts, _ = fix(root, "H301")
    assert run(DB + dedent(body), "q", "' OR '1'='1' --", "x") == [(1,), (2,), (3,)]
    assert run(texts["app.py"], "q", "' OR '1'='1' --", "x") == []


def test_second_run_proposes_nothing_and_variables_are_kept(tmp_path):
    body, _, _ = SHAPES["concat_like_several_statements"]
    root = project(tmp_path, DB + dedent(body))
    out = fix_twice(root, "H301")["app.py"]
    assert 'query = "SELECT title FROM notes WHERE user_id = ? AND title LIKE ?"' in out
    assert 'query += " ORDER BY id"' in out
    assert 'return db.execute(query, (uid, f"%{term}%")).fetchall()' in out


def test_comments_and_layout_are_kept(tmp_path):
    root = project(tmp_path, DB + dedent('''
        def q(db, name):
            # find the user
            row = db.execute(
                f"SELECT id FROM users WHERE name = '{name}'",  # by name
            ).fetchone()
            return row
        '''))
    texts, _ = fix(root, "H301")
    assert texts["app.py"].endswith(dedent('''
        def q(db, name):
            # find the user
            row = db.execute(
                "SELECT id FROM users WHERE name = ?",  # by name
                (name,),
            ).fetchone()
            return row
        '''))


def test_adjacent_literals_keep_their_lines_and_comments(tmp_path):
    root = project(tmp_path, DB + dedent('''
        def q(db, title, uid):
            db.execute(
                "UPDATE notes SET title = '%s'"  # the new title
                " WHERE id = %d" % (title, uid)
            )
            return db.execute(("SELECT * FROM notes "
                               "WHERE title = '" + title + "' "
                               "ORDER BY id")).fetchall()
        '''))
    texts, _ = fix(root, "H301")
    assert dedent('''
            db.execute(
                "UPDATE notes SET title = ?"  # the new title
                " WHERE id = ?", (title, uid)
            )
            return db.execute("SELECT * FROM notes WHERE title = ? ORDER BY id", (title,)).fetchall()
        ''') in dedent(texts["app.py"].split("def q(db, title, uid):\n")[1])


# --------------------------------------------------------------------------- reported without a fix


@pytest.mark.parametrize("body,why", [
    ('def q(db, col):\n    return db.execute(f"SELECT {col} FROM users").fetchall()\n', "table or column name"),
    ('def q(db, table):\n    return db.execute("SELECT * FROM " + table).fetchall()\n', "table or column name"),
    ('def q(db, d):\n    return db.execute(f"SELECT * FROM users ORDER BY name {d}").fetchall()\n',
     "table or column name"),
    ('def q(db, ids):\n    return db.execute(f"SELECT * FROM users WHERE id IN ({ids})").fetchall()\n', "IN list"),
    ('def q(db, ids):\n    return db.execute(f"SELECT * FROM users WHERE id IN ({\',\'.join(str(i) for i in ids)})").fetchall()\n',
     "IN list"),
    ('def q(db, where):\n    return db.execute(f"SELECT * FROM users WHERE {where}").fetchall()\n', "piece of SQL"),
    ('def q(db, name, flag):\n    sql = "SELECT * FROM users"\n    if flag:\n'
     '        sql += f" WHERE name = \'{name}\'"\n    return db.execute(sql).fetchall()\n', "branch or loop"),
    ('def q(db, level):\n    db.execute(f"PRAGMA read_uncommitted = {level}")\n', "take no parameters"),
    ('def q(db, tables):\n    for table in tables:\n        db.execute(f"DROP TABLE {table}")\n', "table or column name"),
    ('COLUMNS = ["a", "b"]\n\ndef q(db, extra):\n    for col in COLUMNS + extra:\n'
     '        db.execute(f"SELECT {col} FROM users")\n', "table or column name"),
    # module constants that are not constants: changed in place, bound twice, hidden by a parameter
    ('tables = ["users"]\n\ndef add(name):\n    tables.append(name)\n\ndef q(db):\n    for t in tables:\n'
     '        db.execute(f"DELETE FROM {t}")\n', "table or column name"),
    ('table = "users"\nif DEBUG:\n    table = input()\n\ndef q(db):\n    db.execute(f"DELETE FROM {table}")\n',
     "table or column name"),
    ('table = "users"\n\ndef q(db, table):\n    db.execute(f"DELETE FROM {table}")\n', "table or column name"),
    ('def q(db, extra):\n    names = ("a", "b")\n    names = names + extra\n    for n in names:\n'
     '        db.execute(f"DELETE FROM {n}")\n', "table or column name"),
    ('def q(db, name):\n    db.executescript(f"DELETE FROM users WHERE name = \'{name}\';")\n', "executescript"),
    ('def q(db, name, role):\n    return db.execute(f"SELECT * FROM users WHERE name = \'{name}\' AND role = ?", '
     '(role,)).fetchall()\n', "already passes parameters"),
])
def test_reported_without_a_fix(body, why, tmp_path):
    root = project(tmp_path, DB + body)
    found = findings(root, "H301")
    assert len(found) == 1 and found[0].fix is None
    assert why in found[0].message


def test_a_value_changed_after_the_query_is_built_is_not_moved(tmp_path):
    root = project(tmp_path, DB + dedent('''
        def q(db, name):
            sql = f"SELECT id FROM users WHERE name = '{name}'"
            name = "someone else"
            return db.execute(sql).fetchall()
        '''))
    found = findings(root, "H301")
    assert len(found) == 1 and found[0].fix is None


# --------------------------------------------------------------------------- drivers and paramstyles


def _fixed(tmp_path, source, config=None):
    root = project(tmp_path, source)
    found = findings(root, "H301")
    assert len(found) == 1 and found[0].fix is not None, [f.message for f in found]
    return found[0].fix, found[0].fix.changeset().changes[0].new.decode()


@pytest.mark.parametrize("driver", ["psycopg2", "pymysql", "MySQLdb", "psycopg"])
def test_format_style_drivers_get_percent_s_and_escaped_percent(driver, tmp_path):
    source = APP + f"import {driver}\nconn = {driver}.connect()\n\n\ndef q(name):\n    cur = conn.cursor()\n" \
        "    cur.execute(f\"SELECT * FROM t WHERE name = '{name}' AND note LIKE '50%'\")\n"
    fix_, out = _fixed(tmp_path, source)
    assert fix_.safety is Safety.SAFE
    assert "cur.execute(\"SELECT * FROM t WHERE name = %s AND note LIKE '50%%'\", (name,))" in out


def test_connection_from_a_helper_function(tmp_path):
    source = APP + dedent('''
        import sqlite3
        from flask import g


        def get_db():
            if "db" not in g:
                g.db = sqlite3.connect("x.db")
            return g.db


        def q(name):
            db = get_db()
            return db.execute(f"SELECT * FROM t WHERE name = '{name}'").fetchall()
        ''')
    fix_, out = _fixed(tmp_path, source)
    assert fix_.safety is Safety.SAFE and '"SELECT * FROM t WHERE name = ?", (name,)' in out


def test_with_connect_as(tmp_path):
    source = APP + dedent('''
        import psycopg2


        def q(name):
            with psycopg2.connect("dbname=x") as conn:
                with conn.cursor() as cur:
                    cur.execute("SELECT * FROM t WHERE name = '%s'" % name)
                    return cur.fetchall()
        ''')
    fix_, out = _fixed(tmp_path, source)
    assert fix_.safety is Safety.SAFE and 'cur.execute("SELECT * FROM t WHERE name = %s", (name,))' in out


def test_unknown_driver_is_review_and_says_why(tmp_path):
    source = APP + 'def q(cursor, name):\n    cursor.execute(f"SELECT * FROM t WHERE name = \'{name}\'")\n'
    fix_, out = _fixed(tmp_path, source)
    assert fix_.safety is Safety.REVIEW and "could not be determined" in fix_.reason


def test_paramstyle_setting_decides_an_unknown_driver(tmp_path):
    source = APP + 'def q(cursor, name):\n    cursor.execute(f"SELECT * FROM t WHERE name = \'{name}\'")\n'
    root = project(tmp_path, source)
    (root / "pyproject.toml").write_text('[tool.hardener]\nparamstyle = "format"\n')
    from hardener.config import load_config

    result = scan(root, load_config(root))
    [found] = [f for f in result.findings if f.code == "H301"]
    assert found.fix.safety is Safety.SAFE
    assert 'cursor.execute("SELECT * FROM t WHERE name = %s", (name,))' in found.fix.changeset().changes[0].new.decode()


def test_sqlalchemy_session_with_a_raw_string_gets_text_and_a_dict(tmp_path):
    source = APP + dedent('''
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy(app)


        def q(name, limit):
            return db.session.execute(f"SELECT * FROM t WHERE name = '{name}' LIMIT {limit}").all()
        ''')
    fix_, out = _fixed(tmp_path, source)
    assert "from sqlalchemy import text" in out
    assert 'db.session.execute(text("SELECT * FROM t WHERE name = :name LIMIT :limit"), ' \
           '{"name": name, "limit": limit}).all()' in out


def test_standalone_text_gets_bindparams(tmp_path):
    source = APP + dedent('''
        from sqlalchemy import text


        def q(session, name):
            stmt = text(f"SELECT * FROM t WHERE name = '{name}'")
            return session.execute(stmt).all()
        ''')
    fix_, out = _fixed(tmp_path, source)
    assert 'stmt = text("SELECT * FROM t WHERE name = :name").bindparams(name=name)' in out


def test_pandas_read_sql_gets_params(tmp_path):
    source = APP + dedent('''
        import sqlite3
        import pandas as pd

        conn = sqlite3.connect("x.db")


        def q(name):
            return pd.read_sql(f"SELECT * FROM t WHERE name = '{name}'", conn)
        ''')
    fix_, out = _fixed(tmp_path, source)
    assert 'pd.read_sql("SELECT * FROM t WHERE name = ?", conn, params=(name,))' in out


# --------------------------------------------------------------------------- not findings


@pytest.mark.parametrize("body", [
    'def q(db, name):\n    return db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchall()\n',
    'def q(db, name):\n    sql = "SELECT * FROM users WHERE name = ?"\n    return db.execute(sql, (name,)).fetchall()\n',
    'TABLE = "users"\n\ndef q(db, name):\n    return db.execute(f"SELECT * FROM {TABLE} WHERE name = ?", (name,)).fetchall()\n',
    'def q(db, n):\n    return db.execute(f"SELECT * FROM users LIMIT {int(n)}").fetchall()\n',
    'def q(db, n):\n    n = int(n)\n    return db.execute(f"SELECT * FROM users LIMIT {n}").fetchall()\n',
    'def q(db, n):\n    return db.execute("SELECT * FROM users LIMIT %d" % n).fetchall()\n',
    'def q(db, ids):\n    marks = ",".join("?" * len(ids))\n'
    '    return db.execute(f"SELECT * FROM users WHERE id IN ({marks})", ids).fetchall()\n',
    'def q(db, ids):\n    return db.execute(f"SELECT * FROM users WHERE id IN ({\', \'.join([\'?\'] * len(ids))})", ids).fetchall()\n',
    'def q(runner, name):\n    return runner.execute(f"deploy {name}")\n',
    'def q(db, col):\n    if col not in ("name", "role"):\n        raise ValueError(col)\n'
    '    return db.execute(f"SELECT {col} FROM users").fetchall()\n',
    # a migration: every table and column comes from a constant, the id from uuid4()
    'COLUMNS = [("users", "bio"), ("posts", "body")]\n\ndef upgrade(db):\n    for table, column in COLUMNS:\n'
    '        db.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE text")\n'
    '    for name in ("a", "b"):\n        db.execute(f"DROP INDEX IF EXISTS {name}")\n'
    '    db.execute(f"UPDATE links SET id = \'{uuid.uuid4()}\'")\n',
    # constants in lower case: a module-level tuple and dict, a local set, none of them changed
    'tables = (("events", "ratings"), ("papers", "reviews"))\n\ndef upgrade(db):\n'
    '    for schema, table in tables:\n        db.execute(f"DROP TABLE {schema}.{table}")\n',
    'mapping = {0: "first_last", 1: "last_first"}\n\ndef upgrade(db):\n    for value, name in mapping.items():\n'
    '        db.execute(f"UPDATE settings SET value = \'{name}\' WHERE value = \'{value}\'")\n',
    'table = "users"\n\ndef q(db):\n    return db.execute(f"SELECT * FROM {table}").fetchall()\n',
    'def reset(db):\n    done = {"audiovisual", "payment"}\n    for plugin in done:\n'
    '        db.execute(f"DROP TABLE alembic_version_{plugin}")\n',
    'def create(db, new):\n    if new:\n        extra = "without rowid"\n    else:\n        extra = ""\n'
    '    db.execute(f"create table t (a text primary key) {extra}")\n',
    'def q(db, native):\n    return db.execute("SELECT CAST(x AS {})".format("json" if native else "text")).fetchall()\n',
])
def test_not_a_finding(body, tmp_path):
    root = project(tmp_path, DB + body)
    assert findings(root, "H301") == []


QUOTING = ('def identifier(s):\n    """as a quoted identifier"""\n'
           '    return \'"\' + s.replace(\'"\', \'""\').replace("\\0", "") + \'"\'\n\n'
           'def literal_string(s):\n    return "\'" + s.replace("\'", "\'\'") + "\'"\n\n'
           'def unquoted(s):\n    return \'"\' + s + \'"\'\n\n')


def test_values_quoted_by_a_helper_that_doubles_the_quote_are_kept_outside_quotes_only(tmp_path):
    # CKAN's datastore: identifier() and literal_string(), in its own module and imported
    root = project(tmp_path, {
        "quoting.py": QUOTING,
        "app.py": DB + "from quoting import identifier, unquoted\n" + dedent('''
            def ok(db, table, cols, name):
                db.execute(f"SELECT {', '.join([identifier(c) for c in cols])} FROM {identifier(table)}")
                return db.execute("DROP VIEW {0}".format(identifier(name)))


            def in_quotes(db, table):
                return db.execute(f"SELECT * FROM t WHERE name = '{identifier(table)}'")


            def not_doubled(db, table):
                return db.execute(f"SELECT * FROM {unquoted(table)}")
            '''),
        "local.py": DB + QUOTING + "def q(db, rid):\n    return db.execute(f\"SELECT * FROM t WHERE id = {literal_string(rid)}\")\n",
    })
    found = findings(root, "H301")
    assert [(f.path, f.line) for f in found] == [("app.py", 11), ("app.py", 15)]


def test_identifiers_quoted_by_the_database_library_are_kept(tmp_path):
    # superset's migrations: dialect().identifier_preparer.quote(table_name); psycopg2's quote_ident
    root = project(tmp_path, DB + "from psycopg2.extensions import quote_ident\n" + dedent('''
        def add_uuids(op, dialect, table_name, sql):
            op.execute(f"UPDATE {dialect().identifier_preparer.quote(table_name)} SET uuid = {sql}")


        def count(db, engine, table, conn):
            preparer = engine.dialect.identifier_preparer
            db.execute(f"SELECT count(*) FROM {preparer.quote_identifier(table)}")
            db.execute(f"SELECT count(*) FROM {quote_ident(table, conn)}")
            return db.execute(f"SELECT count(*) FROM {preparer.quote(table)} WHERE name = '{table}'")
        '''))
    found = findings(root, "H301")
    assert [(f.line, f.message.split("`")[1]) for f in found] == [(6, "sql"), (13, "table")]


def test_test_code_and_several_apps_in_one_module(tmp_path):
    root = write_tree(tmp_path / "p", {
        "app.py": DB + "admin = Flask('admin')\n" + dedent('''
            db = sqlite3.connect("x.db")


            @app.route("/a")
            def a():
                return str(db.execute(f"SELECT * FROM t WHERE n = '{request.args['n']}'").fetchall())


            @admin.route("/b")
            def b():
                return str(db.execute("SELECT * FROM t WHERE n = '%s'" % request.args["n"]).fetchall())
            '''),
    })
    found = findings(root, "H301")
    assert [f.line for f in found] == [10, 15]
    assert all(str(f.confidence) == "high" for f in found)  # request data flows in
    result = scan(root, Config(select=["H301"], cache=False))
    assert result.errors == []


def test_test_code_is_not_checked(tmp_path):
    query = dedent('''
        def check(db, rid):
            return db.execute(f"SELECT * FROM t WHERE id = '{rid}'").fetchall()
        ''')
    root = write_tree(tmp_path / "p", {"app.py": DB + query, "tests/test_rows.py": "import sqlite3\n" + query,
                                       "conftest.py": "import sqlite3\n" + query})
    assert [f.path for f in findings(root, "H301")] == ["app.py"]
