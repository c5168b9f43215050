"""The periodic lease expiry: every worker schedules it every PIPELINE_LEASE_CHECK_SECONDS,
procrastinate defers one job per tick whatever the number of workers, and the job returns
the tasks whose pipeline worker stopped sending heartbeats (service.expire_leases). A claim
that sees a lease run out runs the same expiry (service.claim), so a queue with active
claimers does not wait for the tick."""

from typing import Any

from flask import Flask

from catalog.jobs import engine

EXPIRY_TASK = "catalog.expire_task_leases"


def expire_now(flask_app: Flask) -> dict[str, Any]:
    """Return every task whose lease has expired, in batches, each committed."""
    from catalog.production import service
    from catalog.web import db_retry

    total = 0
    with flask_app.app_context():
        while count := db_retry.run_in_transaction(lambda: service.expire_leases(source="worker")):
            total += count
    return {"expired": total}


expire_task_leases = engine.tick_task(EXPIRY_TASK, expire_now)


def schedule(cron: str) -> None:
    """Have this worker defer the expiry on `cron` (empty: never)."""
    engine.schedule(expire_task_leases, cron)
