"""Undo: a video as it was at a time, reverting one change, putting a video back to a time,
bringing a deleted video back, undoing a whole batch. Reading the log is catalog.changes."""

from flask import Blueprint

bp = Blueprint("revert", __name__)

from catalog.revert import views  # noqa: E402, F401  (registers the routes)
