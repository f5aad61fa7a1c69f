"""A small JSON API with token authentication, built with an application factory."""

from flask import Flask, jsonify
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from jwtapi.extensions import jwt
from jwtapi.users import UserStore


def create_app(config_object="jwtapi.config.Config", overrides=None):
    app = Flask(__name__)
    app.config.from_object(config_object)
    if overrides:
        app.config.update(overrides)

    jwt.init_app(app)
    UserStore().init_app(app)
    # The single-page front end runs on another origin and sends cookies.
    CORS(app, supports_credentials=True)

    from jwtapi.auth import bp as auth_bp
    from jwtapi.resources import bp as api_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)

    @app.errorhandler(Exception)
    def handle_error(exc):
        if isinstance(exc, HTTPException):
            return jsonify(error=exc.description), exc.code
        return jsonify(error=str(exc)), 500

    return app
