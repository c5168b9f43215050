"""The state machine is declared once (catalog/production/transitions.py) and enforced twice:
by the service and by the database's trigger (migration 0015). Every one of the 26 x 26
pairs is allowed or refused as declared, both ways."""

import itertools
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.task import TASK_STATUSES, TaskTransition
from catalog.production import service, transitions
from catalog.production.transitions import ERRORS, SYSTEM, TRANSITIONS, USER, WORKER
from catalog.rules import RuleError
from tests import factories
from tests.production.claim_data import make_task, make_worker

PAIRS = list(itertools.product(TASK_STATUSES, TASK_STATUSES))


def test_the_database_holds_the_declared_table(app_ctx):
    rows = db.session.execute(select(TaskTransition)).scalars().all()
    assert {(r.from_status, r.to_status): r.actor for r in rows} == dict(TRANSITIONS)


def test_the_table_follows_the_pipeline():
    assert len(TASK_STATUSES) == 26
    assert transitions.who("draft", "queued") == USER
    assert transitions.who("queued", "claimed") == WORKER
    assert transitions.who("claimed", "generating_assets") == WORKER
    assert transitions.who("assets_ready", "assets_approved") == USER
    assert transitions.who("assets_ready", "generating_assets") == USER  # send back
    assert transitions.who("final_review", "approved") == USER
    assert transitions.who("approved", "uploading") == WORKER
    assert transitions.who("uploading", "published") == WORKER
    assert transitions.who("asset_error", "generating_assets") == USER
    assert transitions.who("claimed", "queued") == SYSTEM
    # Published is final; nothing is cancelled under a working worker.
    assert transitions.allowed_from("published") == {}
    for held in transitions.HELD:
        assert transitions.who(held, "draft") is None
    # Every state but published can be left, and every state can be reached from draft.
    reachable, frontier = {"draft"}, ["draft"]
    while frontier:
        for new in transitions.allowed_from(frontier.pop()):
            if new not in reachable:
                reachable.add(new)
                frontier.append(new)
    assert reachable == set(TASK_STATUSES)


def _actors(editor, worker):
    return {"user": editor, WORKER: worker, SYSTEM: None}


def _may(kind: str, old: str, new: str, declared: str | None) -> bool:
    if kind == "user":
        return declared == USER
    return transitions.may(kind, old, new)


def _outcome(task, new, actor) -> str:
    """What moving `task` to `new` as `actor` came to: moved, refused, or a state conflict
    ("state", when the error carries the state the task is in)."""
    old = task.status
    try:
        service.move(task, new, actor=actor, source="web")
    except service.TaskStateError as exc:
        return "state" if exc.status == old else "wrong status"
    except RuleError:
        return "refused"
    return "moved"


def test_every_pair_through_the_service(app_ctx):
    channel = factories.ChannelFactory()
    editor = factories.UserFactory(roles=["editor"])
    viewer = factories.UserFactory(roles=["viewer"])
    worker = make_worker()
    actors = _actors(editor, worker)
    audited = 0
    for old, new in PAIRS:
        declared = transitions.who(old, new)
        # An undeclared pair is refused whoever asks: asking as a person is enough.
        for kind, actor in actors.items() if declared else [("user", editor)]:
            savepoint = db.session.begin_nested()
            task = make_task(channel, old, failed_from=new if old in ERRORS else None)
            before = db.session.scalar(select(db.func.count()).select_from(MetadataSync))
            allowed = _may(kind, old, new, declared)
            outcome = _outcome(task, new, actor)
            if outcome == "state":
                assert declared is None, (old, new, kind)
            elif outcome == "refused":
                assert declared is not None, (old, new, kind)
                assert not allowed, (old, new, kind)
            else:
                assert allowed, (old, new, kind)
                assert task.status == new
                row = db.session.scalars(
                    select(MetadataSync).order_by(MetadataSync.id.desc()).limit(1)
                ).one()
                assert (row.entity_type, row.entity_id) == ("task", task.id)
                assert row.changes["status"] == [old, new]
                audited += 1
            if outcome != "moved":  # a refusal writes nothing
                assert task.status == old
                count = select(db.func.count()).select_from(MetadataSync)
                assert db.session.scalar(count) == before
            savepoint.rollback()
        if declared == USER:  # a person without the permission is refused
            savepoint = db.session.begin_nested()
            task = make_task(channel, old, failed_from=new if old in ERRORS else None)
            with pytest.raises(RuleError):
                service.move(task, new, actor=viewer, source="web")
            savepoint.rollback()
    # Each declared pair was taken by its actor (and the expiry's upload error by both).
    assert audited == len(TRANSITIONS) + 1


