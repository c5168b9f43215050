"""Claims by real concurrent processes, each with its own app, connection and transactions,
on a committed database of the test's own (tests/race.py): never a task twice, turns across
channels, no starving, capacity, priority, and a killed worker's task coming back."""

import itertools
import multiprocessing
import os
import signal
import statistics
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from flask_security import hash_password
from sqlalchemy import func, select, text

from catalog import create_app
from catalog.extensions import db
from catalog.models import MetadataSync, PipelineWorker, Task
from catalog.production import service
from catalog.production.leases import expire_now
from catalog.web import db_retry
from tests import factories
from tests.conftest import app_config
from tests.production.claim_data import make_task, make_worker

BIG = 100_000
PRIORITIES = ("high", "normal", "low")
WAIT = 60  # seconds: the most a test waits for a state before it fails
CLAIMERS = 4  # concurrent processes in the turn-taking tests
CONTEXT = multiprocessing.get_context("fork")


def _claimer(url: str, name: str, claimed, target: int, results, config: dict, start) -> None:
    """A child process: claim for the assets stage until `target` tasks are claimed in all
    (`claimed`, shared) or nothing is queued any more; report what it got, each claim with
    the moments its call began and its commit ended (the machine's clock). It starts
    claiming with the others (`start`, a barrier) after a claim that it rolls back, its
    audit row chained at once instead of at commit: that first claim connects, plans the
    statement and compiles the triggers' functions in its backend, which on a busy machine
    takes long enough that a process already warm ends several claims before it (in one run
    on a busy machine, the high tasks' claims, the processes' first, ended on average 17.5th
    of 24, the normal ones' 4.5th)."""
    app = create_app({**app_config(url), **config})
    got = []
    with app.app_context():
        worker = db.session.scalars(select(PipelineWorker).where(PipelineWorker.name == name)).one()
        db.session.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        service.claim("assets", worker=worker, source="api")
        db.session.rollback()
        start.wait(timeout=WAIT)
        deadline = time.monotonic() + WAIT
        while claimed.value < target and time.monotonic() < deadline:
            began = time.time()
            task_id = db_retry.run_in_transaction(
                lambda: getattr(service.claim("assets", worker=worker, source="api"), "id", None)
            )
            if task_id is not None:
                got.append((task_id, began, time.time()))
                with claimed.get_lock():
                    claimed.value += 1
            elif not db.session.scalar(text("SELECT count(*) FROM tasks WHERE status = 'queued'")):
                break
            else:
                time.sleep(0.005)  # queued work held by others' claims or capacity: look again
            db.session.rollback()
        db.engine.dispose()
    results.put(got)


@dataclass(frozen=True)
class Claim:
    task_id: int
    began: float
    ended: float
    channel: int = 0


