"""The claim's order, one claim after another: priority, round-robin across channels, FIFO
within a channel, channels at capacity or out of quota skipped; later stages."""

import pytest
from sqlalchemy import event, func, select, text

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.production import claim as claims
from catalog.production import service
from catalog.rules import RuleError
from tests import factories
from tests.production.claim_data import make_task, make_worker

BIG = 1000  # a capacity that does not get in the way


@pytest.fixture
def worker(app_ctx):
    return make_worker()


def _claims(worker, count: int, stage: str = "assets") -> list:
    claimed = [service.claim(stage, worker=worker) for _ in range(count)]
    return [task and (task.channel_id, task.title) for task in claimed]


def test_high_beats_normal_beats_low(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(3)]
    make_task(channels[0], priority="low", title="low", age=1)
    make_task(channels[1], priority="normal", title="normal", age=2)
    make_task(channels[2], priority="high", title="high", age=3)
    make_task(channels[0], priority="high", title="high 2", age=4)
    titles = [title for _, title in _claims(worker, 4)]
    assert titles == ["high", "high 2", "normal", "low"]
    assert service.claim("assets", worker=worker) is None


def test_channels_take_turns_and_each_serves_its_oldest_first(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(3)]
    # The first channel's tasks are all older than the others': FIFO alone would drain it.
    for n in range(3):
        for index, channel in enumerate(channels):
            make_task(channel, title=f"{index}:{n}", age=index * 100 + (2 - n))
    claimed = _claims(worker, 9)
    order = [channels.index(next(c for c in channels if c.id == cid)) for cid, _ in claimed]
    assert order[:3] == [0, 1, 2]
    assert order[3:6] == order[:3]
    assert order[6:] == order[:3]
    # Within a channel, the oldest (the highest n here) first.
    assert [title for _, title in claimed if title.startswith("0:")] == ["0:2", "0:1", "0:0"]


def test_a_channel_that_had_a_turn_waits_for_the_others(worker):
    first, second = (factories.ChannelFactory(production_capacity=BIG) for _ in range(2))
    make_task(first, title="a1", age=1)
    assert _claims(worker, 1) == [(first.id, "a1")]
    # New work arrives on both; the second channel's turn comes first though it is newer.
    make_task(first, title="a2", age=2)
    make_task(second, title="b1", age=3)
    assert _claims(worker, 2) == [(second.id, "b1"), (first.id, "a2")]


def test_channels_never_claimed_go_first_their_oldest_head_first(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(4)]
    served = channels[0]
    make_task(served, title="served", age=1)
    assert _claims(worker, 1) == [(served.id, "served")]
    make_task(served, title="older than all", age=2)
    # Three channels never claimed, their heads' ages the reverse of their creation order.
    for index, channel in enumerate(channels[1:]):
        make_task(channel, title=f"new {index}", age=100 - index)
    assert _claims(worker, 4) == [
        (channels[3].id, "new 2"),
        (channels[2].id, "new 1"),
        (channels[1].id, "new 0"),
        (served.id, "older than all"),
    ]


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def test_the_intake_reads_the_heads_of_channels_only_until_one_is_taken(worker):
    channels = [factories.ChannelFactory(production_capacity=BIG) for _ in range(12)]
    for index, channel in enumerate(channels):
        make_task(channel, title=f"first {index}", age=index)
        make_task(channel, title=f"second {index}", age=100 + index)
    _claims(worker, len(channels))  # every channel has had a turn
    [[plan]] = db.session.execute(
        text("EXPLAIN (ANALYZE, FORMAT JSON) " + claims.INTAKE.text),
        {"worker": worker.id, "lease": 60},
    ).one()
    # The reads of a channel's head (claim.HEAD, alias h): by ix_tasks_queued_channel, or by
    # whatever path the planner takes for them given what other tests left in the tables.
    heads = [
        node for node in _plan_nodes(plan["Plan"])
        if node.get("Relation Name") == "tasks" and node.get("Alias", "").startswith("h")
        and node.get("Actual Loops")
    ]  # fmt: skip
    # The channel whose turn it is has a free head, so no other channel's is read: one read,
    # or two if the turn is a never-claimed channel's (left by another test): its head's age
    # is read to order it, then its head to take it. Reading every candidate's head first
    # made it 12 reads or more.
    assert 1 <= sum(node["Actual Loops"] for node in heads) <= 2


def test_a_channel_at_capacity_is_skipped(worker):
    full = factories.ChannelFactory(production_capacity=1)
    other = factories.ChannelFactory(production_capacity=BIG)
    make_task(full, "generating_video")  # in production: the channel's one place is taken
    make_task(full, priority="high", title="waits", age=1)
    make_task(other, priority="low", title="goes", age=2)
    assert _claims(worker, 2) == [(other.id, "goes"), None]
    busy = db.session.execute(
        text("SELECT in_production FROM channel_queues WHERE channel_id = :c"), {"c": full.id}
    ).scalar()
    assert busy == 1