def test_every_pair_through_raw_sql(db_session):
    """As the application's role: the trigger allows exactly the table's pairs."""
    channel = factories.ChannelFactory()
    connection = db_session.connection()
    assert connection.scalar(text("SELECT current_user")) != connection.scalar(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'tasks'")
    )
    for old, new in PAIRS:
        savepoint = connection.begin_nested()
        task_id = connection.scalar(
            text(
                "INSERT INTO tasks (channel_id, notion_page_id, title, status, failed_from) "
                "VALUES (:c, md5(random()::text), 't', :old, :failed) RETURNING id"
            ),
            {"c": channel.id, "old": old, "failed": new if old in ERRORS else None},
        )
        update = text("UPDATE tasks SET status = :new WHERE id = :id")
        if (old, new) in TRANSITIONS or old == new:
            connection.execute(update, {"new": new, "id": task_id})
            assert connection.scalar(text("SELECT status FROM tasks WHERE id = :id"),
                                     {"id": task_id}) == new  # fmt: skip
        else:
            with pytest.raises(IntegrityError, match="not an allowed transition"):
                connection.execute(update, {"new": new, "id": task_id})
        savepoint.rollback()


def test_a_retry_goes_back_where_the_task_failed(db_session):
    channel = factories.ChannelFactory()
    task = make_task(channel, "generating_composites")
    connection = db_session.connection()
    update = text("UPDATE tasks SET status = :new WHERE id = :id")
    connection.execute(update, {"new": "asset_error", "id": task.id})
    failed_from = connection.scalar(text("SELECT failed_from FROM tasks WHERE id = :id"),
                                    {"id": task.id})  # fmt: skip
    assert failed_from == "generating_composites"
    savepoint = connection.begin_nested()
    with pytest.raises(IntegrityError, match="goes back to where it failed"):
        connection.execute(update, {"new": "generating_assets", "id": task.id})
    savepoint.rollback()
    connection.execute(update, {"new": "generating_composites", "id": task.id})


def test_the_error_log_is_append_only_and_the_state_change_is_timed(db_session):
    channel = factories.ChannelFactory()
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    task = make_task(channel, "queued", error_log="first\n", status_changed_at=long_ago)
    connection = db_session.connection()
    connection.execute(text("UPDATE tasks SET error_log = error_log || 'second\n' WHERE id = :id"),
                       {"id": task.id})  # fmt: skip
    for rewrite in ("rewritten\n", "", None):
        savepoint = connection.begin_nested()
        with pytest.raises(IntegrityError, match="append-only"):
            connection.execute(text("UPDATE tasks SET error_log = :log WHERE id = :id"),
                               {"log": rewrite, "id": task.id})  # fmt: skip
        savepoint.rollback()
    # Not a status change: the time stays; a status change sets it.
    assert connection.scalar(text("SELECT status_changed_at FROM tasks WHERE id = :id"),
                             {"id": task.id}) == long_ago  # fmt: skip
    connection.execute(text("UPDATE tasks SET status = 'draft' WHERE id = :id"), {"id": task.id})
    changed = connection.scalar(text("SELECT status_changed_at = now() FROM tasks WHERE id = :id"),
                                {"id": task.id})  # fmt: skip
    assert changed is True


def test_the_channel_counts_follow_every_write(db_session):
    """channel_queues equals a recount after inserts, updates (one and many) and deletes."""
    first, second = factories.ChannelFactory(), factories.ChannelFactory()
    tasks = [make_task(first, "draft") for _ in range(3)]
    tasks += [make_task(second, "queued", priority="high"), make_task(second, "claimed")]
    connection = db_session.connection()
    connection.execute(text("UPDATE tasks SET status = 'queued' WHERE channel_id = :c"),
                       {"c": first.id})  # fmt: skip
    connection.execute(text("UPDATE tasks SET priority = 'low' WHERE id = :id"),
                       {"id": tasks[0].id})  # fmt: skip
    connection.execute(text("UPDATE tasks SET status = 'claimed' WHERE id = :id"),
                       {"id": tasks[1].id})  # fmt: skip
    connection.execute(text("UPDATE tasks SET channel_id = :c WHERE id = :id"),
                       {"c": second.id, "id": tasks[2].id})  # fmt: skip
    connection.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": tasks[4].id})
    kept = connection.execute(text("""
        SELECT channel_id, queued_high, queued_normal, queued_low, in_production, claims_on_day
        FROM channel_queues WHERE channel_id IN (:a, :b) ORDER BY channel_id
    """), {"a": first.id, "b": second.id}).all()  # fmt: skip
    counted = connection.execute(text(f"""
        SELECT c.id,
          count(t.id) FILTER (WHERE t.status = 'queued' AND t.priority = 'high'),
          count(t.id) FILTER (WHERE t.status = 'queued' AND t.priority = 'normal'),
          count(t.id) FILTER (WHERE t.status = 'queued' AND t.priority = 'low'),
          count(t.id) FILTER (WHERE t.status IN ({", ".join(f"'{s}'" for s in
                                                   transitions.IN_PRODUCTION)}))
        FROM channels c LEFT JOIN tasks t ON t.channel_id = c.id
        WHERE c.id IN (:a, :b) GROUP BY c.id ORDER BY c.id
    """), {"a": first.id, "b": second.id}).all()  # fmt: skip
    assert [tuple(row[:5]) for row in kept] == [tuple(row) for row in counted]
    assert counted[0][1:] == (0, 0, 1, 1)  # queued low, one claimed
    assert [row.claims_on_day for row in kept] == [1, 0]  # the claim counted for the quota
