"""A small shop built with an application factory."""

from flask import Flask

from shop.extensions import db, login_manager


def create_app(config_object="shop.config.DevelopmentConfig", overrides=None):
    app = Flask(__name__)
    app.config.from_object(config_object)
    if overrides:
        app.config.update(overrides)

    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"

    from shop.auth.routes import bp as auth_bp
    from shop.main.routes import bp as main_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    return app
