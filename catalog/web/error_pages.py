"""The error pages: HTTP errors and unexpected ones, the database's (away: 503; a conflict
that outlived its retries: 409; any other failure: 500), and the health checks that load
balancers and supervisors ask: liveness (/health/live: the process answers) and readiness
(/health/ready, and /health: the database answers and its schema is at the migrations' head)."""

from contextlib import suppress

from alembic.script import ScriptDirectory
from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import Conflict, HTTPException

from catalog.extensions import csrf, db, security
from catalog.web import db_retry, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, database_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    # Read once: a new migration means new code, hence a new process.
    app.extensions["catalog.migrations_head"] = migrations_head(app.extensions["migrate"].directory)
    app.add_url_rule("/health", "health", health)
    app.add_url_rule("/health/ready", "health_ready", health)
    app.add_url_rule("/health/live", "health_live", live)
    csrf.exempt(health)
    csrf.exempt(live)


def http_error(error: HTTPException):
    if is_api_request():  # the workers' API answers in JSON, even a URL it does not know
        return jsonify(error=error.description), error.code
    return render_template("errors/error.html", error=error), error.code


def unexpected_error(error: Exception):
    db.session.rollback()
    current_app.logger.exception("Unhandled error")
    if is_api_request():
        return jsonify(error="Internal error: nothing was changed."), 500
    return render_template("errors/error.html", error=None), 500


def is_api_request() -> bool:
    return request.path.startswith(headers.API_PREFIX)


# -- availability ---------------------------------------------------------------------------
CONFLICT_MESSAGE = (
    "Your change met other changes being saved at the same moment, and could not be "
    "completed. Nothing you sent was saved; please try again."
)


def database_error(error: OperationalError):
    """An OperationalError is not always an outage: tell people what happened."""
    kind = db_retry.kind(error)
    if kind == "unavailable":
        return database_unavailable(error)
    with suppress(DBAPIError):
        db.session.rollback()
    if kind == "conflict":
        # Lost a race with other transactions even after the retries (catalog.web.db_retry).
        current_app.logger.warning("Transaction conflict after retries: %s", error.orig)
        if request.accept_mimetypes.best == "application/json":
            return jsonify(status="conflict", error=CONFLICT_MESSAGE), 409
        return render_template("errors/error.html", error=Conflict(CONFLICT_MESSAGE)), 409
    # A real failure (a statement cancelled, out of resources …): a server error, logged.
    current_app.logger.exception("Database error")
    return render_template("errors/error.html", error=None), 500


def database_unavailable(error: Exception):
    """The database is away: say so quickly; the pool reconnects by itself when it is back."""
    g.database_unavailable = True
    # Rendering asks Flask-Login for the user, which would ask the database again.
    g._login_user = security.login_manager.anonymous_user()
    with suppress(DBAPIError):
        db.session.rollback()
    if request.path.startswith("/health") or request.accept_mimetypes.best == "application/json":
        return jsonify(status="unavailable", database="unreachable"), 503
    return render_template("errors/unavailable.html", minimal=True), 503


def migrations_head(directory: str) -> frozenset[str]:
    """The head revision(s) of the migrations directory this code ships with."""
    return frozenset(ScriptDirectory(directory).get_heads())


def health():
    """Readiness, for load balancers: no sign-in, no data; 200 when the database answers and
    its schema is at the head of this code's migrations, else 503 (the database away: see
    database_unavailable; a schema behind or ahead: `make migrate` has not run, or this
    process is older code than the schema)."""
    applied = frozenset(db.session.scalars(text("SELECT version_num FROM alembic_version")))
    db.session.rollback()  # nothing to keep: hand the connection back at once
    if applied != current_app.extensions["catalog.migrations_head"]:
        return jsonify(status="unavailable", database="ok", migrations="not at head"), 503
    return jsonify(status="ok", database="ok", migrations="ok")


def live():
    """Liveness, for supervisors: the process answers requests. It asks nothing of the
    database, so an outage there does not get every web process restarted."""
    return jsonify(status="ok")
