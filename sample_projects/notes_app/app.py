"""Notes: a small note-taking app on sqlite3.

Deliberately vulnerable: it is a sample for hardener (see README.md).
"""

import os
import sqlite3

from flask import (Flask, abort, g, redirect, render_template, render_template_string,
                   request, session, url_for)

app = Flask(__name__)
app.config["SECRET_KEY"] = "dev-secret-key-123"
app.config["DATABASE"] = os.path.join(app.root_path, "notes.db")
app.config["UPLOAD_FOLDER"] = os.path.join(app.root_path, "uploads")


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    """Create the tables and a little demo data."""
    db = get_db()
    db.executescript(
        """
        DROP TABLE IF EXISTS users;
        DROP TABLE IF EXISTS notes;
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT);
        CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER, title TEXT, body TEXT);
        """
    )
    db.execute("INSERT INTO users (username, password) VALUES ('alice', 'alice-password')")
    db.execute("INSERT INTO users (username, password) VALUES ('bob', 'bob-password')")
    demo = [
        (1, "Groceries", "milk, eggs, <b>bread</b>"),
        (1, "Ideas", "a garden of notes"),
        (1, "Books to read", "Dune; The Hobbit"),
        (2, "Bob's plans", "fix the bike"),
        (2, "Recipes", "pancakes"),
    ]
    db.executemany("INSERT INTO notes (user_id, title, body) VALUES (?, ?, ?)", demo)
    db.commit()


def current_user_id():
    user_id = session.get("user_id")
    if user_id is None:
        abort(401)
    return user_id


@app.route("/")
def index():
    if "user_id" in session:
        return redirect(url_for("notes"))
    return redirect(url_for("login"))


@app.route("/register", methods=["GET", "POST"])
def register():
    error = None
    if request.method == "POST":
        username = request.form["username"]
        password = request.form["password"]
        db = get_db()
        try:
            db.execute("INSERT INTO users (username, password) VALUES (?, ?)", (username, password))
            db.commit()
        except sqlite3.IntegrityError:
            error = "That name is taken."
        else:
            return redirect(url_for("login"))
    return render_template("register.html", error=error)


@app.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        username = request.form["username"]
        password = request.form["password"]
        db = get_db()
        user = db.execute(
            f"SELECT id, username FROM users WHERE username = '{username}' AND password = '{password}'"
        ).fetchone()
        if user is None:
            error = "Wrong username or password."
        else:
            session["user_id"] = user["id"]
            session["username"] = user["username"]
            next_url = request.args.get("next")
            return redirect(next_url or url_for("notes"))
    return render_template("login.html", error=error)


@app.route("/logout", methods=["POST"])
def logout():
    session.clear()
    return redirect(url_for("login"))


@app.route("/notes", methods=["GET", "POST"])
def notes():
    user_id = current_user_id()
    db = get_db()
    if request.method == "POST":
        title = request.form["title"]
        body = request.form["body"]
        db.execute(
            "INSERT INTO notes (user_id, title, body) VALUES ({}, '{}', '{}')".format(user_id, title, body)
        )
        db.commit()
        return redirect(url_for("notes"))
    rows = db.execute("SELECT id, title, body FROM notes WHERE user_id = ? ORDER BY id", (user_id,)).fetchall()
    return render_template("notes.html", notes=rows)


@app.route("/notes/<note_id>")
def show_note(note_id):
    current_user_id()
    db = get_db()
    note = db.execute("SELECT id, title, body FROM notes WHERE id = %s" % note_id).fetchone()
    if note is None:
        abort(404)
    return render_template("note.html", note=note)


@app.route("/notes/<int:note_id>/delete", methods=["POST"])
def delete_note(note_id):
    user_id = current_user_id()
    db = get_db()
    db.execute("DELETE FROM notes WHERE id = ? AND user_id = ?", (note_id, user_id))
    db.commit()
    return {"deleted": note_id}


@app.route("/search")
def search():
    user_id = current_user_id()
    term = request.args.get("q", "")
    query = "SELECT id, title, body FROM notes WHERE user_id = " + str(user_id) + " AND title LIKE '%" + term + "%'"
    query += " ORDER BY id"
    db = get_db()
    results = db.execute(query).fetchall()
    return render_template("search.html", results=results, term=term)


@app.route("/upload", methods=["GET", "POST"])
def upload():
    current_user_id()
    saved = None
    if request.method == "POST":
        file = request.files["file"]
        os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
        file.save(os.path.join(app.config["UPLOAD_FOLDER"], file.filename))
        saved = file.filename
    return render_template("upload.html", saved=saved)


@app.route("/hello")
def hello():
    name = request.args.get("name", "stranger")
    return render_template_string(f"<h1>Hello {name}!</h1>")


if __name__ == "__main__":
    with app.app_context():
        if not os.path.exists(app.config["DATABASE"]):
            init_db()
    app.run(debug=True)
