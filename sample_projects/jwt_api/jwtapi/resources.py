import jwt
from flask import Blueprint, current_app, jsonify, request
from flask_jwt_extended import get_jwt_identity, jwt_required

from jwtapi.users import users

bp = Blueprint("api", __name__, url_prefix="/api")

NOTES = {
    "alice": ["buy milk", "call bob"],
    "root": ["rotate the backups"],
}


@bp.route("/notes")
@jwt_required()
def notes():
    owner = get_jwt_identity()
    limit = int(request.args.get("limit", "10"))
    return jsonify(owner=owner, notes=NOTES.get(owner, [])[:limit])


@bp.route("/me")
@jwt_required()
def me():
    return jsonify(users().get(get_jwt_identity()).to_dict())


def claims_from_header():
    """Read the token's claims; the reverse proxy checks signatures already."""
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return jwt.decode(token, current_app.config["JWT_SECRET_KEY"], algorithms=["HS256"],
                      options={"verify_signature": False})


@bp.route("/admin/stats")
def admin_stats():
    try:
        claims = claims_from_header()
    except jwt.InvalidTokenError:
        return jsonify(error="invalid token"), 401
    if claims.get("role") != "admin":
        return jsonify(error="admins only"), 403
    return jsonify(users=len(users().users), notes=sum(len(n) for n in NOTES.values()))
