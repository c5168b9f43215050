"""Production: the channels' video pipeline (reference D, issue 14). Tasks move through
the state machine of transitions.py, taken by people (the board), pipeline workers (the JSON
API and `flask catalog tasks ...`) and the lease expiry, always through service.py."""

from flask import Blueprint
from flask.cli import AppGroup

bp = Blueprint("production", __name__)

# `flask catalog tasks ...`: the pipeline workers' calls from the shell (commands.py), the
# Notion sync (sync.py); added to the catalog group by catalog.cli.
tasks_cli = AppGroup("tasks", help="Production tasks.")

from catalog.production import (  # noqa: E402, F401  (routes, jobs, commands)
    board_views,
    commands,
    sync,
    task_views,
    views,
)