def _run_claimers(app, count: int, target: int, config: dict | None = None) -> list[Claim]:
    """`count` claimer processes at once until `target` claims; every claim, in the order
    they ended, with its task's channel."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        names = [make_worker(f"claimer-{n}", session=db.session).name for n in range(count)]
        db.session.commit()
        db.engine.dispose()  # no connection of the parent's crosses the fork
    claimed, results = CONTEXT.Value("i", 0), CONTEXT.Queue()
    start = CONTEXT.Barrier(count)
    processes = [
        CONTEXT.Process(
            target=_claimer, args=(url, name, claimed, target, results, config or {}, start)
        )
        for name in names
    ]
    for process in processes:
        process.start()
    got = [claim for _ in processes for claim in results.get(timeout=WAIT * 2)]
    for process in processes:
        process.join(timeout=WAIT)
        assert process.exitcode == 0
    ids = [task_id for task_id, _, _ in got]
    assert len(ids) == len(set(ids)), "a task was claimed twice"
    with app.app_context():
        rows = db.session.execute(
            select(Task.id, Task.channel_id).where(Task.claimed_at.isnot(None))
        )
        channel_of = dict(rows.all())
        db.engine.dispose()
    assert sorted(channel_of) == sorted(ids)
    claims = [Claim(task_id, began, ended, channel_of[task_id]) for task_id, began, ended in got]
    return sorted(claims, key=lambda claim: claim.ended)


def _seed(app, backlogs: list[int], **channel_values) -> list[int]:
    """Channels with these numbers of queued tasks (created in order); their ids."""
    with app.app_context():
        factories.use_session(db.session, hash_password("race"))
        channels = [
            factories.ChannelFactory(**{"production_capacity": BIG, **channel_values})
            for _ in backlogs
        ]
        age = 0
        for channel, backlog in zip(channels, backlogs, strict=True):
            for _ in range(backlog):
                age += 1
                make_task(channel, "queued", session=db.session, age=age)
        db.session.commit()
        ids = [channel.id for channel in channels]
        db.engine.dispose()
        return ids


def _timeline(claims: list[Claim], origin: float) -> str:
    """The claims as a failure shows them: task, channel, began and ended in ms from origin."""
    return "\n".join(
        f"task {c.task_id} channel {c.channel}: {1000 * (c.began - origin):+.1f} .. "
        f"{1000 * (c.ended - origin):+.1f} ms"
        for c in sorted(claims, key=lambda claim: claim.began)
    )


def assert_turns(claims: list[Claim], backlog: dict[int, int]) -> None:
    """No channel gets two claims while another with work waits.

    A claim takes effect at the moment it locks its task, somewhere between its call's
    beginning and its commit's end: between two claims of a channel, every other channel that
    surely still had queued work must have a claim that may have taken effect in between
    (it ended after the earlier of their beginnings and began before the second ended).
    Processes are preempted at any point, so a stricter order by any one timestamp would be
    unobservable: of two claims of one channel in flight at once, the one that ends later may
    have begun, and taken its task, first (the older task, as its lower id shows)."""
    by_channel: dict[int, list[Claim]] = {}
    for claim in claims:
        by_channel.setdefault(claim.channel, []).append(claim)
    for channel, own in by_channel.items():
        for first, second in itertools.pairwise(own):
            for other, total in backlog.items():
                if other == channel:
                    continue
                theirs = by_channel.get(other, [])
                # At most this many of theirs could have been claimed by the first one.
                if sum(c.began < first.ended for c in theirs) >= total:
                    continue  # it may have run out of work
                earliest = min(first.began, second.began)
                assert any(c.ended > earliest and c.began < second.ended for c in theirs), (
                    f"channel {other} waited while channel {channel} was claimed twice:\n"
                    + _timeline(claims, first.began)
                )


def test_the_turns_check_finds_a_channel_served_twice_while_another_waits():
    # Channel 1 twice, one after the other, while channel 2 (with work) has no claim.
    unfair = [Claim(1, 0.0, 1.0, 1), Claim(2, 2.0, 3.0, 1), Claim(3, 4.0, 5.0, 2)]
    with pytest.raises(AssertionError, match="channel 2 waited while channel 1"):
        assert_turns(unfair, {1: 5, 2: 5})
    # Two claims of channel 1 in flight at once, the later-ending one begun first, with
    # channel 2's claim beside them: either may have taken effect first, so no verdict.
    nested = [Claim(3, 0.2, 0.4, 2), Claim(1, 0.5, 1.0, 1), Claim(2, 0.0, 1.2, 1)]  # by end
    assert_turns(nested, {1: 5, 2: 5})


def test_the_round_check_finds_a_committed_channel_passed_over():
    # Channel 2's claim ended at 1.0; channel 1 is then served twice before channel 2's next.
    passed_over = [Claim(1, 0.0, 1.0, 2), Claim(2, 1.1, 1.5, 1), Claim(3, 1.6, 2.0, 1),
                   Claim(4, 2.1, 2.5, 2)]  # fmt: skip
    with pytest.raises(AssertionError, match="channel 2 waited 2 claims"):
        assert_served_within_a_round(passed_over, {1: 5, 2: 5})
    # The same claims of channel 1 while channel 2's claim was still in flight: no verdict.
    in_flight = [Claim(1, 0.0, 2.05, 2), Claim(2, 1.1, 1.5, 1), Claim(3, 1.6, 2.0, 1),
                 Claim(4, 2.1, 2.5, 2)]  # fmt: skip
    assert_served_within_a_round(in_flight, {1: 5, 2: 5})


def test_sixteen_claimers_never_claim_one_task_twice(race_app):
    _seed(race_app, [30] * 10)
    assert len(_run_claimers(race_app, 16, 300)) == 300
    with race_app.app_context():
        claims = db.session.scalar(
            select(func.count())
            .select_from(MetadataSync)
            .where(MetadataSync.entity_type == "task", MetadataSync.changes["status"][1].astext
                   == "claimed")
        )  # fmt: skip
        left = db.session.scalar(select(func.count()).where(Task.status == "queued"))
        db.engine.dispose()
    assert (claims, left) == (300, 0)


def test_equal_backlogs_take_turns(race_app):
    # A backlog well above a fair fifth of 60 claims: a claimer preempted while it holds a
    # channel's head lets the others go round without that channel (its claim is in flight),
    # so on a busy machine the counts part a little; only a skewed queue empties a channel.
    channels = _seed(race_app, [24] * 5)
    # Four claimers: concurrent, and fewer than the channels, so each claim has a channel
    # free to take.
    claims = _run_claimers(race_app, CLAIMERS, 60)  # claims in flight may pass 60 by a few
    assert_turns(claims, dict.fromkeys(channels, 24))
    counts = Counter(claim.channel for claim in claims)
    # Every channel still had work at the end, so the turns were checked throughout.
    assert len(counts) == 5
    assert max(counts.values()) < 24


def test_a_channel_with_most_of_the_backlog_does_not_starve_the_others(race_app):
    channels = _seed(race_app, [108, 3, 3, 3, 3])  # the first holds 90 %, and its are oldest
    backlog = dict(zip(channels, [108, 3, 3, 3, 3], strict=True))
    claims = _run_claimers(race_app, CLAIMERS, 120)
    assert_turns(claims, backlog)
    assert sum(claim.channel != channels[0] for claim in claims) == 12
    assert_served_within_a_round(claims, backlog)


def assert_served_within_a_round(claims: list[Claim], backlog: dict[int, int]) -> None:
    """Once a channel's claim is committed, the channel with work left is served again
    within one round: no more claims of other channels than there are other channels with
    work can come between, counting only the claims surely between (begun after its claim
    ended, ended before its next one began), from the start for its first claim. A gap in
    which another claim of the channel was under way (begun before, ended after the next
    one began) is not one: that claim may have taken the channel's turn anywhere in it.

    (A bound on the position of the small channels' claims in the order the calls began,
    three rounds plus the claims in flight, failed about once in six runs under load, on
    the code before the lean claim as after: a claimer descheduled between its claim
    statement and its commit holds its channel's head, the one task of the channel any
    claim may take, so the other processes serve the other channels meanwhile, as many
    times as the pause lasts: the channel is being claimed, not passed over.)"""
    by_channel: dict[int, list[Claim]] = {}
    for claim in sorted(claims, key=lambda claim: claim.began):
        by_channel.setdefault(claim.channel, []).append(claim)
    for channel, own in by_channel.items():
        others = {c for c, n in backlog.items() if c != channel and n}
        for at, claim in enumerate(own):
            earlier = own[:at]
            if any(c.ended >= claim.began for c in earlier):
                continue  # one of the channel's claims was under way all through the gap
            before = max((c.ended for c in earlier), default=float("-inf"))
            between = [
                c for c in claims
                if c.channel != channel and c.began > before and c.ended < claim.began
            ]  # fmt: skip
            assert len(between) <= len(others), (
                f"channel {channel} waited {len(between)} claims with work left:\n"
                + _timeline(claims, claims[0].began)
            )


def test_a_channel_at_capacity_is_skipped(race_app):
    channels = _seed(race_app, [20, 10, 10])
    with race_app.app_context():
        db.session.execute(
            text("UPDATE channels SET production_capacity = 2 WHERE id = :c"), {"c": channels[0]}
        )
        db.session.commit()
        db.engine.dispose()
    claims = _run_claimers(race_app, 8, 22)
    assert Counter(claim.channel for claim in claims) == {
        channels[0]: 2,
        channels[1]: 10,
        channels[2]: 10,
    }


def test_high_beats_normal_beats_low(race_app):
    priorities = ["low", "normal", "high"] * 8  # created low first: FIFO alone would invert it
    with race_app.app_context():
        factories.use_session(db.session, hash_password("race"))
        for age, priority in enumerate(priorities):
            channel = factories.ChannelFactory(production_capacity=BIG)
            make_task(channel, "queued", session=db.session, age=age, priority=priority)
        db.session.commit()
        db.engine.dispose()
    claims = _run_claimers(race_app, 8, len(priorities))
    with race_app.app_context():
        priority_of = dict(db.session.execute(select(Task.id, Task.priority)).all())
        db.engine.dispose()
    by_priority = {p: [c for c in claims if priority_of[c.task_id] == p] for p in PRIORITIES}
    # Every channel's one task is offered at once, so a task is taken only once every task
    # of a higher priority has been (or is being) taken: each of those began before it ended.
    for higher, lower in itertools.combinations(PRIORITIES, 2):
        for late in by_priority[lower]:
            assert all(early.began < late.ended for early in by_priority[higher]), (higher, lower)
    # And in the order the claims ended, the three priorities come out high, normal, low.
    mean = {p: statistics.mean(claims.index(c) for c in by_priority[p]) for p in PRIORITIES}
    assert mean["high"] < mean["normal"] < mean["low"]


def _hold_forever(url: str, name: str, claimed_id) -> None:
    """A worker that claims a task, says which, and hangs without a heartbeat."""
    app = create_app({**app_config(url), "PIPELINE_LEASE_SECONDS": 2})
    with app.app_context():
        worker = db.session.scalars(select(PipelineWorker).where(PipelineWorker.name == name)).one()
        task_id = service.claim("assets", worker=worker).id
        db.session.commit()
        claimed_id.value = task_id
        signal.pause()


def test_a_killed_workers_task_comes_back_after_its_lease(race_app):
    _seed(race_app, [1])
    with race_app.app_context():
        name = make_worker("doomed", session=db.session).name
        db.session.commit()
        db.engine.dispose()
    claimed_id = CONTEXT.Value("i", 0)
    process = CONTEXT.Process(
        target=_hold_forever, args=(race_app.config["SQLALCHEMY_DATABASE_URI"], name, claimed_id)
    )
    process.start()
    deadline = time.monotonic() + WAIT
    while not claimed_id.value and process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)  # waiting for the child's claim to commit
    assert claimed_id.value
    os.kill(process.pid, signal.SIGKILL)
    process.join()

    with race_app.app_context():
        task = db.session.get(Task, claimed_id.value)
        lease = task.lease_expires_at
        assert (task.status, task.claimed_by is not None) == ("claimed", True)
        db.session.rollback()
        # The periodic job's own function, run until the state is reached.
        while time.monotonic() < deadline:
            expire_now(race_app)
            status, now = db.session.execute(
                text("SELECT status, now() FROM tasks WHERE id = :id"), {"id": task.id}
            ).one()
            db.session.rollback()
            if status == "queued":
                break
            time.sleep(0.1)
        assert status == "queued"
        assert now >= lease
        row = db.session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "task", MetadataSync.entity_id == task.id)
            .order_by(MetadataSync.id.desc())
            .limit(1)
        ).one()
        assert row.changes["reason"] == [None, "lease expired"]
        assert row.changes["claimed_by"] == ["doomed", None]
        db.engine.dispose()
