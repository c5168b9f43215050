from flask import Blueprint

bp = Blueprint("categories", __name__)

from catalog.categories import views  # noqa: E402, F401  (registers the routes)
