"""/audit/export.csv: the filtered log as CSV, one line per changed field, streamed by
keyset, safe in a spreadsheet, and itself recorded in the log before it is sent."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from catalog.changes import queries
from catalog.models import MetadataSync
from tests.changes.log.conftest import bulk_edit
from tests.changes.log.test_archive import old_log
from tests.factories.audit import in_app, record, video_change

HEADER = [
    "id", "time (UTC)", "user email", "source", "action", "entity type", "entity key",
    "video title", "batch id", "report id", "reverts id", "field", "old value", "new value",
]  # fmt: skip
AT = datetime(2026, 5, 4, 3, 2, 1, 123456, tzinfo=UTC)


def parse(body: str) -> list[dict]:
    assert body.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(body[1:])))
    assert lines[0] == HEADER
    return [dict(zip(HEADER, line, strict=True)) for line in lines[1:]]


def export_records(session) -> list[MetadataSync]:
    session.expire_all()
    return list(
        session.scalars(
            select(MetadataSync)
            .where(MetadataSync.entity_type == "audit_log", MetadataSync.action == "export")
            .order_by(MetadataSync.id)
        )
    )


def test_each_changed_field_is_a_line(app, client, db_session, sign_in_as, videos, people):
    sign_in_as("auditor")
    videos[0].title = '=HYPERLINK("http://evil","x")'
    db_session.flush()
    changes = {
        "label": ["Old", "@SUM(A1)"], "artist": [["Ann"], ["Ann", "-Bob", "Cy"]],
        "views": [10, -5],
    }  # fmt: skip
    (first, empty) = record(
        app,
        video_change(videos[0], changes, actor=people.editor, at=AT),
        video_change(videos[1], {}, actor=people.editor, at=AT - timedelta(minutes=1)),
    )
    response = client.get(f"/audit/export.csv?user={people.editor.id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audit-')
    lines = parse(response.get_data(as_text=True))
    assert [(line["id"], line["field"]) for line in lines] == [
        (str(first), "artist"), (str(first), "label"), (str(first), "views"), (str(empty), ""),
    ]  # fmt: skip
    artist, label, views, nothing = lines
    assert artist == {
        "id": str(first), "time (UTC)": "2026-05-04T03:02:01.123456+00:00",
        "user email": people.editor.email, "source": "web", "action": "update",
        "entity type": "video", "entity key": "vidAudit000",
        "video title": "'=HYPERLINK(\"http://evil\",\"x\")",  # neutralised: text, not formula
        "batch id": "", "report id": "", "reverts id": "", "field": "artist",
        "old value": "Ann", "new value": "Ann; -Bob; Cy",
    }  # fmt: skip
    assert (label["old value"], label["new value"]) == ("Old", "'@SUM(A1)")
    assert (views["old value"], views["new value"]) == ("10", "'-5")
    assert (nothing["field"], nothing["old value"], nothing["new value"]) == ("", "", "")


def test_filters_and_batches(app, client, db_session, sign_in_as, videos, people):
    sign_in_as("auditor")
    batch = bulk_edit(app, videos[:3], people.editor, label="Bulk")
    record(app, video_change(videos[4], {"label": ["x", "y"]}, actor=people.other))

    def keys(url: str) -> list[str]:
        return sorted(line["entity key"] for line in parse(client.get(url).text))

    # Every change of a batch is exported, not one line per batch as on the page.
    assert keys(f"/audit/export.csv?user={people.editor.id}") == [
        "vidAudit000", "vidAudit001", "vidAudit002",
    ]  # fmt: skip
    assert {line["batch id"] for line in parse(
        client.get(f"/audit/export.csv?batch={batch}").text
    )} == {str(batch)}  # fmt: skip
    assert keys(f"/audit/export.csv?user={people.other.id}") == ["vidAudit004"]
    assert keys("/audit/export.csv?video=vidAudit001") == ["vidAudit001"]
    assert keys("/audit/export.csv?field=label&entity=video&source=web") == ["vidAudit004"]


def test_the_export_is_recorded_before_it_is_sent(app, client, db_session, sign_in_as, people):
    auditor = sign_in_as("auditor")
    assert export_records(db_session) == []
    response = client.get(
        f"/audit/export.csv?user={people.editor.id}&from=2026-01-01&source=bulk&scope=archive",
        buffered=False,
    )
    # Committed before the first byte: there before the body is read.
    (row,) = export_records(db_session)
    assert (row.user_id, row.user_email, row.source) == (auditor.id, auditor.email, "web")
    assert (row.entity_type, row.entity_id, row.entity_key) == ("audit_log", 0, None)
    assert row.changes == {
        "filter": [None, {"user": people.editor.id, "from": "2026-01-01", "source": "bulk"}],
        "scope": [None, "archive"],
    }
    response.get_data()
    response.close()

    # It shows in the log (and in the next export) like any change.
    html = client.get("/audit?entity=audit_log").text
    assert "the audit log" in html
    assert ">export</span>" in html
    assert "from: 2026-01-01; source: bulk; user: " in html
    lines = parse(client.get("/audit/export.csv?entity=audit_log").text)
    assert [(line["action"], line["field"]) for line in lines] == [
        ("export", "filter"), ("export", "scope"), ("export", "filter"), ("export", "scope"),
    ]  # fmt: skip
    assert lines[2]["new value"] == (
        f'{{"from": "2026-01-01", "source": "bulk", "user": {people.editor.id}}}'
    )
    assert lines[3]["new value"] == "archive"


# Archiving is the schema owner's to do: the test's connection is the owner's (conftest.py).
@pytest.mark.parametrize("db_owner", [True])
def test_archive_scope_exports_the_archive(
    app, client, db_session, sign_in_as, videos, people, db_owner
):
    sign_in_as("auditor")
    old_log(app, videos, people)
    archived = parse(client.get("/audit/export.csv?scope=archive").text)
    assert len(archived) == 5
    assert {line["time (UTC)"][:7] for line in archived} == {"2024-01"}
    live = parse(client.get("/audit/export.csv?entity=video").text)
    assert [line["new value"] for line in live] == ["live"]


def test_rows_are_read_in_keyset_chunks(app, db_session, videos, people):
    start = datetime(2025, 6, 1, tzinfo=UTC)
    ids = record(app, *(
        video_change(videos[n % 5], {"label": [str(n), str(n + 1)]}, actor=people.other,
                     at=start + timedelta(seconds=n // 2))  # pairs share their time
        for n in range(7)
    ))  # fmt: skip
    filters = queries.parse_filters({"user": str(people.other.id)})
    chunked = in_app(app, lambda: [row.id for row in queries.export_rows(filters, chunk=2)])
    assert chunked == sorted(ids, key=lambda i: (ids.index(i) // 2, i), reverse=True)
    assert len(set(chunked)) == 7


def test_refused_exports_are_not_recorded(client, db_session, sign_in_as):
    sign_in_as("editor")
    response = client.get("/audit/export.csv")
    assert response.status_code == 403
    assert export_records(db_session) == []
