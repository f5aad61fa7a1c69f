import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from shop import create_app  # noqa: E402
from shop.extensions import db  # noqa: E402
from shop.models import Product, User  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app(tmp_path):
    app = create_app("shop.config.TestingConfig", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/test.db"})
    with app.app_context():
        db.create_all()
        db.session.add_all([Product(name="Kettle", price=2500), Product(name="Teapot", price=1800),
                            Product(name="Tea cups", price=900)])
        user = User(email="ann@example.com")
        user.set_password("ann-password")
        db.session.add(user)
        db.session.commit()
    yield app


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


def login(client, email="ann@example.com", password="ann-password", **kwargs):
    return post_form(client, "/auth/login", {"email": email, "password": password}, **kwargs)
