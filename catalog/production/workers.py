"""Pipeline workers and their API tokens: created, scoped to stages and revoked by admins
(catalog.accounts.worker_views), recognised by the JSON API (catalog.production.api).

A token is a long random string shown once, at creation; only its sha256 is stored. A fast
hash is enough: the token has 256 bits of randomness, so there is nothing to guess that a
slow hash would protect, and the API looks a token up by its hash on every call. Creating
and revoking write their audit row (entity "pipeline_worker") in the same transaction;
nothing here commits. Every authenticated call is recorded by record_use."""

import hashlib
import re
import secrets
from datetime import UTC, datetime
from operator import attrgetter

from sqlalchemy import func, insert, select, update

from catalog import audit
from catalog.extensions import db
from catalog.models import PipelineWorker, PipelineWorkerUse, User
from catalog.models.task import STAGES
from catalog.rules import RuleError

PIPELINE_WORKER = audit.Entity("pipeline_worker", key=attrgetter("name"))
# The name appears in audit rows ("worker:<name>") and on the command line (--worker).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# A prefix that says what the secret is when it turns up in a log or a secret scanner.
TOKEN_PREFIX = "cpw_"  # noqa: S105  (a label, not a secret)
ISSUED = "(issued)"
ADDRESS_LENGTH = 45


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_worker(
    name: str, stages: list[str], *, actor: User | None, source: str = "web"
) -> tuple[PipelineWorker, str]:
    """A new pipeline worker that may claim work for `stages`; it and its token, which is
    shown once and stored nowhere but as its hash."""
    name = (name or "").strip()
    if not NAME.fullmatch(name):
        raise RuleError(
            "A name of 1 to 100 letters, digits, dots, dashes or underscores, starting with a "
            "letter or digit.",
            field="name",
        )
    taken = select(PipelineWorker.id).where(func.lower(PipelineWorker.name) == name.lower())
    if db.session.scalar(taken) is not None:
        raise RuleError(f"There is already a pipeline worker named {name}.", field="name")
    unknown = sorted(set(stages) - set(STAGES))
    if unknown:
        raise RuleError(f"Unknown stage: {', '.join(unknown)}", field="stages")
    if not stages:
        raise RuleError("Choose at least one stage.", field="stages")
    ordered = [stage for stage in STAGES if stage in stages]
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    worker = PipelineWorker(
        name=name, stages=ordered, token_hash=token_hash(token),
        created_by=actor.id if actor else None,
    )  # fmt: skip
    db.session.add(worker)
    db.session.flush()
    changes = {"name": [None, name], "stages": [[], ordered], "token": [None, ISSUED]}
    PIPELINE_WORKER.record(worker, "create", changes, actor=actor, source=source)
    return worker, token


def revoke_worker(worker: PipelineWorker, *, actor: User | None, source: str = "web") -> bool:
    """Revoke the worker's token from now on; False when it was revoked already. The tasks
    it holds go back to the queue when their leases run out, as a stopped worker's do."""
    if worker.revoked_at is not None:
        return False
    worker.revoked_at = datetime.now(UTC)
    db.session.flush()
    changes = {"revoked_at": [None, worker.revoked_at]}
    PIPELINE_WORKER.record(worker, "update", changes, actor=actor, source=source)
    return True


def worker_for_token(token: str) -> PipelineWorker | None:
    """The worker whose token this is, revoked or not (the caller tells the two apart)."""
    if not token:
        return None
    return db.session.scalars(
        select(PipelineWorker).where(PipelineWorker.token_hash == token_hash(token))
    ).first()


def record_use(
    worker_id: int, *, address: str | None, call: str, task_id: int | None, status: int
) -> None:
    """Note a call: the worker's latest use (time and address) and a row of its log. Two
    statements, no read; run last in a call's transaction, so the worker's row is held only
    for the moment before the commit."""
    address = (address or "")[:ADDRESS_LENGTH] or None
    db.session.execute(
        update(PipelineWorker)
        .where(PipelineWorker.id == worker_id)
        .values(last_used_at=func.now(), last_used_from=address)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        insert(PipelineWorkerUse).values(
            worker_id=worker_id, address=address, call=call, task_id=task_id, status=status
        )
    )


def workers() -> list[PipelineWorker]:
    """Every pipeline worker, the active ones first, then by name."""
    return list(
        db.session.scalars(
            select(PipelineWorker).order_by(
                PipelineWorker.revoked_at.is_not(None), func.lower(PipelineWorker.name)
            )
        )
    )


def recent_uses(worker: PipelineWorker, limit: int = 50) -> list[PipelineWorkerUse]:
    """The worker's latest calls, newest first (the log's index: worker, time)."""
    return list(
        db.session.scalars(
            select(PipelineWorkerUse)
            .where(PipelineWorkerUse.worker_id == worker.id)
            .order_by(PipelineWorkerUse.used_at.desc(), PipelineWorkerUse.id.desc())
            .limit(limit)
        )
    )
