"""gunicorn's configuration for Catalog's web processes (`make serve`, the systemd unit, the
container): everything comes from the environment, with defaults for one small machine.

    GUNICORN_BIND            127.0.0.1:8000   where HAProxy (deploy/haproxy.cfg) reaches it
    GUNICORN_WORKERS         2 x cores + 1    processes; each holds one app and its pool
    GUNICORN_THREADS         1                > 1: threaded workers (gthread), for slow clients
    GUNICORN_TIMEOUT         30               seconds a request may take before its worker is
                                              killed and replaced
    GUNICORN_GRACEFUL_TIMEOUT 30              seconds running requests get on a stop or reload
    GUNICORN_KEEPALIVE       5                seconds an idle keep-alive connection is kept
                                              (threaded workers; HAProxy reuses them)
    GUNICORN_MAX_REQUESTS    2000             a worker is replaced after this many requests
    GUNICORN_MAX_REQUESTS_JITTER half of it   ... plus up to this many, so that the workers
                                              of an instance, started together, drift
                                              apart and are rarely replaced at once (a
                                              replacement spends a second or more importing
                                              the app; with 200 of 2000, the two workers of
                                              an instance could go within a second of
                                              each other)
    GUNICORN_BACKLOG         2048             connections waiting for a worker
    GUNICORN_FORWARDED_ALLOW_IPS 127.0.0.1    the proxies whose X-Forwarded-* are believed

The app's own settings (DATABASE_URL, SECRET_KEY ...) are catalog/config.py's. This file
makes the process a production one (CATALOG_ENV=production unless set otherwise) and refuses
to start without a real DATABASE_URL and the production secrets.

Signals: HUP reloads gracefully (new workers with the new code start, the old ones finish
their requests), TERM stops gracefully, TTIN/TTOU add or remove a worker.

Access log: one JSON line per request on stdout (JsonAccessLog below), with the request id
and the signed-in user's id that the app leaves in the WSGI environ (catalog.web.request_id).
The app does not log requests itself, so each request is logged once.
"""

import datetime
import json
import os
import sys

from gunicorn.glogging import Logger

env = os.environ
env.setdefault("CATALOG_ENV", "production")

wsgi_app = "wsgi:app"
# The repository root: wsgi.py is there (this file is in deploy/).
chdir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

bind = env.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = int(env.get("GUNICORN_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
threads = int(env.get("GUNICORN_THREADS", "1"))
# Sync workers behind HAProxy (which absorbs slow clients) are the simplest and fastest;
# threads are there for a deployment without a buffering proxy in front.
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(env.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(env.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(env.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(env.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(env.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 2)))
backlog = int(env.get("GUNICORN_BACKLOG", "2048"))
forwarded_allow_ips = env.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Each worker imports the app itself (no preload): a HUP then loads new code, and no
# database connection is ever shared across a fork.
preload_app = False
proc_name = env.get("GUNICORN_PROC_NAME", "catalog-web")
# The workers' heartbeat files: on a tmpfs, a slow disk cannot make gunicorn take a busy
# worker for a hung one (gunicorn's own advice; Docker's /tmp is often a disk).
SHM = "/dev/shm"  # noqa: S108  (only gunicorn's heartbeat files, which it names itself)
worker_tmp_dir = SHM if os.path.isdir(SHM) else None

# gunicorn 27's control socket (gunicornc) defaults to one path per user, which two instances
# on one machine would share: off unless a path is given. Signals stay the interface.
control_socket_disable = not env.get("GUNICORN_CONTROL_SOCKET")
if not control_socket_disable:
    control_socket = env["GUNICORN_CONTROL_SOCKET"]

accesslog = "-"
errorlog = "-"
loglevel = env.get("GUNICORN_LOG_LEVEL", "info")


class JsonAccessLog(Logger):
    """One JSON object per request: time, request id, user id, method, path, status,
    duration in milliseconds, bytes sent, client address."""

    def access(self, resp, req, environ, request_time):
        if not self.cfg.accesslog:
            return
        status = resp.status_code if resp.status_code is not None else resp.status
        line = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
            "request_id": environ.get("catalog.request_id")
            or environ.get("HTTP_X_REQUEST_ID", "-"),
            "user_id": environ.get("catalog.user_id"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "status": status,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "bytes": getattr(resp, "sent", None),
            "remote": environ.get("REMOTE_ADDR"),
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(line, separators=(",", ":")))
        except Exception:  # a log line must never fail a request
            self.exception("Could not write the access log line")


logger_class = JsonAccessLog


def on_starting(server):
    """Refuse to start without a real database and the production secrets (the app's own
    CATALOG_ENV=production checks), before any worker exists."""
    sys.path.insert(0, chdir)
    from catalog import config

    try:
        config.refuse_to_serve(config.from_environment())
    except RuntimeError as refusal:
        server.log.error("%s", refusal)
        sys.exit(3)
