"""The set-based import, on real files: preview, merge, create / update / unchanged, the
audit rows, and malformed files."""

import gzip
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import Channel, MetadataSync, Video, VideoCategory
from catalog.reports import importer
from catalog.reports.formats import ReportFileError
from catalog.reports.importer import pipeline, staging
from catalog.videos import service as videos
from tests.factories import CategoryFactory, UserFactory
from tests.reports.conftest import CHANNEL, NEW_CHANNEL, opener

LIMIT = 10**9


def preview(path, **kwargs):
    return importer.preview(opener(path), max_bytes=LIMIT, **kwargs)


def apply(path, *, actor=None, report_id=None, **kwargs):
    return importer.apply(opener(path), actor=actor, report_id=report_id, max_bytes=LIMIT, **kwargs)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def video(video_id: str) -> Video:
    return db.session.scalars(select(Video).where(Video.video_id == video_id)).one()


def audit_rows(**where) -> list[MetadataSync]:
    statement = select(MetadataSync).order_by(MetadataSync.id)
    for key, value in where.items():
        statement = statement.where(getattr(MetadataSync, key) == value)
    return list(db.session.scalars(statement))


# -- preview -------------------------------------------------------------------------------------


def test_preview_counts_rows_videos_and_invalid_rows_and_changes_nothing(app_ctx):
    CategoryFactory(name="Music Videos", slug="music-videos")
    outcome = preview("youtube_video_report_a2.csv")

    assert outcome.format == "youtube"
    assert (outcome.rows, outcome.videos, outcome.invalid) == (7, 4, 2)
    assert (outcome.created, outcome.updated, outcome.unchanged) == (4, 0, 0)
    assert outcome.channels_created == 2
    assert outcome.errors == [
        {"row": 6, "column": "views", "reason": "not a whole number: 12a"},
        {"row": 7, "column": "video_privacy_status",
         "reason": "expected one of public, private, unlisted: secret"},
    ]  # fmt: skip
    assert "1 value could not be read" in " ".join(outcome.notes)
    assert outcome.unreadable == 1
    assert outcome.warnings == [
        {"row": 8, "column": "time_published", "value": "2021-02-30T10:00:00Z",
         "reason": "not a date (YYYY-MM-DD, with an optional time and zone); "
                   "the new video gets none"},
    ]  # fmt: skip
    unknown = next(n for n in outcome.notes if "Categories" in n)
    assert "Music (1 row)" in unknown
    assert "Lyric Videos (1 row)" in unknown
    assert "Music Videos" not in unknown
    assert {s["video_id"] for s in outcome.sample} == {
        "vidAAAAAAA1", "vidBBBBBBB2", "vidCCCCCCC3", "vidFFFFFFF6",
    }  # fmt: skip
    # Nothing was written, not even the channels the import would create.
    assert count(Video) == count(Channel) == count(MetadataSync) == 0


def test_preview_sample_names_channels_and_categories(app_ctx):
    category = CategoryFactory(name="Music Videos", slug="music-videos")
    outcome = preview("youtube_video_report_a2.csv")
    first = next(s for s in outcome.sample if s["video_id"] == "vidAAAAAAA1")
    assert first["action"] == "create"
    assert first["changes"]["channel_id"] == [None, CHANNEL]
    assert first["changes"]["category_id"] == [None, category.name]
    assert first["changes"]["views"] == [None, 1500]


# -- the import ---------------------------------------------------------------------------------


