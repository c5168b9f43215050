"""Rows known unchanged (importer/unchanged.py) are a shortcut, never a second set of rules:
the same file imported with and without the shortcut gives the same outcome, the same
videos and channels, and the same audit rows, whatever its cells look like."""

import csv
from datetime import UTC, datetime

from sqlalchemy import select, text

from catalog.extensions import db
from catalog.models import MetadataSync
from catalog.models.video import ENGAGEMENT_FIELDS, MONETIZATION_FIELDS
from catalog.reports import importer
from catalog.reports.importer import pipeline, unchanged
from tests.factories import CategoryFactory, ChannelFactory, VideoFactory
from tests.factories.videos import youtube_id
from tests.reports.test_channel_rules import COMPARED

HEADER = (
    "video_id", "channel_id", "channel_display_name", "time_published", "video_title",
    "video_length", "views", "video_privacy_status", "category", "claimed_by_this_owner",
    "claimed_by_another_owner", "other_owners_claiming", "claim_id", "asset_id", "custom_id",
    "effective_policy", "isrc", "upload_source", *MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS,
)  # fmt: skip
SETTINGS = (*MONETIZATION_FIELDS, *ENGAGEMENT_FIELDS)
AT = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def _catalog() -> dict:
    """Videos, channels and a category to be reported on; names for the cases below."""
    label = ChannelFactory(channel_id="UC" + "a" * 22, name="Label Music")
    renamed = ChannelFactory(channel_id="UC" + "b" * 22, name="Old Name")
    category = CategoryFactory(name="Music Videos", slug="music-videos")
    base = {
        "channel": label, "channel_display_name": "Label Music", "category": category,
        "time_published": AT, "video_length": 215, "views": 1000, "privacy_status": "public",
        "claimed_status": "claim", "claimed_by_another_owner": "No", "asset_id": "A1",
        "custom_id": "CUST-1", "effective_policy": "Monetize in all countries",
        "isrc": "USRC17607839", "upload_source": "web",
        **dict.fromkeys(SETTINGS, "Yes"),
    }  # fmt: skip
    variants = {
        "same": {},
        "same_nulls": {
            "time_published": None,
            "video_length": None,
            "views": None,
            "asset_id": None,
            "custom_id": None,
            "isrc": None,
            "claimed_status": None,
            "category": None,
            "effective_policy": None,
            "upload_source": None,
            **dict.fromkeys(SETTINGS[:3]),
        },
        "micro": {"time_published": AT.replace(microsecond=123456)},
        "milli": {"time_published": AT.replace(microsecond=123000)},
        "seconds": {},
        "bad_tail": {"time_published": AT.replace(microsecond=123000)},
        "padded_id": {},
        "micro_cut": {"time_published": AT.replace(microsecond=123456)},
        "disputed": {"claimed_status": "dispute"},
        "appealed": {"claimed_status": "appeal"},
        "owners": {"claimed_by_another_owner": "Yes", "other_owners_claiming": "Owner X, Owner Y"},
        "padded_title": {"title": " Padded "},
        "bad_isrc": {"isrc": "BAD"},
        "odd_setting": {"prerolls_enabled": "true"},
        "renamed_channel": {"channel": renamed, "channel_display_name": "New Name"},
        "no_channel": {"channel": None, "channel_display_name": None},
        "two_rows": {},
        "changed": {},
        "formula": {"title": "'=HYPERLINK(1)"},
    }
    return {name: VideoFactory(**(base | changes)) for name, changes in variants.items()}


def _cells(video, **override) -> dict:
    """The row a report would have for `video` as the catalog holds it, then `override`."""
    published = video.time_published
    cells = {
        "video_id": video.video_id,
        "channel_id": video.channel.channel_id if video.channel else "",
        "channel_display_name": video.channel_display_name or "",
        "time_published": published.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if published else "",
        "video_title": video.title or "",
        "video_length": "" if video.video_length is None else str(video.video_length),
        "views": "" if video.views is None else str(video.views),
        "video_privacy_status": video.privacy_status or "",
        "category": video.category.name if video.category else "",
        "claimed_by_this_owner": "Yes" if video.claimed_status else "No",
        "claimed_by_another_owner": video.claimed_by_another_owner or "",
        "other_owners_claiming": video.other_owners_claiming or "",
        "claim_id": "C1" if video.claimed_status else "",
        "asset_id": video.asset_id or "",
        "custom_id": video.custom_id or "",
        "effective_policy": video.effective_policy or "",
        "isrc": video.isrc or "",
        "upload_source": video.upload_source or "",
        **{name: getattr(video, name) or "" for name in SETTINGS},
    }
    return cells | override


def _rows(videos: dict) -> list[dict]:
    """Rows of every shape: the same values written as the catalog holds them (three date
    precisions), and written otherwise (spaces, other spellings), and real changes."""
    v = videos
    return [
        _cells(v["same"]),
        _cells(v["same_nulls"]),
        _cells(v["micro"]),
        # The same instant to the millisecond or second, when the video has no finer part.
        _cells(v["milli"], time_published=v["milli"].time_published.isoformat()[:23] + "Z"),
        _cells(v["seconds"], time_published=AT.strftime("%Y-%m-%dT%H:%M:%SZ")),
        _cells(v["micro_cut"], time_published=AT.strftime("%Y-%m-%dT%H:%M:%S.123Z")),
        # Unreadable (a warning), though all but its last character is the video's date.
        _cells(v["bad_tail"], time_published=AT.strftime("%Y-%m-%dT%H:%M:%S.123X")),
        _cells(v["padded_id"], video_id=f" {v['padded_id'].video_id} "),
        _cells(v["disputed"]),
        _cells(v["appealed"], claimed_by_this_owner="No"),
        _cells(v["owners"], other_owners_claiming="Owner Y, Owner X"),
        _cells(v["padded_title"]),
        _cells(v["bad_isrc"]),
        _cells(v["odd_setting"]),
        _cells(v["renamed_channel"]),
        _cells(v["no_channel"]),
        _cells(v["two_rows"]),
        _cells(v["two_rows"], claim_id="C2", views="2000"),
        # The same values spelled otherwise: the full path reads them as the same.
        _cells(
            v["changed"],
            prerolls_enabled=" yes",
            views="1,000",
            video_length="3:35",
            isrc="US-RC1-76-07839",
            category="music videos",
        ),
        _cells(v["same"], video_id=youtube_id(999_001), video_title="A new video"),
        _cells(v["same"], video_id=youtube_id(999_002), views="12a"),
        _cells(v["same"], video_id=youtube_id(999_003), category="Lyric Videos"),
    ]


