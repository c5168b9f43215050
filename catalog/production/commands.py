"""`flask catalog tasks ...`: a pipeline worker's calls from the shell, so a pipeline script
can run without HTTP. The same service calls as the JSON API, audited with source "cli"
and the worker's name. Each prints one JSON object on stdout and commits, or rolls back
and prints {"error": ..., "status": ...}: exit status 1 for a refusal, 3 when the call does
not fit the task's state (the API's 409), with the task's current status."""

import json
import sys
from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import select

from catalog.extensions import db
from catalog.models import PipelineWorker, Task
from catalog.models.task import STAGES
from catalog.production import service, tasks_cli
from catalog.production.service import RESULT_FIELDS, TaskStateError
from catalog.rules import RuleError
from catalog.web import db_retry

SOURCE = "cli"
EXIT_REFUSED, EXIT_STATE = 1, 3


def task_json(task: Task | None) -> dict[str, Any] | None:
    """What a worker needs of a task: its brief, its state, its lease and its results."""
    if task is None:
        return None
    return {
        "id": task.id,
        "notion_page_id": task.notion_page_id,
        "channel_id": task.channel_id,
        "title": task.title,
        "topic": task.topic,
        "story_direction": task.story_direction,
        "status": task.status,
        "priority": task.priority,
        "lease_expires_at": task.lease_expires_at.isoformat() if task.lease_expires_at else None,
        "error_log": task.error_log,
        "youtube_url": task.youtube_url,
        **{field: getattr(task, field) for field in RESULT_FIELDS},
    }


def _worker(name: str) -> PipelineWorker:
    worker = db.session.scalars(select(PipelineWorker).where(PipelineWorker.name == name)).first()
    if worker is None:
        raise RuleError(f"There is no pipeline worker named {name}.", field="worker")
    return worker


def _task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise RuleError(f"There is no task {task_id}.", field="task")
    return task


def _run(work: Callable[[], Task | None]) -> None:
    """Run one call in a transaction of its own; print its result or its refusal."""
    try:
        task = db_retry.run_in_transaction(lambda: task_json(work()))
    except TaskStateError as exc:
        db.session.rollback()
        _print({"error": str(exc), "status": exc.status})
        sys.exit(EXIT_STATE)
    except RuleError as exc:
        db.session.rollback()
        _print({"error": " ".join(exc.messages), "field": exc.field})
        sys.exit(EXIT_REFUSED)
    _print({"task": task})


def _print(value: dict) -> None:
    click.echo(json.dumps(value, sort_keys=True))


worker_option = click.option("--worker", "worker_name", required=True, help="The worker's name.")
task_argument = click.argument("task_id", type=click.IntRange(min=1))


@tasks_cli.command("claim")
@click.option("--stage", required=True, type=click.Choice(STAGES))
@worker_option
def claim_command(stage: str, worker_name: str):
    """Claim the next task for STAGE; prints {"task": ...} ({"task": null}: none waits)."""
    _run(lambda: service.claim(stage, worker=_worker(worker_name), source=SOURCE))


@tasks_cli.command("heartbeat")
@task_argument
@worker_option
def heartbeat_command(task_id: int, worker_name: str):
    """Keep holding TASK_ID: its lease runs PIPELINE_LEASE_SECONDS from now."""
    _run(lambda: service.heartbeat(_task(task_id), worker=_worker(worker_name), source=SOURCE))


@tasks_cli.command("start")
@task_argument
@worker_option
def start_command(task_id: int, worker_name: str):
    """Begin the first stage of a claimed TASK_ID (claimed -> generating_assets)."""
    _run(lambda: service.start(_task(task_id), worker=_worker(worker_name), source=SOURCE))


@tasks_cli.command("done")
@task_argument
@worker_option
@click.option("--url", help="The stage's own result link (asset_url for assets, ...).")
@click.option("--link", "links", multiple=True, help="FIELD=URL, e.g. audio_url=https://...")
def done_command(task_id: int, worker_name: str, url: str | None, links: tuple[str, ...]):
    """Report the stage of TASK_ID done, with its result links."""

    def work():
        task = _task(task_id)
        given = dict(_link(link) for link in links)
        stage = service.transitions.stage_of(task.status)
        if url and stage in service.STAGE_FLOW:
            given[service.STAGE_FLOW[stage]["result"]] = url
        return service.report_done(task, given, worker=_worker(worker_name), source=SOURCE)

    _run(work)


def _link(value: str) -> tuple[str, str]:
    field, sep, url = value.partition("=")
    if not sep:
        raise RuleError(f"A link is FIELD=URL: {value}", field="link")
    return field.strip(), url.strip()


@tasks_cli.command("fail")
@task_argument
@worker_option
@click.option("--message", required=True, help="What went wrong (appended to the error log).")
def fail_command(task_id: int, worker_name: str, message: str):
    """Report the stage of TASK_ID failed."""
    _run(
        lambda: service.report_failure(
            _task(task_id), message, worker=_worker(worker_name), source=SOURCE
        )
    )


@tasks_cli.command("upload")
@task_argument
@worker_option
@click.option("--url", required=True, help="The YouTube URL of the uploaded video.")
def upload_command(task_id: int, worker_name: str, url: str):
    """Report TASK_ID uploaded: it is published and linked to the catalog's video."""
    _run(
        lambda: service.report_upload(
            _task(task_id), url, worker=_worker(worker_name), source=SOURCE
        )
    )


@tasks_cli.command("expire-leases")
def expire_command():
    """Return the tasks whose worker stopped sending heartbeats (workers do this too)."""
    count = db_retry.run_in_transaction(lambda: service.expire_leases(source=SOURCE))
    _print({"expired": count})


# The demo's pretend worker, which calls the HTTP API instead (`flask catalog tasks demo-worker`).
from catalog.production import demo_worker  # noqa: E402, F401
