from flask import Blueprint

bp = Blueprint("queue", __name__)

from catalog.queue import views  # noqa: E402, F401  (registers the routes)
