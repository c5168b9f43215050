"""The pipeline workers' JSON API, /api/pipeline/ (issue 14 §3): the same service calls as
`flask catalog tasks ...`, over HTTP, authenticated by a worker's token.

    Authorization: Bearer <token>

No session: the session cookie is neither read nor set on these paths (catalog.web.headers),
no user is loaded from any cookie, and no CSRF token is asked for (a browser cannot send the
header cross-site). The token opens these calls and nothing else: the pages still ask for a
signed-in session.

Answers: 200 {"task": {...}}; 204 for a claim with nothing waiting; 400 {"error", "field"}
for bad input (nothing changes); 401 {"error"} for a missing, unknown or revoked token; 403
{"error"} for a stage outside the token's scope; 404 {"error"} for no such task; 409
{"error", "status"} for a call that does not fit the task's state, with the state it is in.
A task held by another worker is a 409 as well: its state says why (it is being worked on),
and a worker handles it as any other conflict, by claiming again.

Each call is one transaction: the service call, then its use (time, address, call, task,
answer) in the worker's log (catalog.production.workers.record_use); a refused call rolls
back and records its use alone, in a short transaction of its own."""

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from catalog.extensions import csrf, db
from catalog.models import PipelineWorker, Task
from catalog.models.task import STAGES
from catalog.production import service, workers
from catalog.production.commands import task_json
from catalog.production.service import RESULT_FIELDS, TaskStateError
from catalog.web import db_retry
from catalog.web.actions import commit_or_explain

bp = Blueprint("pipeline_api", __name__, url_prefix="/api/pipeline")
csrf.exempt(bp)
SOURCE = "api"
BEARER = "bearer "


class ApiError(Exception):
    """An answer other than success: its HTTP status and its JSON body."""

    def __init__(self, code: int, error: str, **extra: Any):
        super().__init__(error)
        self.code = code
        self.body = {"error": error, **extra}


@bp.before_request
def authenticate() -> None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith(BEARER) or not header[len(BEARER) :].strip():
        raise ApiError(401, "Send the worker's token: Authorization: Bearer <token>.")
    worker = workers.worker_for_token(header[len(BEARER) :].strip())
    if worker is None:
        raise ApiError(401, "Unknown token.")
    if worker.revoked_at is not None:
        raise ApiError(401, f"The token of {worker.name} has been revoked.")
    g.pipeline_worker = worker
    # Its id stays usable after a rollback expires the worker: a refused call is logged too.
    g.pipeline_worker_id = worker.id


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    worker_id = g.get("pipeline_worker_id")
    if worker_id is not None:  # a refused call is a use too
        _record(worker_id, request.view_args.get("task_id") if request.view_args else None,
                error.code)  # fmt: skip
    response = jsonify(error.body)
    response.status_code = error.code
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="pipeline"'
    return response


def _record(worker_id: int, task_id: int | None, status: int) -> None:
    def note() -> None:
        workers.record_use(worker_id, address=request.remote_addr, call=_call_name(),
                           task_id=task_id, status=status)  # fmt: skip

    db_retry.run_in_transaction(note)


def _call_name() -> str:
    return (request.endpoint or "").rpartition(".")[2]


# -- the body ----------------------------------------------------------------------------


