import io
import os
import re

from conftest import login, post_form


def test_login_page(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert b"Log in" in page.data


def test_login_and_list_notes(client):
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/notes")
    page = client.get("/notes")
    assert b"Groceries" in page.data and b"Ideas" in page.data
    assert b"Bob&#39;s plans" not in page.data and b"Bob's plans" not in page.data


def test_wrong_password(client):
    response = login(client, password="nope")
    assert response.status_code == 200
    assert b"Wrong username or password." in response.data


def test_register_then_login(client):
    response = post_form(client, "/register", {"username": "carol", "password": "carol-pass"})
    assert response.status_code == 302
    response = login(client, "carol", "carol-pass")
    assert response.status_code == 302
    assert client.get("/notes").status_code == 200


def test_register_taken_name(client):
    response = post_form(client, "/register", {"username": "alice", "password": "x"})
    assert b"That name is taken." in response.data


def test_create_note(client):
    login(client)
    response = post_form(client, "/notes", {"title": "Shopping", "body": "apples"})
    assert response.status_code == 302
    page = client.get("/notes")
    assert b"Shopping" in page.data and b"apples" in page.data


def test_search(client):
    login(client)
    page = client.get("/search?q=e")
    titles = re.findall(r"<li>(.*?)</li>", page.get_data(as_text=True))
    assert titles == ["Groceries", "Ideas", "Books to read"]
    page = client.get("/search?q=Book")
    assert re.findall(r"<li>(.*?)</li>", page.get_data(as_text=True)) == ["Books to read"]


def test_show_note(client):
    login(client)
    page = client.get("/notes/2")
    assert page.status_code == 200
    assert b"a garden of notes" in page.data
    assert client.get("/notes/999").status_code == 404


def test_notes_need_login(client):
    assert client.get("/notes").status_code == 401


def test_upload(client, app):
    login(client)
    data = {"file": (io.BytesIO(b"hello"), "report.txt")}
    response = post_form(client, "/upload", data, content_type="multipart/form-data")
    assert response.status_code == 200
    assert b"Saved report.txt" in response.data
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "report.txt"), "rb") as fh:
        assert fh.read() == b"hello"


def test_hello(client):
    page = client.get("/hello?name=Ada")
    assert page.status_code == 200
    assert b"Hello Ada!" in page.data


def test_logout(client):
    login(client)
    response = post_form(client, "/notes", {}, post_url="/logout")
    assert response.status_code == 302
    assert client.get("/notes").status_code == 401


def test_delete_note_with_javascript_style_post(client):
    login(client)
    page = client.get("/notes").get_data(as_text=True)
    headers = {}
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    if meta:
        headers["X-CSRFToken"] = meta.group(1)
    response = client.post("/notes/1/delete", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"deleted": 1}
    assert b"Groceries" not in client.get("/notes").data
