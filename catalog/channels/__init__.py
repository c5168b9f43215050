from flask import Blueprint

bp = Blueprint("channels", __name__)

from catalog.channels import views  # noqa: E402, F401  (registers the routes)
