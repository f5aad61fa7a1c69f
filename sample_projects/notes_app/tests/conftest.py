import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import app as flask_app, init_db  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app(tmp_path):
    flask_app.config.update(
        TESTING=True,
        DATABASE=str(tmp_path / "notes.db"),
        UPLOAD_FOLDER=str(tmp_path / "uploads"),
    )
    with flask_app.app_context():
        init_db()
    yield flask_app


@pytest.fixture
def client(app):
    return app.test_client()


def post_form(client, form_url, data, post_url=None, **kwargs):
    """Post like a browser: load the page with the form, send its hidden token if it has one."""
    page = client.get(form_url)
    match = TOKEN.search(page.get_data(as_text=True))
    if match:
        data = dict(data, csrf_token=match.group(1))
    return client.post(post_url or form_url, data=data, **kwargs)


def login(client, username="alice", password="alice-password", **kwargs):
    return post_form(client, "/login", {"username": username, "password": password}, **kwargs)
