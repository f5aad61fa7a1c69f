from flask import Blueprint, jsonify, request
from flask_jwt_extended import create_access_token

from jwtapi.users import users

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["POST"])
def login():
    data = request.get_json(silent=True) or {}
    user = users().get(data.get("username", ""))
    if user is None or not user.check_password(data.get("password", "")):
        return jsonify(error="invalid username or password"), 401
    token = create_access_token(identity=user.username, additional_claims={"role": user.role})
    return jsonify(access_token=token)


@bp.route("/register", methods=["POST"])
def register():
    data = request.get_json(silent=True) or {}
    username, password = data.get("username", "").strip(), data.get("password", "")
    if not username or len(password) < 8:
        return jsonify(error="username and a password of 8+ characters required"), 400
    if users().get(username) is not None:
        return jsonify(error="username taken"), 409
    user = users().add(username, password)
    return jsonify(user.to_dict()), 201
