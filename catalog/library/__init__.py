"""The video library: staff watch the catalog, pick up where they left off, and react."""

from flask import Blueprint

bp = Blueprint("library", __name__)

from catalog.library import views  # noqa: E402, F401  (registers the routes)
