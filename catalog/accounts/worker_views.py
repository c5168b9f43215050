"""Pipeline workers on /accounts: admins create them (name, stages), see their tokens' use
and revoke them. The token is shown once, on the page after its creation; only its hash is
kept (catalog.production.workers)."""

from flask import make_response, render_template, request, session, url_for
from sqlalchemy import select

from catalog import audit
from catalog.accounts import bp
from catalog.accounts.forms import PipelineWorkerForm
from catalog.models import PipelineWorker
from catalog.permissions import Permission, require, signed_in_user
from catalog.production import workers as service
from catalog.web.loaders import load_or_404
from catalog.web.pages import confirm_page, form_page

# A new token waits here, in the admin's own session, for the page after the POST (as a
# set-password link does in accounts/views.py); that page takes it out and shows it once.
NEW_WORKER_KEY = "accounts_worker_token"
USES = 50  # the latest calls a worker's page shows


@bp.get("/accounts/workers")
@require(Permission.USERS_MANAGE)
def workers():
    new = session.pop(NEW_WORKER_KEY, None)
    response = make_response(
        render_template("accounts/workers.html", workers=service.workers(), new=new)
    )
    if new:  # the page holds a live credential
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/accounts/workers/new", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def workers_create():
    form = PipelineWorkerForm()
    return form_page(
        "accounts/workers_create.html", form,
        lambda: service.create_worker(form.name.data, form.stages.data, actor=signed_in_user()),
        saved=lambda created: f"Pipeline worker {created[0].name} created.",
        then=url_for("accounts.workers"),
        after=_hand_over,
    )  # fmt: skip


def _hand_over(created: tuple[PipelineWorker, str]) -> None:
    worker, token = created
    session[NEW_WORKER_KEY] = {"name": worker.name, "token": token}


@bp.get("/accounts/workers/<id:worker_id>")
@require(Permission.USERS_MANAGE)
def workers_detail(worker_id: int):
    """A worker: its stages, its latest calls (time, address, call, task, answer) and the
    history of the worker itself (created, revoked)."""
    worker = load_or_404(select(PipelineWorker).where(PipelineWorker.id == worker_id))
    return render_template(
        "accounts/workers_detail.html", worker=worker, uses=service.recent_uses(worker, USES),
        uses_limit=USES, history=audit.history("pipeline_worker", worker.id),
    )  # fmt: skip


@bp.route("/accounts/workers/<id:worker_id>/revoke", methods=["GET", "POST"])
@require(Permission.USERS_MANAGE)
def workers_revoke(worker_id: int):
    lock = request.method == "POST"
    worker = load_or_404(select(PipelineWorker).where(PipelineWorker.id == worker_id), lock=lock)
    return confirm_page(
        "accounts/workers_revoke.html",
        lambda: service.revoke_worker(worker, actor=signed_in_user()),
        saved=lambda _: f"The token of {worker.name} is revoked.",
        unchanged=f"The token of {worker.name} was already revoked.",
        then=url_for("accounts.workers"),
        context=lambda: {"worker": worker},
    )  # fmt: skip