def _body(fields: dict[str, type], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The request's JSON object, with only `fields`, each of its type, `required` there."""
    if not request.get_data() and not required:
        return {}
    if not request.is_json:
        raise ApiError(400, "Send a JSON object, with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "The body is not a JSON object.")
    unknown = sorted(set(body) - set(fields))
    if unknown:
        raise ApiError(400, f"Unknown key: {', '.join(unknown)}.", field=unknown[0])
    for name in required:
        if name not in body:
            raise ApiError(400, f"{name} is required.", field=name)
    for name, kind in fields.items():
        if name in body and not isinstance(body[name], kind):
            raise ApiError(400, f"{name} must be {_kind_words(kind)}.", field=name)
    return body


def _kind_words(kind: type) -> str:
    return {str: "a string", dict: "an object"}.get(kind, kind.__name__)


# -- the calls ------------------------------------------------------------------------------


def _run(task_id: int | None, work: Callable[[PipelineWorker], Task | None]) -> Response:
    """One call in one transaction: the service call and its use in the worker's log."""
    worker = g.pipeline_worker
    worker_id = g.pipeline_worker_id

    def unit() -> dict | None:
        task = work(worker)
        workers.record_use(
            worker_id, address=request.remote_addr, call=_call_name(),
            task_id=task.id if task else task_id, status=200 if task else 204,
        )  # fmt: skip
        return task_json(task)

    outcome = commit_or_explain(unit, show=False)
    if outcome:
        if outcome.value is None:
            return Response(status=204)
        return jsonify(task=outcome.value)
    error = outcome.error
    if isinstance(error, TaskStateError):
        raise ApiError(409, str(error), status=error.status)
    raise ApiError(400, " ".join(error.messages), field=error.field)


def _task(task_id: int) -> Task:
    """The task named in the URL (the service locks and re-reads it in the call's
    transaction), or 404: a task that does not exist comes before a bad body."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise ApiError(404, f"There is no task {task_id}.")
    return task


@bp.post("/claim")
def claim():
    """The next task for a stage: {"stage": "assets"} → 200 {"task"}, or 204."""
    stage = _body({"stage": str}, required=("stage",))["stage"]
    if stage not in STAGES:
        raise ApiError(400, f"The stage is one of {', '.join(STAGES)}.", field="stage")
    if stage not in (g.pipeline_worker.stages or ()):
        raise ApiError(403, f"This token may not claim work for the {stage} stage.")
    return _run(None, lambda worker: service.claim(stage, worker=worker, source=SOURCE))


@bp.post("/tasks/<id:task_id>/heartbeat")
def heartbeat(task_id: int):
    """Keep holding the task: its lease runs PIPELINE_LEASE_SECONDS from now."""
    task = _task(task_id)
    _body({})
    return _run(task_id, lambda w: service.heartbeat(task, worker=w, source=SOURCE))


@bp.post("/tasks/<id:task_id>/start")
def start(task_id: int):
    """Begin the first stage of a claimed task (claimed → generating_assets)."""
    task = _task(task_id)
    _body({})
    return _run(task_id, lambda w: service.start(task, worker=w, source=SOURCE))


@bp.post("/tasks/<id:task_id>/done")
def done(task_id: int):
    """The stage is done: {"links": {"asset_url": "https://...", ...}}."""
    task = _task(task_id)
    links = _body({"links": dict}, required=("links",))["links"]
    unknown = sorted(set(links) - set(RESULT_FIELDS))
    if unknown:
        raise ApiError(400, f"Unknown link: {', '.join(unknown)}.", field=unknown[0])
    for name, url in links.items():
        if not isinstance(url, str):
            raise ApiError(400, f"{name} must be a string.", field=name)
    return _run(task_id, lambda w: service.report_done(task, links, worker=w, source=SOURCE))


@bp.post("/tasks/<id:task_id>/fail")
def fail(task_id: int):
    """The stage failed: {"message": "..."}, appended to the task's error log."""
    task = _task(task_id)
    message = _body({"message": str}, required=("message",))["message"]
    return _run(task_id, lambda w: service.report_failure(task, message, worker=w, source=SOURCE))


@bp.post("/tasks/<id:task_id>/upload")
def upload(task_id: int):
    """The video is on YouTube: {"youtube_url": "https://youtu.be/..."} → published."""
    task = _task(task_id)
    url = _body({"youtube_url": str}, required=("youtube_url",))["youtube_url"]
    return _run(task_id, lambda w: service.report_upload(task, url, worker=w, source=SOURCE))
