"""The request id: one per request, so that a person quoting an error page, the access log
line, the application's own log lines and the job a request enqueued can all be matched.

The load balancer sends one (HAProxy's unique-id, deploy/haproxy.cfg) and it is kept when it
looks like one; anything else is replaced by a new id, since a header is client input and ends
up in logs. The id goes back as X-Request-ID, is shown on error pages, and is left in the WSGI
environ with the signed-in user's id for the server's access log (deploy/gunicorn.conf.py
writes the one structured line per request: status and duration are known only there).
"""

import re
import uuid

from flask import Flask, Response, g, has_request_context, request

HEADER = "X-Request-ID"
# Short token characters only: enough for UUIDs and HAProxy's hexadecimal unique-ids, nothing
# that could forge a log line or break out of an HTML attribute.
VALID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# WSGI environ keys read by the access log (gunicorn lower-cases them for its atoms).
ENVIRON_REQUEST_ID = "catalog.request_id"
ENVIRON_USER_ID = "catalog.user_id"


def init_app(app: Flask) -> None:
    app.before_request(assign)
    app.after_request(expose)
    app.context_processor(lambda: {"request_id": current()})


def assign() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if VALID.fullmatch(given) else uuid.uuid4().hex
    request.environ[ENVIRON_REQUEST_ID] = g.request_id


def current() -> str | None:
    """This request's id; None outside a request (a job, the CLI)."""
    if not has_request_context():
        return None
    if "request_id" not in g:  # an error raised before the hooks ran (a 404 routing error)
        assign()
    return g.request_id


def expose(response: Response) -> Response:
    response.headers[HEADER] = current()
    # Only a user already loaded by the request: loading one here would cost every anonymous
    # request (static files, health checks) a database round trip.
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        request.environ[ENVIRON_USER_ID] = str(user.id)
    return response
