from flask import Blueprint

bp = Blueprint("changes", __name__)

from catalog.changes import views  # noqa: E402, F401  (registers the routes)
