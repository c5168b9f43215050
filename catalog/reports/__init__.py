from flask import Blueprint

bp = Blueprint("reports", __name__)

# views: the routes; tasks: the report_import job handler, registered with the job engine.
from catalog.reports import tasks, views  # noqa: E402, F401