def test_a_channel_out_of_daily_quota_is_skipped(worker):
    limited = factories.ChannelFactory(production_capacity=BIG, daily_claim_quota=2)
    for n in range(4):
        make_task(limited, title=f"q{n}", age=n)
    assert [title for _, title in _claims(worker, 2)] == ["q0", "q1"]
    assert service.claim("assets", worker=worker) is None
    # A new day: the count starts again.
    db.session.execute(
        text("UPDATE channel_queues SET claims_day = claims_day - 1 WHERE channel_id = :c"),
        {"c": limited.id},
    )
    assert _claims(worker, 1) == [(limited.id, "q2")]


def test_later_stages_claim_by_priority_then_waiting_time(worker):
    channel = factories.ChannelFactory(production_capacity=BIG)
    make_task(channel, "video_approved", title="normal")
    make_task(channel, "video_approved", title="high", priority="high")
    make_task(channel, "audio_approved", title="other stage")
    assert _claims(worker, 3, stage="audio") == [
        (channel.id, "high"),
        (channel.id, "normal"),
        None,  # the audio stage claims video_approved only
    ]


def _statements(work) -> tuple[object, list[str]]:
    """What `work()` returns and the statements it sends (the tests' savepoints left out)."""
    sent = []

    def note(conn, cursor, statement, *args):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            sent.append(statement)

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", note)
    try:
        return work(), sent
    finally:
        event.remove(connection, "before_cursor_execute", note)


def _audit_rows(task_id: int) -> list[MetadataSync]:
    return db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "task", MetadataSync.entity_id == task_id)
        .order_by(MetadataSync.id)
    ).all()


def _content(row: MetadataSync) -> dict:
    """An audit row's columns but its id, time and place in the chain."""
    skipped = {"id", "sync_time", "chain_seq", "prev_hash", "row_hash"}
    columns = MetadataSync.__table__.columns
    return {c.key: getattr(row, c.key) for c in columns if c.key not in skipped}


def test_a_claim_is_one_statement_and_writes_the_services_audit_row(worker):
    channel = factories.ChannelFactory(production_capacity=BIG)
    task = make_task(channel, title="fresh")
    retried = make_task(channel, "generating_composites", title="retried")  # no one holds it
    db.session.expire(worker)  # as after a commit: the claim does not read the worker first

    claimed, sent = _statements(lambda: service.claim("assets", worker=worker, source="cli"))
    assert (claimed.id, claimed.status, claimed.resumed) == (task.id, "claimed", False)
    assert len(sent) == 1
    resumed, sent = _statements(lambda: service.claim("composites", worker=worker))
    assert (resumed.id, resumed.status, resumed.resumed) == (
        retried.id, "generating_composites", True,
    )  # fmt: skip
    assert len(sent) == 1

    # The same rows as the service's own audit_row() makes for these changes.
    db.session.refresh(task)
    db.session.refresh(retried)
    expected = {
        task.id: service.audit_row(
            task, {"status": ["queued", "claimed"], "claimed_by": [None, worker.name]},
            actor=worker, source="cli",
        ),
        retried.id: service.audit_row(
            retried, {"claimed_by": [None, worker.name]}, actor=worker, source="api"
        ),
    }  # fmt: skip
    now = db.session.scalar(select(func.now()))
    for task_id, row in expected.items():
        (written,) = _audit_rows(task_id)
        assert _content(written) == _content(MetadataSync(**row))
        assert written.sync_time == now


def test_a_refused_worker_claims_nothing_and_is_told_why(worker):
    channel = factories.ChannelFactory(production_capacity=BIG)
    task = make_task(channel)
    worker.stages = ["audio"]
    with pytest.raises(RuleError, match="may not work on the assets stage"):
        service.claim("assets", worker=worker)
    worker.stages, worker.revoked_at = ["assets"], func.now()
    with pytest.raises(RuleError, match="has been revoked"):
        service.claim("assets", worker=worker)
    db.session.refresh(task)
    assert (task.status, _audit_rows(task.id)) == ("queued", [])


def _lapse(task) -> None:
    db.session.execute(
        text("UPDATE tasks SET lease_expires_at = now() - interval '1 second' WHERE id = :id"),
        {"id": task.id},
    )


def test_a_run_out_lease_is_returned_by_the_next_claim_and_claimed_when_nothing_else_waits(
    worker,
):
    channel = factories.ChannelFactory(production_capacity=BIG)
    task = make_task(channel, title="held")
    service.claim("assets", worker=worker)
    _lapse(task)
    other = make_worker("second")
    # Nothing else is queued: the claim returns the lapsed task to the queue and takes it.
    assert service.claim("assets", worker=other).id == task.id
    changes = [row.changes for row in _audit_rows(task.id)]
    assert changes[1]["reason"] == [None, "lease expired"]
    assert changes[2] == {"status": ["queued", "claimed"], "claimed_by": [None, "second"]}

    # With other work queued, the claim takes that and the lapsed task waits in the queue.
    _lapse(task)
    waiting = make_task(channel, title="waiting")
    assert service.claim("assets", worker=worker).id == waiting.id
    db.session.refresh(task)
    assert (task.status, task.claimed_by) == ("queued", None)
