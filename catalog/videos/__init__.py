from flask import Blueprint

bp = Blueprint("videos", __name__)

from catalog.videos import views  # noqa: E402, F401  (registers the routes)