def test_claim_rows_of_a_video_merge_into_one_video(app_ctx):
    editor = UserFactory(roles=["editor"])
    outcome = apply("youtube_video_report_a2.csv", actor=editor, report_id=41)
    assert outcome.created == 4

    first = video("vidAAAAAAA1")
    # The primary claim row is the one with the lowest claim id, whatever the file's order.
    assert (first.asset_id, first.custom_id) == ("A111", "CUST-1")
    assert first.claimed_status == "claim"
    assert first.claimed_by_another_owner == "Yes"  # one of its claims says so
    assert first.other_owners_claiming == "Owner X, Owner Y"  # each owner once, sorted
    assert first.isrc == "USRC17607839"  # written with dashes in the file
    assert first.time_published == datetime(2023, 5, 2, 12, 30, tzinfo=UTC)
    assert (first.views, first.video_length, first.privacy_status) == (1500, 215, "public")
    assert (first.third_party_ads_enabled, first.sponsored_cards_enabled) == ("Yes", "No")
    assert first.channel.channel_id == CHANNEL
    assert first.channel_display_name == "Label Music"

    unclaimed = video("vidBBBBBBB2")
    assert unclaimed.claimed_status is None
    assert unclaimed.privacy_status == "unlisted"
    assert unclaimed.time_published == datetime(2022, 1, 15, 8, 0, tzinfo=UTC)  # "… UTC"
    assert video("vidCCCCCCC3").time_published == datetime(2024, 2, 29, tzinfo=UTC)
    assert video("vidFFFFFFF6").time_published is None  # 30 February: left empty

    rows = audit_rows(entity_type="video")
    assert len(rows) == 4
    assert {r.action for r in rows} == {"create"}
    assert {r.source for r in rows} == {"report"}
    assert {r.report_id for r in rows} == {41}
    assert {r.user_email for r in rows} == {editor.email}
    assert len({r.batch_id for r in rows}) == 1
    # The batch's first row (a channel it created: those are written first) carries its
    # size: the four videos and the channels.
    batch = audit_rows(batch_id=rows[0].batch_id)
    assert [r.batch_size for r in batch if r.batch_size] == [len(batch)]
    first = min(batch, key=lambda r: r.chain_seq)
    assert (first.entity_type, first.batch_size) == ("channel", len(batch))
    assert len(batch) == 4 + len(audit_rows(entity_type="channel"))
    created = next(r for r in rows if r.entity_key == "vidAAAAAAA1")
    assert created.changes["video_id"] == [None, "vidAAAAAAA1"]
    assert created.changes["views"] == [None, 1500]
    assert created.changes["time_published"] == [None, "2023-05-02T12:30:00+00:00"]
    assert created.video_title == "First Song (Official Video)"


def test_unknown_channels_are_created_and_audited(app_ctx):
    apply("youtube_video_report_a2.csv")
    new = db.session.scalars(select(Channel).where(Channel.channel_id == NEW_CHANNEL)).one()
    assert new.name == "New Channel"
    assert video("vidCCCCCCC3").channel_id == new.id
    rows = audit_rows(entity_type="channel", entity_key=NEW_CHANNEL)
    assert [(r.action, r.source) for r in rows] == [("create", "report")]
    assert rows[0].changes == {"channel_id": [None, NEW_CHANNEL], "name": [None, "New Channel"]}


def test_a_known_channel_takes_the_reports_name(app_ctx):
    channel = Channel(channel_id=CHANNEL, name="Old Name")
    db.session.add(channel)
    db.session.flush()
    outcome = apply("youtube_video_report_a2.csv")
    assert (outcome.channels_created, outcome.channels_renamed) == (1, 1)
    db.session.refresh(channel)
    assert channel.name == "Label Music"
    rename = audit_rows(entity_type="channel", entity_key=CHANNEL)
    assert [r.changes for r in rename] == [{"name": ["Old Name", "Label Music"]}]


def test_categories_are_matched_by_name_or_slug(app_ctx):
    music_videos = CategoryFactory(name="Music Videos", slug="music-videos")
    lyrics = CategoryFactory(name="Lyrics", slug="lyric-videos")  # matched by its slug
    apply("youtube_video_report_a2.csv")
    assert video("vidAAAAAAA1").category_id == music_videos.id
    assert video("vidBBBBBBB2").category_id == lyrics.id
    assert video("vidCCCCCCC3").category_id is None  # "Music": no such category


def test_an_import_creates_updates_and_leaves_unchanged_with_one_audit_row_each(app_ctx):
    apply("youtube_video_report_a2.csv")
    a, b, c = video("vidAAAAAAA1"), video("vidBBBBBBB2"), video("vidCCCCCCC3")
    staff = UserFactory(roles=["editor"])
    videos.update_video(a, {"views": 999, "title": "Edited"}, expected_version=1, actor=staff)
    videos.update_video(
        b, {"notes": "a note reports do not carry"}, expected_version=1, actor=staff
    )
    versions = {v.video_id: v.version for v in (a, b, c)}
    before = count(MetadataSync)

    # The same report, compressed: another file (another checksum), the same content.
    outcome = apply("youtube_video_report_a2.csv.gz", report_id=7)

    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 3)
    assert outcome.field_counts == {"title": 1, "views": 1}
    new_rows = audit_rows(report_id=7)
    assert count(MetadataSync) == before + 1
    assert [(r.entity_key, r.action, r.source) for r in new_rows] == [
        ("vidAAAAAAA1", "update", "report")
    ]
    assert new_rows[0].changes == {
        "views": [999, 1500], "title": ["Edited", "First Song (Official Video)"],
    }  # fmt: skip
    db.session.expire_all()
    assert video("vidAAAAAAA1").version == versions["vidAAAAAAA1"] + 1
    assert video("vidBBBBBBB2").version == versions["vidBBBBBBB2"]  # its note is its own
    assert video("vidBBBBBBB2").notes == "a note reports do not carry"
    assert video("vidCCCCCCC3").version == versions["vidCCCCCCC3"]


