from flask import Blueprint

bp = Blueprint("saved_views", __name__)

from catalog.saved_views import views  # noqa: E402, F401  (registers the routes)
