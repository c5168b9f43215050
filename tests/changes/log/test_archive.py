"""The archived log on /audit (scope=archive): the same filters, grouping and paging as the
live log, read from metadata_syncs_archive. Rows get there as the archive command moves
them: written with an old time, then archive_before(cutoff)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.changes import integrity, queries
from catalog.models import MetadataSync, MetadataSyncArchive
from tests.changes.log.test_page import link, shown_rows
from tests.factories.audit import in_app, record, record_batch, video_change

LONG_AGO = datetime(2024, 1, 10, 9, tzinfo=UTC)
CUTOFF = datetime(2024, 2, 1, tzinfo=UTC)


@pytest.fixture
def db_owner() -> bool:
    """Archiving is the schema owner's to do: these tests' connection is the owner's."""
    return True


def archive(app) -> int:
    return in_app(app, lambda: integrity.archive_before(CUTOFF))


def old_log(app, videos, people):
    """In January 2024: two single changes (two editors) and a batch of three, archived;
    one change of today stays live."""
    record(
        app,
        video_change(videos[0], {"label": ["a", "b"]}, actor=people.editor, at=LONG_AGO),
        video_change(
            videos[4], {"notes": [None, "old"]}, actor=people.other,
            at=LONG_AGO + timedelta(hours=2),
        ),
    )  # fmt: skip
    batch = record_batch(app, [
        video_change(v, {"privacy_status": ["public", "private"]}, actor=people.editor,
                     source="bulk", at=LONG_AGO + timedelta(hours=1))
        for v in videos[1:4]
    ])  # fmt: skip
    record(app, video_change(videos[0], {"label": ["b", "live"]}, actor=people.editor))
    assert archive(app) == 5
    return batch


def test_archived_rows_are_searched_with_the_same_grouping(
    app, client, db_session, sign_in_as, videos, people
):
    sign_in_as("auditor")
    batch = old_log(app, videos, people)
    assert db_session.scalar(select(func.count()).select_from(MetadataSyncArchive)) == 5
    assert db_session.scalar(
        select(func.count()).select_from(MetadataSync).where(MetadataSync.sync_time < CUTOFF)
    ) == 0  # fmt: skip

    live = client.get("/audit?video=vidAudit000").get_data(as_text=True)
    assert len(shown_rows(live)) == 1
    assert '<span class="new">live</span>' in live

    html = client.get("/audit?scope=archive").get_data(as_text=True)
    assert 'aria-current="page" href="/audit?scope=archive">Archived' in html
    rows = shown_rows(html)
    assert len(rows) == 3  # two single changes and the batch's line
    assert "3 videos" in rows[1]
    assert f'hx-get="/audit/batch/{batch}?scope=archive"' in rows[1]
    assert f'href="/audit?batch={batch}&amp;scope=archive"' in rows[1]
    assert '<span class="new">old</span>' in rows[0]
    assert "live" not in "".join(rows)

    # Filters work on the archive as they do live.
    by_user = client.get(f"/audit?scope=archive&user={people.other.id}").get_data(as_text=True)
    assert len(shown_rows(by_user)) == 1
    by_video = client.get("/audit?scope=archive&video=vidAudit002").get_data(as_text=True)
    (row,) = shown_rows(by_video)
    assert f'href="/audit?batch={batch}">part of a batch' in row
    by_batch = client.get(f"/audit?scope=archive&batch={batch}").get_data(as_text=True)
    assert len(shown_rows(by_batch)) == 3
    assert len(shown_rows(client.get(f"/audit?batch={batch}").get_data(as_text=True))) == 0
    by_day = client.get("/audit?scope=archive&from=2024-01-10&to=2024-01-10")
    assert len(shown_rows(by_day.get_data(as_text=True))) == 3
    assert len(shown_rows(client.get("/audit?scope=archive&from=2024-01-11").text)) == 0

    fragment = client.get(f"/audit/batch/{batch}?scope=archive").get_data(as_text=True)
    assert len(shown_rows(fragment)) == 3
    assert client.get(f"/audit/batch/{batch}").status_code == 404  # not in the live log


def test_archive_pages_by_keyset(app, client, db_session, sign_in_as, videos, people, monkeypatch):
    sign_in_as("auditor")
    old_log(app, videos, people)
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    first = client.get("/audit?scope=archive").get_data(as_text=True)
    older = link(first, "next")
    assert "scope=archive" in older
    second = client.get(older).get_data(as_text=True)
    assert len(shown_rows(first)) == 2
    assert len(shown_rows(second)) == 1
    assert '<span class="new">b</span>' in second  # the oldest change
    assert "scope=archive" in link(second, "prev")


def test_the_filter_form_keeps_the_scope(client, db_session, sign_in_as):
    sign_in_as("auditor")
    html = client.get("/audit?scope=archive&user=5").get_data(as_text=True)
    assert '<input type="hidden" name="scope" value="archive">' in html
    assert 'href="/audit?user=5">Live</a>' in html
    assert 'aria-current="page" href="/audit?scope=archive&amp;user=5">Archived</a>' in html
    assert 'href="/audit/export.csv?user=5&amp;scope=archive"' in html
    assert (
        "scope"
        not in client.get("/audit?scope=bogus")
        .get_data(as_text=True)
        .split("<form", 1)[1]
        .split("</form>")[0]
    )  # an unknown scope is the live log