def _write(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, HEADER)
        writer.writeheader()
        writer.writerows(rows)


def _snapshot() -> dict:
    """What an import leaves: the videos, the channels and the audit rows."""
    videos = db.session.execute(
        text("SELECT to_jsonb(v) - 'id' - 'search_text' FROM videos v ORDER BY video_id")
    ).scalars()
    channels = db.session.execute(
        text("SELECT channel_id, name FROM channels ORDER BY channel_id")
    ).all()
    audit = [
        {column: getattr(row, column) for column in COMPARED}
        for row in db.session.scalars(select(MetadataSync).order_by(MetadataSync.id))
    ]
    return {"videos": list(videos), "channels": channels, "audit": audit}


def _import(path) -> tuple[dict, dict]:
    """(the outcome, what the import left), then undone."""
    attempt = db.session.begin_nested()
    outcome = importer.apply(lambda: path.open("rb"), actor=None, report_id=None, max_bytes=1 << 20)
    db.session.flush()
    left = _snapshot()
    attempt.rollback()
    db.session.expire_all()
    seen = outcome.as_preview() | {"errors": outcome.errors}
    return seen, left


def test_rows_set_aside_change_nothing_the_full_path_would_not(app_ctx, tmp_path, monkeypatch):
    videos = _catalog()
    db.session.flush()
    rows = _rows(videos)
    path = tmp_path / "report.csv"
    _write(path, rows)
    set_aside = []

    def counted(layout):
        set_aside.append(unchanged.set_aside(layout))
        return set_aside[-1]

    monkeypatch.setattr(pipeline, "set_aside", counted)

    shortcut = _import(path)
    monkeypatch.setattr(unchanged, "_conditions", lambda layout: None)
    full = _import(path)

    # The shortcut was taken, for the rows that are the catalog's values as it writes them.
    assert set_aside[0] == 8
    assert set_aside[1] == 0
    assert shortcut[0] == full[0]
    assert shortcut[1] == full[1]
    outcome = shortcut[0]
    assert (outcome["rows"], outcome["invalid"], outcome["created"]) == (22, 2, 2)
    assert outcome["channels_renamed"] == 1
    assert [w["value"] for w in outcome["warnings"]] == ["2024-03-04T05:06:07.123X"]


# The Catalog Tool format (no lists, flags or UPC, which take the full path whole): its
# column for each of the YouTube report's above.
CATALOG_COLUMNS = {
    "video_id": "video_id", "video_title": "title", "channel_id": "channel_id",
    "channel_display_name": "channel_name", "time_published": "published_at",
    "video_length": "duration", "views": "views", "video_privacy_status": "privacy_status",
    "category": "category", "claimed_by_another_owner": "claimed_by_another_owner",
    "other_owners_claiming": "other_owners_claiming", "asset_id": "asset_id",
    "custom_id": "custom_id", "effective_policy": "effective_policy", "isrc": "isrc",
    "upload_source": "upload_source", **{name: name for name in SETTINGS},
}  # fmt: skip


def test_the_catalog_format_sets_aside_only_what_reads_back_the_same(
    app_ctx, tmp_path, monkeypatch
):
    videos = _catalog()
    db.session.flush()
    rows = [
        {CATALOG_COLUMNS[k]: value for k, value in row.items() if k in CATALOG_COLUMNS}
        | {"claimed_status": _claim_status(videos, row["video_id"])}
        for row in _rows(videos)
    ]
    # A text the catalog's export quoted (a formula) is read without its quote.
    rows.append(_catalog_row(videos["formula"]) | {"title": videos["formula"].title})
    path = tmp_path / "report.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, [*CATALOG_COLUMNS.values(), "claimed_status"])
        writer.writeheader()
        writer.writerows(rows)
    set_aside = []

    def counted(layout):
        set_aside.append(unchanged.set_aside(layout))
        return set_aside[-1]

    monkeypatch.setattr(pipeline, "set_aside", counted)
    shortcut = _import(path)
    monkeypatch.setattr(unchanged, "_conditions", lambda layout: None)
    full = _import(path)

    assert shortcut[0]["format"] == "catalog"
    assert set_aside[0] > 0
    assert shortcut == full
    assert "title" in next(
        s["changes"] for s in shortcut[0]["sample"] if s["video_id"] == videos["formula"].video_id
    )


def _catalog_row(video) -> dict:
    cells = _cells(video)
    return {CATALOG_COLUMNS[k]: v for k, v in cells.items() if k in CATALOG_COLUMNS} | {
        "claimed_status": video.claimed_status or ""
    }


def _claim_status(videos: dict, video_id: str) -> str:
    """The claim status of the catalog's video of that id (none for a new video)."""
    video = next((v for v in videos.values() if v.video_id == video_id.strip()), None)
    return (video.claimed_status or "") if video else ""
