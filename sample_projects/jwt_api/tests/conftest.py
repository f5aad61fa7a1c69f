import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jwtapi import create_app  # noqa: E402


@pytest.fixture
def app():
    # A fresh application (and user store) for every test.
    return create_app(overrides={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="alice", password="alice-password"):
    return client.post("/login", json={"username": username, "password": password})


def auth(token):
    return {"Authorization": f"Bearer {token}"}