def test_appeal_and_dispute_set_by_staff_stay_on_a_claimed_video(app_ctx):
    apply("youtube_video_report_a2.csv")
    first = video("vidAAAAAAA1")
    videos.update_video(first, {"claimed_status": "appeal"}, expected_version=1, actor=None)
    outcome = apply("youtube_video_report_a2.csv.gz")
    assert outcome.updated == 0
    assert video("vidAAAAAAA1").claimed_status == "appeal"


def test_the_catalog_tool_format_latest_row_wins_and_bad_rows_are_reported(app_ctx):
    outcome = apply("catalog_tool.csv")
    assert outcome.format == "catalog"
    assert (outcome.rows, outcome.blank_rows, outcome.invalid, outcome.videos) == (5, 2, 2, 2)
    assert outcome.errors == [
        {"row": 3, "column": "video_id", "reason": "missing video_id"},
        {"row": 6, "column": "", "reason": "has 3 values; the header has 15"},
    ]
    latest = video("vidHHHHHHH8")
    assert latest.title == "New title"  # the second row of the video
    assert (latest.views, latest.video_length, latest.claimed_status) == (150, 205, "appeal")
    ninth = video("vidIIIIIII9")
    assert ninth.time_published is None  # "not a date"
    assert ninth.video_length == 65  # PT1M5S
    assert (ninth.privacy_status, ninth.claimed_status) == ("private", "dispute")


def test_headers_in_any_case_with_a_bom_and_crlf_lines(app_ctx):
    outcome = apply("youtube_spaced_headers_bom.csv")
    assert (outcome.format, outcome.created, outcome.invalid) == ("youtube", 2, 0)
    assert video("vidGGGGGGG7").title == "Seventh Song, with a comma"
    assert video("vidGGGGGGG7").privacy_status == "private"
    assert video("vidAAAAAAA1").claimed_status == "claim"


@pytest.mark.parametrize("ending", ["\r\n", "\r\n\r\n", ""])
def test_a_file_of_crlf_lines_is_parsed_by_postgresql_whatever_its_end(
    app_ctx, tmp_path, monkeypatch, ending
):
    # The row-by-row path is for files PostgreSQL's parser refuses; a spreadsheet's CSV
    # (lines ended by CR LF, a blank line at the end or none) is not one of them.
    monkeypatch.setattr(staging, "_copy_rows", lambda *a: pytest.fail("staged row by row"))
    path = tmp_path / "crlf.csv"
    rows = ["video_id,channel_id,video_title", f"vidAAAAAAA1,{CHANNEL},First", "vidBBBBBBB2,,"]
    path.write_bytes(("\r\n".join(rows) + ending).encode())
    outcome = apply(path)
    assert (outcome.rows, outcome.created, outcome.invalid) == (2, 2, 0)
    assert video("vidBBBBBBB2").title is None


def test_a_file_without_the_claim_columns_leaves_claims_alone(app_ctx, tmp_path):
    apply("youtube_video_report_a2.csv")
    path = tmp_path / "views.csv"
    path.write_text(f"video_id,channel_id,video_title,views\nvidAAAAAAA1,{CHANNEL},First Song "
                    "(Official Video),2000\n")  # fmt: skip
    outcome = apply(path)
    assert outcome.updated == 1
    assert outcome.field_counts == {"views": 1}
    first = video("vidAAAAAAA1")
    assert (first.views, first.claimed_status, first.asset_id) == (2000, "claim", "A111")


def test_a_video_changed_meanwhile_makes_the_import_start_over(app_ctx, monkeypatch):
    real, calls = pipeline.write_videos, []

    def conflicting(*args):
        calls.append(1)
        if len(calls) == 1:
            raise importer.ConcurrentChange("a video changed meanwhile")
        return real(*args)

    monkeypatch.setattr(pipeline, "write_videos", conflicting)
    outcome = apply("youtube_video_report_a2.csv")
    assert len(calls) == 2
    assert outcome.created == 4
    assert count(Video) == 4
    assert count(MetadataSync, MetadataSync.entity_type == "video") == 4


