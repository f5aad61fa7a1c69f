"""An in-memory user store, one per application."""

from dataclasses import dataclass

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash


@dataclass
class User:
    id: int
    username: str
    password_hash: str
    role: str = "user"

    def check_password(self, password):
        return check_password_hash(self.password_hash, password)

    def to_dict(self):
        return {"id": self.id, "username": self.username, "role": self.role, "password_hash": self.password_hash}


class UserStore:
    def __init__(self):
        self.users = {}
        self.add("alice", "alice-password")
        self.add("root", "root-password", role="admin")

    def init_app(self, app):
        app.extensions["users"] = self

    def add(self, username, password, role="user"):
        user = User(len(self.users) + 1, username, generate_password_hash(password), role)
        self.users[username] = user
        return user

    def get(self, username):
        return self.users.get(username)


def users():
    return current_app.extensions["users"]
