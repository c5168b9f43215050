"""The importer's channel rules are the channel service's: the same new channel, created by
a report and by the service, leaves the same audit row; a name the service refuses
refuses the report's row, and one it takes the import takes as it is."""

import pytest
from sqlalchemy import select

from catalog.channels import service as channels
from catalog.extensions import db
from catalog.models import Channel, MetadataSync
from catalog.reports import importer

CHANNEL_ID = "UCuAXFkgsw1L7xaCfnd5JJOw"
# The columns an audit row's reader sees; not its own id, time, chain or batch.
COMPARED = (
    "entity_type", "entity_key", "video_title", "channel_display_name", "action", "source",
    "changes", "user_id", "user_email", "reverts_id", "restored_to",
)  # fmt: skip


def _report(tmp_path, name: str):
    path = tmp_path / "report.csv"
    path.write_text(
        "video_id,channel_id,channel_display_name,video_title\n"
        f"dQw4w9WgXcQ,{CHANNEL_ID},{name},A song\n",
        encoding="utf-8",
    )
    return lambda: path.open("rb")


def _channel_row() -> dict:
    [row] = db.session.scalars(
        select(MetadataSync).where(
            MetadataSync.entity_type == "channel", MetadataSync.entity_key == CHANNEL_ID
        )
    ).all()
    return {column: getattr(row, column) for column in COMPARED}


def _by_import(tmp_path, name: str):
    """(the import's outcome, its channel audit row or None), then undone."""
    attempt = db.session.begin_nested()
    outcome = importer.apply(_report(tmp_path, name), actor=None, report_id=None, max_bytes=1 << 20)
    db.session.flush()
    created = db.session.scalar(select(Channel.id).where(Channel.channel_id == CHANNEL_ID))
    row = _channel_row() if created else None
    attempt.rollback()
    return outcome, row


def _by_service(create, name: str) -> dict:
    attempt = db.session.begin_nested()
    create(name)
    db.session.flush()
    row = _channel_row()
    attempt.rollback()
    return row


SERVICE_PATHS = {
    "ensure_channel": lambda name: channels.ensure_channel(
        CHANNEL_ID, name, actor=None, source="report"
    ),
    "create_channel": lambda name: channels.create_channel(
        {"channel_id": CHANNEL_ID, "name": name}, actor=None, source="report"
    ),
}


@pytest.mark.parametrize("path", SERVICE_PATHS)
@pytest.mark.parametrize(
    "name",
    [
        "Blue Harbor Records",
        "Ö" * channels.NAME_MAX,  # as long as a name may be; its snapshot is cut to 100
    ],
)
def test_the_same_new_channel_leaves_the_same_audit_row(app_ctx, tmp_path, path, name):
    outcome, imported = _by_import(tmp_path, name)
    assert (outcome.channels_created, outcome.invalid) == (1, 0)
    by_service = _by_service(SERVICE_PATHS[path], name)
    for column in COMPARED:
        assert imported[column] == by_service[column], column
    assert imported["changes"] == {"channel_id": [None, CHANNEL_ID], "name": [None, name]}
    assert imported["channel_display_name"] == name[:100]


@pytest.mark.parametrize("path", SERVICE_PATHS)
def test_a_name_too_long_is_refused_by_both(app_ctx, tmp_path, path):
    name = "x" * (channels.NAME_MAX + 1)
    outcome, imported = _by_import(tmp_path, name)
    assert imported is None
    assert (outcome.channels_created, outcome.invalid) == (0, 1)
    assert outcome.errors[0]["column"] == "channel_display_name"
    assert f"longer than {channels.NAME_MAX}" in outcome.errors[0]["reason"]
    with pytest.raises(channels.ChannelError, match=f"at most {channels.NAME_MAX}"):
        SERVICE_PATHS[path](name)


def test_a_blank_name_names_the_channel_by_its_id_in_both(app_ctx, tmp_path):
    _, imported = _by_import(tmp_path, " ")
    assert imported == _by_service(SERVICE_PATHS["ensure_channel"], "  ")
    assert imported["changes"]["name"] == [None, CHANNEL_ID]
