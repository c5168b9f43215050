"""The job handlers against the fake API: only differences are applied, through the audited
video service (source "worker", no actor); unchanged videos write nothing."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from catalog import jobs
from catalog.extensions import db
from catalog.jobs.runner import run_attempt
from catalog.models import MetadataSync, ProcessingQueue, Video
from catalog.youtube import tasks
from catalog.youtube.client import ApiNotConfigured
from catalog.youtube.quota import QuotaExhausted
from tests.factories import ChannelFactory, VideoFactory
from tests.youtube.fakeapi import video_resource

PUBLISHED = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


def audit_rows(video: Video) -> list[MetadataSync]:
    return db.session.scalars(
        select(MetadataSync)
        .where(MetadataSync.entity_type == "video", MetadataSync.entity_id == video.id)
        .order_by(MetadataSync.id)
    ).all()


def entry_for(task_type: str, *videos: Video) -> ProcessingQueue:
    return jobs.enqueue(task_type, {"video_ids": [video.id for video in videos]})


def test_metadata_sync_applies_only_the_differences(app_ctx, fake_api):
    home, other = ChannelFactory(name="Home"), ChannelFactory(name="Other")
    stale = VideoFactory(
        title="Old title", views=10, video_length=100, privacy_status="private",
        channel=home, embedding_allowed="Yes",
    )  # fmt: skip
    current = VideoFactory(
        title="Same", views=1000, video_length=200, privacy_status="public", channel=home,
        embedding_allowed="Yes", time_published=PUBLISHED,
    )  # fmt: skip
    gone_from_youtube = VideoFactory(title="Deleted on YouTube")
    fake_api.videos[stale.video_id] = video_resource(
        stale.video_id, title="New title", views=2000, duration="PT4M13S",
        channel_id=other.channel_id, embeddable=False,
    )  # fmt: skip
    fake_api.videos[current.video_id] = video_resource(
        current.video_id, title="Same", views=1000, duration="PT3M20S",
        channel_id=home.channel_id, published_at="2021-03-04T05:06:07Z",
    )  # fmt: skip
    versions = (current.version, gone_from_youtube.version)

    result = tasks.metadata_sync(entry_for("metadata_sync", stale, current, gone_from_youtube))

    assert len(fake_api.calls("/videos")) == 1
    assert result["videos"] == 3
    assert result["changed"] == 1
    assert result["changed_ids"] == [stale.video_id]
    assert result["unchanged"] == 1
    assert result["missing_ids"] == [gone_from_youtube.video_id]
    assert result["api_calls"] == 1
    [row] = audit_rows(stale)
    assert row.source == "worker"
    assert row.action == "update"
    assert row.user_id is None
    assert row.user_email is None
    assert row.changes == {
        "title": ["Old title", "New title"],
        "views": [10, 2000],
        "video_length": [100, 253],
        "privacy_status": ["private", "public"],
        "embedding_allowed": ["Yes", "No"],
        "time_published": [None, "2021-03-04T05:06:07+00:00"],
        "channel_id": [home.id, other.id],
        "channel_display_name": ["Home", "Other"],
    }
    assert stale.channel_display_name == "Other"
    assert audit_rows(current) == []
    assert audit_rows(gone_from_youtube) == []
    assert (current.version, gone_from_youtube.version) == versions

    # The same answer again changes nothing and writes nothing.
    again = tasks.metadata_sync(entry_for("metadata_sync", stale, current))
    assert again["changed"] == 0
    assert again["unchanged"] == 2
    assert len(audit_rows(stale)) == 1


def test_metadata_sync_leaves_what_it_cannot_read_or_place(app_ctx, fake_api):
    video = VideoFactory(title="Kept", video_length=42)
    resource = video_resource(video.video_id, title="Kept", channel_id="UCnotInTheCatalog00000")
    resource["contentDetails"]["duration"] = "three minutes"
    fake_api.videos[video.video_id] = resource
    channel = video.channel_id

    result = tasks.metadata_sync(entry_for("metadata_sync", video))

    assert video.video_length == 42
    assert video.channel_id == channel
    assert result["warnings"][video.video_id] == [
        "channel UCnotInTheCatalog00000 is not in the catalog",
        "unreadable duration 'three minutes'",
    ]


def test_the_worker_records_the_result_on_the_entry(app_ctx, fake_api):
    video = VideoFactory(views=1)
    fake_api.videos[video.video_id] = video_resource(video.video_id, views=5)
    entry = entry_for("metadata_sync", video)

    run_attempt(entry.id, job_id=entry.job_id, attempts=0)

    entry = db.session.get(ProcessingQueue, entry.id)
    assert entry.status == "completed"
    assert entry.result["changed_ids"] == [video.video_id]
    assert db.session.get(Video, video.id).views == 5


def test_a_job_beyond_the_daily_quota_fails_clearly_and_calls_nothing(
    app, app_ctx, fake_api, monkeypatch
):
    monkeypatch.setitem(app.config, "YOUTUBE_DAILY_QUOTA", 1)
    first, second = VideoFactory(views=1), VideoFactory(views=1)
    for video in (first, second):
        fake_api.videos[video.video_id] = video_resource(video.video_id, views=9)
    done, refused = entry_for("metadata_sync", first), entry_for("metadata_sync", second)

    run_attempt(done.id, job_id=done.job_id, attempts=0)
    with pytest.raises(QuotaExhausted):
        run_attempt(refused.id, job_id=refused.job_id, attempts=0)

    assert len(fake_api.calls("/videos")) == 1
    refused = db.session.get(ProcessingQueue, refused.id)
    assert refused.status == "failed"  # at once: retrying within the day cannot help
    assert refused.error_message.startswith("QuotaExhausted: Daily quota of the youtube-data API")
    assert "No further calls until" in refused.error_message
    assert db.session.get(Video, second.id).views == 1
    assert audit_rows(second) == []


def test_ownership_update_refreshes_the_claim_fields(app_ctx, fake_api):
    disputed = VideoFactory(claimed_status="claim", claimed_by_another_owner="No")
    released = VideoFactory(claimed_status="claim", other_owners_claiming="Someone")
    odd = VideoFactory(claimed_status="appeal")
    untouched = VideoFactory(claimed_status="claim")
    fake_api.ownership[disputed.video_id] = {
        "claimedStatus": "dispute",
        "claimedByAnotherOwner": True,
        "otherOwnersClaiming": ["Label A", "Label B"],
    }
    fake_api.ownership[released.video_id] = {"claimedStatus": None, "otherOwnersClaiming": None}
    fake_api.ownership[odd.video_id] = {"claimedStatus": "pending"}

    result = tasks.ownership_update(
        entry_for("ownership_update", disputed, released, odd, untouched)
    )

    assert len(fake_api.calls("/ownership")) == 1
    assert fake_api.calls("/ownership")[0].params["key"] == "test-rights-key"
    assert (disputed.claimed_status, disputed.claimed_by_another_owner) == ("dispute", "Yes")
    assert disputed.other_owners_claiming == "Label A, Label B"
    assert (released.claimed_status, released.other_owners_claiming) == (None, None)
    assert odd.claimed_status == "appeal"
    assert untouched.claimed_status == "claim"
    assert result["warnings"] == {odd.video_id: ["unknown claimedStatus 'pending'"]}
    assert result["missing_ids"] == [untouched.video_id]
    assert [row.source for row in audit_rows(disputed)] == ["worker"]
    assert audit_rows(released)[0].changes == {
        "claimed_status": ["claim", None],
        "other_owners_claiming": ["Someone", None],
    }
    assert audit_rows(odd) == []


def test_asset_enrichment_fills_identifiers_and_music_metadata(app_ctx, fake_api):
    bare = VideoFactory(genre=[], artist=[], label="Our label")
    known = VideoFactory(isrc="USRC17607839", upc="00602537518357")
    fake_api.assets[bare.video_id] = {
        "assetId": "A123456789012345",
        "metadata": {
            "isrc": "us-rc1-76-07839", "upc": "0060 2537 5183 57", "genre": ["Pop", "Pop", "Soul"],
            "artist": ["Ada", ""], "label": "",
        },
    }  # fmt: skip
    fake_api.assets[known.video_id] = {"metadata": {"isrc": "NOT-AN-ISRC", "upc": "12ab"}}

    result = tasks.asset_enrichment(entry_for("asset_enrichment", bare, known))

    assert bare.asset_id == "A123456789012345"
    assert (bare.isrc, bare.upc) == ("USRC17607839", "00602537518357")
    assert (bare.genre, bare.artist) == (["Pop", "Soul"], ["Ada"])
    assert bare.label == "Our label"  # an empty value never clears
    assert (known.isrc, known.upc) == ("USRC17607839", "00602537518357")
    assert result["warnings"] == {
        known.video_id: ["invalid ISRC 'NOT-AN-ISRC'", "invalid UPC '12ab'"]
    }
    assert result["changed_ids"] == [bare.video_id]
    assert audit_rows(known) == []
    [row] = audit_rows(bare)
    assert row.source == "worker"
    assert set(row.changes) == {"asset_id", "isrc", "upc", "genre", "artist"}


def test_rights_jobs_without_a_configured_source_fail_at_once(app, app_ctx, fake_api, monkeypatch):
    monkeypatch.setitem(app.config, "YOUTUBE_RIGHTS_API_URL", "")
    video = VideoFactory(claimed_status="claim")
    entry = entry_for("ownership_update", video)
    with pytest.raises(ApiNotConfigured):
        run_attempt(entry.id, job_id=entry.job_id, attempts=0)
    entry = db.session.get(ProcessingQueue, entry.id)
    assert entry.status == "failed"
    assert "YOUTUBE_RIGHTS_API_URL" in entry.error_message
    assert fake_api.requests == []


def test_a_malformed_payload_fails_for_good(app_ctx, fake_api):
    entry = jobs.enqueue("metadata_sync", {"video_ids": "1,2"})
    with pytest.raises(jobs.PermanentError, match="video_ids"):
        tasks.metadata_sync(entry)