def test_an_import_that_fails_half_way_leaves_nothing(app_ctx, monkeypatch):
    real = pipeline.write_videos

    def fail_after_writing(*args):
        real(*args)  # the videos and their audit rows are written…
        raise RuntimeError("the worker dies")  # …and then the transaction is lost

    monkeypatch.setattr(pipeline, "write_videos", fail_after_writing)
    with pytest.raises(RuntimeError):
        apply("youtube_video_report_a2.csv")
    assert count(Video) == count(Channel) == count(MetadataSync) == 0


# -- malformed files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("unknown_columns.csv", "Unknown report format"),
        ("youtube_missing_title.csv", "lacks the column video_title"),
        ("semicolons.csv", "semicolons"),
        ("latin1.csv", r"not UTF-8 text \(line 2\).*Latin-1"),
        ("utf16.csv", "UTF-16"),
        ("zip_renamed.csv", "ZIP archive"),
        ("empty.csv", "empty"),
        ("not_gzip.csv.gz", "not a valid gzip file"),
    ],
)
def test_a_bad_file_gets_a_clear_error_and_changes_nothing(app_ctx, name, message):
    with pytest.raises(ReportFileError, match=message):
        apply(name)
    assert count(Video) == count(Channel) == 0


@pytest.mark.parametrize(
    ("name", "created", "error"),
    [
        ("nul_bytes.csv", 2, {"row": 3, "column": "title", "reason": "contains a NUL character"}),
        (
            "unterminated_quote.csv",
            1,
            {
                "row": 3,
                "column": "",
                "reason": "has 2 values; the header has 3 (a quote left open swallows the lines "
                "after it)",
            },
        ),
        # A lone "\." ends PostgreSQL's COPY input early; the rows after it still count.
        (
            "end_of_data_marker.csv",
            2,
            {"row": 3, "column": "", "reason": "has 1 value; the header has 3"},
        ),
    ],
)
def test_malformed_rows_are_skipped_and_reported(app_ctx, name, created, error):
    outcome = apply(name)
    assert outcome.created == created
    assert outcome.errors == [error]
    assert outcome.invalid == 1


def test_a_header_alone_is_an_empty_report(app_ctx):
    outcome = apply("header_only.csv")
    assert (outcome.rows, outcome.videos, outcome.created) == (0, 0, 0)


def test_absurdly_long_values_are_refused_row_by_row(app_ctx, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text(
        "video_id,title,views\n"
        f"vidVVVVVVV1,{'x' * 300_000},1\n"  # longer than a title may be
        "vidWWWWWWW2,Fine,2\n"
        f"{'y' * 5_000_000},Huge id,3\n"
    )
    outcome = apply(path)
    assert outcome.created == 1
    assert [(e["row"], e["column"]) for e in outcome.errors] == [(2, "title"), (4, "video_id")]
    assert outcome.errors[0]["reason"] == "longer than 200 characters (300000)"


def test_an_absurd_value_in_a_file_python_reads_is_refused_too(app_ctx, tmp_path):
    # A blank line sends the file to Python's csv module, whose field limit then applies.
    path = tmp_path / "long.csv"
    path.write_text(f'video_id,title,views\n\nvidVVVVVVV1,"{"x" * 200_000}",1\nvidWWWWWWW2,ok,2\n')
    outcome = apply(path)
    assert outcome.created == 1
    assert outcome.errors[0]["row"] == 3
    assert "longer than 131,072 characters" in outcome.errors[0]["reason"]


def test_a_gzip_that_unpacks_to_too_much_is_refused(app_ctx, tmp_path):
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as out:
        out.write(b"video_id,title\n" + b"vidXXXXXXX1,t\n" * 100_000)
    assert path.stat().st_size < 10_000
    with pytest.raises(ReportFileError, match="larger than 100,000 bytes once uncompressed"):
        importer.apply(opener(path), actor=None, report_id=None, max_bytes=100_000)


def test_the_stored_file_must_be_the_checked_one(app_ctx):
    with pytest.raises(ReportFileError, match="SHA-256 differs"):
        apply("youtube_video_report_a2.csv", expected_sha256="0" * 64)
    assert count(Video) == 0


def test_progress_is_reported_while_reading(app_ctx, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("video_id,title,views\n")
        for n in range(120_000):  # a few MiB: several chunks
            out.write(f"v{n:010d},Song {n},{n}\n")
    seen = []
    outcome = importer.preview(
        opener(path), max_bytes=LIMIT, size=path.stat().st_size, progress=seen.append
    )
    assert outcome.created == 120_000
    assert seen
    assert seen == sorted(seen)
    assert 0 < seen[-1] <= 1


def test_invalid_categories_are_not_created(app_ctx):
    apply("youtube_video_report_a2.csv")
    assert count(VideoCategory) == 0
