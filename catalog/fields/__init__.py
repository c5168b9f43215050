from flask import Blueprint

bp = Blueprint("fields", __name__)

from catalog.fields import views  # noqa: E402, F401  (registers the routes)
