"""Production: tasks from Notion draft to published video (issue 14)."""

from flask import Blueprint
from flask.cli import AppGroup

bp = Blueprint("production", __name__)
# `flask catalog tasks ...` (added to the catalog group by catalog.cli).
tasks_cli = AppGroup("tasks", help="Production tasks.")

from catalog.production import sync, views  # noqa: E402, F401  (routes, the job, commands)
