"""One definition of each identifier (catalog/identifiers.py): the forms, the report importer's
SQL, the channel service and the YouTube side accept and refuse the same sample values."""

import pytest
from sqlalchemy import text
from werkzeug.datastructures import MultiDict

from catalog import identifiers
from catalog.channels import service as channel_service
from catalog.channels.forms import ChannelForm
from catalog.extensions import db
from catalog.reports.cells import check_sql, value_sql
from catalog.reports.formats import FIELDS
from catalog.videos.forms import VideoForm
from catalog.youtube import rights
from catalog.youtube.client import Client
from catalog.youtube.quota import DailyQuota

# (value, accepted): the same samples go to every side.
VIDEO_IDS = [
    ("dQw4w9WgXcQ", True),
    ("a-b_c123XYZ", True),
    ("dQw4w9WgXc", False),  # 10 characters
    ("dQw4w9WgXcQQ", False),  # 12
    ("dQw4w9WgX!Q", False),
    ("dQw4w9W,XcQ", False),  # a comma would split the API's id list
]
CHANNEL_IDS = [
    ("UCuAXFkgsw1L7xaCfnd5JJOw", True),
    ("UC-_AXFkgsw1L7xaCfnd5JJO", True),
    ("UCuAXFkgsw1L7xaCfnd5JJO", False),  # 23 characters
    ("UCuAXFkgsw1L7xaCfnd5JJOwx", False),  # 25
    ("UXuAXFkgsw1L7xaCfnd5JJOw", False),
    ("UCuAXFkgsw1L7xaCfnd5JJ.w", False),
]
ISRCS = [
    ("USRC17607839", True),
    ("usrc17607839", True),  # every side reads it in upper case
    ("US-RC1-76-07839", True),  # and without its dashes
    ("GBAYE0601498", True),
    ("USRC1760783", False),
    ("1SRC17607839", False),
    ("USRC1760783X", False),
]
UPCS = [
    ("036000291452", True),  # UPC-A
    ("4006381333931", True),  # EAN-13
    ("00602537518357", True),  # GTIN-14, a UPC padded with zeros
    ("036000291453", False),  # a wrong check digit
    ("12345", False),
    ("40063813", False),  # 8 digits (GTIN-8) is no release's UPC
    ("036000291452036", False),
    ("03600029145a", False),
]


def _form_accepts(form_class, field: str, value: str) -> bool:
    form = form_class(formdata=MultiDict({field: value}), meta={"csrf": False})
    return form[field].validate(form)


def _importer_accepts(kind: str, value: str) -> bool:
    """The importer's own check of a cell of `kind`, run by PostgreSQL as an import runs it."""
    [f] = [f for f in FIELDS.values() if f.kind == kind]
    condition, _reason = check_sql(f, "c", value_sql(f, "c"))
    refused = db.session.scalar(
        text(f"SELECT ({condition}) FROM (SELECT :v AS c) cells"), {"v": value}
    )
    return not refused


class _RecordingClient(Client):
    """The YouTube client with its HTTP call replaced: it records the ids it would ask for."""

    def __init__(self):
        super().__init__("http://youtube.invalid", "key", quota=DailyQuota("test", None))
        self.asked: list[str] = []

    def get(self, path, params):
        self.asked += params["id"].split(",")
        return {"items": []}


@pytest.mark.parametrize(("value", "accepted"), VIDEO_IDS)
def test_video_ids(app, app_ctx, value, accepted):
    with app.test_request_context():
        assert _form_accepts(VideoForm, "video_id", value) is accepted
    assert _importer_accepts("video_id", value) is accepted
    client = _RecordingClient()
    client.list_videos([value])
    assert (client.asked == [value]) is accepted
    assert identifiers.valid_video_id(value) is accepted


@pytest.mark.parametrize(("value", "accepted"), CHANNEL_IDS)
def test_channel_ids(app, app_ctx, value, accepted):
    with app.test_request_context():
        assert _form_accepts(ChannelForm, "channel_id", value) is accepted
    assert _importer_accepts("channel_id", value) is accepted
    try:
        channel_service.create_channel({"channel_id": value, "name": "Sample"}, actor=None)
    except channel_service.ChannelError:
        created = False
    else:
        created = True
    assert created is accepted


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [("isrc", *sample) for sample in ISRCS] + [("upc", *sample) for sample in UPCS],
)
def test_isrcs_and_upcs(app, app_ctx, field, value, accepted):
    with app.test_request_context():
        assert _form_accepts(VideoForm, field, value) is accepted
    assert _importer_accepts(field, value) is accepted
    values, warnings = rights.asset_values({"metadata": {field: value}})
    assert (field in values) is accepted
    assert bool(warnings) is not accepted


def test_an_empty_cell_is_no_refusal(app_ctx):
    """An empty cell reaches the checks as NULL: a missing UPC refuses no row."""
    [f] = [f for f in FIELDS.values() if f.kind == "upc"]
    condition, _reason = check_sql(f, "c", value_sql(f, "c"))
    assert db.session.scalar(text(f"SELECT ({condition}) FROM (SELECT NULL::text AS c) cells")) in (
        None,
        False,
    )
