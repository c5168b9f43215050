"""Catalog: an admin application for a music-rights video catalog on YouTube."""

from pathlib import Path

from flask import Flask
from flask_security import SQLAlchemyUserDatastore

from catalog import config as settings
from catalog import pool
from catalog.extensions import csrf, db, migrate, security

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(settings.from_environment())
    app.config.update(config or {})
    settings.refuse_development_secrets(app.config)
    settings.engine_options_for_pooler(app.config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        settings.refuse_embedded_database(app.config)
        from catalog.pgserver import LocalPostgres

        server = LocalPostgres(app.instance_path)
        app.config["SQLALCHEMY_DATABASE_URI"] = server.ensure_running()
        # Migrations run as the schema's owner; the app connects as a role that is not.
        app.config["DATABASE_OWNER_URL"] = app.config["DATABASE_OWNER_URL"] or server.owner_url()

    from catalog.accounts.signin import SignInForm, VerifyPasswordForm
    from catalog.models import Role, User

    db.init_app(app)
    with app.app_context():
        pool.check_idle_connections(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    security.init_app(
        app, SQLAlchemyUserDatastore(db, User, Role),
        login_form=SignInForm, verify_form=VerifyPasswordForm,
    )  # fmt: skip
    # After Flask-Security, whose session user loader it replaces.
    from catalog.accounts import identity

    identity.init_app(app)

    from catalog import cli
    from catalog.accounts import bp as accounts_bp
    from catalog.accounts import sessions, signin
    from catalog.categories import bp as categories_bp
    from catalog.changes import bp as changes_bp
    from catalog.channels import bp as channels_bp
    from catalog.fields import bp as fields_bp
    from catalog.library import bp as library_bp
    from catalog.production import bp as production_bp
    from catalog.production.api import bp as pipeline_api_bp
    from catalog.queue import bp as queue_bp
    from catalog.reports import bp as reports_bp
    from catalog.revert import bp as revert_bp
    from catalog.saved_views import bp as saved_views_bp
    from catalog.videos import bp as videos_bp
    from catalog.web import assets, error_pages, headers, request_id, templating
    from catalog.web.loaders import IdConverter

    # Before the blueprints: their routes use it (<id:report_id>).
    app.url_map.converters["id"] = IdConverter
    app.register_blueprint(videos_bp)
    app.register_blueprint(changes_bp)
    app.register_blueprint(revert_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(channels_bp)
    app.register_blueprint(categories_bp)
    app.register_blueprint(fields_bp)
    app.register_blueprint(queue_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(production_bp)
    app.register_blueprint(library_bp)
    app.register_blueprint(saved_views_bp)
    app.register_blueprint(pipeline_api_bp)
    templating.init_app(app)
    # Request hooks run in the order they are registered here: the request id (first, so
    # that every answer carries it), the sign-in's checks, then the admins' two-factor gate,
    # then the refusal of NUL characters.
    request_id.init_app(app)
    assets.init_app(app)
    headers.init_app(app)
    signin.init_app(app)
    sessions.init_app(app)
    app.before_request(headers.refuse_nul_characters)
    error_pages.init_app(app)
    cli.init_app(app)

    return app
