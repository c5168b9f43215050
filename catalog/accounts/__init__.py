from flask import Blueprint

bp = Blueprint("accounts", __name__)

# Registers the routes: account administration, and each user's own settings.
from catalog.accounts import (  # noqa: E402, F401
    firebase_views,
    settings_views,
    views,
    worker_views,
)
