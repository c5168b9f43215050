from flask import Blueprint

bp = Blueprint("accounts", __name__)

# Registers the routes: account administration, and each user's own settings.
from catalog.accounts import settings_views, views, worker_views  # noqa: E402, F401
