from flask import Blueprint

bp = Blueprint("videos", __name__)

# Importing them registers the routes: the pages, and the list's edit in place.
from catalog.videos import cell_views, views  # noqa: E402, F401
